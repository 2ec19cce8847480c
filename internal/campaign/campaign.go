// Package campaign is PyTake's template broadcasts: what a campaign is
// (ParseCreate checks POST /v1/campaigns), how each recipient's template is
// filled from its contact (placeholders: ParseText, Render, Build), and the
// runner that expands the audience in bounded pages, at each number's
// pace, and accepts one message per recipient, once (runner.go).
package campaign

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/jsoncheck"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/store"
)

// Limits of a campaign.
const (
	MaxName       = 200
	MaxContactIDs = 1000 // audience.contact_ids
	MaxTags       = 10   // audience.tags
	// MinLead and MaxLead bound send_at: at most 30 days ahead (a time in
	// the past, or now, starts at once).
	MaxLead = 30 * 24 * time.Hour
)

// Skip reasons of a recipient that is not sent.
const (
	SkipOptedOut       = store.RecipientOptedOut // the contact opted out of marketing messages
	SkipMissingValue   = "missing_value"         // a placeholder had no value and no default
	SkipContactDeleted = "contact_deleted"       // the contact was deleted before its turn
	SkipNoNumber       = "no_whatsapp_id"        // the contact has no WhatsApp number or user id
	SkipRefused        = "refused"               // the message was refused (its template's rules, the store)
	SkipInvalidParams  = "invalid_parameter"     // a filled parameter broke Meta's rules
	// SkipUnconfirmed: claimed longer ago than the idempotency key lasts
	// without its outcome recorded (its message may have been accepted):
	// not accepted again, which could send it twice.
	SkipUnconfirmed = "unconfirmed"
)

// Spec is a campaign as created.
type Spec struct {
	Name       string
	Template   json.RawMessage // as given: placeholders and defaults kept
	Tags       []string
	ContactIDs []string
	SendAt     *time.Time
}

