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
	"github.com/pytake/pytake/infra/local/stack"
	"github.com/pytake/pytake/internal/shop"
)

// sentTo waits until the simulator has received n messages for a number
// and returns them.
func sentTo(t *testing.T, to string, n int, limit time.Duration) []graphsim.Sent {
	t.Helper()
	var out []graphsim.Sent
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		out = out[:0]
		for _, s := range st.Sim.Sent() {
			if s.To == to {
				out = append(out, s)
			}
		}
		assert.GreaterOrEqual(c, len(out), n, "messages the simulator got for %s", to)
	}, limit, 100*time.Millisecond)
	return out
}

// contactOf reads a contact through the API by its number.
func contactOf(t *testing.T, phone string) map[string]any {
	t.Helper()
	r := do(t, "GET", "/v1/contacts?whatsapp_id=%2B"+phone, demo.APIKey.Key, nil)
	var page struct {
		Data []map[string]any `json:"data"`
	}
	r.json(t, &page)
	require.Equal(t, 200, r.Status, "contact %s: %d %s", phone, r.Status, r.Body)
	require.Len(t, page.Data, 1, "contact %s: %d %s", phone, r.Status, r.Body)
	return page.Data[0]
}

func tagsOf(c map[string]any) string {
	var tags []string
	for _, v := range c["tags"].([]any) {
		tags = append(tags, v.(string))
	}
	return strings.Join(tags, ",")
}

