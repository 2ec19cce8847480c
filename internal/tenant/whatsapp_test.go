package tenant

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/secrets"
)

func TestValidateWhatsApp(t *testing.T) {
	good := secrets.WhatsApp{PhoneNumberID: "106540352242922", AccessToken: "EAAG", AppSecret: "0123456789abcdef", VerifyToken: "verify-me-123"}
	tests := []struct {
		name  string
		edit  func(*secrets.WhatsApp)
		field string
	}{
		{"good", func(*secrets.WhatsApp) {}, ""},
		{"phone id not numeric", func(c *secrets.WhatsApp) { c.PhoneNumberID = "waba_id_xxxxxxx" }, "phone_number_id"},
		{"no token", func(c *secrets.WhatsApp) { c.AccessToken = " " }, "access_token"},
		{"token with a newline", func(c *secrets.WhatsApp) { c.AccessToken = "EAAG\nX-Injected: 1" }, "access_token"},
		{"token with a space", func(c *secrets.WhatsApp) { c.AccessToken = "EAAG abc" }, "access_token"},
		{"short secret", func(c *secrets.WhatsApp) { c.AppSecret = "x" }, "app_secret"},
		{"short verify token", func(c *secrets.WhatsApp) { c.VerifyToken = "abc" }, "verify_token"},
		{"bad version", func(c *secrets.WhatsApp) { c.GraphAPIVersion = "26" }, "graph_api_version"},
		{"bad waba", func(c *secrets.WhatsApp) { c.WABAID = "x" }, "waba_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			err := ValidateWhatsApp(c)
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			e, ok := apperr.As(err)
			require.True(t, ok, "err = %v", err)
			require.Equal(t, apperr.Unprocessable, e.Kind, "err")
			require.Equal(t, tt.field, e.Details[0].Field, "err")
		})
	}
}
