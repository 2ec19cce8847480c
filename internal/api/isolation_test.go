package api_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/dispatch"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

type jobQueue struct {
	mu   sync.Mutex
	jobs []dispatch.Job
}

func (q *jobQueue) Enqueue(_ context.Context, jobs ...dispatch.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = append(q.jobs, jobs...)
	return nil
}

// TestTenantIsolation: for every route, organisation A's key cannot read or
// change organisation B's data. Routes addressing one of B's resources by id
// answer 404 (never 403: A cannot even learn it exists); routes without an id
// only ever see A's own data. A route added without a case here fails the
// test.
func TestTenantIsolation(t *testing.T) {
	tbl := storetest.New(t)
	now := func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) }
	st := store.New(tbl.Client, tbl.Name, now)
	ctx := context.Background()
	a, _ := st.CreateOrganization(ctx, "A")
	b, _ := st.CreateOrganization(ctx, "B")
	_, ka, _ := st.IssueKey(ctx, a.ID, "a", apikey.Live)
	kB, kb, _ := st.IssueKey(ctx, b.ID, "b", apikey.Live)
	in, err := st.RecordInbound(ctx, store.InboundMessage{OrgID: b.ID, From: store.Identity{WaID: "5511988887777"}, WAMID: "wamid.B1", Type: "image",
		Timestamp: now(), Content: json.RawMessage(`{"media_id":"1479537139650973"}`), Raw: json.RawMessage(`{"id":"wamid.B1"}`),
		MediaID: "1479537139650973", MediaMime: "image/jpeg"})
	require.NoError(t, err)
	f := newFullFixture(t, st, now)

	// B's data, made through the API where there is a route for it.
	mustJSON := func(method, path, key, reqBody string, want int) map[string]any {
		t.Helper()
		code, body := f.call(method, path, key, reqBody)
		require.Equal(t, want, code, "setup: %d %s", code, body)
		var m map[string]any
		_ = json.Unmarshal([]byte(body), &m)
		return m
	}
	contactB := in.Contact.ID
	convB := in.Conversation.ID
	msgB := in.Message.ID
	mustJSON("PATCH", "/v1/contacts/"+contactB, kb, `{"name":"Bia","tags":["vip"]}`, 200)
	hook := mustJSON("POST", "/v1/webhooks", kb, `{"name":"B","url":"https://b.example.com/hooks","events":["*"]}`, 201)
	hookB := hook["id"].(string)
	test := mustJSON("POST", "/v1/webhooks/"+hookB+"/test", kb, "", 202)
	deliveryB := test["delivery"].(map[string]any)["id"].(string)
	zap := mustJSON("POST", "/v1/hooks", kb, `{"hookUrl":"https://hooks.zapier.com/hooks/standard/1/b/","event":"message.received"}`, 201)
	zapB := zap["id"].(string)
	bot := mustJSON("POST", "/v1/chatbots", kb, `{"name":"B bot","welcome_message":"Oi da B"}`, 201)
	botB := bot["id"].(string)
	sample, _ := json.Marshal(map[string]any{"id": "evt_b", "event": "contact.created", "timestamp": now(), "organization_id": b.ID,
		"data": map[string]any{"secret": "B-only"}})
	require.NoError(t, st.RecordEventSample(ctx, b.ID, "contact.created", "evt_b", now(), sample))
	mustJSON("PUT", "/v1/integrations/shopify", kb, `{"shop_domain":"b-shop.myshopify.com","webhook_secret":"b-shopify-secret-0001"}`, 200)
	mustJSON("PUT", "/v1/integrations/woocommerce", kb, `{"site_url":"https://b-shop.example.com","webhook_secret":"b-woo-secret-0001"}`, 200)
	mustJSON("PUT", "/v1/integrations/hubspot", kb, `{"portal_id":"7777","access_token":"pat-na1-b-token","client_secret":"b-hubspot-secret"}`, 200)
	mustJSON("PUT", "/v1/integrations/salesforce", kb, `{"login_url":"https://b.my.salesforce.com","client_id":"b-client","client_secret":"b-sf-secret"}`, 200)
	mustJSON("PUT", "/v1/settings/whatsapp", kb, `{"phone_number_id":"200000000000001","waba_id":"300000000000001","access_token":"EAAG-b-token-0001","app_secret":"b-app-secret-0001","verify_token":"b-verify-token-0001"}`, 200)
	mustJSON("PUT", "/v1/settings/phone", kb, `{"default_country":"PT"}`, 200)
	mustJSON("PUT", "/v1/settings/opt-out", kb, `{"keywords":["B-only-keyword"],"confirmation":"Oi da B: até logo"}`, 200)
	_, _, err = st.OptOutContact(ctx, b.ID, in.Contact.ID, store.OptOut{Reason: store.OptOutKeyword, Detail: "B-only-keyword", MessageID: in.Message.ID})
	require.NoError(t, err)

	camp := mustJSON("POST", "/v1/campaigns", kb, `{"name":"B campaign","template":{"name":"b_tpl","language":{"code":"pt_BR"}},"audience":{"contact_ids":["`+contactB+`"]}}`, 201)
	campB := camp["id"].(string)

	// B's templates (after B's settings: a synced copy checks them).
	_, err = st.SyncTemplates(ctx, b.ID, []store.Template{{ID: "900", Name: "b_secret_tpl", Language: "pt_BR", Category: "UTILITY",
		Status: "APPROVED", Components: json.RawMessage(`[{"type":"BODY","text":"Oi da B"}]`)}})
	require.NoError(t, err)

	notFound := func(method, path, body string) func(t *testing.T) {
		return func(t *testing.T) {
			code, resp := f.call(method, path, ka, body)
			require.Equal(t, 404, code, "A's key on B's %s %s: %d %s, want 404", method, path, code, resp)
		}
	}
	// hides fails when any of B's identifiers appear in A's answer.
	hides := func(method, path, body string, want int) func(t *testing.T) {
		return func(t *testing.T) {
			code, resp := f.call(method, path, ka, body)
			require.Equal(t, want, code, "%s %s: %d %s, want %d", method, path, code, resp, want)
			for _, s := range []string{b.ID, contactB, convB, msgB, hookB, deliveryB, zapB, kB.ID, botB, "Oi da B", "B-only", "200000000000001", "5511988887777", "b_secret_tpl", "B-only-keyword", campB, "B campaign"} {
				require.NotContains(t, resp, s, "%s %s shows B's %q: %s", method, path, s, resp)
			}
		}
	}
	cases := map[string]func(t *testing.T){
		"GET /v1/health":                  hides("GET", "/v1/health", "", 200),
		"GET /v1/openapi.json":            hides("GET", "/v1/openapi.json", "", 200),
		"GET /v1/organization":            hides("GET", "/v1/organization", "", 200),
		"POST /v1/api-keys":               hides("POST", "/v1/api-keys", `{"name":"ci"}`, 201),
		"GET /v1/api-keys":                hides("GET", "/v1/api-keys", "", 200),
		"GET /v1/api-keys/{id}":           notFound("GET", "/v1/api-keys/"+kB.ID, ""),
		"DELETE /v1/api-keys/{id}":        notFound("DELETE", "/v1/api-keys/"+kB.ID, ""),
		"POST /v1/messages":               notFound("POST", "/v1/messages", `{"to":"`+contactB+`","type":"text","text":{"body":"hi"}}`),
		"GET /v1/messages/{id}":           notFound("GET", "/v1/messages/"+msgB, ""),
		"DELETE /v1/messages/{id}":        notFound("DELETE", "/v1/messages/"+msgB, ""),
		"GET /v1/settings/whatsapp":       hides("GET", "/v1/settings/whatsapp", "", 404),
		"PUT /v1/settings/whatsapp":       hides("PUT", "/v1/settings/whatsapp", `{"phone_number_id":"200000000000001","waba_id":"300000000000002","access_token":"EAAG-a-token-0001","app_secret":"a-app-secret-0001","verify_token":"a-verify-token-0001"}`, 409),
		"POST /v1/settings/whatsapp/test": hides("POST", "/v1/settings/whatsapp/test", "", 404),
		"GET /v1/settings/phone":          hides("GET", "/v1/settings/phone", "", 200),
		"PUT /v1/settings/phone":          hides("PUT", "/v1/settings/phone", `{"default_country":"MX"}`, 200),
		"GET /v1/settings/opt-out":        hides("GET", "/v1/settings/opt-out", "", 200),
		"PUT /v1/settings/opt-out":        hides("PUT", "/v1/settings/opt-out", `{"keywords":["STOP"]}`, 200),
		"POST /v1/contacts/{id}/opt-in":   notFound("POST", "/v1/contacts/"+contactB+"/opt-in", ""),
		// Campaigns: B's are invisible; B's contacts are no audience of A's.
		"POST /v1/campaigns":                                    hides("POST", "/v1/campaigns", `{"name":"A","template":{"name":"x","language":{"code":"pt_BR"}},"audience":{"contact_ids":["`+contactB+`"]}}`, 422),
		"GET /v1/campaigns":                                     hides("GET", "/v1/campaigns?limit=100", "", 200),
		"GET /v1/campaigns/{id}":                                notFound("GET", "/v1/campaigns/"+campB, ""),
		"GET /v1/campaigns/{id}/recipients":                     notFound("GET", "/v1/campaigns/"+campB+"/recipients", ""),
		"POST /v1/campaigns/{id}/pause":                         notFound("POST", "/v1/campaigns/"+campB+"/pause", ""),
		"POST /v1/campaigns/{id}/resume":                        notFound("POST", "/v1/campaigns/"+campB+"/resume", ""),
		"POST /v1/campaigns/{id}/cancel":                        notFound("POST", "/v1/campaigns/"+campB+"/cancel", ""),
		"GET /v1/webhooks/events":                               hides("GET", "/v1/webhooks/events", "", 200),
		"POST /v1/webhooks":                                     hides("POST", "/v1/webhooks", `{"name":"A","url":"https://b.example.com/hooks","events":["*"]}`, 201),
		"GET /v1/webhooks":                                      hides("GET", "/v1/webhooks", "", 200),
		"GET /v1/webhooks/{id}":                                 notFound("GET", "/v1/webhooks/"+hookB, ""),
		"PATCH /v1/webhooks/{id}":                               notFound("PATCH", "/v1/webhooks/"+hookB, `{"active":false}`),
		"DELETE /v1/webhooks/{id}":                              notFound("DELETE", "/v1/webhooks/"+hookB, ""),
		"POST /v1/webhooks/{id}/rotate-secret":                  notFound("POST", "/v1/webhooks/"+hookB+"/rotate-secret", ""),
		"POST /v1/webhooks/{id}/test":                           notFound("POST", "/v1/webhooks/"+hookB+"/test", ""),
		"GET /v1/webhooks/{id}/deliveries":                      notFound("GET", "/v1/webhooks/"+hookB+"/deliveries", ""),
		"POST /v1/webhooks/{id}/deliveries/{delivery_id}/retry": notFound("POST", "/v1/webhooks/"+hookB+"/deliveries/"+deliveryB+"/retry", ""),
		"POST /v1/contacts": func(t *testing.T) {
			// The same number is another organisation's own contact.
			code, resp := f.call("POST", "/v1/contacts", ka, `{"whatsapp_id":"+5511988887777","name":"Same number, other org"}`)
			require.Equal(t, 201, code, "POST /v1/contacts: %d %s", code, resp)
			require.NotContains(t, resp, contactB, "POST /v1/contacts")
			require.NotContains(t, resp, "Bia", "POST /v1/contacts")
		},
		"GET /v1/contacts":                    hides("GET", "/v1/contacts?limit=100", "", 200),
		"GET /v1/contacts/{id}":               notFound("GET", "/v1/contacts/"+contactB, ""),
		"PATCH /v1/contacts/{id}":             notFound("PATCH", "/v1/contacts/"+contactB, `{"name":"Hijacked"}`),
		"DELETE /v1/contacts/{id}":            notFound("DELETE", "/v1/contacts/"+contactB, ""),
		"POST /v1/contacts/{id}/tags":         notFound("POST", "/v1/contacts/"+contactB+"/tags", `{"tags":["hijacked"]}`),
		"DELETE /v1/contacts/{id}/tags/{tag}": notFound("DELETE", "/v1/contacts/"+contactB+"/tags/vip", ""),
		"POST /v1/hooks":                      hides("POST", "/v1/hooks", `{"hookUrl":"https://hooks.zapier.com/hooks/standard/1/a/","event":"contact.created"}`, 201),
		"DELETE /v1/hooks/{id}":               notFound("DELETE", "/v1/hooks/"+zapB, ""),
		"GET /v1/hooks/samples/{event}":       hides("GET", "/v1/hooks/samples/contact.created", "", 200),
		"GET /v1/conversations":               hides("GET", "/v1/conversations?limit=100", "", 200),
		"GET /v1/conversations/{id}":          notFound("GET", "/v1/conversations/"+convB, ""),
		"PATCH /v1/conversations/{id}":        notFound("PATCH", "/v1/conversations/"+convB, `{"status":"resolved"}`),
		"GET /v1/conversations/{id}/messages": notFound("GET", "/v1/conversations/"+convB+"/messages", ""),
		"POST /v1/chatbots":                   hides("POST", "/v1/chatbots", `{"name":"A bot"}`, 201),
		"GET /v1/chatbots":                    hides("GET", "/v1/chatbots", "", 200),
		"GET /v1/chatbots/{id}":               notFound("GET", "/v1/chatbots/"+botB, ""),
		"PATCH /v1/chatbots/{id}":             notFound("PATCH", "/v1/chatbots/"+botB, `{"active":false}`),
		"DELETE /v1/chatbots/{id}":            notFound("DELETE", "/v1/chatbots/"+botB, ""),
		"GET /v1/media/{media_id}":            notFound("GET", "/v1/media/1479537139650973", ""),
		"POST /v1/media": func(t *testing.T) {
			// A has no number to upload to; B's is never used.
			ev := event("POST", "/v1/media", "Bearer "+ka, "hello")
			ev.Headers["content-type"] = "text/plain"
			resp, _ := f.do(ev)
			require.Equal(t, 409, resp.StatusCode, "POST /v1/media: %d %s", resp.StatusCode, resp.Body)
			require.NotContains(t, resp.Body, "200000000000001")
		},
		"POST /v1/messages/{id}/read": notFound("POST", "/v1/messages/"+msgB+"/read", ""),
		// Templates: A sees none of B's, and has no WABA to call Meta with.
		"GET /v1/templates":           hides("GET", "/v1/templates?limit=100", "", 200),
		"GET /v1/templates/{name}":    notFound("GET", "/v1/templates/b_secret_tpl", ""),
		"DELETE /v1/templates/{name}": notFound("DELETE", "/v1/templates/b_secret_tpl", ""),
		"POST /v1/templates":          hides("POST", "/v1/templates", `{"name":"b_secret_tpl","language":"pt_BR","category":"UTILITY","components":[{"type":"BODY","text":"x"}]}`, 409),
		"POST /v1/templates/sync":     hides("POST", "/v1/templates/sync", "", 409),
		// E-commerce integrations: A has none; B's shop domain and site URL are B's.
		"GET /v1/integrations/shopify":        hides("GET", "/v1/integrations/shopify", "", 404),
		"PUT /v1/integrations/shopify":        hides("PUT", "/v1/integrations/shopify", `{"shop_domain":"B-Shop.myshopify.com","webhook_secret":"a-shopify-secret-0001"}`, 409),
		"DELETE /v1/integrations/shopify":     hides("DELETE", "/v1/integrations/shopify", "", 404),
		"GET /v1/integrations/woocommerce":    hides("GET", "/v1/integrations/woocommerce", "", 404),
		"PUT /v1/integrations/woocommerce":    hides("PUT", "/v1/integrations/woocommerce", `{"site_url":"http://b-shop.example.com/","webhook_secret":"a-woo-secret-0001"}`, 409),
		"DELETE /v1/integrations/woocommerce": hides("DELETE", "/v1/integrations/woocommerce", "", 404),
		// CRMs: A has none; B's HubSpot portal is B's.
		"GET /v1/integrations/hubspot":       hides("GET", "/v1/integrations/hubspot", "", 404),
		"PUT /v1/integrations/hubspot":       hides("PUT", "/v1/integrations/hubspot", `{"portal_id":"7777","access_token":"pat-na1-a-token","client_secret":"a-hubspot-secret"}`, 409),
		"DELETE /v1/integrations/hubspot":    hides("DELETE", "/v1/integrations/hubspot", "", 404),
		"GET /v1/integrations/salesforce":    hides("GET", "/v1/integrations/salesforce", "", 404),
		"PUT /v1/integrations/salesforce":    hides("PUT", "/v1/integrations/salesforce", `{"login_url":"https://a.my.salesforce.com","client_id":"a-client","client_secret":"a-sf-secret"}`, 200),
		"DELETE /v1/integrations/salesforce": hides("DELETE", "/v1/integrations/salesforce", "", 404),
	}
	for _, r := range f.router.Routes() {
		run, ok := cases[r]
		if !ok {
			t.Errorf("route %s has no tenant-isolation case", r)
			continue
		}
		t.Run(r, run)
	}

	// B's data is as B left it.
	checks := []struct{ path, has string }{
		{"/v1/contacts/" + contactB, `"tags":["vip"]`},
		{"/v1/contacts/" + contactB, `"name":"Bia"`},
		{"/v1/conversations/" + convB, `"status":"open"`},
		{"/v1/webhooks/" + hookB, `"active":true`},
		{"/v1/webhooks/" + hookB + "/deliveries", deliveryB},
		{"/v1/api-keys/" + kB.ID, `"last4"`},
		{"/v1/messages/" + msgB, "wamid.B1"},
		{"/v1/settings/whatsapp", "200000000000001"},
		{"/v1/settings/phone", `"default_country":"PT"`},
		{"/v1/settings/opt-out", `"keywords":["B-only-keyword"]`},
		{"/v1/campaigns/" + campB, `"status":"running"`},
		{"/v1/contacts/" + contactB, `"opted_out":true`},
		{"/v1/hooks/samples/contact.created", "B-only"},
		{"/v1/chatbots/" + botB, `"active":true`},
		{"/v1/integrations/shopify", `"shop_domain":"b-shop.myshopify.com"`},
		{"/v1/integrations/woocommerce", `"site_url":"https://b-shop.example.com"`},
		{"/v1/integrations/hubspot", `"portal_id":"7777"`},
		{"/v1/integrations/salesforce", `"login_url":"https://b.my.salesforce.com"`},
		{"/v1/templates/b_secret_tpl", `"status":"APPROVED"`},
	}
	for _, c := range checks {
		code, body := f.call("GET", c.path, kb, "")
		assert.Equal(t, 200, code, "B's %s after A's attempts: %d %s (want %s)", c.path, code, body, c.has)
		assert.Contains(t, body, c.has, "B's %s after A's attempts: %d %s (want %s)", c.path, code, body, c.has)
	}
	code, body := f.call("GET", "/v1/api-keys/"+kB.ID, kb, "")
	assert.NotContains(t, body, "revoked_at", "B's key was revoked by A: %d %s", code, body)
}
