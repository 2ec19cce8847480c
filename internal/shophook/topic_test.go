package shophook_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	r := f.shopify("orders/create", "", created)
	require.Equal(t, 200, r.Status, "create: %s", r.Body)
	require.Len(t, f.out.QueuedIDs(), 1)
	tests := []struct{ topic, field string }{
		{"orders/cancelled", "cancelled_at"},
		{"orders/fulfilled", "fulfillment_status"},
	}
	for _, tt := range tests {
		r := f.shopify(tt.topic, "", created)
		assert.Equal(t, 200, r.Status, "%s replayed from orders/create: %s", tt.topic, r.Body)
		assert.Contains(t, r.Body, `"refused"`, "%s replayed from orders/create", tt.topic)
		assert.Contains(t, r.Body, tt.field, "the reason names %s", tt.field)
	}
	require.Len(t, f.out.QueuedIDs(), 1, "the replays sent something")
	require.Empty(t, f.pub.Named(event.OrderUpdated), "order.updated emitted for a replay")
	require.Equal(t, 2, f.count("ORG#"+f.org+"#CREC#shopify"), "records of refused deliveries")
	// The real thing goes through.
	cancelled := shopifyOrder(t, func(o map[string]any) {
		o["cancelled_at"] = "2026-11-29T08:59:00-03:00"
		o["cancel_reason"] = "customer"
	})
	r = f.shopify("orders/cancelled", "", cancelled)
	require.Equal(t, 200, r.Status, "a real cancellation: %s", r.Body)
	require.Contains(t, r.Body, `"ok"`)
	require.Len(t, f.out.QueuedIDs(), 2)
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
			require.Equal(t, 200, r.Status, r.Body)
			require.Equal(t, tt.refused, strings.Contains(r.Body, `"refused"`), r.Body)
			require.Equal(t, tt.refused, len(f.out.QueuedIDs()) == 0, "%d messages accepted", len(f.out.QueuedIDs()))
		})
	}
}
