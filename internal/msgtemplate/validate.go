package msgtemplate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/outbound"
)

// problems collects a request's field issues.
type problems []apperr.Detail

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, apperr.Detail{Field: field, Issue: fmt.Sprintf(format, args...)})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	msg := p[0].Field + ": " + p[0].Issue
	if len(p) > 1 {
		msg = fmt.Sprintf("%s (and %d more problems)", msg, len(p)-1)
	}
	return apperr.New(apperr.Unprocessable, msg).WithDetails(p...)
}

// createMembers are the members POST /v1/templates takes (Meta's).
var createMembers = map[string]bool{
	"name": true, "language": true, "category": true, "parameter_format": true, "components": true,
	"allow_category_change": true,
}

// ParseCreate reads a template to create (Meta's request shape: name,
// language, category, optional parameter_format, components) and checks it
// against Meta's rules: the name's pattern and length, a known language
// code and category, one BODY of at most 1,024 characters, at most one
// HEADER (text of at most 60 characters with at most one variable, or a
// media format with a sample handle), FOOTER (60, no variables) and BUTTONS
// (at most 10: 10 quick replies, 2 URL buttons with at most one trailing
// variable, 1 phone number, 1 copy code; labels of at most 25 characters);
// variables {{1}}..{{n}} numbered without gaps (or named, with
// parameter_format named), not at the start or end of the body, each with a
// sample. It returns the definition and the body to send to Meta (the
// caller's JSON, with category and parameter_format normalised).
func ParseCreate(body []byte) (Definition, []byte, error) {
	var members map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&members); err != nil || members == nil {
		return Definition{}, nil, apperr.New(apperr.Invalid, "the body must be a JSON object")
	}
	var p problems
	for k := range members {
		if !createMembers[k] {
			p.add(k, "is not a member of a template (name, language, category, parameter_format, components)")
		}
	}
	var d Definition
	str := func(k string, required bool) string {
		raw, ok := members[k]
		if !ok || string(raw) == "null" {
			if required {
				p.add(k, "is required")
			}
			return ""
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			p.add(k, "must be a string")
		}
		return s
	}
	d.Name = str("name", true)
	if _, ok := members["name"]; ok && !outbound.ValidTemplateName(d.Name) {
		p.add("name", "must be 1 to %d lowercase letters, digits and underscores", MaxName)
	}
	d.Language = str("language", true)
	if _, ok := members["language"]; ok && !outbound.ValidLanguageCode(d.Language) {
		p.add("language", "must be a language code such as pt_BR, en_US or en")
	}
	d.Category = strings.ToUpper(str("category", true))
	if _, ok := members["category"]; ok && !contains(categories, d.Category) {
		p.add("category", "must be one of %s", strings.Join(categories, ", "))
	}
	d.ParameterFormat = strings.ToLower(str("parameter_format", false))
	if d.ParameterFormat != "" && d.ParameterFormat != "named" && d.ParameterFormat != "positional" {
		p.add("parameter_format", `must be "named" or "positional"`)
	}
	if raw, ok := members["allow_category_change"]; ok {
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			p.add("allow_category_change", "must be true or false")
		}
	}
	raw, ok := members["components"]
	if !ok || string(raw) == "null" {
		p.add("components", "is required (at least a BODY component)")
	} else if err := json.Unmarshal(raw, &d.Components); err != nil {
		p.add("components", "must be a list of components (type HEADER, BODY, FOOTER or BUTTONS): %s", jsonIssue(err))
	} else {
		checkComponents(&p, d)
	}
	if err := p.err(); err != nil {
		return Definition{}, nil, err
	}
	members["category"], _ = json.Marshal(d.Category)
	if d.ParameterFormat != "" {
		members["parameter_format"], _ = json.Marshal(d.ParameterFormat)
	}
	out, err := json.Marshal(members)
	if err != nil {
		return Definition{}, nil, fmt.Errorf("msgtemplate: encode create request: %w", err)
	}
	return d, out, nil
}

func jsonIssue(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s must not be a JSON %s", te.Field, te.Value)
	}
	return err.Error()
}

var headerFormats = []string{"TEXT", "IMAGE", "VIDEO", "GIF", "DOCUMENT", "LOCATION"}

