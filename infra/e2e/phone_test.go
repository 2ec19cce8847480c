//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/internal/shop"
	"github.com/pytake/pytake/internal/tenant"
)

// phoneOrg is an organisation with its own Brazilian number on the
// simulator (so its default country comes from its WhatsApp number).
func phoneOrg(t *testing.T, name, phoneID string) (tenant.Result, graphsim.Account) {
	t.Helper()
	org := newOrg(t, name)
	slug := strings.ToLower(strings.ReplaceAll(name, " ", "-"))
	acct := graphsim.Account{PhoneNumberID: phoneID, WABAID: "2" + phoneID[1:], DisplayPhoneNumber: "+55 11 4000-" + phoneID[len(phoneID)-4:],
		VerifiedName: name, AccessToken: slug + "-token-0001", AppSecret: slug + "-app-secret"}
	st.Sim.AddAccount(acct)
	settings, _ := json.Marshal(map[string]string{"phone_number_id": acct.PhoneNumberID, "waba_id": acct.WABAID,
		"access_token": acct.AccessToken, "app_secret": acct.AppSecret, "verify_token": slug + "-verify-0001"})
	r := do(t, "PUT", "/v1/settings/whatsapp", org.APIKey.Key, settings)
	require.Equal(t, 200, r.Status, "settings: %d %s", r.Status, r.Body)
	return org, acct
}

func writeIn(t *testing.T, in graphsim.Inbound) {
	t.Helper()
	_, status, err := st.Sim.Inbound(context.Background(), in)
	require.NoError(t, err, "inbound")
	require.Equal(t, 200, status, "inbound")
}

// sentFrom waits for n sends of an account to a wa_id.
func sentFrom(t *testing.T, acct graphsim.Account, to string, n int) []graphsim.Sent {
	t.Helper()
	var out []graphsim.Sent
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		out = out[:0]
		for _, s := range st.Sim.Sent() {
			if s.PhoneNumberID == acct.PhoneNumberID && s.To == to {
				out = append(out, s)
			}
		}
		assert.GreaterOrEqual(c, len(out), n, "sends to %s", to)
	}, 60*time.Second, 100*time.Millisecond)
	return out
}

// TestNinthDigitReply is issue 20's scenario: a customer whose WhatsApp id
// lacks the ninth digit writes in; the integrator replies to the number as
// its CRM holds it, with and without the country code. Both are accepted
// (202) into the one contact's conversation, and reach the customer's
// WhatsApp id.
func TestNinthDigitReply(t *testing.T) {
	org, acct := phoneOrg(t, "Ninth Digit Co", "109999000000020")
	key := org.APIKey.Key
	r := do(t, "GET", "/v1/settings/phone", key, nil)
	require.Equal(t, 200, r.Status, "%s", r.Body)
	require.Contains(t, string(r.Body), `"default_country":"BR"`, "the WhatsApp number's country")
	require.Contains(t, string(r.Body), `"default_country_source":"whatsapp_number"`)

	const waID = "551187654321"
	writeIn(t, graphsim.Inbound{PhoneNumberID: acct.PhoneNumberID, From: waID, Name: "Maria", Text: "Oi! Vocês entregam em Campinas?"})

	var ids []string
	var conv, contact string
	for i, to := range []string{"+55 11 98765-4321", "(11) 98765-4321"} {
		body, _ := json.Marshal(map[string]string{"to": to, "text": "Entregamos, sim."})
		r := do(t, "POST", "/v1/messages", key, body, "Idempotency-Key", "ninth-"+string(rune('a'+i)))
		require.Equal(t, 202, r.Status, "reply to %s: %d %s", to, r.Status, r.Body)
		var m struct {
			ID             string `json:"id"`
			To             string `json:"to"`
			ContactID      string `json:"contact_id"`
			ConversationID string `json:"conversation_id"`
		}
		r.json(t, &m)
		assert.Equal(t, waID, m.To, "sent to the customer's WhatsApp id")
		if conv == "" {
			conv, contact = m.ConversationID, m.ContactID
		}
		assert.Equal(t, contact, m.ContactID, "one contact")
		assert.Equal(t, conv, m.ConversationID, "one conversation")
		ids = append(ids, m.ID)
	}
	sentFrom(t, acct, waID, 2)
	r = do(t, "GET", "/v1/conversations/"+conv+"/messages?limit=10", key, nil)
	require.Equal(t, 200, r.Status, "%s", r.Body)
	for _, id := range ids {
		assert.Contains(t, string(r.Body), id, "the conversation holds both replies")
	}
	assert.Contains(t, string(r.Body), "Campinas", "and the customer's message")
	var page struct {
		Data []map[string]any `json:"data"`
	}
	for _, q := range []string{"%2B5511987654321", "%2B551187654321", "(11)%2098765-4321"} {
		r := do(t, "GET", "/v1/contacts?whatsapp_id="+q, key, nil)
		require.Equal(t, 200, r.Status, "%s", r.Body)
		r.json(t, &page)
		require.Len(t, page.Data, 1, "whatsapp_id=%s: %s", q, r.Body)
		assert.Equal(t, contact, page.Data[0]["id"])
		assert.Equal(t, "+"+waID, page.Data[0]["whatsapp_id"])
	}

	// An organisation with no WhatsApp number and no default country is
	// refused, never guessed at.
	bare := newOrg(t, "No Country Co")
	r = do(t, "POST", "/v1/messages", bare.APIKey.Key, []byte(`{"to":"(11) 95555-1234","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`))
	require.Equal(t, 422, r.Status, "%s", r.Body)
	require.Equal(t, "missing_country_code", r.errorCode(t))
	r = do(t, "PUT", "/v1/settings/phone", bare.APIKey.Key, []byte(`{"default_country":"BR"}`))
	require.Equal(t, 200, r.Status, "%s", r.Body)
	r = do(t, "POST", "/v1/messages", bare.APIKey.Key, []byte(`{"to":"(11) 95555-1234","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`))
	require.Equal(t, 202, r.Status, "%s", r.Body)
	assert.Contains(t, string(r.Body), `"to":"5511955551234"`)
}

