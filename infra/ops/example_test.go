package main

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/secrets"
)

// TestWhatsAppExample: the README's sample for set-whatsapp is read the way
// set-whatsapp reads stdin (unknown members refused) and sets every field.
func TestWhatsAppExample(t *testing.T) {
	f, err := os.Open("whatsapp.example.json")
	require.NoError(t, err)
	defer f.Close()
	var c secrets.WhatsApp
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&c), "set-whatsapp would refuse the example")
	for name, v := range map[string]string{"phone_number_id": c.PhoneNumberID, "waba_id": c.WABAID, "access_token": c.AccessToken,
		"app_secret": c.AppSecret, "verify_token": c.VerifyToken, "graph_api_version": c.GraphAPIVersion} {
		assert.NotEmpty(t, v, "the example leaves %s empty", name)
	}
}
