// Package sendrules is Meta's validation of a send request body (POST
// /{version}/{phone_number_id}/messages) as the WhatsApp Cloud API applies
// it: required parameters, types, documented limits, with Meta's error
// messages. Two things use it so they answer alike: the local Graph API
// simulator (infra/local/graphsim) and the sender's in-process transport for
// test-mode messages (internal/sender), which never calls Meta.
package sendrules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// sendTypes are the message types POST /messages accepts.
func sendTypes() []string {
	return []string{"audio", "contacts", "document", "image", "interactive", "location", "reaction", "sticker", "template", "text", "video"}
}

// interactiveTypes are the interactive message types the simulator knows.
func interactiveTypes() []string {
	return []string{"address_message", "button", "call_permission_request", "catalog_message", "cta_url", "flow", "list", "location_request_message", "product", "product_list", "voice_call"}
}

// Send is what a valid send request says.
type Send struct {
	To   string
	Type string
}

// Invalid is a validation failure: the message Meta would give after "(#100) ".
type Invalid string

func invalidf(format string, args ...any) *Invalid {
	v := Invalid(fmt.Sprintf(format, args...))
	return &v
}

// Validate checks a send request body against Meta's rules and the
// documented limits.
func Validate(body map[string]json.RawMessage) (Send, *Invalid) {
	var out Send
	product, err := Str(body, "messaging_product")
	if err != nil || product == "" {
		return out, invalidf("The parameter messaging_product is required.")
	}
	if product != "whatsapp" {
		return out, invalidf("Param messaging_product must be \"whatsapp\", got %q.", product)
	}
	if rt, err := Str(body, "recipient_type"); err != nil || (rt != "" && rt != "individual" && rt != "group") {
		return out, invalidf("Param recipient_type must be \"individual\" or \"group\".")
	}
	to, err := Str(body, "to")
	if err != nil || strings.TrimSpace(to) == "" {
		return out, invalidf("The parameter to is required.")
	}
	if !IsBSUID(to) && len(Digits(to)) < 5 {
		return out, invalidf("Param to must be a phone number (digits with the country code) or a business-scoped user id, got %q.", to)
	}
	out.To = to
	typ, err := Str(body, "type")
	if err != nil || typ == "" {
		return out, invalidf("The parameter type is required.")
	}
	if !slices.Contains(sendTypes(), typ) {
		return out, invalidf("Param type must be one of {%s} - got %q.", strings.ToUpper(strings.Join(sendTypes(), ", ")), typ)
	}
	out.Type = typ
	payload, ok := body[typ]
	if !ok || IsNull(payload) {
		return out, invalidf("The parameter %s is required.", typ)
	}
	if typ == "contacts" {
		return out, validateContacts(payload)
	}
	if !IsObject(payload) {
		return out, invalidf("Param %s must be a JSON object.", typ)
	}
	if typ != "template" {
		if ctx, ok := body["context"]; ok && !IsNull(ctx) {
			var c struct {
				MessageID string `json:"message_id"`
			}
			if json.Unmarshal(ctx, &c) != nil || c.MessageID == "" {
				return out, invalidf("The parameter context['message_id'] is required.")
			}
		}
	}
	switch typ {
	case "text":
		return out, validateText(payload)
	case "image", "video", "audio", "document", "sticker":
		return out, validateMedia(typ, payload)
	case "location":
		return out, validateLocation(payload)
	case "reaction":
		return out, validateReaction(payload)
	case "interactive":
		return out, validateInteractive(payload)
	case "template":
		return out, validateTemplate(payload)
	}
	return out, nil
}

func validateText(p json.RawMessage) *Invalid {
	var t struct {
		Body       *string `json:"body"`
		PreviewURL *bool   `json:"preview_url"`
	}
	if err := json.Unmarshal(p, &t); err != nil {
		return invalidf("Param text must be {\"body\": string, \"preview_url\"?: bool}: %v.", err)
	}
	if t.Body == nil || *t.Body == "" {
		return invalidf("The parameter text['body'] is required.")
	}
	return maxLen("text['body']", *t.Body, 4096)
}

func validateMedia(typ string, p json.RawMessage) *Invalid {
	var m struct {
		ID       string `json:"id"`
		Link     string `json:"link"`
		Caption  string `json:"caption"`
		Filename string `json:"filename"`
	}
	if err := json.Unmarshal(p, &m); err != nil {
		return invalidf("Param %s is malformed: %v.", typ, err)
	}
	switch {
	case m.ID == "" && m.Link == "":
		return invalidf("Param %s must contain an id or a link.", typ)
	case m.ID != "" && m.Link != "":
		return invalidf("Param %s must contain an id or a link, not both.", typ)
	}
	if m.Link != "" && !strings.HasPrefix(m.Link, "http://") && !strings.HasPrefix(m.Link, "https://") {
		return invalidf("Param %s['link'] must be an http(s) URL.", typ)
	}
	if m.Caption != "" && (typ == "audio" || typ == "sticker") {
		return invalidf("Param %s['caption'] is not allowed for %s.", typ, typ)
	}
	return maxLen(typ+"['caption']", m.Caption, 1024)
}

