package outbound

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pytake/pytake/internal/jsoncheck"
)

type template struct {
	Name       string      `json:"name"`
	Language   language    `json:"language"`
	Components []component `json:"components,omitempty"`
}

type language struct {
	Code   string `json:"code"`
	Policy string `json:"policy,omitempty"`
}

type component struct {
	Type       string      `json:"type"`
	SubType    string      `json:"sub_type,omitempty"`
	Index      string      `json:"index,omitempty"`
	Parameters []parameter `json:"parameters"`
}

type parameter struct {
	Type          string    `json:"type"`
	ParameterName string    `json:"parameter_name,omitempty"`
	Text          string    `json:"text,omitempty"`
	Currency      *currency `json:"currency,omitempty"`
	DateTime      *dateTime `json:"date_time,omitempty"`
	Image         *media    `json:"image,omitempty"`
	Document      *media    `json:"document,omitempty"`
	Video         *media    `json:"video,omitempty"`
	Payload       string    `json:"payload,omitempty"`
	CouponCode    string    `json:"coupon_code,omitempty"`
}

type currency struct {
	FallbackValue string `json:"fallback_value"`
	Code          string `json:"code"`
	Amount1000    int64  `json:"amount_1000"`
}

type dateTime struct {
	FallbackValue string `json:"fallback_value"`
}

func templateMessage(o *jsoncheck.Obj) *template {
	c := o.C
	t := &template{}
	if name, ok := o.Str("name", true); ok {
		switch {
		case name == "":
			c.Fail(o.At("name"), "must not be empty")
		case len(name) > maxTemplateName:
			c.Fail(o.At("name"), "must be at most %d characters, not %d", maxTemplateName, len(name))
		case !templateName(name):
			c.Fail(o.At("name"), "must be the template's name: lowercase letters, digits and underscores")
		}
		t.Name = name
	}
	if l := o.Child("language", true); l != nil {
		if code, ok := l.Str("code", true); ok {
			if !languageCode(code) {
				c.Fail(l.At("code"), "must be a language code such as pt_BR, en_US or en")
			}
			t.Language.Code = code
		}
		if p, ok := l.Str("policy", false); ok {
			if p != "deterministic" {
				c.Fail(l.At("policy"), `must be "deterministic" when given`)
			}
			t.Language.Policy = p
		}
		l.Done()
	}
	items, ok := o.List("components", false)
	if !ok {
		return t
	}
	path := o.At("components")
	seen := map[string]string{}
	for i, raw := range items {
		p := jsoncheck.Index(path, i)
		co := c.Object(p, raw)
		if co == nil {
			continue
		}
		comp := templateComponent(co)
		co.Done()
		if comp == nil {
			continue
		}
		switch first, dup := seen[comp.Type+"#"+comp.Index]; {
		case comp.Type == "button" && comp.Index == "":
		case dup && comp.Type == "button":
			c.Fail(co.At("index"), "repeats the button index of %s", first)
		case dup:
			c.Fail(co.At("type"), "repeats %s: a template has one %s component", first, comp.Type)
		default:
			seen[comp.Type+"#"+comp.Index] = p
		}
		t.Components = append(t.Components, *comp)
	}
	return t
}

func templateName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// languageCode accepts ll, lll, ll_CC: the shapes of Meta's template languages.
func languageCode(s string) bool {
	lang, region, hasRegion := strings.Cut(s, "_")
	if len(lang) < 2 || len(lang) > 3 {
		return false
	}
	for i := 0; i < len(lang); i++ {
		if lang[i] < 'a' || lang[i] > 'z' {
			return false
		}
	}
	if !hasRegion {
		return true
	}
	if len(region) != 2 {
		return false
	}
	return region[0] >= 'A' && region[0] <= 'Z' && region[1] >= 'A' && region[1] <= 'Z'
}

// The parameter types each template component takes.
var componentParams = map[string]string{
	"header": "text, image, video, document",
	"body":   "text, currency, date_time",
	"footer": "text",
	"button": "payload, text, coupon_code",
}

func templateComponent(co *jsoncheck.Obj) *component {
	c := co.C
	typ, ok := co.Str("type", true)
	if !ok {
		co.Skip("sub_type", "index", "parameters")
		return nil
	}
	typ = strings.ToLower(typ)
	allowed, known := componentParams[typ]
	if !known {
		c.Fail(co.At("type"), "must be one of header, body, footer, button")
		co.Skip("sub_type", "index", "parameters")
		return nil
	}
	comp := &component{Type: typ}
	if typ == "button" {
		if st, ok := co.Str("sub_type", true); ok {
			st = strings.ToLower(st)
			if st == "" || !templateName(st) {
				c.Fail(co.At("sub_type"), "must be a button sub-type such as quick_reply, url or copy_code")
			}
			comp.SubType = st
		}
		comp.Index = buttonIndex(co)
	} else {
		co.Forbid("sub_type", "is only allowed on button components")
		co.Forbid("index", "is only allowed on button components")
	}
	items, ok := co.List("parameters", true)
	if !ok {
		return comp
	}
	path := co.At("parameters")
	if len(items) == 0 {
		c.Fail(path, "must have at least 1 parameter (leave the component out when the template has no variables)")
	}
	comp.Parameters = []parameter{}
	for i, raw := range items {
		p := jsoncheck.Index(path, i)
		po := c.Object(p, raw)
		if po == nil {
			continue
		}
		if pr := templateParameter(po, typ, allowed); pr != nil {
			comp.Parameters = append(comp.Parameters, *pr)
		}
		po.Done()
	}
	return comp
}

