package chatbot

import (
	"fmt"

	"github.com/pytake/pytake/internal/outbound"
)

// Request is the message r sends to `to` (the contact id), built with
// outbound's constructors and checked with the rules of POST /v1/messages:
//
//	text:     outbound.Text, the reply's text as the body
//	buttons:  outbound.Buttons, an interactive "button" message
//	template: outbound.Template, the stored template object
//
// It fails for a reply of unknown type, and for a reply the sending rules
// refuse (an apperr.Unprocessable naming the field); a reply that
// ParseCreate accepted always gives a Request.
func (r Reply) Request(to string) (outbound.Request, error) {
	switch r.Type {
	case ReplyText:
		return outbound.Text(to, r.Text)
	case ReplyButtons:
		bs := make([]outbound.Button, len(r.Buttons))
		for i, b := range r.Buttons {
			bs[i] = outbound.Button(b)
		}
		return outbound.Buttons(to, r.Text, bs)
	case ReplyTemplate:
		return outbound.Template(to, r.Template)
	}
	return outbound.Request{}, fmt.Errorf("chatbot: reply: unknown type %q", r.Type)
}