// TestShopifyOrderWithTheNinthDigit: the customer's WhatsApp id lacks the
// ninth digit, the order's phone has it. The order lands on the contact
// the customer's message created, and its text goes out inside the window.
func TestShopifyOrderWithTheNinthDigit(t *testing.T) {
	org, acct := phoneOrg(t, "Ninth Digit Shop", "109999000000021")
	key := org.APIKey.Key
	const domain, secret = "ninth-digit-shop.myshopify.com", "ninth-digit-shopify-secret"
	cfg := `{"shop_domain":"` + domain + `","webhook_secret":"` + secret + `",
	  "topics":{"orders/create":{"enabled":true,"message":{"type":"text","text":"Recebemos o pedido {{order_name}}, {{first_name}}!"}}}}`
	r := do(t, "PUT", "/v1/integrations/shopify", key, []byte(cfg))
	require.Equal(t, 200, r.Status, "%s", r.Body)

	const waID = "552187654321"
	writeIn(t, graphsim.Inbound{PhoneNumberID: acct.PhoneNumberID, From: waID, Name: "Bia", Text: "Vou fazer um pedido"})
	r = do(t, "GET", "/v1/contacts?whatsapp_id=%2B"+waID, key, nil)
	var page struct {
		Data []map[string]any `json:"data"`
	}
	r.json(t, &page)
	require.Len(t, page.Data, 1, "%s", r.Body)
	contact := page.Data[0]["id"]

	body := []byte(`{"id":5839403716911821020,"name":"#2020","order_number":2020,"email":"bia@example.com",` +
		`"created_at":"` + time.Now().UTC().Format(time.RFC3339) + `","updated_at":"` + time.Now().UTC().Format(time.RFC3339) + `",` +
		`"currency":"BRL","total_price":"99.90","phone":null,` +
		`"customer":{"first_name":"Bia","last_name":"Lima","phone":"+55 (21) 98765-4321"},` +
		`"billing_address":{"first_name":"Bia","last_name":"Lima","phone":"(21) 98765-4321","country_code":"BR"}}`)
	r = do(t, "POST", "/webhooks/shopify", "", body, "X-Shopify-Topic", "orders/create", "X-Shopify-Hmac-Sha256", shop.Sign(body, secret),
		"X-Shopify-Shop-Domain", domain, "X-Shopify-Webhook-Id", "e2e-ninth-digit-2020", "X-Shopify-API-Version", "2025-10",
		"X-Shopify-Triggered-At", time.Now().UTC().Format(time.RFC3339))
	require.Equal(t, 200, r.Status, "%s", r.Body)

	sent := sentFrom(t, acct, waID, 1)
	var got struct {
		Type string `json:"type"`
		Text struct {
			Body string `json:"body"`
		} `json:"text"`
	}
	require.NoError(t, json.Unmarshal(sent[0].Body, &got), "%s", sent[0].Body)
	assert.Equal(t, "text", got.Type)
	assert.Equal(t, "Recebemos o pedido #2020, Bia!", got.Text.Body)

	for _, q := range []string{waID, "5521987654321"} {
		r = do(t, "GET", "/v1/contacts?whatsapp_id=%2B"+q, key, nil)
		r.json(t, &page)
		require.Len(t, page.Data, 1, "whatsapp_id=%s: %s", q, r.Body)
		assert.Equal(t, contact, page.Data[0]["id"], "the order landed on the customer's contact")
		assert.Equal(t, "customer,purchased", tagsOf(page.Data[0]))
	}
	r = do(t, "GET", "/v1/contacts?limit=100", key, nil)
	r.json(t, &page)
	assert.Len(t, page.Data, 1, "no second contact: %s", r.Body)
}

