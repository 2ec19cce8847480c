package shophook_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/shophook"
	"github.com/pytake/pytake/internal/store"
)

// wooOrder is WooCommerce's documented order (id 727, billing phone
// "(555) 555-5555", US) in the given status.
func wooOrder(t *testing.T, status string) []byte {
	return order(t, "woocommerce_order.json", func(o map[string]any) { o["status"] = status })
}

const wooPhone = "15555555555"

// customerWrites opens the 24-hour window for a number.
func (f *fixture) customerWrites(waID string) {
	f.t.Helper()
	_, err := f.store.RecordInbound(context.Background(), store.InboundMessage{OrgID: f.org, From: store.Identity{WaID: waID, ProfileName: "John"},
		WAMID: "wamid.IN-" + waID, Type: "text", Timestamp: f.clock.Now(), Content: json.RawMessage(`{"text":"Olá"}`), Raw: json.RawMessage(`{}`)})
	require.NoError(f.t, err)
}

func TestWooCommercePing(t *testing.T) {
	f := newFixture(t)
	ev := request("/webhooks/woocommerce", map[string]string{"content-type": "application/x-www-form-urlencoded", "user-agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"},
		[]byte("webhook_id=12"))
	if r := f.serve(f.wooRT, ev); r.Status != 200 {
		t.Fatalf("ping: %d %s", r.Status, r.Body)
	}
	n := f.count("UNROUTED#2026-11-29")
	require.Equal(t, 0, n, "the ping was stored")
	require.Empty(t, f.pub.All(), "the ping was stored")
	require.Equal(t, 0, f.count("ORG#"+f.org+"#CREC#woocommerce"), "the ping was stored")
	// Anything else unsigned is refused.
	ev = request("/webhooks/woocommerce", map[string]string{"x-wc-webhook-source": wooSite, "x-wc-webhook-topic": "order.created"}, wooOrder(t, "processing"))
	if r := f.serve(f.wooRT, ev); r.Status != 401 {
		t.Fatalf("unsigned order: %d %s", r.Status, r.Body)
	}
	if r := f.woo("order.created", wooOrder(t, "processing"), "wrong-secret"); r.Status != 401 || !strings.Contains(r.Body, "X-WC-Webhook-Signature") {
		t.Fatalf("bad signature: %d %s", r.Status, r.Body)
	}
	_, err := f.store.Order(context.Background(), f.org, "woocommerce", "727")
	require.Error(t, err, "an unverified webhook stored an order")
	ev = request("/webhooks/woocommerce", map[string]string{"x-wc-webhook-source": "https://elsewhere.example.com/", "x-wc-webhook-topic": "order.created"},
		wooOrder(t, "processing"))
	r := f.serve(f.wooRT, ev)
	require.Equal(t, 404, r.Status, "unknown site: %d %s", r.Status, r.Body)
}