func validateLocation(p json.RawMessage) *Invalid {
	var l map[string]json.RawMessage
	if err := json.Unmarshal(p, &l); err != nil {
		return invalidf("Param location is malformed: %v.", err)
	}
	for _, k := range []string{"latitude", "longitude"} {
		if v, ok := l[k]; !ok || IsNull(v) {
			return invalidf("The parameter location['%s'] is required.", k)
		}
	}
	return nil
}

func validateContacts(p json.RawMessage) *Invalid {
	var cs []struct {
		Name *struct {
			FormattedName string `json:"formatted_name"`
		} `json:"name"`
	}
	if err := json.Unmarshal(p, &cs); err != nil {
		return invalidf("Param contacts must be an array of contact objects: %v.", err)
	}
	if len(cs) == 0 {
		return invalidf("Param contacts must contain at least one contact.")
	}
	for i, c := range cs {
		if c.Name == nil || c.Name.FormattedName == "" {
			return invalidf("The parameter contacts[%d]['name']['formatted_name'] is required.", i)
		}
	}
	return nil
}

func validateReaction(p json.RawMessage) *Invalid {
	var r struct {
		MessageID string  `json:"message_id"`
		Emoji     *string `json:"emoji"`
	}
	if err := json.Unmarshal(p, &r); err != nil {
		return invalidf("Param reaction is malformed: %v.", err)
	}
	if r.MessageID == "" {
		return invalidf("The parameter reaction['message_id'] is required.")
	}
	if r.Emoji == nil {
		return invalidf("The parameter reaction['emoji'] is required (empty removes the reaction).")
	}
	return nil
}

type textPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func validateInteractive(p json.RawMessage) *Invalid {
	var in struct {
		Type   string    `json:"type"`
		Header *textPart `json:"header"`
		Body   *textPart `json:"body"`
		Footer *textPart `json:"footer"`
		Action *struct {
			Button  string `json:"button"`
			Buttons []struct {
				Type  string `json:"type"`
				Reply struct {
					ID    string `json:"id"`
					Title string `json:"title"`
				} `json:"reply"`
			} `json:"buttons"`
			Sections []struct {
				Title string `json:"title"`
				Rows  []struct {
					ID          string `json:"id"`
					Title       string `json:"title"`
					Description string `json:"description"`
				} `json:"rows"`
			} `json:"sections"`
			Name       string `json:"name"`
			Parameters *struct {
				DisplayText string `json:"display_text"`
				URL         string `json:"url"`
			} `json:"parameters"`
		} `json:"action"`
	}
	if err := json.Unmarshal(p, &in); err != nil {
		return invalidf("Param interactive is malformed: %v.", err)
	}
	if in.Type == "" {
		return invalidf("The parameter interactive['type'] is required.")
	}
	if !slices.Contains(interactiveTypes(), in.Type) {
		return invalidf("Param interactive['type'] must be one of {%s} - got %q.", strings.Join(interactiveTypes(), ", "), in.Type)
	}
	if in.Header != nil && in.Header.Type == "text" {
		if bad := maxLen("interactive['header']['text']", in.Header.Text, 60); bad != nil {
			return bad
		}
	}
	if in.Footer != nil {
		if bad := maxLen("interactive['footer']['text']", in.Footer.Text, 60); bad != nil {
			return bad
		}
	}
	needsBody := in.Type == "button" || in.Type == "list" || in.Type == "cta_url" || in.Type == "product_list" || in.Type == "flow"
	if needsBody && (in.Body == nil || in.Body.Text == "") {
		return invalidf("The parameter interactive['body']['text'] is required.")
	}
	if in.Type != "product" && in.Type != "location_request_message" && in.Action == nil {
		return invalidf("The parameter interactive['action'] is required.")
	}
	switch in.Type {
	case "button":
		if bad := maxLen("interactive['body']['text']", in.Body.Text, 1024); bad != nil {
			return bad
		}
		bs := in.Action.Buttons
		if len(bs) < 1 || len(bs) > 3 {
			return invalidf("Param interactive['action']['buttons'] must have between 1 and 3 buttons, got %d.", len(bs))
		}
		ids, titles := map[string]bool{}, map[string]bool{}
		for i, b := range bs {
			at := fmt.Sprintf("interactive['action']['buttons'][%d]", i)
			if b.Type != "reply" {
				return invalidf("Param %s['type'] must be \"reply\".", at)
			}
			if b.Reply.ID == "" || b.Reply.Title == "" {
				return invalidf("The parameters %s['reply']['id'] and ['title'] are required.", at)
			}
			if bad := firstInvalid(maxLen(at+"['reply']['id']", b.Reply.ID, 256), maxLen(at+"['reply']['title']", b.Reply.Title, 20)); bad != nil {
				return bad
			}
			if ids[b.Reply.ID] || titles[b.Reply.Title] {
				return invalidf("Param %s must have a unique id and title.", at)
			}
			ids[b.Reply.ID], titles[b.Reply.Title] = true, true
		}
	case "list":
		if bad := maxLen("interactive['body']['text']", in.Body.Text, 4096); bad != nil {
			return bad
		}
		if in.Action.Button == "" {
			return invalidf("The parameter interactive['action']['button'] is required.")
		}
		if bad := maxLen("interactive['action']['button']", in.Action.Button, 20); bad != nil {
			return bad
		}
		ss := in.Action.Sections
		if len(ss) < 1 || len(ss) > 10 {
			return invalidf("Param interactive['action']['sections'] must have between 1 and 10 sections, got %d.", len(ss))
		}
		rows, ids := 0, map[string]bool{}
		for i, sec := range ss {
			at := fmt.Sprintf("interactive['action']['sections'][%d]", i)
			if len(ss) > 1 && sec.Title == "" {
				return invalidf("The parameter %s['title'] is required when there is more than one section.", at)
			}
			if bad := maxLen(at+"['title']", sec.Title, 24); bad != nil {
				return bad
			}
			if len(sec.Rows) == 0 {
				return invalidf("Param %s['rows'] must have at least one row.", at)
			}
			for j, row := range sec.Rows {
				rat := fmt.Sprintf("%s['rows'][%d]", at, j)
				if row.ID == "" || row.Title == "" {
					return invalidf("The parameters %s['id'] and ['title'] are required.", rat)
				}
				if bad := firstInvalid(maxLen(rat+"['id']", row.ID, 200), maxLen(rat+"['title']", row.Title, 24), maxLen(rat+"['description']", row.Description, 72)); bad != nil {
					return bad
				}
				if ids[row.ID] {
					return invalidf("Param %s['id'] must be unique.", rat)
				}
				ids[row.ID] = true
			}
			rows += len(sec.Rows)
		}
		if rows > 10 {
			return invalidf("Param interactive['action']['sections'] must have at most 10 rows in all, got %d.", rows)
		}
	case "cta_url":
		if in.Action.Parameters == nil || in.Action.Parameters.DisplayText == "" || in.Action.Parameters.URL == "" {
			return invalidf("The parameters interactive['action']['parameters']['display_text'] and ['url'] are required.")
		}
		return maxLen("interactive['action']['parameters']['display_text']", in.Action.Parameters.DisplayText, 20)
	}
	return nil
}

