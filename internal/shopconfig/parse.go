package shopconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/jsoncheck"
	"github.com/pytake/pytake/internal/lazyre"
	"github.com/pytake/pytake/internal/shop"
)

var (
	templateName = lazyre.New(`^[a-z0-9_]+$`)
	languageCode = lazyre.New(`^[a-z]{2,3}(_[A-Z]{2})?$`)
	statusSlug   = lazyre.New(`^[a-z0-9][a-z0-9_-]{0,19}$`)
)

// Parse reads and validates a PUT body for platform. It returns the
// settings (defaults filled in) and the webhook secret given, if any.
// Every problem is reported, each naming its JSON path (unknown members and
// members of the wrong type among them); JSON null counts as absent.
func Parse(platform string, body []byte) (Settings, string, error) {
	raw, err := object(body)
	if err != nil {
		return Settings{}, "", err
	}
	c := jsoncheck.New("settings")
	o := c.Object("", raw)
	if o == nil {
		return Settings{}, "", c.Err()
	}
	pi, ok := platformInputs[platform]
	if !ok {
		return Settings{}, "", apperr.New(apperr.NotFound, "unknown platform "+platform)
	}
	other := platformInputs[pi.other]
	o.Forbid(other.source, fmt.Sprintf("is a %s setting; %s uses %s", other.name, pi.name, pi.source))
	o.Forbid(other.triggers, fmt.Sprintf("is a %s setting; %s uses %s", other.name, pi.name, pi.triggers))
	st := Settings{Platform: platform, Config: Config{Triggers: map[string]Trigger{}}}
	if s, ok := str(o, pi.source); ok {
		switch d, k, valid := pi.normalise(s); {
		case strings.TrimSpace(s) == "":
			c.Fail(pi.source, "%s", pi.required)
		case !valid:
			c.Fail(pi.source, "%s", pi.invalid)
		default:
			st.Source, st.SourceKey = d, k
		}
	}

	secret, given := o.Str("webhook_secret", false)
	if given {
		secret = strings.TrimSpace(secret)
		if n := len(secret); n < minSecret || n > maxSecret {
			c.Fail("webhook_secret", "must be %d to %d characters", minSecret, maxSecret)
		}
	}

	// Triggers: the given ones, then defaults for the keys left out.
	if given := o.Child(pi.triggers, false); given != nil {
		keys := given.Keys()
		sort.Strings(keys)
		for _, raw := range keys {
			field := given.At(raw)
			key := raw
			if platform == Shopify {
				if !contains(ShopifyTopics, key) {
					c.Fail(field, "is not a handled topic; use one of %s", strings.Join(ShopifyTopics, ", "))
					continue
				}
			} else {
				key = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(raw)), "wc-")
				if !statusSlug().MatchString(key) {
					c.Fail(field, "is not an order status (a WooCommerce status slug such as processing, completed, on-hold)")
					continue
				}
				if _, dup := st.Triggers[key]; dup {
					c.Fail(field, "repeats the status %q", key)
					continue
				}
			}
			var to *jsoncheck.Obj // nil: "topic": null, the default
			if v, ok := given.Take(raw); ok {
				if to = c.Object(field, v); to == nil {
					continue
				}
			}
			st.Triggers[key] = parseTrigger(to, platform, key)
		}
	}
	for _, k := range defaultKeys(platform) {
		if _, ok := st.Triggers[k]; !ok {
			st.Triggers[k], _ = defaultTrigger(platform, k)
		}
	}

	st.Contact = ContactOptions{Tags: append([]string(nil), DefaultTags...), Attributes: AttributeOptions{LastPurchase: true, TotalSpent: true}}
	if co := o.Child("contact", false); co != nil {
		if items, ok := co.List("tags", false); ok {
			st.Contact.Tags = cleanTags(c, co.At("tags"), items)
		}
		if a := co.Child("attributes", false); a != nil {
			if v := a.Boolean("last_purchase"); v != nil {
				st.Contact.Attributes.LastPurchase = *v
			}
			if v := a.Boolean("total_spent"); v != nil {
				st.Contact.Attributes.TotalSpent = *v
			}
			a.Done()
		}
		co.Done()
	}
	o.Done()
	if !c.OK() {
		return Settings{}, "", c.ErrWith("the " + pi.name + " settings are invalid")
	}
	return st, secret, nil
}

