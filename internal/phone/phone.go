// Package phone owns phone numbers: reading the forms people write them in
// (Parse for a number whose country is known, ParseRecipient for a number
// whose country is at best the organisation's default), and the identity of
// a WhatsApp number (Variants, Same): the forms of one line that WhatsApp
// treats as one account.
//
// # Reading a number
//
// Both readers return E.164 digits without '+' (8 to 15 digits, with the
// country calling code), the form the WhatsApp Cloud API takes:
//
//   - Separators are ignored: spaces, '-', '.', '/', parentheses and Unicode
//     dashes. '+' may appear once, before the first digit.
//   - A trailing extension ("ext. 12", "x12", "#12", "extension 12",
//     "ramal 12") is stripped: the main number still reaches the customer.
//     Any other letter rejects the number (vanity numbers such as
//     "555-555-SHIP" cannot be dialled reliably).
//   - "+" or "00" marks an international number; for NANP countries (calling
//     code 1) "011" does too. A trunk "0" written after the calling code
//     ("+44 (0)7911 123456", "+55 011 98765-4321") is dropped for countries
//     that use trunk 0, when what remains has a valid national length.
//   - Otherwise the number is local and needs a known country: a national
//     trunk prefix is dropped where the country uses one (0 in most of
//     Europe, Latin America, Asia and Africa; 06 in Hungary; 8 in Russia,
//     Kazakhstan and Belarus; 8 or 0 in Lithuania; 1 in the NANP), then the
//     calling code is prepended. GB "07911 123456" -> 447911123456,
//     BR "(11) 98765-4321" -> 5511987654321. The trunk is only dropped when
//     what remains has a valid national length (RU "800 123 4567" keeps its
//     8: it is the number, not a trunk). A Brazilian carrier-selection code
//     after the trunk 0 ("0 21 11 98765-4321") is dropped too.
//
// Parse is for a number whose country is known (an order's address): local
// readings come first. ParseRecipient is for what an integrator sends
// (POST /v1/messages "to", a contact's whatsapp_id), where digits without
// '+' are usually already international (WhatsApp's own form,
// "5511987654321"): they are read as international when they make a valid
// international number, unless they are a valid national number of the
// default country under its strict rules (Brazil, Mexico, Argentina). A
// number that is neither is completed with the default country, and with no
// default country it is refused with ErrMissingCountry: the country is never
// guessed ("(11) 95555-1234" is not a North American number).
//
// # One line, several forms
//
// WhatsApp ids keep the form a number had when its account was registered,
// while shops and CRMs hold today's form. Variants lists the forms that are
// one line:
//
//   - Brazil: a mobile with and without its ninth digit, 55 + area code +
//     9 + eight digits starting 6-9 <-> 55 + area code + the same eight.
//   - Mexico: the legacy mobile prefix 1 after the calling code,
//     521 + ten digits <-> 52 + the same ten.
//   - Argentina: the mobile 9 after the calling code, 549 + ten digits <->
//     54 + the same ten.
//
// The rules are compact and hand-written (the numbering table in
// countries.go); libphonenumber (github.com/nyaruka/phonenumbers) is their
// test oracle only, so it adds nothing to the functions' binaries: see
// oracle_test.go and the README for the figures behind that choice.
package phone

import (
	"slices"
	"strings"

	"github.com/pytake/pytake/internal/textcut"
)

// ParseRecipient reads a number an integrator wrote, where defaultCountry
// (ISO 3166-1 alpha-2, or "") is the organisation's default country, a weak
// hint: see the package documentation for the order of the readings. A
// national number with no default country is ErrMissingCountry.
func ParseRecipient(raw, defaultCountry string) (string, error) {
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
	def, hasDef := lookupCountry(defaultCountry)
	if strings.TrimSpace(defaultCountry) != "" && !hasDef {
		return "", phoneErr("the default country %q is not a known ISO 3166-1 alpha-2 code", textcut.Clip(defaultCountry, 8))
	}
	var out string
	switch {
	case plus:
		out, err = international(digits)
	case strings.HasPrefix(digits, "00"):
		out, err = international(digits[2:])
	case digits[0] == '0' || nationalLooking(s):
		// A trunk prefix, or "(11) ...": written nationally.
		if !hasDef {
			return "", missingCountry()
		}
		out, err = national(digits, def.code)
	case hasDef && strictNational(def, digits):
		out = def.cc + digits
	case validInternational(digits):
		out = digits
	case hasDef:
		out, err = national(digits, def.code)
	default:
		return "", missingCountry()
	}
	if err != nil {
		return "", err
	}
	if err := checkE164Lenient(out); err != nil {
		return "", err
	}
	return out, nil
}