// ParseCreate reads the body of POST /v1/campaigns (shape only; the
// template's existence and the audience are checked by the API):
//
//	{"name": "Black Friday", "template": {"name": "promo", "language": {"code": "pt_BR"},
//	  "components": [{"type": "body", "parameters": [{"type": "text", "text": "{{contact.first_name}}", "default": "cliente"}]}]},
//	 "audience": {"tags": ["vip"], "contact_ids": ["ct_..."]}, "send_at": "2026-12-01T12:00:00Z"}
func ParseCreate(body []byte, now time.Time) (Spec, error) {
	raw, err := jsoncheck.DecodeBody(body)
	if err != nil {
		return Spec{}, err
	}
	c := jsoncheck.New("campaign")
	o := c.Object("", raw)
	if o == nil {
		return Spec{}, c.Err()
	}
	var s Spec
	s.Name = o.Text("name", true, MaxName)
	c.Plain(o.At("name"), s.Name)
	if t, ok := o.Take("template"); ok {
		s.Template = t
		checkTemplate(c, "template", t)
	} else {
		c.Fail("template", "is required")
	}
	if a := o.Child("audience", true); a != nil {
		if items, ok := a.List("tags", false); ok {
			s.Tags = stringList(c, a.At("tags"), items, MaxTags, 50)
		}
		if items, ok := a.List("contact_ids", false); ok {
			s.ContactIDs = stringList(c, a.At("contact_ids"), items, MaxContactIDs, 64)
		}
		if len(s.Tags) == 0 && len(s.ContactIDs) == 0 {
			c.Fail("audience", "must name tags (contacts with all of them) and/or contact_ids")
		}
		a.Done()
	}
	if v, ok := o.Str("send_at", false); ok {
		t, err := time.Parse(time.RFC3339, v)
		switch {
		case err != nil:
			c.Fail("send_at", "must be an RFC 3339 time such as 2026-12-01T12:00:00Z")
		case t.Sub(now) > MaxLead:
			c.Fail("send_at", "must be at most 30 days ahead")
		case t.After(now):
			s.SendAt = &t
		}
	}
	o.Done()
	if err := c.Err(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

func stringList(c *jsoncheck.Checker, path string, items []json.RawMessage, max, maxLen int) []string {
	if len(items) > max {
		c.Fail(path, "has %d items; at most %d are allowed", len(items), max)
		return nil
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(items))
	for i, raw := range items {
		var s string
		if jsoncheck.KindOf(raw) != "a string" || json.Unmarshal(raw, &s) != nil {
			c.Fail(jsoncheck.Index(path, i), "must be a string")
			continue
		}
		s = strings.TrimSpace(s)
		if c.Length(jsoncheck.Index(path, i), s, true, maxLen) && c.Plain(jsoncheck.Index(path, i), s) && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// checkTemplate checks the placeholders and defaults of a template's
// parameters, and that a sample filling is a template message the sending
// rules accept (outbound.Template).
func checkTemplate(c *jsoncheck.Checker, path string, raw json.RawMessage) {
	tpl, err := decodeTemplate(raw)
	if err != nil {
		c.Fail(path, "must be a template object: {\"name\", \"language\": {\"code\"}, \"components\"}")
		return
	}
	err = walkParams(tpl, func(p string, param map[string]any) error {
		text, isText := param["text"].(string)
		if d, has := param["default"]; has {
			if _, ok := d.(string); !ok || !isText {
				return fmt.Errorf("%s.default: must be a string, on a text parameter", p)
			}
		}
		if !isText {
			return nil
		}
		if _, err := ParseText(text); err != nil {
			return fmt.Errorf("%s.text: %w", p, err)
		}
		return nil
	})
	if err != nil {
		field, issue, _ := strings.Cut(err.Error(), ": ")
		c.Fail(jsoncheck.Join(path, field), "%s", issue)
		return
	}
	sample := store.Contact{ID: "ct_sample", WhatsAppID: "5511999999999", Name: "Sample Name", Attributes: map[string]any{}}
	if _, _, err := build(tpl, sample, true); err != nil {
		c.Fail(path, "%s", err.Error())
	}
}

func decodeTemplate(raw json.RawMessage) (map[string]any, error) {
	var tpl map[string]any
	if err := json.Unmarshal(raw, &tpl); err != nil || tpl == nil {
		return nil, fmt.Errorf("campaign: template is not an object")
	}
	return tpl, nil
}

// walkParams calls f with every parameter object of tpl's components and
// its path (components[0].parameters[1]).
func walkParams(tpl map[string]any, f func(path string, p map[string]any) error) error {
	comps, _ := tpl["components"].([]any)
	for i, ci := range comps {
		comp, _ := ci.(map[string]any)
		params, _ := comp["parameters"].([]any)
		for j, pi := range params {
			p, ok := pi.(map[string]any)
			if !ok {
				continue
			}
			if err := f(fmt.Sprintf("components[%d].parameters[%d]", i, j), p); err != nil {
				return err
			}
		}
	}
	return nil
}

// Build is the template message of a campaign for contact c: every text
// parameter filled (Render; its default, when given, for a placeholder
// without a value), defaults removed. skip names why c gets nothing (a
// placeholder without value or default: SkipMissingValue with the
// placeholder; filled parameters Meta's rules refuse: SkipInvalidParams).
func Build(template json.RawMessage, c store.Contact) (req outbound.Request, skip, detail string) {
	tpl, err := decodeTemplate(template)
	if err != nil {
		return outbound.Request{}, SkipInvalidParams, err.Error()
	}
	req, missing, err := build(tpl, c, false)
	switch {
	case missing != "":
		return outbound.Request{}, SkipMissingValue, missing
	case err != nil:
		return outbound.Request{}, SkipInvalidParams, err.Error()
	}
	return req, "", ""
}

// build fills tpl (a decoded copy: it is changed) for c; sample fills every
// placeholder with its default or a sample value (to check the shape at
// creation).
func build(tpl map[string]any, c store.Contact, sample bool) (outbound.Request, string, error) {
	missing := ""
	_ = walkParams(tpl, func(_ string, p map[string]any) error {
		text, ok := p["text"].(string)
		var def *string
		if d, ok := p["default"].(string); ok {
			def = &d
		}
		delete(p, "default")
		if !ok {
			return nil
		}
		segs, err := ParseText(text)
		if err != nil {
			return err
		}
		if sample {
			// Its default when given (what a recipient without the
			// value is sent, so checked too), else a sample value.
			if def == nil {
				x := "sample"
				def = &x
			}
			c = store.Contact{}
		}
		out, miss := Render(segs, c, def)
		if miss != "" && missing == "" {
			missing = miss
		}
		p["text"] = out
		return nil
	})
	if missing != "" {
		return outbound.Request{}, missing, nil
	}
	raw, err := json.Marshal(tpl)
	if err != nil {
		return outbound.Request{}, "", fmt.Errorf("campaign: encode template: %w", err)
	}
	to := c.ID
	if sample || to == "" {
		to = "+5511999999999"
	}
	req, err := outbound.Template(to, raw)
	if err != nil {
		return outbound.Request{}, "", err
	}
	return req, "", nil
}

// Sample is the campaign's template filled with sample values for every
// placeholder: what the organisation's template copy is checked against
// when the campaign is created.
func Sample(template json.RawMessage) (outbound.Request, error) {
	tpl, err := decodeTemplate(template)
	if err != nil {
		return outbound.Request{}, err
	}
	req, _, err := build(tpl, store.Contact{}, true)
	return req, err
}