func checkComponents(p *problems, d Definition) {
	seen := map[string]int{}
	named := d.Named()
	for i, c := range d.Components {
		at := fmt.Sprintf("components[%d]", i)
		typ := strings.ToUpper(c.Type)
		if first, dup := seen[typ]; dup {
			p.add(at+".type", "repeats components[%d]: a template has one %s", first, typ)
			continue
		}
		seen[typ] = i
		switch typ {
		case "HEADER":
			checkHeader(p, at, c, named)
		case "BODY":
			checkBody(p, at, c, named)
		case "FOOTER":
			switch {
			case c.Text == "":
				p.add(at+".text", "is required")
			case runes(c.Text) > MaxFooter:
				p.add(at+".text", "must be at most %d characters, not %d", MaxFooter, runes(c.Text))
			case len(Variables(c.Text)) > 0:
				p.add(at+".text", "must not have variables (a footer is fixed text)")
			}
		case "BUTTONS":
			checkButtons(p, at, c)
		default:
			p.add(at+".type", "must be one of HEADER, BODY, FOOTER, BUTTONS")
		}
	}
	if _, ok := seen["BODY"]; !ok && len(*p) == 0 {
		p.add("components", "must have a BODY component")
	}
}

func checkHeader(p *problems, at string, c Component, named bool) {
	format := strings.ToUpper(c.Format)
	if !contains(headerFormats, format) {
		p.add(at+".format", "must be one of %s", strings.Join(headerFormats, ", "))
		return
	}
	if format != "TEXT" {
		if c.Text != "" {
			p.add(at+".text", "is only allowed on a TEXT header")
		}
		if format != "LOCATION" && (c.Example == nil || len(c.Example.HeaderHandle) == 0) {
			p.add(at+".example.header_handle", "is required: a sample of the %s header (a handle from Meta's resumable upload)", format)
		}
		return
	}
	switch {
	case c.Text == "":
		p.add(at+".text", "is required on a TEXT header")
		return
	case runes(c.Text) > MaxHeaderText:
		p.add(at+".text", "must be at most %d characters, not %d", MaxHeaderText, runes(c.Text))
	}
	vars := Variables(c.Text)
	if issue := variableIssue(vars, named); issue != "" {
		p.add(at+".text", "%s", issue)
		return
	}
	if len(vars) > MaxHeaderParams {
		p.add(at+".text", "must have at most %d variable, not %d", MaxHeaderParams, len(vars))
		return
	}
	if len(vars) == 0 {
		return
	}
	if named {
		checkNamedExamples(p, at+".example.header_text_named_params", vars, exampleNamed(c.Example, true))
		return
	}
	if c.Example == nil || len(c.Example.HeaderText) != len(vars) || c.Example.HeaderText[0] == "" {
		p.add(at+".example.header_text", "must give a sample for the header's variable: [\"...\"]")
	}
}

func exampleNamed(e *Example, header bool) []NamedExample {
	if e == nil {
		return nil
	}
	if header {
		return e.HeaderTextNamed
	}
	return e.BodyTextNamed
}

func checkNamedExamples(p *problems, at string, vars []string, given []NamedExample) {
	have := map[string]bool{}
	for _, g := range given {
		if g.Example != "" {
			have[g.ParamName] = true
		}
	}
	for _, v := range vars {
		if !have[v] {
			p.add(at, "must give a sample for the variable {{%s}}: {\"param_name\":%q,\"example\":\"...\"}", v, v)
		}
	}
	for _, g := range given {
		if !contains(vars, g.ParamName) {
			p.add(at, "gives a sample for {{%s}}, which the text does not use", g.ParamName)
		}
	}
}