// TestContactsMergedWhenMetaRevealsOnePerson: a contact known by its BSUID
// (messaged before its phone was known) and one created with the phone are
// one person once Meta's webhook names both: merged into the older, with
// contact.merged, and the merged id answers with the survivor.
func TestContactsMergedWhenMetaRevealsOnePerson(t *testing.T) {
	org, acct := phoneOrg(t, "Merge Co", "109999000000022")
	key := org.APIKey.Key
	const bsuid, waID = "BR.13491208655302742020", "553187654321"

	r := do(t, "POST", "/v1/messages", key, []byte(`{"to":"`+bsuid+`","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`))
	require.Equal(t, 202, r.Status, "%s", r.Body)
	var first struct {
		ContactID      string `json:"contact_id"`
		ConversationID string `json:"conversation_id"`
	}
	r.json(t, &first)
	time.Sleep(5 * time.Millisecond) // ids and creation times order the two
	r = do(t, "POST", "/v1/contacts", key, []byte(`{"whatsapp_id":"(31) 98765-4321","name":"Carla Dias","tags":["lead"],"attributes":{"crm_id":"C-77"}}`))
	require.Equal(t, 201, r.Status, "%s", r.Body)
	var second map[string]any
	r.json(t, &second)
	require.NotEqual(t, first.ContactID, second["id"])

	writeIn(t, graphsim.Inbound{PhoneNumberID: acct.PhoneNumberID, From: waID, UserID: bsuid, Name: "Carla", Text: "Oi, sou eu"})

	r = do(t, "GET", "/v1/contacts/"+second["id"].(string), key, nil)
	require.Equal(t, 200, r.Status, "%s", r.Body)
	var merged map[string]any
	r.json(t, &merged)
	assert.Equal(t, first.ContactID, merged["id"], "the merged id answers with the survivor")
	assert.Equal(t, "+"+waID, merged["whatsapp_id"], "Meta's wa_id")
	assert.Equal(t, "Carla Dias", merged["name"])
	assert.Equal(t, "lead", tagsOf(merged))
	assert.Equal(t, "C-77", merged["attributes"].(map[string]any)["crm_id"])

	var page struct {
		Data []map[string]any `json:"data"`
	}
	r = do(t, "GET", "/v1/contacts?limit=100", key, nil)
	r.json(t, &page)
	require.Len(t, page.Data, 1, "one contact: %s", r.Body)
	r = do(t, "GET", "/v1/conversations?contact_id="+first.ContactID, key, nil)
	r.json(t, &page)
	require.Len(t, page.Data, 1, "%s", r.Body)
	assert.Equal(t, first.ConversationID, page.Data[0]["id"], "the customer's message joined the survivor's conversation")

	// The event, as webhook receivers get it (the samples are the real
	// events the organisation emitted; the catalogue's until there is one).
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		r := do(t, "GET", "/v1/hooks/samples/contact.merged", key, nil)
		assert.Equal(c, 200, r.Status)
		assert.Contains(c, string(r.Body), `"merged_contact_id":"`+second["id"].(string)+`"`, "contact.merged")
		assert.Contains(c, string(r.Body), `"surviving_contact_id":"`+first.ContactID+`"`, "contact.merged")
	}, 30*time.Second, 200*time.Millisecond)
}
