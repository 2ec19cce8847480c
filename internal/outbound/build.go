package outbound

import (
	"encoding/json"
	"fmt"

	"github.com/pytake/pytake/internal/jsoncheck"
)

// Button is a reply button: the customer taps it and the business receives
// its id.
type Button struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Text is a text message to `to` (a phone number, contact id or BSUID).
//
// Text, Buttons, Template and BodyTemplate build the requests PyTake sends
// on its own (chatbot replies, shop notifications) and check them with the
// rules Parse applies to POST /v1/messages, so a built request is a
// Request as Parse would return it, and a problem is the same 422 naming
// its field (text.body, interactive.action.buttons[0].reply.title, ...).
func Text(to, body string) (Request, error) {
	return build(to, "text", textContent{Body: body})
}

// Buttons is an interactive message: body above up to three reply buttons.
func Buttons(to, body string, buttons []Button) (Request, error) {
	bs := make([]replyButton, len(buttons))
	for i, b := range buttons {
		bs[i] = replyButton{Type: "reply", Reply: reply(b)}
	}
	return build(to, "interactive", interactive{Type: "button", Body: &textOnly{Text: body}, Action: &interaction{Buttons: bs}})
}

// Template is an approved-template message; tpl is the template object as
// POST /v1/messages takes it ({"name", "language": {"code"}, "components"}).
func Template(to string, tpl json.RawMessage) (Request, error) {
	return build(to, "template", tpl)
}

// BodyTemplate is an approved-template message whose body takes the text
// parameters, in order.
func BodyTemplate(to, name, languageCode string, params []string) (Request, error) {
	t := template{Name: name, Language: language{Code: languageCode}}
	if len(params) > 0 {
		ps := make([]parameter, len(params))
		for i, p := range params {
			ps[i] = parameter{Type: "text", Text: p}
		}
		t.Components = []component{{Type: "body", Parameters: ps}}
	}
	return build(to, "template", t)
}

// build checks a message object of type typ built in code as Parse checks
// a received one, and returns the Request with its canonical content.
func build(to, typ string, v any) (Request, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return Request{}, fmt.Errorf("outbound: encode %s: %w", typ, err)
	}
	c := jsoncheck.New("message")
	r := Request{Type: typ}
	kind, norm, issue := normalizeTo(to)
	if issue != "" {
		c.Fail("to", "%s", issue)
	}
	r.To, r.ToKind = norm, kind
	if co := c.Object(typ, raw); co != nil {
		checked := content(typ, co)
		co.Done()
		if c.OK() {
			if r.Content, err = canonical(checked); err != nil {
				return Request{}, err
			}
		}
	}
	if err := c.Err(); err != nil {
		return Request{}, err
	}
	return r, nil
}

// Body is r as a POST /v1/messages body: to, type, the content under its
// type, and context and biz_opaque_callback_data when set (keys in order,
// so equal requests have equal bodies).
func (r Request) Body() []byte {
	m := map[string]any{"to": r.To, "type": r.Type, r.Type: r.Content}
	if r.ContextWAMID != "" {
		m["context"] = map[string]string{"message_id": r.ContextWAMID}
	}
	if r.BizOpaque != "" {
		m["biz_opaque_callback_data"] = r.BizOpaque
	}
	b, _ := json.Marshal(m) // strings and a valid JSON object: cannot fail
	return b
}
