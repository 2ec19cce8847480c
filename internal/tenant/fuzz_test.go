package tenant

import (
	"regexp"
	"slices"
	"testing"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/secrets"
)

var printable = regexp.MustCompile(`^[!-~]+$`)

// FuzzValidateWhatsApp: accepted settings satisfy every documented rule
// (what later goes into a URL path or an Authorization header is clean),
// and a refusal is a 422 naming only known fields.
func FuzzValidateWhatsApp(f *testing.F) {
	f.Add("106540352242922", "EAAG", "0123456789abcdef", "verify-me-123", "102290129340398", "v26.0")
	f.Add("106540352242922/../../me", "EAAG\r\nX: 1", "short", "x", "waba", "26")
	f.Add("１２３４５６", "EAAG ", "ééééééééé", "\x00\x00\x00\x00\x00\x00\x00\x00", "", "v1.0")
	fields := []string{"phone_number_id", "access_token", "app_secret", "verify_token", "waba_id", "graph_api_version"}
	f.Fuzz(func(t *testing.T, phone, token, appSecret, verifyToken, waba, version string) {
		err := ValidateWhatsApp(secrets.WhatsApp{PhoneNumberID: phone, AccessToken: token, AppSecret: appSecret,
			VerifyToken: verifyToken, WABAID: waba, GraphAPIVersion: version})
		if err != nil {
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.Unprocessable || len(e.Details) == 0 {
				t.Fatalf("error %v", err)
			}
			for _, d := range e.Details {
				if !slices.Contains(fields, d.Field) {
					t.Fatalf("names unknown field %q", d.Field)
				}
			}
			return
		}
		if !digits().MatchString(phone) || !printable.MatchString(token) || len(token) > 4096 ||
			len(appSecret) < 8 || len(appSecret) > 256 || len(verifyToken) < 8 || len(verifyToken) > 256 ||
			(waba != "" && !digits().MatchString(waba)) || (version != "" && !version2.MatchString(version)) {
			t.Fatalf("accepted %q %q %q %q %q %q", phone, token, appSecret, verifyToken, waba, version)
		}
	})
}

var version2 = regexp.MustCompile(`^v[0-9]{1,3}\.[0-9]$`)
