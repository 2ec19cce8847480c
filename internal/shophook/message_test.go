package shophook_test

import (
	"testing"

	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/shop"
	"github.com/pytake/pytake/internal/shopconfig"
	"github.com/pytake/pytake/internal/shophook"
)

func TestMessageBody(t *testing.T) {
	o := shop.Order{Platform: "shopify", ID: "820982911946154508", Number: "1234", Name: "#1234", Total: "398.00", Currency: "BRL"}
	tpl := &shopconfig.Message{Type: "template", Template: &shopconfig.Template{Name: "order_confirmation",
		Language: shopconfig.Language{Code: "pt_BR"}, Parameters: []string{"{{order_number}}", "{{total_price}} {{currency}}", "{{first_name}}", "{{shop}}"}}}
	b, err := shophook.MessageBody(tpl, "5511987654321", o, "loja.myshopify.com")
	if err != nil {
		t.Fatal(err)
	}
	// It is what POST /v1/messages accepts; an empty value is sent as "-".
	req, err := outbound.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	want := `{"name":"order_confirmation","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"1234"},{"type":"text","text":"398.00 BRL"},{"type":"text","text":"-"},{"type":"text","text":"loja.myshopify.com"}]}]}`
	if req.Type != "template" || string(req.Content) != want || req.FreeForm() {
		t.Fatalf("%s %s", req.Type, req.Content)
	}
	text := &shopconfig.Message{Type: "text", Text: "Seu pedido #{{number}} foi concluído!"}
	b, _ = shophook.MessageBody(text, "5511987654321", o, "")
	if req, err := outbound.Parse(b); err != nil || string(req.Content) != `{"body":"Seu pedido #1234 foi concluído!"}` || !req.FreeForm() {
		t.Fatalf("%s %v", b, err)
	}
}
