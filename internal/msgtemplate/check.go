package msgtemplate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pytake/pytake/internal/apperr"
)

// Sent is a template message as PyTake sends it (outbound's canonical
// "template" object).
type Sent struct {
	Name     string `json:"name"`
	Language struct {
		Code string `json:"code"`
	} `json:"language"`
	Components []SentComponent `json:"components"`
}

// SentComponent is one component of a template message.
type SentComponent struct {
	Type       string          `json:"type"`
	SubType    string          `json:"sub_type"`
	Index      string          `json:"index"`
	Parameters []SentParameter `json:"parameters"`
}

// SentParameter is one parameter of a sent component.
type SentParameter struct {
	Type          string `json:"type"`
	ParameterName string `json:"parameter_name"`
}

// ParseSent reads outbound's canonical template object.
func ParseSent(content json.RawMessage) (Sent, error) {
	var s Sent
	if err := json.Unmarshal(content, &s); err != nil {
		return Sent{}, fmt.Errorf("msgtemplate: read template message: %w", err)
	}
	return s, nil
}

// The codes of a refused template send.
const (
	CodeNotFound    = "template_not_found"
	CodeNotApproved = "template_not_approved"
	CodeMismatch    = "template_parameter_mismatch"
)

// NotFound is the answer to a send of a name and language the
// organisation's templates do not have; languages lists the languages the
// name has (none: the name is unknown).
func NotFound(name, language string, languages []string) error {
	msg := fmt.Sprintf("the organization has no template %q", name)
	if len(languages) > 0 {
		msg = fmt.Sprintf("template %q has no %s translation (it has %s)", name, language, strings.Join(languages, ", "))
	}
	return apperr.New(apperr.Unprocessable, msg+"; POST /v1/templates/sync refreshes PyTake's copy of the templates").
		WithCode("template_not_found").WithDetails(apperr.Detail{Field: "template.name", Issue: msg})
}

// prefix is the field path of a send's template (POST /v1/messages).
const prefix = "template"

// Check compares a template message with the template it names: it must
// be APPROVED, and each component must get the parameters its variables
// need (a text header's variable, a media header's file, the body's
// variables, a URL button's suffix, a copy-code button's code), by number
// and type, named when the template's variables are named. The error is a
// 422 naming the component, with the count it expects.
func Check(d Definition, s Sent) error {
	if !Sendable(d.Status) {
		return apperr.New(apperr.Unprocessable, fmt.Sprintf("template %q (%s) is %s, not APPROVED: Meta only sends approved templates", d.Name, d.Language, d.Status)).
			WithCode("template_not_approved").With("status", d.Status).
			WithDetails(apperr.Detail{Field: prefix + ".name", Issue: "is " + d.Status})
	}
	var p problems
	given := map[string]int{} // component key → index in s.Components
	for i, c := range s.Components {
		key := strings.ToLower(c.Type)
		if key == "button" {
			key += "#" + c.Index
		}
		given[key] = i
	}
	want := expectations(d)
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		w := want[key]
		i, ok := given[key]
		if !ok {
			if w.required {
				p.add(prefix+".components", "%s of %q expects %s; the send has no %s component", w.label, d.Name, w.describe(), w.kind)
			}
			continue
		}
		w.check(&p, fmt.Sprintf("%s.components[%d]", prefix, i), s.Components[i], d.Named())
	}
	for i, c := range s.Components {
		key := strings.ToLower(c.Type)
		if key == "button" {
			key += "#" + c.Index
		}
		if _, ok := want[key]; !ok {
			at := fmt.Sprintf("%s.components[%d]", prefix, i)
			p.add(at+".parameters", "%s: template %q (%s) has no variables there (expected 0 parameters, not %d)",
				label(c), d.Name, d.Language, len(c.Parameters))
		}
	}
	if len(p) == 0 {
		return nil
	}
	return apperr.New(apperr.Unprocessable, p[0].Field+": "+p[0].Issue).WithCode("template_parameter_mismatch").WithDetails(p...)
}

func label(c SentComponent) string {
	if strings.EqualFold(c.Type, "button") {
		return "button " + c.Index
	}
	return strings.ToLower(c.Type)
}

// expectation is what one component of a send must carry.
type expectation struct {
	kind     string // header, body, button
	label    string // "the body", "button 0 (url)"
	count    int    // exactly this many parameters (min when optional)
	max      int
	types    []string // the parameter types allowed
	names    []string // named variables, when the template's are named
	subType  string   // a button's sub_type
	required bool
}

