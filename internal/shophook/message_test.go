package shophook_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/shop"
	"github.com/pytake/pytake/internal/shopconfig"
	"github.com/pytake/pytake/internal/shophook"
)

func TestMessageRequest(t *testing.T) {
	o := shop.Order{Platform: "shopify", ID: "820982911946154508", Number: "1234", Name: "#1234", Total: "398.00", Currency: "BRL"}
	tpl := &shopconfig.Message{Type: "template", Template: &shopconfig.Template{Name: "order_confirmation",
		Language: shopconfig.Language{Code: "pt_BR"}, Parameters: []string{"{{order_number}}", "{{total_price}} {{currency}}", "{{first_name}}", "{{shop}}"}}}
	// It passes the rules of POST /v1/messages; an empty value is sent as "-".
	req, err := shophook.MessageRequest(tpl, "ct_1", o, "loja.myshopify.com")
	require.NoError(t, err)
	want := `{"name":"order_confirmation","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"1234"},{"type":"text","text":"398.00 BRL"},{"type":"text","text":"-"},{"type":"text","text":"loja.myshopify.com"}]}]}`
	require.Equal(t, "template", req.Type, "%s %s", req.Type, req.Content)
	require.Equal(t, want, string(req.Content), "%s %s", req.Type, req.Content)
	require.False(t, req.FreeForm(), "%s %s", req.Type, req.Content)
	text := &shopconfig.Message{Type: "text", Text: "Seu pedido #{{number}} foi concluído!"}
	req, err = shophook.MessageRequest(text, "ct_1", o, "")
	require.NoError(t, err, "%+v %v", req, err)
	require.Equal(t, `{"body":"Seu pedido #1234 foi concluído!"}`, string(req.Content), "%+v %v", req, err)
	require.True(t, req.FreeForm(), "%+v %v", req, err)
}
