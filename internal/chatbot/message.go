package chatbot

import (
	"github.com/pytake/pytake/internal/jsoncheck"

	"bytes"
	"encoding/json"
	"fmt"
)

// Wire shapes of POST /v1/messages (Meta's message object).
type (
	textMessage struct {
		Type string   `json:"type"`
		Text textBody `json:"text"`
	}
	textBody struct {
		Body string `json:"body"`
	}
	interactiveMessage struct {
		Type        string      `json:"type"`
		Interactive interactive `json:"interactive"`
	}
	interactive struct {
		Type   string   `json:"type"`
		Body   bodyText `json:"body"`
		Action action   `json:"action"`
	}
	bodyText struct {
		Text string `json:"text"`
	}
	action struct {
		Buttons []replyButton `json:"buttons"`
	}
	replyButton struct {
		Type  string `json:"type"`
		Reply Button `json:"reply"`
	}
	templateMessage struct {
		Type     string          `json:"type"`
		Template json.RawMessage `json:"template"`
	}
)

// MessageBody is the JSON body POST /v1/messages takes for r, without the
// recipient ("to") and messaging_product, which the caller adds:
//
//	text:     {"type":"text","text":{"body":"..."}}
//	buttons:  {"type":"interactive","interactive":{"type":"button","body":{"text":"..."},
//	           "action":{"buttons":[{"type":"reply","reply":{"id":"...","title":"..."}}]}}}
//	template: {"type":"template","template":{...}}
//
// It fails only for a reply of unknown type or without its template; a
// reply that ParseCreate accepted always gives a body outbound.Parse
// accepts once "to" is added.
func (r Reply) MessageBody() ([]byte, error) {
	var v any
	switch r.Type {
	case ReplyText:
		v = textMessage{Type: "text", Text: textBody{Body: r.Text}}
	case ReplyButtons:
		bs := make([]replyButton, len(r.Buttons))
		for i, b := range r.Buttons {
			bs[i] = replyButton{Type: "reply", Reply: b}
		}
		v = interactiveMessage{Type: "interactive", Interactive: interactive{
			Type: "button", Body: bodyText{Text: r.Text}, Action: action{Buttons: bs},
		}}
	case ReplyTemplate:
		if jsoncheck.KindOf(r.Template) != "an object" {
			return nil, fmt.Errorf("chatbot: message body: a template reply needs a template object, not %s", jsoncheck.KindOf(r.Template))
		}
		v = templateMessage{Type: "template", Template: r.Template}
	default:
		return nil, fmt.Errorf("chatbot: message body: unknown reply type %q", r.Type)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("chatbot: message body: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
