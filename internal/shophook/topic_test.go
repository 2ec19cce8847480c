package shophook_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/shop"
	"github.com/pytake/pytake/internal/shopconfig"
	"github.com/pytake/pytake/internal/shophook"
)

const cancelTemplate = `{"message":{"type":"template","template":{"name":"order_cancelled","language":{"code":"pt_BR"},"parameters":["{{order_name}}"]}}}`

// The signature covers the body, not X-Shopify-Topic: a captured signed
// orders/create body replayed as orders/cancelled (a fresh webhook id) must
// not send a cancellation, nor a body without a fulfillment status as
// orders/fulfilled. Such deliveries are recorded and acknowledged (200
// "refused"): a retry could never succeed.
func TestShopifyTopicMustAgreeWithTheBody(t *testing.T) {
	f := newFixture(t)
	f.configure(shopconfig.Shopify, `{"shop_domain":"`+shopDomain+`","topics":{"orders/cancelled":`+strings.TrimSuffix(cancelTemplate, "}")+`,"enabled":true},"orders/fulfilled":{"enabled":true,"message":{"type":"template","template":{"name":"order_shipped","language":{"code":"pt_BR"},"parameters":["{{order_name}}"]}}}}}`)
	created := shopifyOrder(t, nil)
	if r := f.shopify("orders/create", "", created); r.Status != 200 || len(f.out.sent()) != 1 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	tests := []struct{ topic, field string }{
		{"orders/cancelled", "cancelled_at"},
		{"orders/fulfilled", "fulfillment_status"},
	}
	for _, tt := range tests {
		r := f.shopify(tt.topic, "", created)
		if r.Status != 200 || !strings.Contains(r.Body, `"refused"`) {
			t.Errorf("%s replayed from orders/create: %d %s", tt.topic, r.Status, r.Body)
		}
	}
	if n := len(f.out.sent()); n != 1 {
		t.Fatalf("%d messages accepted; the replays sent something", n)
	}
	if updated := f.pub.Distinct(event.OrderUpdated); len(updated) != 0 {
		t.Fatalf("order.updated emitted for a replay")
	}
	if n := f.count("ORG#" + f.org + "#CREC#shopify"); n != 2 {
		t.Fatalf("%d records of refused deliveries, want 2", n)
	}
	// The real thing goes through.
	cancelled := shopifyOrder(t, func(o map[string]any) {
		o["cancelled_at"] = "2026-11-29T08:59:00-03:00"
		o["cancel_reason"] = "customer"
	})
	if r := f.shopify("orders/cancelled", "", cancelled); r.Status != 200 || !strings.Contains(r.Body, `"ok"`) || len(f.out.sent()) != 2 {
		t.Fatalf("a real cancellation: %d %s, %d sent", r.Status, r.Body, len(f.out.sent()))
	}
}

// Shopify retries a failed delivery for 4 hours with the original payload;
// one triggered, or an order last updated, more than MaxDeliveryAge ago is
// stale: recorded and acknowledged, not acted on.
func TestShopifyStaleDeliveriesAreRefused(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	stamp := func(d time.Duration) string { return now.Add(-d).Format(time.RFC3339) }
	tests := []struct {
		name        string
		triggeredAt string // "" leaves the header out
		updatedAt   string // "" leaves the body's updated_at out
		refused     bool
	}{
		{"fresh", stamp(time.Minute), stamp(time.Minute), false},
		{"retried within the bound", stamp(shophook.MaxDeliveryAge - time.Hour), stamp(shophook.MaxDeliveryAge - time.Hour), false},
		{"no timestamps", "", "", false},
		{"triggered too long ago", stamp(shophook.MaxDeliveryAge + time.Hour), stamp(time.Minute), true},
		{"order updated too long ago", stamp(time.Minute), stamp(shophook.MaxDeliveryAge + time.Hour), true},
		{"triggered-at unreadable", "yesterday", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			body := shopifyOrder(t, func(o map[string]any) {
				delete(o, "updated_at")
				if tt.updatedAt != "" {
					o["updated_at"] = tt.updatedAt
				}
			})
			ev := f.shopifyEvent("orders/create", "", body)
			delete(ev.Headers, "x-shopify-triggered-at")
			if tt.triggeredAt != "" {
				ev.Headers["x-shopify-triggered-at"] = tt.triggeredAt
			}
			ev.Headers["x-shopify-hmac-sha256"] = shop.Sign(body, shopifySecret)
			r := f.serve(f.shopRT, ev)
			if r.Status != 200 || strings.Contains(r.Body, `"refused"`) != tt.refused {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			if sent := len(f.out.sent()); (sent == 0) != tt.refused {
				t.Fatalf("%d messages accepted", sent)
			}
		})
	}
}