func validateTemplate(p json.RawMessage) *Invalid {
	var t struct {
		Name     string `json:"name"`
		Language *struct {
			Code string `json:"code"`
		} `json:"language"`
		Components json.RawMessage `json:"components"`
	}
	if err := json.Unmarshal(p, &t); err != nil {
		return invalidf("Param template is malformed: %v.", err)
	}
	if t.Name == "" {
		return invalidf("The parameter template['name'] is required.")
	}
	if t.Language == nil || t.Language.Code == "" {
		return invalidf("The parameter template['language']['code'] is required.")
	}
	if len(t.Components) > 0 && !IsNull(t.Components) && !bytes.HasPrefix(bytes.TrimSpace(t.Components), []byte("[")) {
		return invalidf("Param template['components'] must be an array.")
	}
	return nil
}

func maxLen(param, s string, n int) *Invalid {
	if c := utf8.RuneCountInString(s); c > n {
		return invalidf("Param %s must be at most %d characters long, got %d.", param, n, c)
	}
	return nil
}

func firstInvalid(vs ...*Invalid) *Invalid {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

// Str reads an optional string field; an error when it is not a string.
func Str(m map[string]json.RawMessage, key string) (string, error) {
	raw, ok := m[key]
	if !ok || IsNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s is not a string: %w", key, err)
	}
	return s, nil
}

// IsNull reports whether raw is absent or JSON null.
func IsNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// IsObject reports whether raw is a JSON object.
func IsObject(raw json.RawMessage) bool {
	return bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{"))
}

// Digits keeps the digits of a phone number.
func Digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// IsBSUID says whether s is a business-scoped user id such as
// "US.13491208655302741918".
func IsBSUID(s string) bool {
	cc, rest, ok := strings.Cut(s, ".")
	if !ok || len(cc) != 2 || rest == "" {
		return false
	}
	for _, r := range cc {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// NormalisePeer is the form recipients are compared in: digits for a phone
// number, the id itself for a BSUID.
func NormalisePeer(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || IsBSUID(s) {
		return s
	}
	return Digits(s)
}
