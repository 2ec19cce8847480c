package outbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/jsoncheck"
	"github.com/pytake/pytake/internal/phone"
)

// ToKind says what a recipient string is.
type ToKind string

// The recipient kinds.
const (
	ToPhone   ToKind = "phone"   // digits with country code, E.164 without '+'
	ToContact ToKind = "contact" // a PyTake contact id, ct_...; the sender resolves it
	ToBSUID   ToKind = "bsuid"   // a business-scoped user id, e.g. US.13491208655302741918
)

// The message types PyTake sends, in the order error messages list them.
var messageTypes = [...]string{
	"text", "image", "document", "audio", "video", "sticker",
	"interactive", "template", "location", "reaction",
}

func knownType(t string) bool {
	for _, k := range messageTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Limits of the message envelope.
const (
	maxBizOpaque = 512 // biz_opaque_callback_data
	maxWAMID     = 512 // PyTake's sanity bound on a wamid; real ones are under 100
	minPhone     = 8
	maxPhone     = 15
	minBSUID     = 5   // characters after "CC."
	maxBSUID     = 128 // Meta: up to 128 alphanumeric characters after "CC."
	maxContactID = 64  // characters after "ct_"
)

// Request is a validated POST /v1/messages.
type Request struct {
	To     string // normalised: digits for a phone, as given for a contact id or BSUID
	ToKind ToKind
	// ToInput is a phone as written, when it has no '+' or 00: its reading
	// depends on the organisation's default country (ResolveTo). To is then
	// the reading without one, or "" when it needs one.
	ToInput string
	Type    string // one of text, image, document, audio, video, sticker, interactive, template, location, reaction
	// Content is the canonical JSON object for Type (the value of Meta's
	// "<type>" member), rebuilt from validated fields: compact, members in a
	// fixed order, template text parameters always strings.
	Content      json.RawMessage
	ContextWAMID string // the message replied to, when this is a reply
	BizOpaque    string // biz_opaque_callback_data, echoed by Meta in status webhooks
	// SendAt: send_at, when the message is scheduled (an RFC 3339 time;
	// its bounds depend on the time now: accept.CheckSendAt). PyTake's,
	// never sent to Meta.
	SendAt time.Time
}

// Fingerprint is what makes two requests with one Idempotency-Key the same
// request: the recipient (a phone by its line, so every form of one number
// is the same recipient: phone.Canonical), the type, the canonical content,
// the message replied to and biz_opaque_callback_data. Formatting (spaces,
// member order, "+55 (11) ..." or "5511...") makes no difference.
func (r Request) Fingerprint() []byte {
	to := r.To
	if r.ToKind == ToPhone {
		to = phone.Canonical(to)
	}
	fp := []any{string(r.ToKind), to, r.Type, r.Content, r.ContextWAMID, r.BizOpaque}
	if !r.SendAt.IsZero() {
		// A schedule is part of the request (another time is another
		// request); without one, the fingerprint is what it always was.
		fp = append(fp, r.SendAt.UTC().Format(time.RFC3339Nano))
	}
	b, _ := json.Marshal(fp)
	return b
}

// IsTemplate reports whether r is an approved-template message.
func (r Request) IsTemplate() bool { return r.Type == "template" }

// FreeForm reports whether r needs an open 24-hour customer-service window:
// everything but templates does (Meta answers 131047 otherwise).
func (r Request) FreeForm() bool { return !r.IsTemplate() }

// NormalizeTo reads a recipient. A phone number may carry '+', spaces,
// dashes, dots and parentheses (phone.ParseRecipient); it comes back as its
// E.164 digits, a national number completed with defaultCountry (ISO
// 3166-1 alpha-2, or "": then it is a 422 missing_country_code). A contact
// id (ct_...) and a BSUID (two capital letters, a dot, 5 to 128 letters or
// digits) come back unchanged. Anything else is a 422 on field.
func NormalizeTo(field, s, defaultCountry string) (ToKind, string, error) {
	kind, to, issue := normalizeTo(s)
	if issue != "" {
		return "", "", apperr.Field(field, issue)
	}
	if kind != ToPhone {
		return kind, to, nil
	}
	d, err := resolvePhone(field, s, defaultCountry)
	return kind, d, err
}

// NeedsCountry reports whether r's phone was written without '+' or 00, so
// that its reading depends on the organisation's default country.
func (r Request) NeedsCountry() bool { return r.ToKind == ToPhone && r.ToInput != "" }

// ResolveTo reads r's phone with the organisation's default country
// (ISO 3166-1 alpha-2, or "" when it has none): a national number is
// completed with it, or is a 422 missing_country_code on "to".
func (r *Request) ResolveTo(defaultCountry string) error {
	if !r.NeedsCountry() {
		return nil
	}
	d, err := resolvePhone("to", r.ToInput, defaultCountry)
	if err != nil {
		return err
	}
	r.To = d
	return nil
}

func resolvePhone(field, s, defaultCountry string) (string, error) {
	d, err := phone.ParseRecipient(s, defaultCountry)
	switch {
	case errors.Is(err, phone.ErrMissingCountry):
		return "", apperr.New(apperr.Unprocessable, "the phone number has no country code and the organization has no default country").
			WithCode("missing_country_code").
			WithDetails(apperr.Detail{Field: field, Issue: "write it with '+' and the country code (e.g. +5511987654321), or set the organization's default country (PUT /v1/settings/phone)"})
	case err != nil:
		return "", apperr.Field(field, phoneIssue(err))
	}
	return d, nil
}

const toHelp = "must be a phone number (e.g. +5511999999999), a contact id (ct_...) or a WhatsApp user id (e.g. US.13491208655302741918)"

// normalizeTo tells what kind of recipient s is. A phone written with '+'
// or 00 comes back as its digits; one without, as "" (the caller resolves
// it with the organisation's default country) unless it is not a phone
// number at all.
func normalizeTo(s string) (ToKind, string, string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", "", "must not be empty"
	case strings.HasPrefix(s, "ct_"):
		rest := s[len("ct_"):]
		if rest == "" || len(rest) > maxContactID || !alnum(rest) {
			return "", "", "is not a valid contact id (ct_ followed by letters and digits)"
		}
		return ToContact, s, ""
	case isBSUID(s):
		return ToBSUID, s, ""
	}
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r == '+', r == ' ', r == '-', r == '.', r == '(', r == ')':
		default:
			return "", "", toHelp
		}
	}
	d, err := phone.ParseRecipient(s, "")
	switch {
	case errors.Is(err, phone.ErrMissingCountry):
		return ToPhone, "", ""
	case err != nil:
		return "", "", phoneIssue(err)
	}
	return ToPhone, d, ""
}

