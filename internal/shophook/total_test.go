package shophook

import (
	"math/big"
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
		// The stored number is total_spent_decimal rounded to a float64
		// (and to 6 decimals): that is still "the same total", not one
		// changed through the API, so the exact string is what is summed.
		{"more digits than a float64 holds", map[string]any{"total_spent": 12345678901234567.89, "total_spent_decimal": "12345678901234567.89"}, "0.01", "12345678901234567.90", 12345678901234567.90},
		{"finer than the number's 6 decimals", map[string]any{"total_spent": 0.0, "total_spent_decimal": "0.0000001"}, "0.0000001", "0.0000002", 0},
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

// A total that is not a plain decimal number is refused (invalid_total),
// not read with big.Rat's other syntaxes: a fraction would make
// total_spent_decimal a rounded 40-digit string, not an exact decimal.
func TestTotalSpentRefusesNonDecimals(t *testing.T) {
	for _, total := range []string{"1/3", "0x10", "0b101", "0o17", "1_000.50", "1e999999", "Inf", "NaN", "-5.00", "", "1.2.3", "."} {
		t.Run(total, func(t *testing.T) {
			c := &store.Contact{Attributes: map[string]any{"total_spent": 10.0, "total_spent_decimal": "10.00"}}
			o := shop.Order{Platform: shopconfig.Shopify, Total: total, Currency: "BRL"}
			if got := addPurchase(c, o, shopconfig.AttributeOptions{TotalSpent: true}, time.Now()); got != "invalid_total" {
				t.Errorf("addPurchase = %q, want invalid_total", got)
			}
			if c.Attributes["total_spent_decimal"] != "10.00" || c.Attributes["total_spent"] != 10.0 {
				t.Errorf("the total changed: %v", c.Attributes)
			}
		})
	}
	// A total_spent_decimal set through the API as a fraction is not an
	// exact total to add to: total_spent is.
	c := &store.Contact{Attributes: map[string]any{"total_spent": 2.0, "total_spent_decimal": "1/3"}}
	o := shop.Order{Platform: shopconfig.Shopify, Total: "1.00", Currency: "BRL"}
	addPurchase(c, o, shopconfig.AttributeOptions{TotalSpent: true}, time.Now())
	if c.Attributes["total_spent_decimal"] != "3.00" {
		t.Errorf("total_spent_decimal %v, want 3.00", c.Attributes["total_spent_decimal"])
	}
}

// FuzzDecimal: whatever decimal accepts is a terminating decimal of
// bounded size, which total_spent_decimal writes exactly.
func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"150.00", "1.5e1", ".5", "5.", "+5", "1/3", "0x10", "1e99", "1e-99", "12.345", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := decimal(s)
		if !ok {
			return
		}
		n := exactScale(r)
		if n >= 40 && !r.IsInt() {
			t.Fatalf("decimal(%q) = %v, which no 40 decimals write", s, r)
		}
		back, ok := new(big.Rat).SetString(r.FloatString(n))
		if !ok || back.Cmp(r) != 0 {
			t.Fatalf("decimal(%q) = %v, written %q", s, r, r.FloatString(n))
		}
		if len(r.FloatString(n)) > 250 {
			t.Fatalf("decimal(%q) is written with %d characters", s, len(r.FloatString(n)))
		}
	})
}
