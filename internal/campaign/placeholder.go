package campaign

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pytake/pytake/internal/textcut"

	"github.com/pytake/pytake/internal/store"
)

// Placeholders a campaign's template parameter texts may use, filled per
// recipient from the contact.
const (
	PhName       = "contact.name"        // the contact's name (set, else its WhatsApp profile name)
	PhFirstName  = "contact.first_name"  // the name's first word
	PhWhatsAppID = "contact.whatsapp_id" // +E.164
	PhAttrPrefix = "attributes."         // attributes.<key>: a string, number or boolean attribute
)

// maxAttrKey bounds an attribute key in a placeholder.
const maxAttrKey = 64

// validAttrKey reports whether k is 1 to maxAttrKey ASCII letters, digits,
// _ or - (a loop, not a regular expression compiled at every cold start).
func validAttrKey(k string) bool {
	if k == "" || len(k) > maxAttrKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Segment is a run of literal text or one placeholder.
type Segment struct {
	Literal string
	Path    string // the placeholder ("" for literal text)
}

// ParseText splits a parameter text into literal runs and placeholders
// ({{contact.name}}, {{ contact.first_name }}, {{attributes.city}}). An
// unknown placeholder or an unclosed "{{" is an error naming it. Text
// without "{{" is one literal.
func ParseText(s string) ([]Segment, error) {
	var out []Segment
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			if s != "" {
				out = append(out, Segment{Literal: s})
			}
			return out, nil
		}
		if i > 0 {
			out = append(out, Segment{Literal: s[:i]})
		}
		rest := s[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return nil, fmt.Errorf("has an unclosed {{ (placeholders are written {{contact.first_name}})")
		}
		path := strings.TrimSpace(rest[:j])
		if err := knownPath(path); err != nil {
			return nil, err
		}
		out = append(out, Segment{Path: path})
		s = rest[j+2:]
	}
}

func knownPath(p string) error {
	switch p {
	case PhName, PhFirstName, PhWhatsAppID:
		return nil
	}
	if k, ok := strings.CutPrefix(p, PhAttrPrefix); ok {
		if !validAttrKey(k) {
			return fmt.Errorf("has the placeholder {{%s}}, whose attribute key must be 1 to %d letters, digits, _ or -", textcut.Clip(p, 80), maxAttrKey)
		}
		return nil
	}
	return fmt.Errorf("has the unknown placeholder {{%s}} (known: contact.name, contact.first_name, contact.whatsapp_id, attributes.<key>)", textcut.Clip(p, 80))
}

// Value is the contact's value for a placeholder path; ok is false when the
// contact has none (no name, no number, no such attribute, or one that is
// not a string, number or boolean).
func Value(c store.Contact, path string) (string, bool) {
	var v string
	switch path {
	case PhName:
		v = c.DisplayName()
	case PhFirstName:
		v, _, _ = strings.Cut(strings.TrimSpace(c.DisplayName()), " ")
	case PhWhatsAppID:
		if c.WhatsAppID != "" {
			v = "+" + c.WhatsAppID
		}
	default:
		k, ok := strings.CutPrefix(path, PhAttrPrefix)
		if !ok {
			return "", false
		}
		switch a := c.Attributes[k].(type) {
		case string:
			v = a
		case bool:
			v = strconv.FormatBool(a)
		case float64:
			v = strconv.FormatFloat(a, 'f', -1, 64)
		case int:
			v = strconv.Itoa(a)
		case int64:
			v = strconv.FormatInt(a, 10)
		default:
			if n, ok := a.(interface{ String() string }); ok && a != nil {
				v = n.String()
			}
		}
	}
	v = clean(v)
	return v, v != ""
}

// clean makes a contact's value fit a template parameter: Meta refuses new
// lines, tabs and more than four spaces in a row, so white space runs
// become one space.
func clean(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Render fills segs for contact c in one pass: a value is inserted as it
// is and never read again for placeholders (a contact named
// "{{attributes.secret}}" is sent as that text). A placeholder without a
// value takes def when def is not nil; otherwise missing names it.
func Render(segs []Segment, c store.Contact, def *string) (text string, missing string) {
	var b strings.Builder
	for _, s := range segs {
		if s.Path == "" {
			b.WriteString(s.Literal)
			continue
		}
		v, ok := Value(c, s.Path)
		if !ok {
			if def == nil {
				return "", s.Path
			}
			v = *def
		}
		b.WriteString(v)
	}
	return b.String(), ""
}
