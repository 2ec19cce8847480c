package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/shopconfig"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// integrationFixture: two organisations A and B, a settable clock, the
// secrets in memory.
type integrationFixture struct {
	*fixture
	sec    *secretstest.Store
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
	sec := secretstest.New()
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
	require.NoError(t, json.Unmarshal([]byte(body), &m), "not JSON: %s", body)
	return m
}

func TestShopifyIntegrationSettings(t *testing.T) {
	f := newIntegrationFixture(t)
	if code, body := f.call("GET", "/v1/integrations/shopify", f.ka, ""); code != 404 || !strings.Contains(body, "integration_not_configured") {
		t.Fatalf("get before put: %d %s", code, body)
	}
	// The secret is required the first time.
	code, body := f.call("PUT", "/v1/integrations/shopify", f.ka, `{"shop_domain":"acme.myshopify.com"}`)
	require.Equal(t, 422, code, "no secret: %d %s", code, body)
	require.Contains(t, body, `"field":"webhook_secret"`, "no secret")
	code, body = f.call("PUT", "/v1/integrations/shopify", f.ka, `{"shop_domain":"https://ACME.myshopify.com/","webhook_secret":"shpss_first_secret_0001"}`)
	require.Equal(t, 200, code, "put: %d %s", code, body)
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
	require.Equal(t, 200, code, "put without secret: %d %s", code, body)
	require.Contains(t, body, `"webhook_secret":"********0001"`, "put without secret")
	require.Contains(t, body, `"tags":["loja"]`, "put without secret")
	code, body = f.call("PUT", "/v1/integrations/shopify", f.ka, `{"shop_domain":"acme.myshopify.com","webhook_secret":"shpss_second_secret_0002"}`)
	require.Equal(t, 200, code, "rotate: %d %s", code, body)
	require.Contains(t, body, `"webhook_secret":"********0002"`, "rotate")
	require.Contains(t, body, `"previous_webhook_secret_expires_at":"2026-11-29T13:00:00Z"`, "rotate")
	got := f.secret(f.a.ID, "shopify")
	require.Equal(t, "shpss_second_secret_0002", got.WebhookSecret, "rotated secret: %+v", got)
	require.Equal(t, "shpss_first_secret_0001", got.Previous, "rotated secret")
	code, body = f.call("GET", "/v1/integrations/shopify", f.ka, "")
	require.Equal(t, 200, code, "get: %d %s", code, body)
	require.Contains(t, body, `"webhook_secret":"********0002"`, "get")
	require.NotContains(t, body, "shpss_", "get")
	*f.now = f.now.Add(2 * time.Hour)
	_, body = f.call("GET", "/v1/integrations/shopify", f.ka, "")
	require.NotContains(t, body, "previous_webhook_secret_expires_at", "grace over: %s", body)

	// Validation names the field path.
	code, body = f.call("PUT", "/v1/integrations/shopify", f.ka, `{"shop_domain":"acme.myshopify.com","topics":{"orders/create":{"message":{"type":"template","template":{"name":"order_confirmation","language":{"code":"pt_BR"},"parameters":["{{order_number}}","{{total}} {{moeda}}"]}}}}}`)
	require.Equal(t, 422, code, "bad placeholder: %d %s", code, body)
	require.Contains(t, body, `"field":"topics.orders/create.message.template.parameters[1]"`, "bad placeholder")
	require.Contains(t, body, "{{moeda}}", "bad placeholder")
	code, body = f.call("PUT", "/v1/integrations/shopify", f.ka, `{"shop_domain":"acme.example.com"}`)
	require.Equal(t, 422, code, "custom domain: %d %s", code, body)
	require.Contains(t, body, `"field":"shop_domain"`, "custom domain")
	code, body = f.call("PUT", "/v1/integrations/shopify", f.ka, `{"shop_domain":"acme.myshopify.com","statuses":{}}`)
	require.Equal(t, 422, code, "woocommerce field on shopify: %d %s", code, body)
	require.Contains(t, body, `"field":"statuses"`, "woocommerce field on shopify")
	code, _ = f.call("PUT", "/v1/integrations/shopify", f.ka, `not json`)
	require.Equal(t, 400, code, "not json: %d", code)

	// The shop domain is unique across organisations.
	code, body = f.call("PUT", "/v1/integrations/shopify", f.kb, `{"shop_domain":"acme","webhook_secret":"b-secret-0000001"}`)
	require.Equal(t, 409, code, "taken: %d %s", code, body)
	require.Contains(t, body, "already_connected", "taken")
	require.NotContains(t, body, "shop_domain", "taken: the conflict names no field")
	require.NotContains(t, body, "acme", "taken: the conflict names no shop")
	require.NotContains(t, body, f.a.ID, "taken")
	require.False(t, f.sec.Has(f.b.ID, "integrations/shopify"), "a refused PUT stored a secret")
	// Moving A to another domain frees the old one (same transaction).
	code, body = f.call("PUT", "/v1/integrations/shopify", f.ka, `{"shop_domain":"acme-2.myshopify.com"}`)
	require.Equal(t, 200, code, "move: %d %s", code, body)
	if org, err := f.st.OrgByIntegrationSource(context.Background(), "shopify", "acme.myshopify.com"); err == nil {
		t.Fatalf("old domain still routes to %s", org)
	}
	code, body = f.call("PUT", "/v1/integrations/shopify", f.kb, `{"shop_domain":"acme","webhook_secret":"b-secret-0000001"}`)
	require.Equal(t, 200, code, "B takes the freed domain: %d %s", code, body)
	// Each organisation sees only its own.
	_, body = f.call("GET", "/v1/integrations/shopify", f.kb, "")
	require.Contains(t, body, `"shop_domain":"acme.myshopify.com"`, "B: %s", body)
	_, body = f.call("GET", "/v1/integrations/shopify", f.ka, "")
	require.Contains(t, body, `"shop_domain":"acme-2.myshopify.com"`, "A: %s", body)

	// DELETE removes the settings, the lookup item and the secret.
	code, body = f.call("DELETE", "/v1/integrations/shopify", f.ka, "")
	require.Equal(t, 204, code, "delete: %d %s", code, body)
	code, _ = f.call("DELETE", "/v1/integrations/shopify", f.ka, "")
	require.Equal(t, 404, code, "delete again: %d", code)
	require.False(t, f.sec.Has(f.a.ID, "integrations/shopify"), "secret left after delete")
	_, err := f.st.OrgByIntegrationSource(context.Background(), "shopify", "acme-2.myshopify.com")
	require.Error(t, err, "lookup left after delete")
	code, _ = f.call("GET", "/v1/integrations/shopify", f.kb, "")
	require.Equal(t, 200, code, "A's delete touched B")
}