func TestWooCommerceStatusTransitions(t *testing.T) {
	f := newFixture(t)
	f.customerWrites(wooPhone)
	steps := []struct {
		topic, status string
		sends         bool
	}{
		{"order.created", "pending", false},
		{"order.updated", "processing", false},
		{"order.updated", "processing", false}, // a note added: no transition
		{"order.updated", "completed", true},
		{"order.updated", "completed", false}, // seen twice: nothing more
		{"order.updated", "processing", false},
		{"order.updated", "completed", false}, // back to completed: done already
	}
	for i, s := range steps {
		before := len(f.out.QueuedIDs())
		r := f.woo(s.topic, wooOrder(t, s.status))
		require.Equal(t, 200, r.Status, "step %d: %d %s", i, r.Status, r.Body)
		got := len(f.out.QueuedIDs()) - before
		require.Equal(t, map[bool]int{true: 1}[s.sends], got, "step %d (%s): %d messages", i, s.status, got)
	}
	jobs := f.out.QueuedIDs()
	m := f.message(jobs[0])
	require.Equal(t, "text", m.Type, "message: %s %s", m.Type, m.Content)
	require.Equal(t, `{"body":"Seu pedido #727 foi concluído!"}`, string(m.Content), "message")
	require.Equal(t, wooPhone, m.To, "message")
	o := f.order("woocommerce", "727")
	require.Equal(t, "completed", o.Status, "order: %+v", o)
	require.True(t, o.Counted, "order")
	require.Equal(t, "29.35", o.CountedTotal, "order")
	require.Len(t, o.Notifications, 3, "order")
	c := f.contact(wooPhone)
	if c.Name != "John Doe" || c.Email != "john.doe@example.com" || strings.Join(c.Tags, ",") != "customer,purchased" ||
		c.Attributes["total_spent"] != 29.35 || c.Attributes["last_purchase"] != "2017-03-22" || c.Attributes["total_spent_currency"] != "USD" {
		t.Fatalf("contact: %+v", c)
	}
	created := f.pub.Distinct(event.OrderCreated)
	updated := f.pub.Distinct(event.OrderUpdated)
	require.Len(t, created, 1, "events: %d order.created, %d order.updated", len(created), len(updated))
	require.Len(t, updated, 2, "events")
	if d := orderData(t, created[0]); d.Order.Status != "pending" || d.Order.PreviousStatus != "" || d.Notification.Status != "disabled" || d.Topic != "order.created" {
		t.Fatalf("order.created: %s", created[0].Data)
	}
	var done event.OrderData
	for _, e := range updated {
		if d := orderData(t, e); d.Order.Status == "completed" {
			done = d
		}
	}
	require.Equal(t, "processing", done.Order.PreviousStatus, "order.updated completed: %+v", done)
	require.NotNil(t, done.MessageID, "order.updated completed")
	require.Equal(t, m.ID, *done.MessageID, "order.updated completed")
	require.Equal(t, "queued", done.Notification.Status, "order.updated completed")
}

// A text outside the customer-service window is refused by the same rule
// as POST /v1/messages; the webhook still succeeds and the order says why.
func TestWooCommerceTextOutsideWindow(t *testing.T) {
	f := newFixture(t)
	if r := f.woo("order.updated", wooOrder(t, "completed")); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	require.Empty(t, f.out.QueuedIDs(), "a text went out of the window")
	o := f.order("woocommerce", "727")
	require.Len(t, o.Notifications, 1, "trigger: %+v", o.Notifications)
	require.Equal(t, "refused", o.Notifications[0].Result, "trigger")
	require.Equal(t, "outside_customer_service_window", o.Notifications[0].Reason, "trigger")
	evs := f.pub.Distinct(event.OrderCreated)
	require.Len(t, evs, 1, "events: %+v", evs)
	require.Equal(t, "outside_customer_service_window", orderData(t, evs[0]).Notification.Reason, "events")
	// Templates go out of the window.
	f.configure("woocommerce", `{"site_url":"`+wooSite+`","statuses":{"cancelled":{"message":{"type":"template","template":{"name":"order_cancelled","language":{"code":"pt_BR"},"parameters":["{{number}}","{{first_name}}"]}}}}}`)
	r := f.woo("order.updated", wooOrder(t, "cancelled"))
	require.Equal(t, 200, r.Status, "%d %s", r.Status, r.Body)
	jobs := f.out.QueuedIDs()
	require.Len(t, jobs, 1, "template: %v", jobs)
	require.Contains(t, string(f.message(jobs[0]).Content), `"parameters":[{"type":"text","text":"727"},{"type":"text","text":"John"}]`, "template")
}

func TestWooCommerceOtherTopicsRecorded(t *testing.T) {
	f := newFixture(t)
	r := f.woo("product.updated", []byte(`{"id":799,"name":"Ship Your Idea"}`))
	require.Equal(t, 200, r.Status, "%d %s", r.Status, r.Body)
	require.Contains(t, r.Body, "recorded", "%d %s", r.Status, r.Body)
	n := f.count("ORG#" + f.org + "#CREC#woocommerce")
	require.Equal(t, 1, n, "records: %d", n)
}

