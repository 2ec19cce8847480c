package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/shopconfig"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// integrationFixture: two organisations A and B, a settable clock, the
// secrets in memory.
type integrationFixture struct {
	*fixture
	sec    *jsonSecrets
	st     *store.Store
	ka, kb string
	a, b   store.Organization
	now    *time.Time
}

func newIntegrationFixture(t *testing.T) *integrationFixture {
	t.Helper()
	tbl := storetest.New(t)
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return at }
	st := store.New(tbl.Client, tbl.Name, now)
	ctx := context.Background()
	a, _ := st.CreateOrganization(ctx, "A")
	b, _ := st.CreateOrganization(ctx, "B")
	_, ka, _ := st.IssueKey(ctx, a.ID, "a", apikey.Live)
	_, kb, _ := st.IssueKey(ctx, b.ID, "b", apikey.Live)
	sec := &jsonSecrets{m: map[string][]byte{}}
	srv := api.New(api.Deps{Store: st, Secrets: sec, SecretWriter: sec, Integrations: st, Contacts: st,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now})
	return &integrationFixture{fixture: &fixture{t: t, router: srv.Router()}, sec: sec, st: st, ka: ka, kb: kb, a: a, b: b, now: &at}
}

func (f *integrationFixture) secret(org, platform string) shopconfig.Secret {
	var s shopconfig.Secret
	_ = f.sec.Get(context.Background(), org, shopconfig.Provider(platform), &s)
	return s
}

func decode(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	return m
}

func TestShopifyIntegrationSettings(t *testing.T) {
	f := newIntegrationFixture(t)
	if code, body := f.call("GET", "/v1/integrations/shopify", f.ka, ""); code != 404 || !strings.Contains(body, "integration_not_configured") {
		t.Fatalf("get before put: %d %s", code, body)
	}
	// The secret is required the first time.
	code, body := f.call("PUT", "/v1/integrations/shopify", f.ka, `{"shop_domain":"acme.myshopify.com"}`)
	if code != 422 || !strings.Contains(body, `"field":"webhook_secret"`) {
		t.Fatalf("no secret: %d %s", code, body)
	}
	code, body = f.call("PUT", "/v1/integrations/shopify", f.ka, `{"shop_domain":"https://ACME.myshopify.com/","webhook_secret":"shpss_first_secret_0001"}`)
	if code != 200 {
		t.Fatalf("put: %d %s", code, body)
	}
	v := decode(t, body)
	topics := v["topics"].(map[string]any)
	create := topics["orders/create"].(map[string]any)
	tpl := create["message"].(map[string]any)["template"].(map[string]any)
	if v["platform"] != "shopify" || v["shop_domain"] != "acme.myshopify.com" || v["webhook_secret"] != "********0001" ||
		create["enabled"] != true || tpl["name"] != "order_confirmation" || len(topics) != 3 ||
		topics["orders/fulfilled"].(map[string]any)["enabled"] != false || strings.Contains(body, "shpss_first") {
		t.Fatalf("put view: %s", body)
	}
	if got := f.secret(f.a.ID, "shopify"); got.WebhookSecret != "shpss_first_secret_0001" || got.Previous != "" {
		t.Fatalf("stored secret: %+v", got)
	}
	// A later PUT without the secret keeps it; a new one keeps the old one for an hour.
	code, body = f.call("PUT", "/v1/integrations/shopify", f.ka, `{"shop_domain":"acme.myshopify.com","contact":{"tags":["loja"]}}`)
	if code != 200 || !strings.Contains(body, `"webhook_secret":"********0001"`) || !strings.Contains(body, `"tags":["loja"]`) {
		t.Fatalf("put without secret: %d %s", code, body)
	}
	code, body = f.call("PUT", "/v1/integrations/shopify", f.ka, `{"shop_domain":"acme.myshopify.com","webhook_secret":"shpss_second_secret_0002"}`)
	if code != 200 || !strings.Contains(body, `"webhook_secret":"********0002"`) ||
		!strings.Contains(body, `"previous_webhook_secret_expires_at":"2026-11-29T13:00:00Z"`) {
		t.Fatalf("rotate: %d %s", code, body)
	}
	if got := f.secret(f.a.ID, "shopify"); got.WebhookSecret != "shpss_second_secret_0002" || got.Previous != "shpss_first_secret_0001" {
		t.Fatalf("rotated secret: %+v", got)
	}
	code, body = f.call("GET", "/v1/integrations/shopify", f.ka, "")
	if code != 200 || !strings.Contains(body, `"webhook_secret":"********0002"`) || strings.Contains(body, "shpss_") {
		t.Fatalf("get: %d %s", code, body)
	}
	*f.now = f.now.Add(2 * time.Hour)
	if _, body := f.call("GET", "/v1/integrations/shopify", f.ka, ""); strings.Contains(body, "previous_webhook_secret_expires_at") {
		t.Fatalf("grace over: %s", body)
	}

	// Validation names the field path.
	code, body = f.call("PUT", "/v1/integrations/shopify", f.ka, `{"shop_domain":"acme.myshopify.com","topics":{"orders/create":{"message":{"type":"template","template":{"name":"order_confirmation","language":{"code":"pt_BR"},"parameters":["{{order_number}}","{{total}} {{moeda}}"]}}}}}`)
	if code != 422 || !strings.Contains(body, `"field":"topics.orders/create.message.template.parameters[1]"`) || !strings.Contains(body, "{{moeda}}") {
		t.Fatalf("bad placeholder: %d %s", code, body)
	}
	if code, body := f.call("PUT", "/v1/integrations/shopify", f.ka, `{"shop_domain":"acme.example.com"}`); code != 422 || !strings.Contains(body, `"field":"shop_domain"`) {
		t.Fatalf("custom domain: %d %s", code, body)
	}
	if code, body := f.call("PUT", "/v1/integrations/shopify", f.ka, `{"shop_domain":"acme.myshopify.com","statuses":{}}`); code != 422 || !strings.Contains(body, `"field":"statuses"`) {
		t.Fatalf("woocommerce field on shopify: %d %s", code, body)
	}
	if code, _ := f.call("PUT", "/v1/integrations/shopify", f.ka, `not json`); code != 400 {
		t.Fatalf("not json: %d", code)
	}

	// The shop domain is unique across organisations.
	code, body = f.call("PUT", "/v1/integrations/shopify", f.kb, `{"shop_domain":"acme","webhook_secret":"b-secret-0000001"}`)
	if code != 409 || !strings.Contains(body, "shop_domain_taken") || !strings.Contains(body, `"field":"shop_domain"`) || strings.Contains(body, f.a.ID) {
		t.Fatalf("taken: %d %s", code, body)
	}
	if _, ok := f.sec.m[f.b.ID+"/integrations/shopify"]; ok {
		t.Fatal("a refused PUT stored a secret")
	}
	// Moving A to another domain frees the old one (same transaction).
	if code, body := f.call("PUT", "/v1/integrations/shopify", f.ka, `{"shop_domain":"acme-2.myshopify.com"}`); code != 200 {
		t.Fatalf("move: %d %s", code, body)
	}
	if org, err := f.st.OrgByIntegrationSource(context.Background(), "shopify", "acme.myshopify.com"); err == nil {
		t.Fatalf("old domain still routes to %s", org)
	}
	if code, body := f.call("PUT", "/v1/integrations/shopify", f.kb, `{"shop_domain":"acme","webhook_secret":"b-secret-0000001"}`); code != 200 {
		t.Fatalf("B takes the freed domain: %d %s", code, body)
	}
	// Each organisation sees only its own.
	if _, body := f.call("GET", "/v1/integrations/shopify", f.kb, ""); !strings.Contains(body, `"shop_domain":"acme.myshopify.com"`) {
		t.Fatalf("B: %s", body)
	}
	if _, body := f.call("GET", "/v1/integrations/shopify", f.ka, ""); !strings.Contains(body, `"shop_domain":"acme-2.myshopify.com"`) {
		t.Fatalf("A: %s", body)
	}

	// DELETE removes the settings, the lookup item and the secret.
	if code, body := f.call("DELETE", "/v1/integrations/shopify", f.ka, ""); code != 204 {
		t.Fatalf("delete: %d %s", code, body)
	}
	if code, _ := f.call("DELETE", "/v1/integrations/shopify", f.ka, ""); code != 404 {
		t.Fatalf("delete again: %d", code)
	}
	if _, ok := f.sec.m[f.a.ID+"/integrations/shopify"]; ok {
		t.Fatal("secret left after delete")
	}
	if _, err := f.st.OrgByIntegrationSource(context.Background(), "shopify", "acme-2.myshopify.com"); err == nil {
		t.Fatal("lookup left after delete")
	}
	if code, _ := f.call("GET", "/v1/integrations/shopify", f.kb, ""); code != 200 {
		t.Fatal("A's delete touched B")
	}
}