func (w expectation) describe() string {
	n := "parameters"
	if w.count == 1 {
		n = "parameter"
	}
	return fmt.Sprintf("%d %s (%s)", w.count, n, strings.Join(w.types, " or "))
}

func (w expectation) check(p *problems, at string, c SentComponent, named bool) {
	if w.subType != "" && !strings.EqualFold(c.SubType, w.subType) {
		p.add(at+".sub_type", "%s is a %s button", w.label, w.subType)
	}
	n := len(c.Parameters)
	if n < w.count || n > w.max {
		expected := strconv.Itoa(w.count)
		if w.max != w.count {
			expected = fmt.Sprintf("%d to %d", w.count, w.max)
		}
		p.add(at+".parameters", "%s expects %s parameters, not %d", w.label, expected, n)
		return
	}
	seen := map[string]bool{}
	for j, prm := range c.Parameters {
		pat := fmt.Sprintf("%s.parameters[%d]", at, j)
		if !contains(w.types, prm.Type) {
			p.add(pat+".type", "%s expects a %s parameter, not %s", w.label, strings.Join(w.types, " or "), prm.Type)
		}
		if named && len(w.names) > 0 && prm.Type == "text" {
			switch {
			case !contains(w.names, prm.ParameterName):
				p.add(pat+".parameter_name", "%s's variables are %s", w.label, strings.Join(w.names, ", "))
			case seen[prm.ParameterName]:
				p.add(pat+".parameter_name", "%s gives {{%s}} twice; its variables are %s, each once", w.label, prm.ParameterName, strings.Join(w.names, ", "))
			}
			seen[prm.ParameterName] = true
		}
	}
}

// expectations derives, per component key (header, body, button#<i>), what
// a send must give.
func expectations(d Definition) map[string]expectation {
	out := map[string]expectation{}
	if h, ok := d.component("HEADER"); ok {
		switch f := strings.ToUpper(h.Format); f {
		case "TEXT", "":
			if vars := Variables(h.Text); len(vars) > 0 {
				e := expectation{kind: "header", label: "the header", count: len(vars), max: len(vars), types: []string{"text"}, required: true}
				if d.Named() {
					e.names = vars
				}
				out["header"] = e
			}
		case "IMAGE", "VIDEO", "DOCUMENT":
			t := strings.ToLower(f)
			out["header"] = expectation{kind: "header", label: "the " + t + " header", count: 1, max: 1, types: []string{t}, required: true}
		case "GIF":
			out["header"] = expectation{kind: "header", label: "the gif header", count: 1, max: 1, types: []string{"video"}, required: true}
		case "LOCATION":
			out["header"] = expectation{kind: "header", label: "the location header", count: 1, max: 1, types: []string{"location"}, required: true}
		}
	}
	if b, ok := d.component("BODY"); ok {
		if vars := Variables(b.Text); len(vars) > 0 {
			e := expectation{kind: "body", label: "the body", count: len(vars), max: len(vars),
				types: []string{"text", "currency", "date_time"}, required: true}
			if d.Named() {
				e.names = vars
			}
			out["body"] = e
		}
	}
	if bs, ok := d.component("BUTTONS"); ok {
		for i, b := range bs.Buttons {
			key := "button#" + strconv.Itoa(i)
			lbl := fmt.Sprintf("button %d (%s)", i, strings.ToLower(b.Type))
			switch strings.ToUpper(b.Type) {
			case "URL":
				if len(Variables(b.URL)) > 0 {
					out[key] = expectation{kind: "button", label: lbl, count: 1, max: 1, types: []string{"text"}, subType: "url", required: true}
				}
			case "COPY_CODE":
				out[key] = expectation{kind: "button", label: lbl, count: 1, max: 1, types: []string{"coupon_code"}, subType: "copy_code", required: true}
			case "OTP":
				// An authentication template's code goes in a url
				// button's text parameter (copy code, one tap).
				out[key] = expectation{kind: "button", label: lbl, count: 1, max: 1, types: []string{"text"}, subType: "url"}
			case "QUICK_REPLY":
				out[key] = expectation{kind: "button", label: lbl, count: 0, max: 1, types: []string{"payload", "text"}, subType: "quick_reply"}
			}
		}
	}
	return out
}