// TestEventSamples feeds the samples in events/shopify-webhook and
// events/woocommerce-webhook to the functions' routers, so the samples for
// `sam local invoke` stay valid: signed with the demo secrets, routed by the
// demo shop domain and site URL.
func TestEventSamples(t *testing.T) {
	want := map[string]string{
		"shopify-webhook/orders-create.json":     `"ok"`,
		"woocommerce-webhook/order-updated.json": `"ok"`,
		"woocommerce-webhook/ping.json":          `"ok"`,
	}
	for _, dir := range []string{"shopify-webhook", "woocommerce-webhook"} {
		files, _ := filepath.Glob("../../events/" + dir + "/*.json")
		require.NotEmpty(t, files, "no samples in events/%s", dir)
		for _, file := range files {
			name := dir + "/" + filepath.Base(file)
			t.Run(name, func(t *testing.T) {
				f := newFixture(t)
				b, err := os.ReadFile(file)
				require.NoError(t, err)
				var ev events.APIGatewayV2HTTPRequest
				require.NoError(t, json.Unmarshal(b, &ev))
				rt := f.shopRT
				if dir == "woocommerce-webhook" {
					rt = f.wooRT
				}
				r := f.serve(rt, ev)
				body, ok := want[name]
				require.True(t, ok, "%d %s", r.Status, r.Body)
				require.Equal(t, 200, r.Status, "%d %s", r.Status, r.Body)
				require.Contains(t, r.Body, body, "%d %s", r.Status, r.Body)
				if name == "shopify-webhook/orders-create.json" {
					o := f.order("shopify", "5839403716911820501")
					require.Equal(t, "customer.phone", o.PhoneSource, "order: %+v", o)
					require.Len(t, f.out.QueuedIDs(), 1, "order")
				}
				if name == "woocommerce-webhook/order-updated.json" {
					o := f.order("woocommerce", "1042")
					require.Equal(t, "completed", o.Status, "order: %+v", o)
					require.Equal(t, "5511977770002", o.Phone, "order")
				}
			})
		}
	}
}

// An attempt that died half-way (its trigger left pending, never released)
// holds the trigger for its lease; then the next delivery of that status
// takes it over and finishes it, once.
func TestWooCommerceResumesAfterALostAttempt(t *testing.T) {
	f := newFixture(t)
	f.customerWrites(wooPhone)
	if r := f.woo("order.created", wooOrder(t, "processing")); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	// The lost attempt: it claimed status:completed and recorded the status.
	if _, claimed, err := f.store.ClaimOrderNotification(context.Background(), f.org, "woocommerce", "727", "status:completed", event.OrderUpdated, shophook.Lease); err != nil || !claimed {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	_, err := f.store.UpsertOrder(context.Background(), store.Order{OrgID: f.org, Platform: "woocommerce", ID: "727", Status: "completed", Number: "727"})
	require.NoError(t, err)
	if r := f.woo("order.updated", wooOrder(t, "completed")); r.Status != 200 || len(f.out.QueuedIDs()) != 0 {
		t.Fatalf("within the lease: %d %s, %d sent", r.Status, r.Body, len(f.out.QueuedIDs()))
	}
	f.clock.Add(shophook.Lease + time.Second)
	if r := f.woo("order.updated", wooOrder(t, "completed")); r.Status != 200 || len(f.out.QueuedIDs()) != 1 {
		t.Fatalf("after the lease: %d %s, %d sent", r.Status, r.Body, len(f.out.QueuedIDs()))
	}
	r := f.woo("order.updated", wooOrder(t, "completed"))
	require.Equal(t, 200, r.Status, "again: %d sent", len(f.out.QueuedIDs()))
	require.Len(t, f.out.QueuedIDs(), 1, "again")
	updated := f.pub.Distinct(event.OrderUpdated)
	require.Len(t, updated, 1, "order.updated: %d", len(updated))
	require.Equal(t, "completed", orderData(t, updated[0]).Order.Status, "order.updated")
}
