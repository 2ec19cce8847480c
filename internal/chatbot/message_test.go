package chatbot

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"

	"github.com/pytake/pytake/internal/outbound"
)

// send is the real sending path: the request a reply sends, checked by
// the rules of POST /v1/messages.
func send(t testing.TB, r Reply) (outbound.Request, error) {
	t.Helper()
	return r.Request("+55 11 99999-9999")
}

func TestReplyRequest(t *testing.T) {
	tests := []struct {
		name     string
		reply    Reply
		typ      string
		content  string
		fromJSON string // when set, the reply comes from ParseCreate of this fallback
	}{
		{name: "text", reply: Reply{Type: "text", Text: "Olá! <b> & \"aspas\""},
			typ: "text", content: `{"body":"Olá! <b> & \"aspas\""}`},
		{name: "buttons", reply: Reply{Type: "buttons", Text: "Escolha:", Buttons: []Button{{"b1", "Vendas"}, {"b2", "Suporte"}}},
			typ: "interactive", content: `{"type":"button","body":{"text":"Escolha:"},"action":{"buttons":[{"type":"reply","reply":{"id":"b1","title":"Vendas"}},{"type":"reply","reply":{"id":"b2","title":"Suporte"}}]}}`},
		{name: "template", reply: Reply{Type: "template", Template: json.RawMessage(`{"name":"menu","language":{"code":"pt_BR"}}`)},
			typ: "template", content: `{"name":"menu","language":{"code":"pt_BR"}}`},
		{name: "template with components, as parsed",
			fromJSON: `{"type":"template","template":{"name":"pedido","language":{"code":"pt_BR","policy":"deterministic"},"components":[{"type":"header","parameters":[{"type":"image","image":{"link":"https://example.com/a.png"}}]},{"type":"body","parameters":[{"type":"text","text":"João"},{"type":"text","text":1001}]},{"type":"button","sub_type":"quick_reply","index":0,"parameters":[{"type":"payload","payload":"SIM"}]}]}}`,
			typ:      "template",
			content:  `{"name":"pedido","language":{"code":"pt_BR","policy":"deterministic"},"components":[{"type":"header","parameters":[{"type":"image","image":{"link":"https://example.com/a.png"}}]},{"type":"body","parameters":[{"type":"text","text":"João"},{"type":"text","text":"1001"}]},{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"SIM"}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.reply
			if tt.fromJSON != "" {
				r = *mustCreate(t, `{"name":"b","fallback":`+tt.fromJSON+`}`).Fallback
			}
			req, err := send(t, r)
			require.NoError(t, err, "the sending rules refuse %+v: %v %+v", r, err, apperr.DetailsOf(err))
			require.Equal(t, tt.typ, req.Type, "outbound read %+v (content %s)", req, req.Content)
			require.Equal(t, tt.content, string(req.Content), "outbound read %+v (content %s)", req, req.Content)
			require.Equal(t, "5511999999999", req.To, "outbound read %+v (content %s)", req, req.Content)
		})
	}
}

// TestReplyRequestEveryReplyIsSendable: every reply of the example bot, its
// fallback and its welcome message pass the sending rules.
func TestReplyRequestEveryReplyIsSendable(t *testing.T) {
	b := mustCreate(t, string(example(t)))
	var replies []*Reply
	for _, r := range b.Rules {
		replies = append(replies, r.Reply)
	}
	replies = append(replies, b.Fallback, Decide(b, Inbound{Type: "text", Text: "oi"}, true).Reply)
	types := map[string]bool{}
	for _, r := range replies {
		_, err := send(t, *r)
		require.NoError(t, err, "the sending rules refuse %+v: %v %+v", r, err, apperr.DetailsOf(err))
		types[r.Type] = true
	}
	require.Len(t, types, 3, "reply types covered: %v", types)
}

func TestReplyRequestErrors(t *testing.T) {
	for _, r := range []Reply{
		{},
		{Type: "list", Text: "x"},
		{Type: "template"},
		{Type: "template", Template: json.RawMessage(`[]`)},
	} {
		req, err := r.Request("ct_1")
		assert.Error(t, err, "Request(%+v) = %+v, want an error", r, req)
	}
}
