package shopconfig

import (
	"strings"
	"testing"
	"time"

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
		if got != want || ok != (want != "") {
			t.Errorf("ShopDomain(%q) = %q %v, want %q", in, got, ok, want)
		}
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
		if d != tt.display || k != tt.key || ok != (tt.display != "") {
			t.Errorf("SiteURL(%q) = %q %q %v", tt.in, d, k, ok)
		}
	}
	// What WooCommerce sends and what the merchant typed meet.
	a, _ := SourceKey(WooCommerce, "https://shop.example.com/")
	b, _ := SourceKey(WooCommerce, "http://SHOP.example.com")
	if a != b {
		t.Errorf("source keys differ: %q %q", a, b)
	}
}

func TestParseDefaults(t *testing.T) {
	s, secret, err := Parse(Shopify, []byte(`{"shop_domain":"Demo.myshopify.com","webhook_secret":" shpss_0123456789 "}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Source != "demo.myshopify.com" || secret != "shpss_0123456789" {
		t.Fatalf("source %q secret %q", s.Source, secret)
	}
	create := s.Triggers[TopicOrdersCreate]
	if !create.Sends() || create.Message.Template.Name != "order_confirmation" || create.Message.Template.Language.Code != "pt_BR" ||
		strings.Join(create.Message.Template.Parameters, "|") != "{{order_number}}|{{total_price}} {{currency}}" {
		t.Fatalf("orders/create default: %+v", create)
	}
	for _, k := range []string{TopicOrdersFulfilled, TopicOrdersCancelled} {
		if tr := s.Triggers[k]; tr.Enabled || tr.Message == nil || tr.Message.Type != "text" {
			t.Fatalf("%s default: %+v", k, tr)
		}
	}
	if strings.Join(s.Contact.Tags, ",") != "customer,purchased" || !s.Contact.Attributes.LastPurchase || !s.Contact.Attributes.TotalSpent {
		t.Fatalf("contact defaults: %+v", s.Contact)
	}

	// Turning a default on keeps its suggested text; a topic left out keeps its default.
	s, _, err = Parse(Shopify, []byte(`{"shop_domain":"demo","topics":{"orders/fulfilled":{"enabled":true}},"contact":{"tags":["vip"," vip "],"attributes":{"total_spent":false}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Triggers[TopicOrdersFulfilled].Sends() || !s.Triggers[TopicOrdersCreate].Sends() || strings.Join(s.Contact.Tags, ",") != "vip" ||
		s.Contact.Attributes.TotalSpent || !s.Contact.Attributes.LastPurchase {
		t.Fatalf("partial: %+v", s)
	}

	w, _, err := Parse(WooCommerce, []byte(`{"site_url":"https://shop.example.com/","statuses":{"wc-Processing":{"message":{"type":"text","text":"Pagamento do pedido #{{number}} confirmado"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if w.Source != "https://shop.example.com" || w.SourceKey != "shop.example.com" || !w.Triggers["processing"].Sends() ||
		w.Triggers["completed"].Message.Text != "Seu pedido #{{number}} foi concluído!" {
		t.Fatalf("woocommerce: %+v", w)
	}
	w, _, _ = Parse(WooCommerce, []byte(`{"site_url":"https://shop.example.com","statuses":{"completed":{"enabled":false}}}`))
	if w.Triggers["completed"].Sends() {
		t.Fatal("completed turned off still sends")
	}
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
		if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
			t.Errorf("%s: fields %v, want %v (%v)", tt.body, got, tt.fields, e.Details)
		}
	}
	// Unknown members and wrong types are refused too.
	if _, _, err := Parse(Shopify, []byte(`{"shop_domain":"a","shop":"b"}`)); !apperr.Is(err, apperr.Unprocessable) {
		t.Errorf("unknown field: %v", err)
	}
	if _, _, err := Parse(Shopify, []byte(`{"shop_domain":1}`)); !apperr.Is(err, apperr.Unprocessable) {
		t.Errorf("wrong type: %v", err)
	}
}

func TestSecretRotation(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	s, changed := Secret{}.rotate("first-secret", now)
	if !changed || s.Previous != "" || len(s.Active(now)) != 1 {
		t.Fatalf("first: %+v", s)
	}
	if _, changed := s.rotate("", now); changed {
		t.Fatal("an omitted secret changed it")
	}
	if _, changed := s.rotate("first-secret", now); changed {
		t.Fatal("the same secret changed it")
	}
	s, _ = s.rotate("second-secret", now)
	if got := s.Active(now.Add(59 * time.Minute)); len(got) != 2 || got[0] != "second-secret" || got[1] != "first-secret" {
		t.Fatalf("within the grace: %v", got)
	}
	if got := s.Active(now.Add(61 * time.Minute)); len(got) != 1 || got[0] != "second-secret" {
		t.Fatalf("after the grace: %v", got)
	}
	if Mask("pytake-demo-shopify-secret") != "********cret" || Mask("short") != "********" {
		t.Fatal("mask")
	}
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
		if st.Source == "" || st.SourceKey == "" {
			t.Fatalf("%s: no source: %+v", body, st)
		}
		for _, k := range defaultKeys(platform) {
			if _, ok := st.Triggers[k]; !ok {
				t.Fatalf("%s: no %s trigger", body, k)
			}
		}
	})
}
