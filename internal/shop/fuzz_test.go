package shop

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzWooPing: the unsigned ping is recognised only as one decimal
// webhook_id in a small form body; what is recognised is that id, and its
// canonical form is recognised again.
func FuzzWooPing(f *testing.F) {
	for _, c := range [][2]string{{"application/x-www-form-urlencoded", "webhook_id=12"}, {"", "webhook_id=12"},
		{"application/x-www-form-urlencoded; charset=UTF-8", " webhook_id=007 "}, {"application/json", `{"webhook_id":12}`},
		{"application/x-www-form-urlencoded", "webhook_id=12&x=1"}, {"application/x-www-form-urlencoded", "webhook_id=1&webhook_id=2"},
		{"application/x-www-form-urlencoded", "webhook_id=%31%32"}, {"text/plain", "webhook_id=12"}, {"application/x-www-form-urlencoded", "webhook_id=-1"}} {
		f.Add(c[0], []byte(c[1]))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		id, ok := WooPing(ct, body)
		if !ok {
			if id != "" {
				t.Fatalf("refused with id %q", id)
			}
			return
		}
		if !allDigits(id) || len(id) > maxIDDigits || len(bytes.TrimSpace(body)) > maxPingBody {
			t.Fatalf("WooPing(%q, %q) = %q", ct, body, id)
		}
		if again, ok := WooPing("application/x-www-form-urlencoded", []byte("webhook_id="+id)); !ok || again != id {
			t.Fatalf("the canonical ping of %q is refused", id)
		}
	})
}

// FuzzTemplates: rendering never panics; a template that validates uses
// only placeholders every order offers and renders with them; a template
// without "{{" is its own rendering; and substituted values are never
// expanded again.
func FuzzTemplates(f *testing.F) {
	for _, s := range []string{"Seu pedido #{{number}} foi concluído!", "{{ order_number }} {{total_price}} {{currency}}", "{{", "}}{{x",
		"{{moeda}}", "{{a b}}", "{{}}", "sem placeholders", "{{first_name}}{{first_name}}", "{{{{number}}}}"} {
		f.Add(s, "{{number}}")
	}
	vars := Order{}.Vars()
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		names := Placeholders(tmpl)
		err := ValidateTemplate(tmpl)
		if err == nil {
			for _, n := range names {
				if _, ok := vars[n]; !ok {
					t.Fatalf("%q validates but uses %q", tmpl, n)
				}
			}
		} else if !errors.Is(err, ErrTemplate) {
			t.Fatalf("ValidateTemplate(%q) = %v, not an ErrTemplate", tmpl, err)
		}
		if !strings.Contains(tmpl, "{{") {
			if out, err := Render(tmpl, nil); err != nil || out != tmpl {
				t.Fatalf("Render(%q) = %q, %v", tmpl, out, err)
			}
		}
		given := map[string]string{}
		for _, n := range names {
			given[n] = value
		}
		if _, err := Render(tmpl, given); err != nil {
			var unknown *UnknownPlaceholdersError
			if errors.As(err, &unknown) {
				t.Fatalf("Render(%q) with every placeholder given: %v", tmpl, err)
			}
			return
		}
		// Values are not scanned again: one naming an unknown placeholder
		// renders as it is.
		for _, n := range names {
			given[n] = "{{no_such_placeholder}}"
		}
		if out, err := Render(tmpl, given); err != nil || len(names) > 0 && !strings.Contains(out, "{{no_such_placeholder}}") {
			t.Fatalf("Render(%q) with a placeholder as value = %q, %v", tmpl, out, err)
		}
	})
}