// platformInput is what tells the platforms' bodies apart: the member
// naming the shop and how it is read, and the member holding the triggers.
type platformInput struct {
	name, other       string // "Shopify"; the other platform
	source, triggers  string // "shop_domain", "topics"
	required, invalid string // the source's problems
	normalise         func(string) (display, key string, ok bool)
}

var platformInputs = map[string]platformInput{
	Shopify: {name: "Shopify", other: WooCommerce, source: "shop_domain", triggers: "topics",
		required: "is required: the shop's myshopify.com domain, e.g. my-shop.myshopify.com",
		invalid:  "must be the shop's myshopify.com domain, e.g. my-shop.myshopify.com (Shopify sends it in X-Shopify-Shop-Domain)",
		normalise: func(s string) (string, string, bool) {
			d, ok := ShopDomain(s)
			return d, d, ok
		}},
	WooCommerce: {name: "WooCommerce", other: Shopify, source: "site_url", triggers: "statuses",
		required:  "is required: the store's address, e.g. https://shop.example.com",
		invalid:   "must be an http or https URL of the store (scheme, host, optional path; at most 255 characters)",
		normalise: SiteURL},
}

// object reads the body as one JSON value with the 400s every other
// httpapi.DecodeStrict endpoint answers (empty, null, not JSON, data after
// it), and a value that is not an object as the 422 naming "body".
func object(body []byte) (json.RawMessage, error) {
	var raw json.RawMessage
	if err := httpapi.DecodeStrict(body, &raw); err != nil {
		return nil, err
	}
	if jsoncheck.KindOf(raw) != "an object" {
		return nil, apperr.Field("body", "must be an object")
	}
	return raw, nil
}

// str reads an optional string member; absent or null reads as "". ok is
// false when the member is not a string (reported), so that the caller adds
// no second problem for it.
func str(o *jsoncheck.Obj, key string) (string, bool) {
	s, present := o.Str(key, false)
	return s, present || !o.Has(key)
}

// parseTrigger reads a trigger's object (nil: given as null, the default).
func parseTrigger(o *jsoncheck.Obj, platform, key string) Trigger {
	def, hasDef := defaultTrigger(platform, key)
	if o == nil {
		if hasDef {
			return def
		}
		return Trigger{}
	}
	t := Trigger{Enabled: true}
	if v := o.Boolean("enabled"); v != nil {
		t.Enabled = *v
	}
	switch {
	case o.Has("message"):
		if m := o.Child("message", false); m != nil {
			t.Message = parseMessage(m)
			m.Done()
		}
	case hasDef:
		t.Message = def.Message
	case t.Enabled:
		o.C.Fail(o.At("message"), "is required when the trigger is enabled")
	}
	o.Skip("message") // "message": null
	o.Done()
	return t
}

func parseMessage(o *jsoncheck.Obj) *Message {
	c := o.C
	typ, typeOK := str(o, "type")
	hasTemplate, hasText := o.Has("template"), o.Has("text")
	o.Skip("template", "text") // null, or not read for the type
	if typ == "" {
		switch {
		case hasTemplate && !hasText:
			typ = "template"
		case hasText && !hasTemplate:
			typ = "text"
		}
	}
	m := &Message{Type: typ}
	switch typ {
	case "template":
		o.Forbid("text", "is only allowed on text messages")
		if !hasTemplate {
			c.Fail(o.At("template"), "is required for a template message")
			return m
		}
		to := o.Child("template", false)
		if to == nil {
			return m
		}
		m.Template = parseTemplate(to)
		to.Done()
	case "text":
		o.Forbid("template", "is only allowed on template messages")
		if !hasText {
			c.Fail(o.At("text"), "is required for a text message")
			return m
		}
		s, ok := o.Str("text", false)
		if !ok {
			return m
		}
		checkText(c, o.At("text"), s, maxText)
		m.Text = s
	case "":
		if typeOK {
			c.Fail(o.At("type"), `is required: "template" or "text"`)
		}
	default:
		c.Fail(o.At("type"), `must be "template" or "text"`)
	}
	return m
}

