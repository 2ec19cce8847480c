package shop

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pytake/pytake/internal/textcut"
)

// ErrTemplate is matched (errors.Is) by every error Render and
// ValidateTemplate return: malformed placeholders, an unclosed "{{" and
// unknown names (*UnknownPlaceholdersError).
var ErrTemplate = errors.New("invalid template")

// UnknownPlaceholdersError lists the placeholder names a template uses that
// the variables do not define.
type UnknownPlaceholdersError struct {
	Names []string // unknown names, in order of first use
	Known []string // the names that were available, sorted
}

func (e *UnknownPlaceholdersError) Error() string {
	quoted := make([]string, len(e.Names))
	for i, n := range e.Names {
		quoted[i] = "{{" + n + "}}"
	}
	return fmt.Sprintf("%v: unknown placeholder(s) %s; known: %s", ErrTemplate, strings.Join(quoted, ", "), strings.Join(e.Known, ", "))
}

// Is makes errors.Is(err, ErrTemplate) true.
func (e *UnknownPlaceholdersError) Is(target error) bool { return target == ErrTemplate }

// segment is a piece of a parsed template: literal text or a placeholder.
type segment struct {
	text string // literal text, or the placeholder name
	name bool   // text is a placeholder name
}

// parseTemplate splits tmpl into literal text and {{name}} placeholders. A
// malformed placeholder is kept as literal text and reported as the first
// error; an unclosed "{{" ends parsing. Callers that only list names may
// ignore the error.
func parseTemplate(tmpl string) ([]segment, error) {
	var segs []segment
	var first error
	for {
		open := strings.Index(tmpl, "{{")
		if open < 0 {
			break
		}
		end := strings.Index(tmpl[open+2:], "}}")
		if end < 0 {
			if first == nil {
				first = fmt.Errorf("%w: unclosed {{", ErrTemplate)
			}
			break
		}
		if open > 0 {
			segs = append(segs, segment{text: tmpl[:open]})
		}
		whole := tmpl[open : open+2+end+2]
		name := strings.Trim(tmpl[open+2:open+2+end], " \t")
		if validName(name) {
			segs = append(segs, segment{text: name, name: true})
		} else {
			segs = append(segs, segment{text: whole})
			if first == nil {
				first = fmt.Errorf("%w: malformed placeholder %q (a name is letters, digits and _)", ErrTemplate, textcut.Clip(whole, 40))
			}
		}
		tmpl = tmpl[open+len(whole):]
	}
	if tmpl != "" {
		segs = append(segs, segment{text: tmpl})
	}
	return segs, first
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Render replaces each {{name}} in tmpl ({{ name }} too) with vars[name].
// Unknown names are an *UnknownPlaceholdersError naming them all; a
// malformed placeholder or an unclosed "{{" is an error too. Substituted
// values are not scanned for placeholders again.
func Render(tmpl string, vars map[string]string) (string, error) {
	segs, err := parseTemplate(tmpl)
	if err != nil {
		return "", err
	}
	var unknown []string
	var b strings.Builder
	b.Grow(len(tmpl))
	for _, s := range segs {
		if !s.name {
			b.WriteString(s.text)
			continue
		}
		v, ok := vars[s.text]
		if !ok {
			if !slices.Contains(unknown, s.text) {
				unknown = append(unknown, s.text)
			}
			continue
		}
		b.WriteString(v)
	}
	if unknown != nil {
		known := make([]string, 0, len(vars))
		for k := range vars {
			known = append(known, k)
		}
		slices.Sort(known)
		return "", &UnknownPlaceholdersError{Names: unknown, Known: known}
	}
	return b.String(), nil
}

// Placeholders lists the well-formed placeholder names tmpl uses, in order of
// first use, without duplicates. Malformed placeholders are left out (Render
// reports them).
func Placeholders(tmpl string) []string {
	segs, _ := parseTemplate(tmpl)
	var names []string
	for _, s := range segs {
		if s.name && !slices.Contains(names, s.text) {
			names = append(names, s.text)
		}
	}
	return names
}

// ValidateTemplate checks tmpl against the variables every Order offers
// (Order.Vars), for use when settings are saved.
func ValidateTemplate(tmpl string) error {
	_, err := Render(tmpl, Order{}.Vars())
	return err
}
