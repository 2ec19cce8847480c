package phone

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/pytake/pytake/internal/textcut"
)

// ErrInvalid is wrapped by every error Parse and ParseRecipient return.
// The messages never repeat the number (it is personal data).
var ErrInvalid = errors.New("invalid phone number")

// ErrMissingCountry is wrapped (with ErrInvalid) by the error for a number
// written without its country calling code when no country is known to
// complete it: PyTake never guesses one.
var ErrMissingCountry = errors.New("the country calling code is missing")

// Bounds of an E.164 number (digits, calling code included) and of the raw
// text looked at.
const (
	minE164     = 8
	maxE164     = 15
	maxPhoneLen = 64
	maxExtLen   = 6
)

func phoneErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// missingCountry is the error for a national number and no country.
func missingCountry() error {
	return fmt.Errorf("%w: %w: write it with '+' and the country code (e.g. +55 11 98765-4321) or set the organization's default country", ErrInvalid, ErrMissingCountry)
}

// Parse turns a free-text phone into E.164 digits without '+'
// ("+55 (11) 98765-4321" -> "5511987654321"). country (ISO 3166-1 alpha-2)
// is where the number comes from (an address's country): it completes
// local numbers, read nationally first; it is ignored for international
// ones ("+", "00", and "011" for NANP countries). The rules (trunk
// prefixes, extensions, already-international digits) are in the package
// documentation.
func Parse(raw, country string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", phoneErr("empty")
	}
	if len(s) > maxPhoneLen {
		return "", phoneErr("longer than %d characters", maxPhoneLen)
	}
	plus, digits, err := scanPhone(stripExtension(s))
	if err != nil {
		return "", err
	}
	var out string
	switch {
	case plus:
		out, err = international(digits)
	case strings.HasPrefix(digits, "00"):
		out, err = international(digits[2:])
	default:
		out, err = national(digits, country)
	}
	if err != nil {
		return "", err
	}
	if err := checkE164(out); err != nil {
		return "", err
	}
	return out, nil
}

// extensionMarkers introduce a trailing extension, matched case-insensitively
// at the end of the text before the extension digits; "ext." is tried before
// "ext" and "x." before "x" so the dot goes with the marker.
var extensionMarkers = [...]string{"extension", "ramal", "ext.", "ext", "x.", "x", "#"}

// stripExtension removes a trailing extension such as "ext. 12", "x12" or
// "#12" (up to maxExtLen digits), with the separators before it.
func stripExtension(s string) string {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if n := len(s) - i; n == 0 || n > maxExtLen {
		return s
	}
	head := strings.TrimRight(s[:i], " \t")
	for _, m := range extensionMarkers {
		if len(head) > len(m) && strings.EqualFold(head[len(head)-len(m):], m) {
			return strings.TrimRight(head[:len(head)-len(m)], " \t,;")
		}
	}
	return s
}

// scanPhone keeps the digits of s, reporting whether it started with '+'.
// Separators are skipped; letters and other symbols are errors.
func scanPhone(s string) (plus bool, digits string, err error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if b.Len() == 2*maxE164 {
				return false, "", phoneErr("too many digits")
			}
			b.WriteRune(r)
		case r == '+':
			if plus || b.Len() > 0 {
				return false, "", phoneErr("'+' must come once, before the digits")
			}
			plus = true
		case isPhoneSeparator(r):
		case unicode.IsLetter(r):
			return false, "", phoneErr("contains letters")
		default:
			return false, "", phoneErr("contains %q", r)
		}
	}
	if b.Len() == 0 {
		return false, "", phoneErr("has no digits")
	}
	return plus, b.String(), nil
}

func isPhoneSeparator(r rune) bool {
	switch r {
	case ' ', '\t', '-', '.', '/', '(', ')', '\u00a0', '\u2212':
		return true
	}
	return r >= '\u2010' && r <= '\u2015' // hyphens and dashes
}