// nationalLooking reports whether the text opens with a parenthesised group
// of at most three digits, "(11) 98765-4321": how an area code is written,
// never a calling code without '+'.
func nationalLooking(s string) bool {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "(") {
		return false
	}
	end := strings.IndexByte(s, ')')
	if end < 0 {
		return false
	}
	inner := strings.TrimSpace(s[1:end])
	return inner != "" && len(inner) <= 3 && allDigits(inner)
}

// validInternational reports whether digits written without '+' make a
// plausible international number: E.164 bounds (NANP's area code and
// area code rule included) and, where the calling code is in the table, a
// national number of the right length (Mexico's and Argentina's mobile
// prefixes counted).
func validInternational(d string) bool {
	if checkE164Lenient(d) != nil {
		return false
	}
	c, ok := byCallingCode(d)
	if !ok {
		return true
	}
	nsn := d[len(c.cc):]
	switch {
	case c.fits(len(nsn)):
		return !(c.trunk0() && nsn[0] == '0')
	case c.code == "MX" && len(nsn) == 11 && nsn[0] == '1':
		return true
	}
	return false
}

// strictNational reports whether digits are a national number of c under
// rules strict enough to prefer them over an international reading. Only
// the countries whose forms this package knows closely have such rules.
func strictNational(c country, d string) bool {
	if !allDigits(d) {
		return false
	}
	switch c.code {
	case "BR":
		return brazilNational(d)
	case "MX":
		return len(d) == 10 && d[0] >= '2'
	case "AR":
		// Area codes start with 1-3; ten digits in all.
		return len(d) == 10 && d[0] >= '1' && d[0] <= '3'
	}
	return false
}

// brazilNational: a two-digit area code (no 0 in it) then a mobile (9 and
// eight digits starting 6-9), a landline (eight digits starting 2-5), or a
// mobile registered before the ninth digit (eight digits starting 6-9).
func brazilNational(d string) bool {
	if len(d) != 10 && len(d) != 11 || d[0] == '0' || d[1] == '0' {
		return false
	}
	sub := d[2:]
	if len(sub) == 9 {
		return sub[0] == '9'
	}
	return sub[0] >= '2'
}

// Variants lists the forms of one WhatsApp line, d (E.164 digits) first:
// Brazil's ninth digit, Mexico's 521 and Argentina's 549 (see the package
// documentation). Other numbers have one form.
func Variants(d string) []string {
	if alt := alternate(d); alt != "" {
		return []string{d, alt}
	}
	return []string{d}
}

// alternate is the other form of d, or "".
func alternate(d string) string {
	if !allDigits(d) || len(d) < 12 || len(d) > 13 {
		return ""
	}
	switch {
	case strings.HasPrefix(d, "55"):
		area, sub := d[2:4], d[4:]
		if area[0] == '0' || area[1] == '0' {
			return ""
		}
		if len(sub) == 9 && sub[0] == '9' && sub[1] >= '6' {
			return "55" + area + sub[1:]
		}
		if len(sub) == 8 && sub[0] >= '6' {
			return "55" + area + "9" + sub
		}
	case strings.HasPrefix(d, "52"):
		nsn := d[2:]
		if len(nsn) == 11 && nsn[0] == '1' && nsn[1] >= '2' {
			return "52" + nsn[1:]
		}
		if len(nsn) == 10 && nsn[0] >= '2' {
			return "521" + nsn
		}
	case strings.HasPrefix(d, "54"):
		nsn := d[2:]
		if len(nsn) == 11 && nsn[0] == '9' && nsn[1] >= '1' && nsn[1] <= '3' {
			return "54" + nsn[1:]
		}
		if len(nsn) == 10 && nsn[0] >= '1' && nsn[0] <= '3' {
			return "549" + nsn
		}
	}
	return ""
}

// Canonical is one form that stands for every form of d's line (the
// smallest of Variants): equal for two forms of one line.
func Canonical(d string) string {
	return slices.Min(Variants(d))
}

// Same reports whether a and b (E.164 digits) are forms of one line.
func Same(a, b string) bool {
	return a == b || a != "" && alternate(a) == b
}

// CountryOf is the ISO 3166-1 alpha-2 country of E.164 digits by their
// calling code, or "" when the table does not know it. Countries sharing a
// calling code read national numbers alike (the NANP, RU/KZ, GB and the
// Crown dependencies), so the first of them stands for all.
func CountryOf(d string) string {
	if !allDigits(d) {
		return ""
	}
	c, ok := byCallingCode(d)
	if !ok || !c.fits(len(d)-len(c.cc)) && !(c.code == "MX" && len(d) == 13) {
		return ""
	}
	return c.code
}

// Country checks an ISO 3166-1 alpha-2 code against the numbering table,
// answering it upper-case ("UK" is GB).
func Country(code string) (string, bool) {
	c, ok := lookupCountry(code)
	return c.code, ok
}

// allDigits reports whether s is non-empty and only ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
