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
	if err != nil {
		f.t.Fatal(err)
	}
}

func TestWooCommercePing(t *testing.T) {
	f := newFixture(t)
	ev := request("/webhooks/woocommerce", map[string]string{"content-type": "application/x-www-form-urlencoded", "user-agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"},
		[]byte("webhook_id=12"))
	if r := f.serve(f.wooRT, ev); r.Status != 200 {
		t.Fatalf("ping: %d %s", r.Status, r.Body)
	}
	if n := f.count("UNROUTED#2026-11-29"); n != 0 || len(f.pub.events) != 0 || f.count("ORG#"+f.org+"#CREC#woocommerce") != 0 {
		t.Fatal("the ping was stored")
	}
	// Anything else unsigned is refused.
	ev = request("/webhooks/woocommerce", map[string]string{"x-wc-webhook-source": wooSite, "x-wc-webhook-topic": "order.created"}, wooOrder(t, "processing"))
	if r := f.serve(f.wooRT, ev); r.Status != 401 {
		t.Fatalf("unsigned order: %d %s", r.Status, r.Body)
	}
	if r := f.woo("order.created", wooOrder(t, "processing"), "wrong-secret"); r.Status != 401 || !strings.Contains(r.Body, "X-WC-Webhook-Signature") {
		t.Fatalf("bad signature: %d %s", r.Status, r.Body)
	}
	if _, err := f.store.Order(context.Background(), f.org, "woocommerce", "727"); err == nil {
		t.Fatal("an unverified webhook stored an order")
	}
	ev = request("/webhooks/woocommerce", map[string]string{"x-wc-webhook-source": "https://elsewhere.example.com/", "x-wc-webhook-topic": "order.created"},
		wooOrder(t, "processing"))
	if r := f.serve(f.wooRT, ev); r.Status != 404 {
		t.Fatalf("unknown site: %d %s", r.Status, r.Body)
	}
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
		before := len(f.out.sent())
		if r := f.woo(s.topic, wooOrder(t, s.status)); r.Status != 200 {
			t.Fatalf("step %d: %d %s", i, r.Status, r.Body)
		}
		if got := len(f.out.sent()) - before; got != map[bool]int{true: 1}[s.sends] {
			t.Fatalf("step %d (%s): %d messages", i, s.status, got)
		}
	}
	jobs := f.out.sent()
	m := f.message(jobs[0])
	if m.Type != "text" || string(m.Content) != `{"body":"Seu pedido #727 foi concluído!"}` || m.To != wooPhone {
		t.Fatalf("message: %s %s", m.Type, m.Content)
	}
	o := f.order("woocommerce", "727")
	if o.Status != "completed" || !o.Counted || o.CountedTotal != "29.35" || len(o.Notifications) != 3 {
		t.Fatalf("order: %+v", o)
	}
	c := f.contact(wooPhone)
	if c.Name != "John Doe" || c.Email != "john.doe@example.com" || strings.Join(c.Tags, ",") != "customer,purchased" ||
		c.Attributes["total_spent"] != 29.35 || c.Attributes["last_purchase"] != "2017-03-22" || c.Attributes["total_spent_currency"] != "USD" {
		t.Fatalf("contact: %+v", c)
	}
	created, _ := f.pub.named(event.OrderCreated)
	updated, _ := f.pub.named(event.OrderUpdated)
	if len(created) != 1 || len(updated) != 2 {
		t.Fatalf("events: %d order.created, %d order.updated", len(created), len(updated))
	}
	if d := orderData(t, created[0]); d.Order.Status != "pending" || d.Order.PreviousStatus != "" || d.Notification.Status != "disabled" || d.Topic != "order.created" {
		t.Fatalf("order.created: %s", created[0].Data)
	}
	var done event.OrderData
	for _, e := range updated {
		if d := orderData(t, e); d.Order.Status == "completed" {
			done = d
		}
	}
	if done.Order.PreviousStatus != "processing" || done.MessageID == nil || *done.MessageID != m.ID || done.Notification.Status != "queued" {
		t.Fatalf("order.updated completed: %+v", done)
	}
}