// international reads digits that follow an international prefix.
func international(d string) (string, error) {
	if d == "" || d[0] == '0' {
		return "", phoneErr("an international number must start with a country calling code")
	}
	c, ok := byCallingCode(d)
	if !ok || !c.trunk0() {
		return d, nil
	}
	// "+44 (0)7911 123456": drop the trunk 0 when what remains is a
	// national number of the right length.
	nsn := d[len(c.cc):]
	if rest, ok := strings.CutPrefix(nsn, "0"); ok && rest != "" && rest[0] != '0' && c.fits(len(rest)) {
		return c.cc + rest, nil
	}
	return d, nil
}

// national completes digits written without an international prefix.
func national(d, code string) (string, error) {
	c, ok := lookupCountry(code)
	if !ok {
		if strings.TrimSpace(code) == "" {
			return "", missingCountry()
		}
		return "", phoneErr("a number without '+' or 00 needs a known country, not %q", textcut.Clip(code, 8))
	}
	if c.cc == "1" {
		if rest, ok := strings.CutPrefix(d, "011"); ok {
			return international(rest) // the NANP international prefix
		}
	}
	if c.code == "AR" {
		if m, ok := argentinaMobile(d); ok {
			return m, nil
		}
	}
	for _, t := range c.trunks {
		rest, ok := strings.CutPrefix(d, t)
		if !ok {
			continue
		}
		if c.fits(len(rest)) {
			return c.cc + rest, nil
		}
		// Brazil: 0 + two-digit carrier selection code + area + number.
		if c.code == "BR" && (len(rest) == c.min+2 || len(rest) == c.max+2) {
			return c.cc + rest[2:], nil
		}
	}
	if rest, ok := strings.CutPrefix(d, c.cc); ok && c.fits(len(rest)) {
		return d, nil // already international, without '+'
	}
	if d[0] == '0' && c.trunk0() {
		return "", phoneErr("starts with the trunk prefix 0 but has %d digits; a national number in %s has %s", len(d)-1, c.code, lengths(c))
	}
	if !c.fits(len(d)) {
		return "", phoneErr("has %d digits; a national number in %s has %s", len(d), c.code, lengths(c))
	}
	return c.cc + d, nil
}

// argentinaMobile reads Argentina's national mobile form, [0] + area code +
// 15 + subscriber ("011 15-2345-6789"), ten digits without the 0 and the 15,
// as the international mobile form 54 9 + area code + subscriber. Area
// codes are 11 (Buenos Aires) or three or four digits starting 2 or 3.
func argentinaMobile(d string) (string, bool) {
	d = strings.TrimPrefix(d, "0")
	if len(d) != 12 {
		return "", false
	}
	for _, n := range [...]int{2, 3, 4} {
		area := d[:n]
		if n == 2 && area != "11" || n > 2 && area[0] != '2' && area[0] != '3' {
			continue
		}
		if d[n:n+2] == "15" {
			return "549" + area + d[n+2:], true
		}
	}
	return "", false
}

func lengths(c country) string {
	if c.min == c.max {
		return fmt.Sprintf("%d", c.min)
	}
	return fmt.Sprintf("%d to %d", c.min, c.max)
}

// checkE164 checks the final digits: 8 to 15, no leading 0, and for NANP
// (calling code 1) ten digits whose area code and exchange start with 2-9.
func checkE164(d string) error {
	if err := checkE164Lenient(d); err != nil {
		return err
	}
	if d[0] == '1' && d[4] < '2' {
		return phoneErr("not a valid NANP number (area code and exchange start with 2-9)")
	}
	return nil
}

// checkE164Lenient is checkE164 without the NANP exchange rule: what an
// integrator's international number must pass (Meta's own test numbers,
// +1 555 0xx xxxx, have an exchange starting with 0), while the area code
// rule still tells "11 95555-1234" from a North American number.
func checkE164Lenient(d string) error {
	switch {
	case len(d) < minE164 || len(d) > maxE164:
		return phoneErr("has %d digits; an international number has %d to %d", len(d), minE164, maxE164)
	case d[0] == '0':
		return phoneErr("an international number must start with a country calling code")
	case d[0] == '1':
		if len(d) != 11 {
			return phoneErr("a +1 (NANP) number has 10 digits after the 1, not %d", len(d)-1)
		}
		if d[1] < '2' {
			return phoneErr("not a valid NANP number (the area code starts with 2-9)")
		}
	}
	return nil
}
