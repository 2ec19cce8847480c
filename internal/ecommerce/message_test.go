package ecommerce_test

import (
	"testing"

	"github.com/pytake/pytake/internal/commerce"
	"github.com/pytake/pytake/internal/ecommerce"
	"github.com/pytake/pytake/internal/integrations"
	"github.com/pytake/pytake/internal/outbound"
)

func TestMessageBody(t *testing.T) {
	o := commerce.Order{Platform: "shopify", ID: "820982911946154508", Number: "1234", Name: "#1234", Total: "398.00", Currency: "BRL"}
	tpl := &integrations.Message{Type: "template", Template: &integrations.Template{Name: "order_confirmation",
		Language: integrations.Language{Code: "pt_BR"}, Parameters: []string{"{{order_number}}", "{{total_price}} {{currency}}", "{{first_name}}", "{{shop}}"}}}
	b, err := ecommerce.MessageBody(tpl, "5511987654321", o, "loja.myshopify.com")
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
	text := &integrations.Message{Type: "text", Text: "Seu pedido #{{number}} foi concluído!"}
	b, _ = ecommerce.MessageBody(text, "5511987654321", o, "")
	if req, err := outbound.Parse(b); err != nil || string(req.Content) != `{"body":"Seu pedido #1234 foi concluído!"}` || !req.FreeForm() {
		t.Fatalf("%s %v", b, err)
	}
}
