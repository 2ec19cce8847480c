package shopconfig

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
)

func TestShopDomain(t *testing.T) {
	for in, want := range map[string]string{
		"pytake-demo.myshopify.com":          "pytake-demo.myshopify.com",
		" Pytake-Demo.MyShopify.com ":        "pytake-demo.myshopify.com",
		"https://pytake-demo.myshopify.com/": "pytake-demo.myshopify.com",
		"pytake-demo":                        "pytake-demo.myshopify.com",
		"shop.example.com":                   "",
		"-bad.myshopify.com":                 "",
		"bad-.myshopify.com":                 "",
		"a b.myshopify.com":                  "",
		"":                                   "",
		"x.y.myshopify.com":                  "",
	} {
		got, ok := ShopDomain(in)
		assert.Equal(t, want, got, "ShopDomain(%q) = %q %v, want %q", in, got, ok, want)
		assert.Equal(t, want != "", ok, "ShopDomain(%q) = %q %v, want %q", in, got, ok, want)
	}
}

func TestSiteURL(t *testing.T) {
	tests := []struct{ in, display, key string }{
		{"http://127.0.0.1:8080/shop/", "http://127.0.0.1:8080/shop", "127.0.0.1:8080/shop"},
		{"https://Shop.Example.com/", "https://shop.example.com", "shop.example.com"},
		{"https://shop.example.com:443", "https://shop.example.com", "shop.example.com"},
		{"http://shop.example.com", "http://shop.example.com", "shop.example.com"},
		{"https://shop.example.com/loja//", "https://shop.example.com/loja", "shop.example.com/loja"},
		{"ftp://shop.example.com", "", ""},
		{"shop.example.com", "", ""},
		{"https://user:pw@shop.example.com", "", ""},
		{"https://shop.example.com/?a=1", "", ""},
		{"https://shop.example.com:99999", "", ""},
	}
	for _, tt := range tests {
		d, k, ok := SiteURL(tt.in)
		assert.Equal(t, tt.display, d, "SiteURL(%q) = %q %q %v", tt.in, d, k, ok)
		assert.Equal(t, tt.key, k, "SiteURL(%q) = %q %q %v", tt.in, d, k, ok)
		assert.Equal(t, tt.display != "", ok, "SiteURL(%q) = %q %q %v", tt.in, d, k, ok)
	}
	// What WooCommerce sends and what the merchant typed meet.
	a, _ := SourceKey(WooCommerce, "https://shop.example.com/")
	b, _ := SourceKey(WooCommerce, "http://SHOP.example.com")
	assert.Equal(t, b, a, "source keys differ: %q %q", a, b)
}

