package shopconfig

import (
	"regexp"
	"strings"
	"testing"
)

var myshopify = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,99}\.myshopify\.com$`)

// FuzzSourceReaders: the shop domain and site URL readers run on headers
// before any signature is checked. What they accept is canonical (reading
// it again gives it back), lower-case where it should be, and never
// carries a scheme, credentials, query or fragment into the lookup key.
func FuzzSourceReaders(f *testing.F) {
	for _, s := range []string{"my-shop.myshopify.com", "My-Shop.MyShopify.com", "https://my-shop.myshopify.com/", "my-shop",
		"shop.example.com", "-bad-.myshopify.com", "https://loja.example.com.br/", "http://LOJA.example:80/wp/",
		"https://[::1]:8443/store", "https://user:pw@loja.example/", "https://loja.example/?q=1", "loja.example",
		"https://loja.example:99999/", "https://a/%2e%2e/", "  https://loja.example  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := ShopDomain(s); ok {
			if !myshopify.MatchString(d) || strings.Contains(d, "-.") {
				t.Fatalf("ShopDomain(%q) = %q", s, d)
			}
			if again, ok := ShopDomain(d); !ok || again != d {
				t.Fatalf("ShopDomain(%q) = %q, then %q %v", s, d, again, ok)
			}
			if k, ok := SourceKey(Shopify, s); !ok || k != d {
				t.Fatalf("SourceKey(shopify, %q) = %q", s, k)
			}
		}
		display, key, ok := SiteURL(s)
		if !ok {
			if _, ok := SourceKey(WooCommerce, s); ok {
				t.Fatalf("SourceKey accepts %q, SiteURL does not", s)
			}
			return
		}
		if !strings.HasPrefix(display, "http://") && !strings.HasPrefix(display, "https://") {
			t.Fatalf("SiteURL(%q) display %q", s, display)
		}
		if strings.Contains(key, "://") || strings.ContainsAny(key, "?#@") || strings.HasSuffix(key, "/") {
			t.Fatalf("SiteURL(%q) key %q", s, key)
		}
		d2, k2, ok := SiteURL(display)
		if !ok || d2 != display || k2 != key {
			t.Fatalf("SiteURL(%q) = %q %q, then %q %q %v", s, display, key, d2, k2, ok)
		}
		if k, ok := SourceKey(WooCommerce, s); !ok || k != key {
			t.Fatalf("SourceKey(woocommerce, %q) = %q", s, k)
		}
	})
}