func TestWooCommerceIntegrationSettings(t *testing.T) {
	f := newIntegrationFixture(t)
	code, body := f.call("PUT", "/v1/integrations/woocommerce", f.ka, `{"site_url":"https://Loja.Example.com/","webhook_secret":"wc-secret-000001",
		"statuses":{"processing":{"message":{"type":"text","text":"Recebemos o pagamento do pedido #{{number}}, {{first_name}}!"}}}}`)
	require.Equal(t, 200, code, "put: %d %s", code, body)
	v := decode(t, body)
	statuses := v["statuses"].(map[string]any)
	if v["site_url"] != "https://loja.example.com" || v["platform"] != "woocommerce" || len(statuses) != 2 ||
		statuses["completed"].(map[string]any)["message"].(map[string]any)["text"] != "Seu pedido #{{number}} foi concluído!" ||
		v["topics"] != nil || v["shop_domain"] != nil {
		t.Fatalf("view: %s", body)
	}
	// The same site over http, or with a trailing slash, is the same site.
	code, body = f.call("PUT", "/v1/integrations/woocommerce", f.kb, `{"site_url":"http://loja.example.com","webhook_secret":"wc-secret-000002"}`)
	require.Equal(t, 409, code, "taken: %d %s", code, body)
	require.Contains(t, body, "already_connected", "taken")
	require.NotContains(t, body, "loja", "taken: the conflict names no site")
	code, body = f.call("PUT", "/v1/integrations/woocommerce", f.ka, `{"site_url":"https://loja.example.com","statuses":{"refunded":{"message":{"type":"text","text":"Reembolso de {{total}} {{moeda}}"}}}}`)
	require.Equal(t, 422, code, "bad placeholder: %d %s", code, body)
	require.Contains(t, body, `"field":"statuses.refunded.message.text"`, "bad placeholder")
	code, body = f.call("GET", "/v1/integrations/woocommerce", f.kb, "")
	require.Equal(t, 404, code, "B sees A's: %d %s", code, body)
	code, _ = f.call("DELETE", "/v1/integrations/woocommerce", f.kb, "")
	require.Equal(t, 404, code, "B deleted A's")
	code, _ = f.call("GET", "/v1/integrations/woocommerce", f.ka, "")
	require.Equal(t, 200, code, "A's settings gone")
}
