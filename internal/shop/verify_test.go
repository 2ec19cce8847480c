package shop

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err, "read testdata")
	return b
}

func TestVerify(t *testing.T) {
	vector := []byte(`{"id":820982911946154508}`)
	shopify := readTestdata(t, "shopify_orders_create.json")
	woo := readTestdata(t, "woocommerce_order.json")
	tampered := append([]byte(nil), shopify...)
	tampered[len(tampered)-3] = ' '

	tests := []struct {
		name    string
		body    []byte
		header  string
		secrets []string
		want    bool
	}{
		// Vectors computed independently (Python hmac/hashlib).
		{"known vector", vector, "qBvrsZF7RfB1iS6BX6IHqJTp5L911P7intnPeTPsH0I=", []string{"hush"}, true},
		{"known vector, old secret after rotation", vector, "GxOY/BshJ799J//VA0o2vw3CtYM8FDCX/I5vCOoeWrM=", []string{"hush", "shpss_old"}, true},
		{"known vector, wrong secret", vector, "qBvrsZF7RfB1iS6BX6IHqJTp5L911P7intnPeTPsH0I=", []string{"shpss_old"}, false},
		{"sample body", shopify, Sign(shopify, "s3cret"), []string{"s3cret"}, true},
		{"header with spaces", shopify, "  " + Sign(shopify, "s3cret") + "\n", []string{"s3cret"}, true},
		{"rotated: signed with previous", shopify, Sign(shopify, "old"), []string{"new", "old"}, true},
		{"rotated: signed with current", shopify, Sign(shopify, "new"), []string{"new", "old"}, true},
		{"retired secret", shopify, Sign(shopify, "older"), []string{"new", "old"}, false},
		{"tampered body", tampered, Sign(shopify, "s3cret"), []string{"s3cret"}, false},
		{"empty header", shopify, "", []string{"s3cret"}, false},
		{"blank header", shopify, "   ", []string{"s3cret"}, false},
		{"no secrets", shopify, Sign(shopify, "s3cret"), nil, false},
		{"empty secret never matches", shopify, Sign(shopify, ""), []string{""}, false},
		{"empty secret skipped, next matches", shopify, Sign(shopify, "s3cret"), []string{"", "s3cret"}, true},
		{"not base64", shopify, "not base64!", []string{"s3cret"}, false},
		{"hex digest", vector, "a81bebb1917b45f075892e815fa207a894e9e4bf75d4fee29ed9cf7933ec1f42", []string{"hush"}, false},
		{"truncated digest", vector, "qBvrsZF7RfB1iS6BX6IHqJTp5L911P7i", []string{"hush"}, false},
		{"empty body signed", []byte{}, Sign(nil, "k"), []string{"k"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifyShopify(tt.body, tt.header, tt.secrets...); got != tt.want {
				t.Errorf("VerifyShopify = %v, want %v", got, tt.want)
			}
			got := VerifyWooCommerce(tt.body, tt.header, tt.secrets...)
			assert.Equal(t, tt.want, got, "VerifyWooCommerce = %v, want %v", got, tt.want)
		})
	}

	assert.True(t, VerifyWooCommerce(woo, Sign(woo, "wc_secret"), "wc_secret"), "WooCommerce sample: own signature rejected")
}

func TestWooPing(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name, contentType, body string
		wantID                  string
		wantOK                  bool
	}{
		{"ping", form, "webhook_id=15", "15", true},
		{"with charset", form + "; charset=UTF-8", "webhook_id=15", "15", true},
		{"upper-case type", "Application/X-WWW-Form-URLEncoded", "webhook_id=4021", "4021", true},
		{"no content type", "", "webhook_id=15", "15", true},
		{"trailing newline", form, "webhook_id=15\n", "15", true},
		{"json type", "application/json", "webhook_id=15", "", false},
		{"bad content type", "form;;", "webhook_id=15", "", false},
		{"json order", "application/json", `{"id":727}`, "", false},
		{"json order no type", "", `{"id":727}`, "", false},
		{"empty body", form, "", "", false},
		{"empty id", form, "webhook_id=", "", false},
		{"letters", form, "webhook_id=abc", "", false},
		{"negative", form, "webhook_id=-1", "", false},
		{"twice", form, "webhook_id=1&webhook_id=2", "", false},
		{"extra field", form, "webhook_id=1&x=2", "", false},
		{"other field", form, "id=1", "", false},
		{"too long", form, "webhook_id=123456789012345678901", "", false},
		{"bad escape", form, "webhook_id=%zz", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok := WooPing(tt.contentType, []byte(tt.body))
			assert.Equal(t, tt.wantID, id, "WooPing(%q, %q) = %q, %v; want %q, %v", tt.contentType, tt.body, id, ok, tt.wantID, tt.wantOK)
			assert.Equal(t, tt.wantOK, ok, "WooPing(%q, %q) = %q, %v; want %q, %v", tt.contentType, tt.body, id, ok, tt.wantID, tt.wantOK)
		})
	}
}

func FuzzVerifyShopify(f *testing.F) {
	f.Add(readTestdata(f, "shopify_orders_create.json"), "shpss_secret")
	f.Add(readTestdata(f, "woocommerce_order.json"), "wc secret")
	f.Add([]byte{}, "")
	f.Add([]byte("webhook_id=1"), "k")
	f.Fuzz(func(t *testing.T, body []byte, secret string) {
		// Arbitrary headers never panic.
		VerifyShopify(body, secret, secret)
		VerifyWooCommerce(body, string(body), secret)
		sig := Sign(body, secret)
		if secret == "" {
			require.False(t, VerifyShopify(body, sig, secret), "empty secret verified")
			return
		}
		require.True(t, VerifyShopify(body, sig, secret), "verify(sign(x)) = false")
		require.True(t, VerifyShopify(body, sig, "other-"+secret, secret), "rotation: second secret not tried")
		require.True(t, VerifyWooCommerce(body, sig, secret), "WooCommerce verify(sign(x)) = false")
		require.False(t, VerifyShopify(body, sig, secret+"x"), "verified with a different secret")
		require.False(t, VerifyShopify(append(append([]byte(nil), body...), 'x'), sig, secret), "verified a changed body")
	})
}
