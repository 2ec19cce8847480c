package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
	"github.com/pytake/pytake/internal/whatsapp"
)

// metaStub answers the Graph API's ownership reads as Meta does: GET
// /{version}/{phone_number_id} for a token that can read the number, and
// GET /{version}/{waba_id}/phone_numbers for a token that can read the
// WABA; anything else is error 100, subcode 33 (or 190 for an unknown
// token).
type metaStub struct {
	phones map[string][]string // phone number id → tokens that can read it
	wabas  map[string][]string // WABA id → its phone number ids (any known token reads it)
	tokens map[string]bool
}

func (m metaStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	w.Header().Set("Content-Type", "application/json")
	if !m.tokens[token] {
		w.WriteHeader(401)
		_, _ = io.WriteString(w, `{"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"A1"}}`)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	unknown := func(id string) {
		w.WriteHeader(400)
		_, _ = io.WriteString(w, `{"error":{"message":"Unsupported get request. Object with ID '`+id+`' does not exist, cannot be loaded due to missing permissions, or does not support this operation.","type":"GraphMethodException","code":100,"error_subcode":33,"fbtrace_id":"A2"}}`)
	}
	switch {
	case len(parts) == 2 && slices.Contains(m.phones[parts[1]], token):
		_ = json.NewEncoder(w).Encode(map[string]any{"id": parts[1], "display_phone_number": "+55 11 5555-0000", "verified_name": "Loja", "quality_rating": "GREEN"})
	case len(parts) == 3 && parts[2] == "phone_numbers" && m.wabas[parts[1]] != nil:
		var data []map[string]any
		for _, p := range m.wabas[parts[1]] {
			data = append(data, map[string]any{"id": p, "display_phone_number": "+55 11 5555-0000", "verified_name": "Loja", "quality_rating": "GREEN"})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "paging": map[string]any{"cursors": map[string]string{"before": "QVFI", "after": "QVFJ"}}})
	default:
		unknown(parts[len(parts)-1])
	}
}

func newOwnershipFixture(t *testing.T, meta metaStub) (*fixture, *store.Store, string, string) {
	t.Helper()
	tbl := storetest.New(t)
	now := func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) }
	st := store.New(tbl.Client, tbl.Name, now)
	ctx := context.Background()
	a, _ := st.CreateOrganization(ctx, "A")
	b, _ := st.CreateOrganization(ctx, "B")
	_, ka, _ := st.IssueKey(ctx, a.ID, "a", apikey.Live)
	_, kb, _ := st.IssueKey(ctx, b.ID, "b", apikey.Live)
	g := httptest.NewServer(meta)
	t.Cleanup(g.Close)
	sec := secretstest.New()
	srv := api.New(api.Deps{Store: st, Secrets: sec, SecretWriter: sec, Integrations: st, Graph: graph.New(g.URL, g.Client()),
		GraphVersion: "v26.0", Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now})
	return &fixture{t: t, router: srv.Router()}, st, ka, kb
}

func settingsJSON(phone, waba, token, verify string) string {
	b, _ := json.Marshal(map[string]string{"phone_number_id": phone, "waba_id": waba, "access_token": token,
		"app_secret": "app-secret-0001", "verify_token": verify})
	return string(b)
}

