package shop_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/shop"
)

// BenchmarkShopifyOrder: what the shopify-webhook function does with a
// real-sized orders/create body before touching the store: verify the
// signature, parse the order, pick and normalise the phone, render the
// template parameters.
func BenchmarkShopifyOrder(b *testing.B) {
	body, err := os.ReadFile("testdata/shopify_orders_create.json")
	require.NoError(b, err)
	sig := shop.Sign(body, "secret")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		require.True(b, shop.VerifyShopify(body, sig, "secret"), "signature")
		o, err := shop.ParseShopifyOrder(body)
		require.NoError(b, err)
		o.Phone()
		_, err = shop.Render("{{order_number}} {{total_price}} {{currency}}", o.Vars())
		require.NoError(b, err)
	}
}
