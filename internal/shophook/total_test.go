package shophook

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/shop"
	"github.com/pytake/pytake/internal/shopconfig"
	"github.com/pytake/pytake/internal/store"
)

// total_spent_decimal is the exact sum as a string, written with the
// shop's decimals, and follows a total_spent set through the API.
func TestTotalSpentDecimal(t *testing.T) {
	tests := []struct {
		name   string
		before map[string]any // the contact's attributes before the order
		total  string
		want   string
		num    float64
	}{
		{"first order", map[string]any{}, "150.00", "150.00", 150},
		{"sum keeps the decimals", map[string]any{"total_spent": 150.0, "total_spent_decimal": "150.00"}, "89.90", "239.90", 239.9},
		{"cents add exactly", map[string]any{"total_spent": 0.3, "total_spent_decimal": "0.30"}, "0.10", "0.40", 0.4},
		{"big totals stay exact", map[string]any{"total_spent": 1234567890123.45, "total_spent_decimal": "1234567890123.45"}, "0.01", "1234567890123.46", 1234567890123.46},
		{"three-decimal currency", map[string]any{}, "12.345", "12.345", 12.345},
		{"no decimals", map[string]any{"total_spent": 1000.0, "total_spent_decimal": "1000"}, "500", "1500", 1500},
		{"total_spent set through the API (guide: a number)", map[string]any{"total_spent": 150.0}, "10.50", "160.50", 160.5},
		{"total_spent changed through the API since", map[string]any{"total_spent": 200.0, "total_spent_decimal": "150.00"}, "1.00", "201.00", 201},
		{"total_spent_decimal alone", map[string]any{"total_spent_decimal": "5.5"}, "1.25", "6.75", 6.75},
		{"total_spent_decimal not a number", map[string]any{"total_spent": 3.0, "total_spent_decimal": "three"}, "1.00", "4.00", 4},
		{"exponent total", map[string]any{}, "1.5e1", "15", 15},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &store.Contact{Attributes: tc.before}
			o := shop.Order{Platform: shopconfig.Shopify, Total: tc.total, Currency: "BRL", CreatedAt: "2026-11-30T10:00:00-03:00"}
			got := addPurchase(c, o, shopconfig.AttributeOptions{TotalSpent: true}, time.Now())
			require.Equal(t, tc.total, got, "addPurchase = %q", got)
			if c.Attributes["total_spent_decimal"] != tc.want || c.Attributes["total_spent"] != tc.num {
				t.Fatalf("total_spent_decimal %v, total_spent %v; want %q, %v", c.Attributes["total_spent_decimal"], c.Attributes["total_spent"], tc.want, tc.num)
			}
		})
	}
}