// buttonIndex reads a button component's index, 0 to 9, given as a number
// or a string (Meta's examples use "0"); it is sent as a string.
func buttonIndex(co *jsoncheck.Obj) string {
	raw, ok := co.Take("index")
	if !ok {
		co.C.Fail(co.At("index"), "is required on button components (0 to 9)")
		return ""
	}
	var s string
	switch jsoncheck.KindOf(raw) {
	case "a string":
		_ = json.Unmarshal(raw, &s)
	case "a number":
		s = strings.TrimSpace(string(raw))
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 9 || len(s) != 1 {
		co.C.Fail(co.At("index"), "must be a button position from 0 to 9")
		return ""
	}
	return s
}

func templateParameter(po *jsoncheck.Obj, component, allowed string) *parameter {
	c := po.C
	others := [...]string{"text", "currency", "date_time", "image", "document", "video", "payload", "coupon_code", "parameter_name"}
	typ, ok := po.Str("type", true)
	if !ok {
		po.Skip(others[:]...)
		return nil
	}
	if !inList(allowed, typ) {
		c.Fail(po.At("type"), "must be one of %s in a %s component", allowed, component)
		po.Skip(others[:]...)
		return nil
	}
	pr := &parameter{Type: typ}
	for _, k := range others[:8] {
		if k != typ {
			po.Forbid(k, fmt.Sprintf("is not allowed on a %s parameter", typ))
		}
	}
	if typ == "text" {
		if name, ok := po.Str("parameter_name", false); ok {
			if name == "" || len(name) > maxParameterName || !templateName(name) {
				c.Fail(po.At("parameter_name"), "must be the variable's name: lowercase letters, digits and underscores")
			}
			pr.ParameterName = name
		}
	} else {
		po.Forbid("parameter_name", "is only allowed on text parameters")
	}
	switch typ {
	case "text":
		limit := maxBodyParam
		switch component {
		case "header":
			limit = maxHeaderParam
		case "footer":
			limit = maxFooterParam
		case "button":
			limit = maxButtonParam
		}
		pr.Text = textParameter(po, limit)
	case "currency":
		pr.Currency = currencyParameter(po)
	case "date_time":
		if d := po.Child("date_time", true); d != nil {
			pr.DateTime = &dateTime{FallbackValue: d.Text("fallback_value", true, maxBodyParam)}
			d.Done()
		}
	case "image", "document", "video":
		if m := po.Child(typ, true); m != nil {
			md := mediaObject(m, typ, false)
			m.Done()
			switch typ {
			case "image":
				pr.Image = md
			case "document":
				pr.Document = md
			case "video":
				pr.Video = md
			}
		}
	case "payload":
		pr.Payload = po.Text("payload", true, maxButtonParam)
	case "coupon_code":
		pr.CouponCode = po.Text("coupon_code", true, maxCouponCode)
	}
	return pr
}

// textParameter reads a text parameter's value: a string, or a number
// written out exactly (order numbers arrive as JSON numbers).
func textParameter(po *jsoncheck.Obj, limit int) string {
	raw, ok := po.Take("text")
	if !ok {
		c := po.C
		c.Fail(po.At("text"), "is required")
		return ""
	}
	var s string
	switch k := jsoncheck.KindOf(raw); k {
	case "a string":
		if err := json.Unmarshal(raw, &s); err != nil {
			po.C.Fail(po.At("text"), "cannot be read: %v", err)
			return ""
		}
	case "a number":
		d, ok := jsoncheck.Decimal(json.Number(strings.TrimSpace(string(raw))))
		if !ok {
			po.C.Fail(po.At("text"), "is a number too large to write out; send it as a string")
			return ""
		}
		s = d
	default:
		po.C.Fail(po.At("text"), "must be a string or a number, not %s", k)
		return ""
	}
	po.C.Length(po.At("text"), s, true, limit)
	return s
}

func currencyParameter(po *jsoncheck.Obj) *currency {
	c := po.C
	co := po.Child("currency", true)
	if co == nil {
		return nil
	}
	cur := &currency{FallbackValue: co.Text("fallback_value", true, maxBodyParam)}
	if code, ok := co.Str("code", true); ok {
		if len(code) != 3 || strings.ToUpper(code) != code || !alnum(code) || strings.ContainsAny(code, "0123456789") {
			c.Fail(co.At("code"), "must be an ISO 4217 currency code such as BRL or USD")
		}
		cur.Code = code
	}
	if n, ok := co.Number("amount_1000", true); ok {
		d, _ := jsoncheck.Decimal(n)
		v, err := strconv.ParseInt(d, 10, 64)
		if err != nil {
			c.Fail(co.At("amount_1000"), "must be an integer: the amount times 1000 (R$ 10,50 is 10500)")
		}
		cur.Amount1000 = v
	}
	co.Done()
	return cur
}

func inList(list, s string) bool {
	for _, v := range strings.Split(list, ", ") {
		if v == s {
			return true
		}
	}
	return false
}

// Location and reaction.

// ValidTemplateName reports whether s is a template name as Meta accepts
// one: 1 to 512 lowercase letters, digits and underscores.
func ValidTemplateName(s string) bool {
	return s != "" && len(s) <= maxTemplateName && templateName(s)
}

// ValidLanguageCode reports whether s has the shape of a template
// language (ll, lll or ll_CC).
func ValidLanguageCode(s string) bool { return languageCode(s) }