func TestShopifyOrderBecomesTemplate(t *testing.T) {
	env := st.DemoEnv(demo)
	require.Equal(t, stack.DemoShopDomain, env["SHOPIFY_SHOP_DOMAIN"], "demo.env: %v", env)
	require.NotEmpty(t, env["SHOPIFY_WEBHOOK_SECRET"], "demo.env")
	// The demo organisation has the defaults: orders/create sends order_confirmation.
	r := do(t, "GET", "/v1/integrations/shopify", demo.APIKey.Key, nil)
	require.Equal(t, 200, r.Status, "settings: %d %s", r.Status, r.Body)
	require.Contains(t, string(r.Body), `"shop_domain":"pytake-demo.myshopify.com"`, "settings")
	require.NotContains(t, string(r.Body), stack.DemoShopifySecret, "settings")
	require.Contains(t, string(r.Body), `"name":"order_confirmation"`, "settings")
	const phone = "5511944440001"
	body := []byte(`{"id":5839403716911820999,"name":"#1077","order_number":1077,"email":"carla.dias@example.com",` +
		`"created_at":"2026-11-28T10:00:00-03:00","currency":"BRL","total_price":"259.90","financial_status":"paid",` +
		`"fulfillment_status":null,"cancelled_at":null,"phone":null,` +
		`"customer":{"id":7124567890123450001,"first_name":"Carla","last_name":"Dias","email":"carla.dias@example.com","phone":null},` +
		`"billing_address":{"first_name":"Carla","last_name":"Dias","phone":"(11) 94444-0001","country_code":"BR"}}`)
	headers := func(sig string) []string {
		return []string{"X-Shopify-Topic", "orders/create", "X-Shopify-Hmac-Sha256", sig,
			"X-Shopify-Shop-Domain", env["SHOPIFY_SHOP_DOMAIN"], "X-Shopify-Webhook-Id", "e2e-0b7f3c1e-1077",
			"X-Shopify-API-Version", "2025-10", "X-Shopify-Triggered-At", time.Now().UTC().Format(time.RFC3339)}
	}
	r = do(t, "POST", "/webhooks/shopify", "", body, headers(shop.Sign(body, "not-the-secret"))...)
	require.Equal(t, 401, r.Status, "bad signature: %d %s", r.Status, r.Body)
	sig := shop.Sign(body, env["SHOPIFY_WEBHOOK_SECRET"])
	start := time.Now()
	r = do(t, "POST", "/webhooks/shopify", "", body, headers(sig)...)
	require.Equal(t, 200, r.Status, "webhook: %d %s", r.Status, r.Body)
	t.Logf("answered in %s", time.Since(start).Round(time.Millisecond))
	sent := sentTo(t, phone, 1, 60*time.Second)
	var got struct {
		Type     string `json:"type"`
		Template struct {
			Name     string `json:"name"`
			Language struct {
				Code string `json:"code"`
			} `json:"language"`
			Components []struct {
				Type       string `json:"type"`
				Parameters []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"parameters"`
			} `json:"components"`
		} `json:"template"`
	}
	require.NoError(t, json.Unmarshal(sent[0].Body, &got))
	require.Equal(t, "template", got.Type, "what Meta got: %s", sent[0].Body)
	require.Equal(t, "order_confirmation", got.Template.Name, "what Meta got")
	require.Equal(t, "pt_BR", got.Template.Language.Code, "what Meta got")
	require.Len(t, got.Template.Components, 1, "what Meta got")
	require.Len(t, got.Template.Components[0].Parameters, 2, "what Meta got")
	require.Equal(t, "1077", got.Template.Components[0].Parameters[0].Text, "what Meta got")
	require.Equal(t, "259.90 BRL", got.Template.Components[0].Parameters[1].Text, "what Meta got")
	// A redelivery of the same webhook id is acknowledged and sends nothing.
	r = do(t, "POST", "/webhooks/shopify", "", body, headers(sig)...)
	require.Equal(t, 200, r.Status, "redelivery: %d %s", r.Status, r.Body)
	require.Contains(t, string(r.Body), "duplicate", "redelivery")
	c := contactOf(t, phone)
	attrs := c["attributes"].(map[string]any)
	if c["name"] != "Carla Dias" || c["email"] != "carla.dias@example.com" || tagsOf(c) != "customer,purchased" ||
		attrs["last_purchase"] != "2026-11-28" || attrs["total_spent"] != 259.9 || attrs["total_spent_decimal"] != "259.90" {
		t.Fatalf("contact: %v", c)
	}
	evs := drainEvents(t, "order.created", "5839403716911820999", 1)
	require.Len(t, evs, 1, "order.created: %+v", evs)
	require.Contains(t, string(evs[0].Data), `"message_id":"msg_`, "order.created")
	require.Contains(t, string(evs[0].Data), `"status":"queued"`, "order.created")
	time.Sleep(time.Second)
	n := len(sentTo(t, phone, 1, time.Second))
	require.Equal(t, 1, n, "sent %d times", n)
}

func TestWooCommerceOrderCompletedBecomesText(t *testing.T) {
	env := st.DemoEnv(demo)
	require.NotEmpty(t, env["WOOCOMMERCE_SOURCE_URL"], "demo.env: %v", env)
	require.NotEmpty(t, env["WOOCOMMERCE_WEBHOOK_SECRET"], "demo.env")
	// The creation ping: form-encoded, unsigned, 200.
	if r := do(t, "POST", "/webhooks/woocommerce", "", []byte("webhook_id=12"), "Content-Type", "application/x-www-form-urlencoded"); r.Status != 200 {
		t.Fatalf("ping: %d %s", r.Status, r.Body)
	}
	const phone = "5511944440002"
	// The customer wrote in (the completion message is a text: it needs the 24-hour window).
	if _, status, err := st.Sim.Inbound(context.Background(), graphsim.Inbound{From: phone, Name: "Ana", Text: "Oi, meu pedido já saiu?"}); err != nil || status != 200 {
		t.Fatalf("simulated customer: %d %v", status, err)
	}
	order := func(status string) []byte {
		return []byte(`{"id":2077,"parent_id":0,"number":"2077","status":"` + status + `","currency":"BRL","total":"89.90",` +
			`"date_created":"2026-11-27T14:02:11","date_created_gmt":"2026-11-27T17:02:11",` +
			`"billing":{"first_name":"Ana","last_name":"Souza","email":"ana.souza@example.com","phone":"(11) 94444-0002","country":"BR"},` +
			`"shipping":{"first_name":"Ana","last_name":"Souza","country":"BR","phone":""}}`)
	}
	deliver := func(topic, status string) {
		t.Helper()
		b := order(status)
		r := do(t, "POST", "/webhooks/woocommerce", "", b, "X-WC-Webhook-Source", env["WOOCOMMERCE_SOURCE_URL"],
			"X-WC-Webhook-Topic", topic, "X-WC-Webhook-Resource", "order", "X-WC-Webhook-Event", strings.TrimPrefix(topic, "order."),
			"X-WC-Webhook-ID", "12", "X-WC-Webhook-Delivery-ID", status+time.Now().Format("150405.000000"),
			"X-WC-Webhook-Signature", shop.Sign(b, env["WOOCOMMERCE_WEBHOOK_SECRET"]))
		require.Equal(t, 200, r.Status, "%s %s: %d %s", topic, status, r.Status, r.Body)
	}
	deliver("order.created", "processing")
	deliver("order.updated", "completed")
	sent := sentTo(t, phone, 1, 60*time.Second)
	var got struct {
		Type string `json:"type"`
		Text struct {
			Body string `json:"body"`
		} `json:"text"`
	}
	err := json.Unmarshal(sent[0].Body, &got)
	require.NoError(t, err, "what Meta got: %s", sent[0].Body)
	require.Equal(t, "text", got.Type, "what Meta got")
	require.Equal(t, "Seu pedido #2077 foi concluído!", got.Text.Body, "what Meta got")
	// completed seen twice: nothing more.
	deliver("order.updated", "completed")
	c := contactOf(t, phone)
	attrs := c["attributes"].(map[string]any)
	if c["name"] != "Ana Souza" || c["email"] != "ana.souza@example.com" || tagsOf(c) != "customer,purchased" ||
		attrs["last_purchase"] != "2026-11-27" || attrs["total_spent"] != 89.9 || attrs["total_spent_decimal"] != "89.90" {
		t.Fatalf("contact: %v", c)
	}
	evs := drainEvents(t, "order.updated", `"id":"2077"`, 1)
	require.Len(t, evs, 1, "order.updated: %+v", evs)
	require.Contains(t, string(evs[0].Data), `"previous_status":"processing"`, "order.updated")
	time.Sleep(time.Second)
	n := len(sentTo(t, phone, 1, time.Second))
	require.Equal(t, 1, n, "sent %d times", n)
}
