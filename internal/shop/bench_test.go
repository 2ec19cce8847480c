package shop_test

import (
	"os"
	"testing"

	"github.com/pytake/pytake/internal/shop"
)

// BenchmarkShopifyOrder: what the shopify-webhook function does with a
// real-sized orders/create body before touching the store: verify the
// signature, parse the order, pick and normalise the phone, render the
// template parameters.
func BenchmarkShopifyOrder(b *testing.B) {
	body, err := os.ReadFile("testdata/shopify_orders_create.json")
	if err != nil {
		b.Fatal(err)
	}
	sig := shop.Sign(body, "secret")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if !shop.VerifyShopify(body, sig, "secret") {
			b.Fatal("signature")
		}
		o, err := shop.ParseShopifyOrder(body)
		if err != nil {
			b.Fatal(err)
		}
		o.Phone()
		if _, err := shop.Render("{{order_number}} {{total_price}} {{currency}}", o.Vars()); err != nil {
			b.Fatal(err)
		}
	}
}