// A text outside the customer-service window is refused by the same rule
// as POST /v1/messages; the webhook still succeeds and the order says why.
func TestWooCommerceTextOutsideWindow(t *testing.T) {
	f := newFixture(t)
	if r := f.woo("order.updated", wooOrder(t, "completed")); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if len(f.out.sent()) != 0 {
		t.Fatal("a text went out of the window")
	}
	o := f.order("woocommerce", "727")
	if len(o.Notifications) != 1 || o.Notifications[0].Result != "refused" || o.Notifications[0].Reason != "outside_customer_service_window" {
		t.Fatalf("trigger: %+v", o.Notifications)
	}
	evs, _ := f.pub.named(event.OrderCreated)
	if len(evs) != 1 || orderData(t, evs[0]).Notification.Reason != "outside_customer_service_window" {
		t.Fatalf("events: %+v", evs)
	}
	// Templates go out of the window.
	f.configure("woocommerce", `{"site_url":"`+wooSite+`","statuses":{"cancelled":{"message":{"type":"template","template":{"name":"order_cancelled","language":{"code":"pt_BR"},"parameters":["{{number}}","{{first_name}}"]}}}}}`)
	if r := f.woo("order.updated", wooOrder(t, "cancelled")); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if jobs := f.out.sent(); len(jobs) != 1 || !strings.Contains(string(f.message(jobs[0]).Content), `"parameters":[{"type":"text","text":"727"},{"type":"text","text":"John"}]`) {
		t.Fatalf("template: %v", jobs)
	}
}

func TestWooCommerceOtherTopicsRecorded(t *testing.T) {
	f := newFixture(t)
	if r := f.woo("product.updated", []byte(`{"id":799,"name":"Ship Your Idea"}`)); r.Status != 200 || !strings.Contains(r.Body, "recorded") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if n := f.count("ORG#" + f.org + "#CREC#woocommerce"); n != 1 {
		t.Fatalf("records: %d", n)
	}
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
		if len(files) == 0 {
			t.Fatalf("no samples in events/%s", dir)
		}
		for _, file := range files {
			name := dir + "/" + filepath.Base(file)
			t.Run(name, func(t *testing.T) {
				f := newFixture(t)
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				var ev events.APIGatewayV2HTTPRequest
				if err := json.Unmarshal(b, &ev); err != nil {
					t.Fatal(err)
				}
				rt := f.shopRT
				if dir == "woocommerce-webhook" {
					rt = f.wooRT
				}
				r := f.serve(rt, ev)
				body, ok := want[name]
				if !ok || r.Status != 200 || !strings.Contains(r.Body, body) {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				if name == "shopify-webhook/orders-create.json" {
					o := f.order("shopify", "5839403716911820501")
					if o.PhoneSource != "customer.phone" || len(f.out.sent()) != 1 {
						t.Fatalf("order: %+v", o)
					}
				}
				if name == "woocommerce-webhook/order-updated.json" {
					if o := f.order("woocommerce", "1042"); o.Status != "completed" || o.Phone != "5511977770002" {
						t.Fatalf("order: %+v", o)
					}
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
	if _, err := f.store.UpsertOrder(context.Background(), store.Order{OrgID: f.org, Platform: "woocommerce", ID: "727", Status: "completed", Number: "727"}); err != nil {
		t.Fatal(err)
	}
	if r := f.woo("order.updated", wooOrder(t, "completed")); r.Status != 200 || len(f.out.sent()) != 0 {
		t.Fatalf("within the lease: %d %s, %d sent", r.Status, r.Body, len(f.out.sent()))
	}
	f.clock.Add(shophook.Lease + time.Second)
	if r := f.woo("order.updated", wooOrder(t, "completed")); r.Status != 200 || len(f.out.sent()) != 1 {
		t.Fatalf("after the lease: %d %s, %d sent", r.Status, r.Body, len(f.out.sent()))
	}
	if r := f.woo("order.updated", wooOrder(t, "completed")); r.Status != 200 || len(f.out.sent()) != 1 {
		t.Fatalf("again: %d sent", len(f.out.sent()))
	}
	updated, _ := f.pub.named(event.OrderUpdated)
	if len(updated) != 1 || orderData(t, updated[0]).Order.Status != "completed" {
		t.Fatalf("order.updated: %d", len(updated))
	}
}
