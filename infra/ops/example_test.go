package main

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/pytake/pytake/internal/secrets"
)

// TestWhatsAppExample: the README's sample for set-whatsapp is read the way
// set-whatsapp reads stdin (unknown members refused) and sets every field.
func TestWhatsAppExample(t *testing.T) {
	f, err := os.Open("whatsapp.example.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var c secrets.WhatsApp
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("set-whatsapp would refuse the example: %v", err)
	}
	for name, v := range map[string]string{"phone_number_id": c.PhoneNumberID, "waba_id": c.WABAID, "access_token": c.AccessToken,
		"app_secret": c.AppSecret, "verify_token": c.VerifyToken, "graph_api_version": c.GraphAPIVersion} {
		if v == "" {
			t.Errorf("the example leaves %s empty", name)
		}
	}
}