// phoneIssue says why a phone was refused (phone's errors never repeat it).
func phoneIssue(err error) string {
	return "is not a valid phone number: " + strings.TrimPrefix(err.Error(), phone.ErrInvalid.Error()+": ")
}

// PhoneNeedsCountry reports whether s, if it is a phone, is written without
// '+' or 00: its reading depends on the organisation's default country.
func PhoneNeedsCountry(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && !strings.HasPrefix(s, "ct_") && !isBSUID(s) && !international(s)
}

// international reports whether a phone is written with '+' or 00: its
// reading does not depend on a default country.
func international(s string) bool {
	s = strings.TrimLeft(strings.TrimSpace(s), " (")
	return strings.HasPrefix(s, "+") || strings.HasPrefix(s, "00")
}

// isBSUID reports whether s looks like a business-scoped user id: an ISO
// 3166 alpha-2 country code, a dot, then letters and digits.
func isBSUID(s string) bool {
	if len(s) < 3+minBSUID || len(s) > 3+maxBSUID || s[2] != '.' {
		return false
	}
	if s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return false
	}
	return alnum(s[3:])
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// wamidIssue checks a WhatsApp message id; "" when it is fine.
func wamidIssue(s string) string {
	switch {
	case !strings.HasPrefix(s, "wamid.") || len(s) == len("wamid."):
		return "must be a WhatsApp message id (wamid.…)"
	case len(s) > maxWAMID:
		return fmt.Sprintf("must be at most %d characters", maxWAMID)
	case strings.ContainsAny(s, " \t\r\n"):
		return "must not contain spaces"
	}
	return ""
}

// Parse reads the body of POST /v1/messages. It accepts Meta's shape
//
//	{"messaging_product": "whatsapp", "recipient_type": "individual",
//	 "to": "5511999999999", "type": "image", "image": {...},
//	 "context": {"message_id": "wamid..."}, "biz_opaque_callback_data": "..."}
//
// (messaging_product and recipient_type optional; type optional when exactly
// one message object is given; Meta's "recipient" member may replace "to"
// for a BSUID), and the shorthand {"to": "+5511999999999", "text": "Olá!"}.
// A body that is not a JSON object is an apperr.Invalid (400); a JSON object
// that breaks a rule is an apperr.Unprocessable (422) listing every problem
// with its field path.
func Parse(body []byte) (Request, error) {
	raw, err := jsoncheck.DecodeBody(body)
	if err != nil {
		return Request{}, err
	}
	c := jsoncheck.New("message")
	o := c.Object("", raw)
	if o == nil {
		return Request{}, c.Err()
	}
	var r Request

	if s, ok := o.Str("messaging_product", false); ok && s != "whatsapp" {
		c.Fail("messaging_product", `must be "whatsapp"`)
	}
	if s, ok := o.Str("recipient_type", false); ok && s != "individual" {
		c.Fail("recipient_type", `must be "individual"`)
	}
	r.To, r.ToKind = recipient(o)
	if r.ToKind == ToPhone {
		if s, _ := o.Str("to", false); !international(s) {
			r.ToInput = strings.TrimSpace(s)
		}
	}

	if ctx := o.Child("context", false); ctx != nil {
		if id, ok := ctx.Str("message_id", true); ok {
			if issue := wamidIssue(id); issue != "" {
				c.Fail("context.message_id", "%s", issue)
			}
			r.ContextWAMID = id
		}
		ctx.Done()
	}
	r.BizOpaque = o.Text("biz_opaque_callback_data", false, maxBizOpaque)
	if v, ok := o.Str("send_at", false); ok {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			c.Fail("send_at", "must be an RFC 3339 time with its offset, such as 2026-12-01T12:00:00Z or 2026-12-01T09:00:00-03:00")
		}
		r.SendAt = t
	}

	r.Type, r.Content = message(o)
	o.Done()
	if err := c.Err(); err != nil {
		return Request{}, err
	}
	return r, nil
}