func TestParseDefaults(t *testing.T) {
	s, secret, err := Parse(Shopify, []byte(`{"shop_domain":"Demo.myshopify.com","webhook_secret":" shpss_0123456789 "}`))
	require.NoError(t, err)
	require.Equal(t, "demo.myshopify.com", s.Source, "source %q secret %q", s.Source, secret)
	require.Equal(t, "shpss_0123456789", secret, "source %q secret %q", s.Source, secret)
	create := s.Triggers[TopicOrdersCreate]
	require.True(t, create.Sends(), "orders/create default: %+v", create)
	require.Equal(t, "order_confirmation", create.Message.Template.Name, "orders/create default")
	require.Equal(t, "pt_BR", create.Message.Template.Language.Code, "orders/create default")
	require.Equal(t, "{{order_number}}|{{total_price}} {{currency}}", strings.Join(create.Message.Template.Parameters, "|"), "orders/create default")
	for _, k := range []string{TopicOrdersFulfilled, TopicOrdersCancelled} {
		tr := s.Triggers[k]
		require.False(t, tr.Enabled, "%s default: %+v", k, tr)
		require.NotNil(t, tr.Message, "%s default: %+v", k, tr)
		require.Equal(t, "text", tr.Message.Type, "%s default: %+v", k, tr)
	}
	require.Equal(t, "customer,purchased", strings.Join(s.Contact.Tags, ","), "contact defaults: %+v", s.Contact)
	require.True(t, s.Contact.Attributes.LastPurchase, "contact defaults")
	require.True(t, s.Contact.Attributes.TotalSpent, "contact defaults")

	// Turning a default on keeps its suggested text; a topic left out keeps its default.
	s, _, err = Parse(Shopify, []byte(`{"shop_domain":"demo","topics":{"orders/fulfilled":{"enabled":true}},"contact":{"tags":["vip"," vip "],"attributes":{"total_spent":false}}}`))
	require.NoError(t, err)
	require.True(t, s.Triggers[TopicOrdersFulfilled].Sends(), "partial: %+v", s)
	require.True(t, s.Triggers[TopicOrdersCreate].Sends(), "partial")
	require.Equal(t, "vip", strings.Join(s.Contact.Tags, ","), "partial")
	require.False(t, s.Contact.Attributes.TotalSpent, "partial")
	require.True(t, s.Contact.Attributes.LastPurchase, "partial")

	w, _, err := Parse(WooCommerce, []byte(`{"site_url":"https://shop.example.com/","statuses":{"wc-Processing":{"message":{"type":"text","text":"Pagamento do pedido #{{number}} confirmado"}}}}`))
	require.NoError(t, err)
	require.Equal(t, "https://shop.example.com", w.Source, "woocommerce: %+v", w)
	require.Equal(t, "shop.example.com", w.SourceKey, "woocommerce")
	require.True(t, w.Triggers["processing"].Sends(), "woocommerce")
	require.Equal(t, "Seu pedido #{{number}} foi concluído!", w.Triggers["completed"].Message.Text, "woocommerce")
	w, _, _ = Parse(WooCommerce, []byte(`{"site_url":"https://shop.example.com","statuses":{"completed":{"enabled":false}}}`))
	require.False(t, w.Triggers["completed"].Sends(), "completed turned off still sends")
}

func TestParseErrorsNameFields(t *testing.T) {
	tests := []struct {
		platform, body string
		fields         []string
	}{
		{Shopify, `{}`, []string{"shop_domain"}},
		{Shopify, `{"shop_domain":"shop.example.com"}`, []string{"shop_domain"}},
		{Shopify, `{"shop_domain":"a","webhook_secret":"short"}`, []string{"webhook_secret"}},
		{Shopify, `{"shop_domain":"a","topics":{"orders/paid":{"enabled":true}}}`, []string{"topics.orders/paid"}},
		{Shopify, `{"shop_domain":"a","topics":{"orders/create":{"message":{"type":"template","template":{"name":"order_confirmation","language":{"code":"pt_BR"},"parameters":["{{order_number}}","{{total_price}} {{moeda}}"]}}}}}`,
			[]string{"topics.orders/create.message.template.parameters[1]"}},
		{Shopify, `{"shop_domain":"a","topics":{"orders/create":{"message":{"type":"template","template":{"name":"Order Confirmation","language":{"code":"portuguese"},"parameters":["{{order_number"]}}}}}`,
			[]string{"topics.orders/create.message.template.name", "topics.orders/create.message.template.language.code", "topics.orders/create.message.template.parameters[0]"}},
		{Shopify, `{"shop_domain":"a","topics":{"orders/cancelled":{"message":{"type":"sms","text":"x"}}}}`, []string{"topics.orders/cancelled.message.type"}},
		{Shopify, `{"shop_domain":"a","topics":{"orders/cancelled":{"message":{"type":"text","text":"  "}}}}`, []string{"topics.orders/cancelled.message.text"}},
		{Shopify, `{"shop_domain":"a","site_url":"https://x.example.com","contact":{"tags":[""]}}`, []string{"site_url", "contact.tags[0]"}},
		{WooCommerce, `{"site_url":"nope"}`, []string{"site_url"}},
		{WooCommerce, `{"site_url":"https://x.example.com","statuses":{"refunded":{"enabled":true}}}`, []string{"statuses.refunded.message"}},
		{WooCommerce, `{"site_url":"https://x.example.com","statuses":{"Bad Status!":{"enabled":false}}}`, []string{"statuses.Bad Status!"}},
		// Members of the wrong type and unknown members are named by their path, with the rest.
		{Shopify, `{"shop_domain":"a","webhook_secret":"short","topics":{"orders/create":{"enabled":"yes","extra":1}},"contact":{"tags":[1]}}`,
			[]string{"webhook_secret", "topics.orders/create.enabled", "topics.orders/create.extra", "contact.tags[0]"}},
	}
	for _, tt := range tests {
		_, _, err := Parse(tt.platform, []byte(tt.body))
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.Unprocessable {
			t.Errorf("%s: err = %v", tt.body, err)
			continue
		}
		var got []string
		for _, d := range e.Details {
			got = append(got, d.Field)
		}
		assert.Equal(t, strings.Join(tt.fields, ","), strings.Join(got, ","), "%s: fields %v, want %v (%v)", tt.body, got, tt.fields, e.Details)
	}
	// Unknown members and wrong types are refused too.
	if _, _, err := Parse(Shopify, []byte(`{"shop_domain":"a","shop":"b"}`)); !apperr.Is(err, apperr.Unprocessable) {
		t.Errorf("unknown field: %v", err)
	}
	_, _, err := Parse(Shopify, []byte(`{"shop_domain":1}`))
	assert.True(t, apperr.Is(err, apperr.Unprocessable), "wrong type: %v", err)
}

