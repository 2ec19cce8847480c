package outbound

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
)

// A built request is the Request Parse returns for the same message.
func TestBuildIsParse(t *testing.T) {
	tests := []struct {
		name  string
		build func() (Request, error)
		body  string
	}{
		{"text", func() (Request, error) { return Text("+55 11 99999-9999", "Olá <b> & \"x\"") },
			`{"to":"+55 11 99999-9999","type":"text","text":{"body":"Olá <b> & \"x\""}}`},
		{"buttons", func() (Request, error) {
			return Buttons("ct_abc", "Escolha:", []Button{{ID: "b1", Title: "Vendas"}, {ID: "b2", Title: "Suporte"}})
		}, `{"to":"ct_abc","type":"interactive","interactive":{"type":"button","body":{"text":"Escolha:"},
			"action":{"buttons":[{"type":"reply","reply":{"id":"b1","title":"Vendas"}},{"type":"reply","reply":{"id":"b2","title":"Suporte"}}]}}}`},
		{"template", func() (Request, error) {
			return Template("US.13491208655302741918", json.RawMessage(`{"name":"pedido","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":1001}]}]}`))
		}, `{"to":"US.13491208655302741918","type":"template","template":{"name":"pedido","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":1001}]}]}}`},
		{"body template", func() (Request, error) {
			return BodyTemplate("5511999999999", "order_confirmation", "pt_BR", []string{"1001", "150.00 BRL"})
		}, `{"to":"5511999999999","type":"template","template":{"name":"order_confirmation","language":{"code":"pt_BR"},
			"components":[{"type":"body","parameters":[{"type":"text","text":"1001"},{"type":"text","text":"150.00 BRL"}]}]}}`},
		{"template without parameters", func() (Request, error) { return BodyTemplate("5511999999999", "hello_world", "en_US", nil) },
			`{"to":"5511999999999","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.build()
			require.NoError(t, err, "%v %+v", err, apperr.DetailsOf(err))
			want, err := Parse([]byte(tt.body))
			require.NoError(t, err, "Parse: %v %+v", err, apperr.DetailsOf(err))
			require.Equal(t, want.To, got.To, "built  %+v %s\nparsed %+v %s", got, got.Content, want, want.Content)
			require.Equal(t, want.ToKind, got.ToKind, "built  %+v %s\nparsed %+v %s", got, got.Content, want, want.Content)
			require.Equal(t, want.Type, got.Type, "built  %+v %s\nparsed %+v %s", got, got.Content, want, want.Content)
			require.Equal(t, string(want.Content), string(got.Content), "built  %+v %s\nparsed %+v %s", got, got.Content, want, want.Content)
		})
	}
}

// A built request breaking a rule is the 422 Parse gives, naming the field.
func TestBuildRefuses(t *testing.T) {
	long := strings.Repeat("a", maxTextBody+1)
	tests := []struct {
		name  string
		build func() (Request, error)
		field string
	}{
		{"no recipient", func() (Request, error) { return Text("", "oi") }, "to"},
		{"empty text", func() (Request, error) { return Text("5511999999999", "") }, "text.body"},
		{"text too long", func() (Request, error) { return Text("5511999999999", long) }, "text.body"},
		{"button title too long", func() (Request, error) {
			return Buttons("5511999999999", "x", []Button{{ID: "b1", Title: strings.Repeat("t", 21)}})
		}, "interactive.action.buttons[0].reply.title"},
		{"no buttons", func() (Request, error) { return Buttons("5511999999999", "x", nil) }, "interactive.action.buttons"},
		{"template not an object", func() (Request, error) { return Template("5511999999999", json.RawMessage(`[]`)) }, "template"},
		{"no template", func() (Request, error) { return Template("5511999999999", nil) }, "template"},
		{"empty parameter", func() (Request, error) { return BodyTemplate("5511999999999", "t", "pt_BR", []string{""}) },
			"template.components[0].parameters[0].text"},
		{"bad template name", func() (Request, error) { return BodyTemplate("5511999999999", "Order Confirmation", "pt_BR", nil) }, "template.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.build()
			if !apperr.Is(err, apperr.Unprocessable) && !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("got %+v, %v", r, err)
			}
			fields := apperr.Fields(err)
			require.True(t, slices.Contains(fields, tt.field), "fields %v, want %s (%v)", fields, tt.field, err)
		})
	}
}

// Body is the request as POST /v1/messages takes it: parsing it gives the
// request back.
func TestBodyRoundTrips(t *testing.T) {
	r, err := Parse([]byte(`{"to":"+5511999999999","text":"Olá","context":{"message_id":"wamid.x1"},"biz_opaque_callback_data":"ref-1"}`))
	require.NoError(t, err)
	back, err := Parse(r.Body())
	require.NoError(t, err, "%s: %v", r.Body(), err)
	require.Equal(t, r.To, back.To, "%+v\n%+v", back, r)
	require.Equal(t, r.Type, back.Type, "%+v\n%+v", back, r)
	require.Equal(t, string(r.Content), string(back.Content), "%+v\n%+v", back, r)
	require.Equal(t, r.ContextWAMID, back.ContextWAMID, "%+v\n%+v", back, r)
	require.Equal(t, r.BizOpaque, back.BizOpaque, "%+v\n%+v", back, r)
}