// recipient reads "to" (phone, contact id or BSUID) or Meta's "recipient"
// (BSUID only); exactly one of them.
func recipient(o *jsoncheck.Obj) (string, ToKind) {
	c := o.C
	toGiven, recGiven := o.Has("to"), o.Has("recipient")
	if toGiven && recGiven {
		c.Fail("recipient", "give either to or recipient, not both")
	}
	if recGiven {
		s, ok := o.Str("recipient", true)
		o.Skip("to")
		if !ok {
			return "", ""
		}
		kind, v, issue := normalizeTo(s)
		switch {
		case issue != "":
			c.Fail("recipient", "%s", issue)
		case kind != ToBSUID:
			c.Fail("recipient", "must be a WhatsApp user id (e.g. US.13491208655302741918); put phone numbers and contact ids in to")
		}
		return v, kind
	}
	raw, ok := o.Take("to")
	if !ok {
		c.Fail("to", "is required")
		return "", ""
	}
	if k := jsoncheck.KindOf(raw); k != "a string" {
		c.Fail("to", "must be a string, not %s (quote phone numbers: \"+5511999999999\")", k)
		return "", ""
	}
	s, _ := o.Str("to", true)
	kind, v, issue := normalizeTo(s)
	if issue != "" {
		c.Fail("to", "%s", issue)
	}
	return v, kind
}

// message finds the message object and validates it.
func message(o *jsoncheck.Obj) (string, json.RawMessage) {
	c := o.C
	var present []string
	for _, t := range messageTypes {
		if o.Has(t) {
			present = append(present, t)
		} else {
			o.Skip(t) // absent or null
		}
	}
	typ, typeGiven := o.Str("type", false)
	switch {
	case typeGiven && !knownType(typ):
		c.Fail("type", "must be one of %s", strings.Join(messageTypes[:], ", "))
		for _, t := range present {
			o.Skip(t)
		}
		return "", nil
	case typeGiven:
		for _, t := range present {
			if t != typ {
				c.Fail(t, "is not allowed when type is %q", typ)
			}
		}
	case len(present) == 0:
		if !o.Has("type") { // a wrong-typed "type" was reported already
			c.Fail("type", "is required (or give one message object: %s)", strings.Join(messageTypes[:], ", "))
		}
		return "", nil
	default:
		typ = present[0]
		for _, t := range present[1:] {
			c.Fail(t, "conflicts with %s: a message has one type (set type to choose)", typ)
		}
	}
	raw, ok := o.Take(typ)
	if !ok {
		c.Fail(typ, "is required when type is %q", typ)
		return typ, nil
	}
	var v any
	if typ == "text" && jsoncheck.KindOf(raw) == "a string" {
		v = shorthandText(c, raw)
	} else if co := c.Object(typ, raw); co != nil {
		v = content(typ, co)
		co.Done()
	}
	if v == nil || !c.OK() {
		return typ, nil
	}
	b, err := canonical(v)
	if err != nil {
		c.Fail(typ, "cannot be encoded: %v", err)
		return typ, nil
	}
	return typ, b
}

// content validates the object of message type typ.
func content(typ string, o *jsoncheck.Obj) any {
	switch typ {
	case "text":
		return textMessage(o)
	case "image", "document", "audio", "video", "sticker":
		return mediaObject(o, typ, true)
	case "interactive":
		return interactiveMessage(o)
	case "template":
		return templateMessage(o)
	case "location":
		return locationMessage(o)
	case "reaction":
		return reactionMessage(o)
	}
	return nil
}

// canonical encodes v compactly, without HTML escaping.
func canonical(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode content: %w", err)
	}
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n")), nil
}