func TestWooCommerceIntegrationSettings(t *testing.T) {
	f := newIntegrationFixture(t)
	code, body := f.call("PUT", "/v1/integrations/woocommerce", f.ka, `{"site_url":"https://Loja.Example.com/","webhook_secret":"wc-secret-000001",
		"statuses":{"processing":{"message":{"type":"text","text":"Recebemos o pagamento do pedido #{{number}}, {{first_name}}!"}}}}`)
	if code != 200 {
		t.Fatalf("put: %d %s", code, body)
	}
	v := decode(t, body)
	statuses := v["statuses"].(map[string]any)
	if v["site_url"] != "https://loja.example.com" || v["platform"] != "woocommerce" || len(statuses) != 2 ||
		statuses["completed"].(map[string]any)["message"].(map[string]any)["text"] != "Seu pedido #{{number}} foi concluído!" ||
		v["topics"] != nil || v["shop_domain"] != nil {
		t.Fatalf("view: %s", body)
	}
	// The same site over http, or with a trailing slash, is the same site.
	code, body = f.call("PUT", "/v1/integrations/woocommerce", f.kb, `{"site_url":"http://loja.example.com","webhook_secret":"wc-secret-000002"}`)
	if code != 409 || !strings.Contains(body, "site_url_taken") {
		t.Fatalf("taken: %d %s", code, body)
	}
	code, body = f.call("PUT", "/v1/integrations/woocommerce", f.ka, `{"site_url":"https://loja.example.com","statuses":{"refunded":{"message":{"type":"text","text":"Reembolso de {{total}} {{moeda}}"}}}}`)
	if code != 422 || !strings.Contains(body, `"field":"statuses.refunded.message.text"`) {
		t.Fatalf("bad placeholder: %d %s", code, body)
	}
	if code, body := f.call("GET", "/v1/integrations/woocommerce", f.kb, ""); code != 404 {
		t.Fatalf("B sees A's: %d %s", code, body)
	}
	if code, _ := f.call("DELETE", "/v1/integrations/woocommerce", f.kb, ""); code != 404 {
		t.Fatal("B deleted A's")
	}
	if code, _ := f.call("GET", "/v1/integrations/woocommerce", f.ka, ""); code != 200 {
		t.Fatal("A's settings gone")
	}
}
