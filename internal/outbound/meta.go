package outbound

import (
	"github.com/pytake/pytake/internal/jsoncheck"

	"bytes"
	"encoding/json"
	"fmt"
)

// MetaBody is the exact JSON PyTake POSTs to
// /{version}/{phone_number_id}/messages for r, sent to to:
//
//	{"messaging_product":"whatsapp","recipient_type":"individual",
//	 "to":"5511999999999","context":{"message_id":"wamid..."},
//	 "biz_opaque_callback_data":"...","type":"text","text":{...}}
//
// to is the phone number or BSUID the caller resolved r.To to (a contact id
// must be resolved first); a phone is written as digits, a BSUID as given,
// both in "to". context and biz_opaque_callback_data appear only when set.
func MetaBody(to string, r Request) ([]byte, error) {
	kind, dest, issue := normalizeTo(to)
	switch {
	case issue != "":
		return nil, fmt.Errorf("outbound: meta body: recipient %q %s", to, issue)
	case kind == ToContact:
		return nil, fmt.Errorf("outbound: meta body: recipient %q is a contact id; resolve it to a phone number or BSUID first", to)
	case !knownType(r.Type):
		return nil, fmt.Errorf("outbound: meta body: unknown message type %q", r.Type)
	case jsoncheck.KindOf(r.Content) != "an object":
		return nil, fmt.Errorf("outbound: meta body: %s content must be a JSON object, not %s", r.Type, jsoncheck.KindOf(r.Content))
	}
	var b bytes.Buffer
	b.WriteString(`{"messaging_product":"whatsapp","recipient_type":"individual",`)
	member(&b, "to", dest)
	if r.ContextWAMID != "" {
		b.WriteString(`,"context":{`)
		member(&b, "message_id", r.ContextWAMID)
		b.WriteByte('}')
	}
	if r.BizOpaque != "" {
		b.WriteByte(',')
		member(&b, "biz_opaque_callback_data", r.BizOpaque)
	}
	b.WriteByte(',')
	member(&b, "type", r.Type)
	b.WriteString(`,"` + r.Type + `":`)
	if err := json.Compact(&b, r.Content); err != nil {
		return nil, fmt.Errorf("outbound: meta body: %s content: %w", r.Type, err)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// member writes "key":"value" with value JSON-escaped.
func member(b *bytes.Buffer, key, value string) {
	k, _ := canonical(key) // strings always encode
	v, _ := canonical(value)
	b.Write(k)
	b.WriteByte(':')
	b.Write(v)
}
