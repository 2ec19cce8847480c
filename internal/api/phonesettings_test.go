package api_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/store"
)

const sampleWhatsApp = `{"phone_number_id":"106540352242922","waba_id":"102290129340398","access_token":"EAAG-sample-token-0000","app_secret":"sample-app-secret","verify_token":"sample-verify-token"}`

// The default country comes from the WhatsApp number Meta showed, can be
// set in the settings, and completes numbers written without one; without
// any, such numbers are refused, never guessed.
func TestPhoneSettingsAndNationalNumbers(t *testing.T) {
	f := newFixture(t)
	auth := "Bearer " + f.key
	ctx := context.Background()

	resp, body := f.do(event("GET", "/v1/settings/phone", auth, ""))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Nil(t, body["default_country"], "no WhatsApp number, no settings: %s", resp.Body)

	// A customer wrote from a number registered before the ninth digit.
	_, err := f.store.RecordInbound(ctx, store.InboundMessage{OrgID: f.org.ID, From: store.Identity{WaID: "551187654321"},
		WAMID: "wamid.N1", Type: "text", Timestamp: time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC),
		Content: json.RawMessage(`{"text":"Oi"}`), Raw: json.RawMessage(`{}`)})
	require.NoError(t, err)

	resp, body = f.do(event("POST", "/v1/messages", auth, `{"to":"(11) 98765-4321","text":"Olá"}`))
	require.Equal(t, 422, resp.StatusCode, resp.Body)
	e := body["error"].(map[string]any)
	assert.Equal(t, "missing_country_code", e["code"])
	assert.Equal(t, "to", e["details"].([]any)[0].(map[string]any)["field"])

	// The integrator's form with its country code reaches the same person.
	resp, sent := f.do(event("POST", "/v1/messages", auth, `{"to":"+55 11 98765-4321","text":"Olá"}`))
	require.Equal(t, 202, resp.StatusCode, resp.Body)
	assert.Equal(t, "551187654321", sent["to"], "sent to the wa_id Meta gave")

	// Connecting WhatsApp: Meta shows +55 11 5555-0000, so BR.
	resp, _ = f.do(event("PUT", "/v1/settings/whatsapp", auth, sampleWhatsApp))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	resp, body = f.do(event("GET", "/v1/settings/phone", auth, ""))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, "BR", body["default_country"])
	assert.Equal(t, "whatsapp_number", body["default_country_source"])
	assert.Equal(t, "+55 11 5555-0000", body["whatsapp_display_phone_number"])

	resp, again := f.do(event("POST", "/v1/messages", auth, `{"to":"(11) 98765-4321","text":"Tudo bem?"}`))
	require.Equal(t, 202, resp.StatusCode, resp.Body)
	assert.Equal(t, sent["contact_id"], again["contact_id"], "one contact for both forms")
	assert.Equal(t, sent["conversation_id"], again["conversation_id"])

	// Contacts: any form finds it; a national one needs the country too.
	for _, q := range []string{"%2B551187654321", "5511987654321", "(11)%2098765-4321"} {
		ev := event("GET", "/v1/contacts", auth, "")
		ev.RawQueryString = "whatsapp_id=" + q
		resp, page := f.do(ev)
		require.Equal(t, 200, resp.StatusCode, resp.Body)
		require.Len(t, page["data"], 1, "whatsapp_id=%s: %s", q, resp.Body)
		assert.Equal(t, sent["contact_id"], page["data"].([]any)[0].(map[string]any)["id"])
	}
	resp, body = f.do(event("POST", "/v1/contacts", auth, `{"whatsapp_id":"+55 11 98765-4321"}`))
	require.Equal(t, 409, resp.StatusCode, resp.Body)
	assert.Equal(t, sent["contact_id"], body["error"].(map[string]any)["existing_id"])

	// The settings override the WhatsApp number's country, and null
	// goes back to it.
	resp, body = f.do(event("PUT", "/v1/settings/phone", auth, `{"default_country":"pt"}`))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, "PT", body["default_country"])
	assert.Equal(t, "settings", body["default_country_source"])
	resp, created := f.do(event("POST", "/v1/contacts", auth, `{"whatsapp_id":"912 345 678"}`))
	require.Equal(t, 201, resp.StatusCode, resp.Body)
	assert.Equal(t, "+351912345678", created["whatsapp_id"])
	resp, body = f.do(event("PUT", "/v1/settings/phone", auth, `{"default_country":null}`))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, "BR", body["default_country"])
	assert.Nil(t, body["default_country_override"])

	for _, bad := range []string{`{"default_country":"Brasil"}`, `{"default_country":"XX"}`, `{"default_country":55}`, `{}`} {
		resp, body := f.do(event("PUT", "/v1/settings/phone", auth, bad))
		require.Equal(t, 422, resp.StatusCode, "%s: %s", bad, resp.Body)
		assert.Equal(t, "default_country", body["error"].(map[string]any)["details"].([]any)[0].(map[string]any)["field"], bad)
	}
}