func TestSecretRotation(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	s, changed := Secret{}.rotate("first-secret", now)
	require.True(t, changed, "first: %+v", s)
	require.Empty(t, s.Previous, "first")
	require.Len(t, s.Active(now), 1, "first")
	_, changed = s.rotate("", now)
	require.False(t, changed, "an omitted secret changed it")
	_, changed = s.rotate("first-secret", now)
	require.False(t, changed, "the same secret changed it")
	s, _ = s.rotate("second-secret", now)
	if got := s.Active(now.Add(59 * time.Minute)); len(got) != 2 || got[0] != "second-secret" || got[1] != "first-secret" {
		t.Fatalf("within the grace: %v", got)
	}
	got := s.Active(now.Add(61 * time.Minute))
	require.Len(t, got, 1, "after the grace: %v", got)
	require.Equal(t, "second-secret", got[0], "after the grace")
	require.Equal(t, "********cret", Mask("pytake-demo-shopify-secret"), "mask")
	require.Equal(t, "********", Mask("short"), "mask")
}

// FuzzParse: any body is either settings with a source and every default
// trigger, or a 400/422 naming what is wrong.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"shop_domain":"a","topics":{"orders/create":null,"orders/cancelled":{"message":{"type":"text","text":"Oi {{first_name}}"}}},"contact":{"tags":["a"]}}`,
		`{"site_url":"https://x.example.com","statuses":{"wc-processing":{"message":{"template":{"name":"t","language":{"code":"pt_BR"},"parameters":["{{number}}",null]}}}}}`,
		`{"shop_domain":1,"topics":[],"x":{}}`, `[]`, `null`, ``, `{"a":1,"a":2}`,
	} {
		f.Add(Shopify, []byte(s))
		f.Add(WooCommerce, []byte(s))
	}
	f.Fuzz(func(t *testing.T, platform string, body []byte) {
		if platform != Shopify {
			platform = WooCommerce
		}
		st, _, err := Parse(platform, body)
		if err != nil {
			if e, ok := apperr.As(err); !ok || (e.Kind != apperr.Invalid && e.Kind != apperr.Unprocessable) {
				t.Fatalf("%s: err = %v", body, err)
			}
			return
		}
		require.NotEmpty(t, st.Source, "%s: no source: %+v", body, st)
		require.NotEmpty(t, st.SourceKey, "%s: no source: %+v", body, st)
		for _, k := range defaultKeys(platform) {
			_, ok := st.Triggers[k]
			require.True(t, ok, "%s: no %s trigger", body, k)
		}
	})
}