// TestWhatsAppOwnershipIsProvenWithMeta: a number is claimed only with an
// access token Meta lets read it, in the WABA Meta says it belongs to;
// verify tokens may repeat across organisations; every ownership conflict
// answers the same message, which names nobody else's data.
func TestWhatsAppOwnershipIsProvenWithMeta(t *testing.T) {
	meta := metaStub{
		phones: map[string][]string{"106540352242922": {"EAAG-owner", "EAAG-agency"}, "106540352249999": {"EAAG-owner"}},
		wabas:  map[string][]string{"102290129340398": {"106540352242922", "106540352249999"}, "102290129340555": {"106540352240000"}},
		tokens: map[string]bool{"EAAG-owner": true, "EAAG-agency": true, "EAAG-squatter": true},
	}
	f, st, ka, kb := newOwnershipFixture(t, meta)
	// A squatter's token cannot read the number: nothing is claimed.
	for _, c := range []struct{ name, body, field string }{
		{"token cannot read the number", settingsJSON("106540352242922", "", "EAAG-squatter", "verify-token-a"), "phone_number_id"},
		{"unknown token", settingsJSON("106540352242922", "", "EAAG-made-up", "verify-token-a"), "phone_number_id"},
		{"number outside the WABA", settingsJSON("106540352242922", "102290129340555", "EAAG-owner", "verify-token-a"), "waba_id"},
	} {
		code, body := f.call("PUT", "/v1/settings/whatsapp", kb, c.body)
		if code != 422 || !strings.Contains(body, `"field":"`+c.field+`"`) || !strings.Contains(body, "whatsapp_ownership_not_proven") {
			t.Errorf("%s: %d %s, want 422 naming %s", c.name, code, body, c.field)
		}
	}
	if _, err := st.OrgByPhoneNumberID(context.Background(), "106540352242922"); err == nil {
		t.Fatal("an unproven claim was stored")
	}
	// The owner proves it and claims it.
	if code, body := f.call("PUT", "/v1/settings/whatsapp", ka, settingsJSON("106540352242922", "102290129340398", "EAAG-owner", "shared-verify-token")); code != 200 {
		t.Fatalf("owner: %d %s", code, body)
	}
	// Another organisation may use the same verify token (the
	// verification handshake only checks that some organisation has it).
	if code, body := f.call("PUT", "/v1/settings/whatsapp", kb, settingsJSON("106540352249999", "", "EAAG-owner", "shared-verify-token")); code != 200 {
		t.Fatalf("the same verify token in a second organisation: %d %s", code, body)
	}
	if org, err := st.OrgByVerifyTokenHash(context.Background(), whatsapp.HashVerifyToken("shared-verify-token")); err != nil || org == "" {
		t.Fatalf("verification lookup: %q %v", org, err)
	}
	// Conflicts: one message for the number, the WABA, the shop and the
	// site, naming no field and none of A's data.
	mustPut := func(path, body string) {
		if code, resp := f.call("PUT", path, ka, body); code != 200 {
			t.Fatalf("A's %s: %d %s", path, code, resp)
		}
	}
	mustPut("/v1/integrations/shopify", `{"shop_domain":"a-shop.myshopify.com","webhook_secret":"a-shopify-secret-0001"}`)
	mustPut("/v1/integrations/woocommerce", `{"site_url":"https://a-shop.example.com","webhook_secret":"a-woo-secret-0001"}`)
	var messages []string
	for _, c := range []struct{ name, path, body string }{
		{"number", "/v1/settings/whatsapp", settingsJSON("106540352242922", "", "EAAG-agency", "b-verify-token")},
		{"WABA", "/v1/settings/whatsapp", settingsJSON("106540352249999", "102290129340398", "EAAG-owner", "b-verify-token")},
		{"shop", "/v1/integrations/shopify", `{"shop_domain":"A-SHOP.myshopify.com","webhook_secret":"b-shopify-secret-0001"}`},
		{"site", "/v1/integrations/woocommerce", `{"site_url":"http://a-shop.example.com/","webhook_secret":"b-woo-secret-0001"}`},
	} {
		code, body := f.call("PUT", c.path, kb, c.body)
		var e errBody
		_ = json.Unmarshal([]byte(body), &e)
		if code != 409 || e.Error.Code != "already_connected" || len(e.Error.Details) != 0 {
			t.Errorf("%s conflict: %d %s", c.name, code, body)
		}
		for _, leak := range []string{"phone_number_id", "waba_id", "verify_token", "shop_domain", "site_url", "a-shop", "102290129340398", "shared-verify-token"} {
			if strings.Contains(strings.ToLower(e.Error.Message), leak) {
				t.Errorf("%s conflict names %q: %s", c.name, leak, body)
			}
		}
		messages = append(messages, e.Error.Message)
	}
	for _, m := range messages[1:] {
		if m != messages[0] {
			t.Errorf("conflict messages differ: %q", messages)
		}
	}
}