func checkBody(p *problems, at string, c Component, named bool) {
	text := c.Text
	switch {
	case strings.TrimSpace(text) == "":
		p.add(at+".text", "is required")
		return
	case runes(text) > MaxBody:
		p.add(at+".text", "must be at most %d characters, not %d", MaxBody, runes(text))
	}
	vars := Variables(text)
	if issue := variableIssue(vars, named); issue != "" {
		p.add(at+".text", "%s", issue)
		return
	}
	if len(vars) == 0 {
		return
	}
	trimmed := strings.TrimSpace(text)
	if loc := placeholder().FindStringIndex(trimmed); loc != nil && loc[0] == 0 {
		p.add(at+".text", "must not start with a variable (Meta refuses variables at the start or end of the body)")
	}
	if locs := placeholder().FindAllStringIndex(trimmed, -1); len(locs) > 0 && locs[len(locs)-1][1] == len(trimmed) {
		p.add(at+".text", "must not end with a variable (Meta refuses variables at the start or end of the body)")
	}
	if named {
		checkNamedExamples(p, at+".example.body_text_named_params", vars, exampleNamed(c.Example, false))
		return
	}
	if c.Example == nil || len(c.Example.BodyText) != 1 {
		p.add(at+".example.body_text", "must give one sample per variable, as [[%s]] (%d values)", sampleList(len(vars)), len(vars))
		return
	}
	got := c.Example.BodyText[0]
	if len(got) != len(vars) {
		p.add(at+".example.body_text", "must give %d samples, one per variable {{1}} to {{%d}}, not %d", len(vars), len(vars), len(got))
		return
	}
	for i, v := range got {
		if strings.TrimSpace(v) == "" {
			p.add(fmt.Sprintf("%s.example.body_text[0][%d]", at, i), "must not be empty")
		}
	}
}

func sampleList(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `"..."`
	}
	return strings.Join(parts, ",")
}

func checkButtons(p *problems, at string, c Component) {
	n := len(c.Buttons)
	switch {
	case n == 0:
		p.add(at+".buttons", "must have at least 1 button")
		return
	case n > MaxButtons:
		p.add(at+".buttons", "must have at most %d buttons, not %d", MaxButtons, n)
		return
	}
	count := map[string]int{}
	limits := map[string]int{"QUICK_REPLY": MaxQuickReplies, "URL": MaxURLButtons, "PHONE_NUMBER": MaxPhoneButtons, "COPY_CODE": MaxCopyCode}
	for i, b := range c.Buttons {
		bat := fmt.Sprintf("%s.buttons[%d]", at, i)
		typ := strings.ToUpper(b.Type)
		count[typ]++
		limit, known := limits[typ]
		switch {
		case typ == "":
			p.add(bat+".type", "is required")
			continue
		case known && count[typ] > limit:
			p.add(bat+".type", "is %s button number %d; a template has at most %d", typ, count[typ], limit)
		}
		if typ != "COPY_CODE" {
			switch {
			case strings.TrimSpace(b.Text) == "":
				p.add(bat+".text", "is required (the button's label)")
			case runes(b.Text) > MaxButtonText:
				p.add(bat+".text", "must be at most %d characters, not %d", MaxButtonText, runes(b.Text))
			case len(Variables(b.Text)) > 0:
				p.add(bat+".text", "must not have variables")
			}
		}
		switch typ {
		case "URL":
			checkURLButton(p, bat, b)
		case "PHONE_NUMBER":
			if b.PhoneNumber == "" {
				p.add(bat+".phone_number", "is required")
			}
		case "COPY_CODE":
			var s string
			if json.Unmarshal(b.Example, &s) != nil || s == "" {
				p.add(bat+".example", "is required: a sample code (a string of at most 15 characters)")
			} else if runes(s) > 15 {
				p.add(bat+".example", "must be at most 15 characters")
			}
		}
	}
}

func checkURLButton(p *problems, at string, b Button) {
	switch {
	case b.URL == "":
		p.add(at+".url", "is required")
		return
	case runes(b.URL) > MaxURL:
		p.add(at+".url", "must be at most %d characters", MaxURL)
		return
	case !strings.HasPrefix(b.URL, "https://") && !strings.HasPrefix(b.URL, "http://"):
		p.add(at+".url", "must be an http or https URL")
		return
	}
	vars := Variables(b.URL)
	if len(vars) == 0 {
		return
	}
	if len(vars) > 1 || vars[0] != "1" || !strings.HasSuffix(b.URL, "}}") || strings.Count(b.URL, "{{") > 1 {
		p.add(at+".url", "may have one variable, {{1}}, at its end (https://example.com/orders/{{1}})")
		return
	}
	var ex []string
	if json.Unmarshal(b.Example, &ex) != nil || len(ex) != 1 || ex[0] == "" {
		p.add(at+".example", "must give a sample of the full URL: [\"https://example.com/orders/123\"]")
	}
}