func parseTemplate(o *jsoncheck.Obj) *Template {
	c := o.C
	t := &Template{Parameters: []string{}}
	if name, ok := str(o, "name"); ok {
		t.Name = strings.TrimSpace(name)
		switch {
		case t.Name == "":
			c.Fail(o.At("name"), "is required: the approved template's name")
		case len(t.Name) > maxTemplate || !templateName().MatchString(t.Name):
			c.Fail(o.At("name"), "must be the template's name: lowercase letters, digits and underscores (at most %d)", maxTemplate)
		}
	}
	codeField := jsoncheck.Join(o.At("language"), "code")
	switch lo := o.Child("language", false); {
	case lo == nil && o.Has("language"): // not an object (reported)
	case lo == nil:
		c.Fail(codeField, "is required, e.g. pt_BR")
	default:
		if code, ok := str(lo, "code"); ok {
			t.Language.Code = code
			switch {
			case code == "":
				c.Fail(codeField, "is required, e.g. pt_BR")
			case !languageCode().MatchString(code):
				c.Fail(codeField, "must be a language code such as pt_BR, en_US or en")
			}
		}
		lo.Done()
	}
	items, _ := o.List("parameters", false)
	if len(items) > maxParameters {
		c.Fail(o.At("parameters"), "at most %d parameters", maxParameters)
	}
	for i, raw := range items {
		pf := jsoncheck.Index(o.At("parameters"), i)
		if s, ok := element(c, pf, raw); ok {
			checkText(c, pf, s, maxParameter)
			t.Parameters = append(t.Parameters, s)
		}
	}
	return t
}

// element reads an array element that must be a string; null reads as "".
func element(c *jsoncheck.Checker, path string, raw json.RawMessage) (string, bool) {
	if jsoncheck.IsNull(raw) {
		return "", true
	}
	var s string
	if k := jsoncheck.KindOf(raw); k != "a string" || json.Unmarshal(raw, &s) != nil {
		c.Fail(path, "must be a string, not %s", k)
		return "", false
	}
	return s, true
}

// checkText validates a text with {{placeholders}}.
func checkText(c *jsoncheck.Checker, field, s string, limit int) {
	switch {
	case strings.TrimSpace(s) == "":
		c.Fail(field, "must not be empty")
	case utf8.RuneCountInString(s) > limit:
		c.Fail(field, "must be at most %d characters", limit)
	default:
		if err := shop.ValidateTemplate(s); err != nil {
			var u *shop.UnknownPlaceholdersError
			if errors.As(err, &u) {
				names := make([]string, len(u.Names))
				for i, n := range u.Names {
					names[i] = "{{" + n + "}}"
				}
				c.Fail(field, "unknown placeholder %s; known: %s", strings.Join(names, ", "), strings.Join(u.Known, ", "))
				return
			}
			c.Fail(field, "%s", strings.TrimPrefix(err.Error(), shop.ErrTemplate.Error()+": "))
		}
	}
}

func cleanTags(c *jsoncheck.Checker, path string, items []json.RawMessage) []string {
	out := []string{}
	for i, raw := range items {
		f := jsoncheck.Index(path, i)
		t, ok := element(c, f, raw)
		if !ok {
			continue
		}
		t = strings.TrimSpace(t)
		switch {
		case t == "":
			c.Fail(f, "must not be empty")
		case utf8.RuneCountInString(t) > maxTagLen:
			c.Fail(f, "at most %d characters", maxTagLen)
		case !c.Plain(f, t):
		case !contains(out, t):
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		c.Fail(path, "at most %d tags", maxTags)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
