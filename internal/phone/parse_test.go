package phone

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	tests := []struct {
		raw, country string
		want         string // "" means an error
	}{
		// Brazil.
		{"+55 (11) 98765-4321", "", "5511987654321"},
		{"+55 (11) 98765-4321", "US", "5511987654321"}, // '+' wins over the country
		{"(11) 98765-4321", "BR", "5511987654321"},
		{"11 98765.4321", "br", "5511987654321"},
		{"011 98765-4321", "BR", "5511987654321"},     // trunk 0 + area 11
		{"(011) 98765-4321", "BR", "5511987654321"},   // same, area in parentheses
		{"0 21 11 98765-4321", "BR", "5511987654321"}, // trunk 0 + carrier 21
		{"5511987654321", "BR", "5511987654321"},      // already international
		{"55 11 98765 4321", "BR", "5511987654321"},
		{"0055 11 98765 4321", "", "5511987654321"},
		{"00 55 11 98765-4321", "BR", "5511987654321"},
		{"+55 011 98765-4321", "", "5511987654321"}, // trunk 0 after the calling code
		{"(55) 99123-4567", "BR", "5555991234567"},  // area code 55, not the country
		{"(11) 3456-7890", "BR", "551134567890"},    // landline
		{"+55 11 98765-4321 ramal 20", "", "5511987654321"},
		{"98765-4321", "BR", ""}, // no area code
		{"98765-4321", "", ""},   // no country
		// United States and NANP.
		{"(555) 555-5555", "US", "15555555555"},
		{"555.555.5555", "us", "15555555555"},
		{"1-555-555-5555", "US", "15555555555"},
		{"1 (415) 555-2671", "CA", "14155552671"},
		{"+1 (415) 555-2671", "", "14155552671"},
		{"(+1)7867541492", "", "17867541492"},
		{"011 44 7911 123456", "US", "447911123456"}, // NANP international prefix
		{"(415) 555-2671 ext. 12", "US", "14155552671"},
		{"415-555-2671 x12", "US", "14155552671"},
		{"415-555-2671x12", "US", "14155552671"},
		{"+1 415 555 2671 #3", "", "14155552671"},
		{"415 555 2671 Extension 4", "US", "14155552671"},
		{"876 555 1234", "JM", "18765551234"},
		{"123-123-1234", "CA", ""}, // area code cannot start with 1
		{"+1 415 155 2671", "", ""},
		{"555-555-SHIP", "US", ""}, // vanity letters
		{"555-5555", "US", ""},
		{"+1 415 555 26711", "", ""},
		// United Kingdom.
		{"07911 123456", "GB", "447911123456"},
		{"07911 123456", "uk", "447911123456"},
		{"+44 (0)7911 123456", "", "447911123456"},
		{"+44 (0) 20 7946 0958", "", "442079460958"},
		{"+44 7911 123456", "", "447911123456"},
		{"0044 7911 123456", "", "447911123456"},
		{"447911123456", "GB", "447911123456"},
		{"7911 123456", "GB", "447911123456"},
		{"020 7946 0958", "GB", "442079460958"},
		{"07911 12345", "GB", "44791112345"}, // 9-digit national number
		{"000 7911 123456", "GB", ""},        // 00 prefix, then a leading 0
		// Portugal (no trunk prefix).
		{"912 345 678", "PT", "351912345678"},
		{"+351 912 345 678", "", "351912345678"},
		{"00351912345678", "PT", "351912345678"},
		{"351 912 345 678", "PT", "351912345678"},
		{"21 123 4567", "PT", "351211234567"},
		{"0912345678", "PT", ""},
		// Germany.
		{"0151 12345678", "DE", "4915112345678"},
		{"+49 (0)151 12345678", "", "4915112345678"},
		{"030 1234567", "DE", "49301234567"},
		{"030/1234567", "DE", "49301234567"},
		{"+49 30 1234567", "", "49301234567"},
		{"4915112345678", "DE", "4915112345678"},
		{"0049 151 12345678", "", "4915112345678"},
		{"0151 1234567890123", "DE", ""},
		// India.
		{"98765 43210", "IN", "919876543210"},
		{"+91 98765-43210", "", "919876543210"},
		{"098765 43210", "IN", "919876543210"},
		{"919876543210", "IN", "919876543210"},
		{"91234 56789", "IN", "919123456789"}, // starts with 91 but is national
		{"9876 543", "IN", ""},
		// Trunk prefixes other than 0, and countries that keep the 0.
		{"06 30 123 4567", "HU", "36301234567"},
		{"8 912 345-67-89", "RU", "79123456789"},
		{"800 123 4567", "RU", "78001234567"}, // 8 is part of the number here
		{"8 (800) 123-45-67", "RU", "78001234567"},
		{"8 612 34567", "LT", "37061234567"},
		{"0 612 34567", "LT", "37061234567"},
		{"06 1234 5678", "IT", "390612345678"},
		{"+39 06 1234 5678", "", "390612345678"}, // Italy has no trunk: the 0 stays
		{"0412 345 678", "AU", "61412345678"},
		{"082 123 4567", "ZA", "27821234567"},
		{"090-1234-5678", "JP", "819012345678"},
		{"+86 138 0013 8000", "", "8613800138000"},
		{"55 1234 5678", "MX", "525512345678"},
		{"9 1234 5678", "CL", "56912345678"},
		{"612 345 678", "ES", "34612345678"},
		{"06 12 34 56 78", "FR", "33612345678"},
		{"\u00a0+55\u00a011\u00a098765\u20134321 ", "", "5511987654321"}, // NBSP and en dash
		// Garbage.
		{"", "BR", ""},
		{"   ", "BR", ""},
		{"abc", "BR", ""},
		{"tel:+5511987654321", "", ""},
		{"+", "", ""},
		{"()- .", "BR", ""},
		{"12+34", "BR", ""},
		{"++5511987654321", "", ""},
		{"+55+11987654321", "", ""},
		{"98765-4321", "XX", ""},
		{"98765-4321", "Brazil", ""},
		{"+0 55 11 98765 4321", "", ""},
		{"+1234567", "", ""},
		{"+1234567890123456", "", ""},
		{"123456789012345678901234567890123", "BR", ""},
		{"☎ +55 11 98765-4321", "", ""},
		{"+55 11 98765-4321; +55 11 91234-5678", "", ""},
		{"ext. 12", "US", ""},
		{"+55 11 98765-4321 x1234567", "", ""}, // 7-digit "extension": not one
		{strings.Repeat("1", 65), "US", ""},
	}
	for _, tt := range tests {
		got, err := Parse(tt.raw, tt.country)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Parse(%q, %q) = %q, want an error", tt.raw, tt.country, got)
			} else if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%q, %q) error %v does not wrap ErrInvalid", tt.raw, tt.country, err)
			}
			continue
		}
		assert.NoError(t, err, "Parse(%q, %q) = %q, %v; want %q", tt.raw, tt.country, got, err, tt.want)
		assert.Equal(t, tt.want, got, "Parse(%q, %q) = %q, %v; want %q", tt.raw, tt.country, got, err, tt.want)
	}
}

func TestParseErrorsOmitTheNumber(t *testing.T) {
	for _, raw := range []string{"555-555-SHIP", "98765-4321", "+1 415 155 2671", "0151 1234567890123"} {
		_, err := Parse(raw, "BR")
		require.Error(t, err, "Parse(%q) accepted", raw)
		if digits := strings.Map(keepDigit, raw); len(digits) > 3 && strings.Contains(err.Error(), digits[len(digits)-4:]) {
			t.Errorf("error %q repeats the number", err)
		}
	}
}

func keepDigit(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	return -1
}

func TestCountryTable(t *testing.T) {
	seen := map[string]bool{}
	attrs := map[string]country{}
	for _, c := range countries {
		assert.Equal(t, c.code, strings.ToUpper(c.code), "%q is not an upper-case alpha-2 code", c.code)
		if seen[c.code] {
			t.Errorf("%s listed twice", c.code)
		}
		seen[c.code] = true
		if !allDigits(c.cc) || c.cc[0] == '0' || len(c.cc) > 3 {
			t.Errorf("%s: bad calling code %q", c.code, c.cc)
		}
		assert.GreaterOrEqual(t, c.min, 4, "%s: bad lengths %d..%d", c.code, c.min, c.max)
		assert.LessOrEqual(t, c.min, c.max, "%s: bad lengths %d..%d", c.code, c.min, c.max)
		assert.LessOrEqual(t, len(c.cc)+c.max, maxE164, "%s: bad lengths %d..%d", c.code, c.min, c.max)
		assert.GreaterOrEqual(t, len(c.cc)+c.min, minE164-1, "%s: bad lengths %d..%d", c.code, c.min, c.max)
		// Countries sharing a calling code must share what byCallingCode uses.
		if prev, ok := attrs[c.cc]; ok && (prev.trunk0() != c.trunk0() || prev.min != c.min || prev.max != c.max) {
			t.Errorf("%s and %s share +%s with different attributes", prev.code, c.code, c.cc)
		}
		attrs[c.cc] = c
	}
	assert.GreaterOrEqual(t, len(seen), 60, "only %d countries", len(seen))
	// Calling codes are prefix-free, as in E.164.
	for a := range attrs {
		for b := range attrs {
			if a != b && strings.HasPrefix(b, a) {
				t.Errorf("calling code %s is a prefix of %s", a, b)
			}
		}
	}
	for _, code := range []string{"US", "CA", "MX", "BR", "AR", "CL", "CO", "PE", "GB", "IE", "PT", "ES", "FR", "DE", "IT", "NL", "BE", "AT", "PL", "SE", "DK", "FI", "GR", "CZ", "HU", "RO", "IN", "CN", "JP", "AU", "ZA", "JM", "DO", "PR", "TT"} {
		assert.True(t, seen[code], "%s missing", code)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []struct{ raw, country string }{
		{"+55 (11) 98765-4321", ""}, {"(11) 98765-4321", "BR"}, {"011 98765-4321", "BR"},
		{"07911 123456", "GB"}, {"+44 (0)7911 123456", ""}, {"(555) 555-5555", "US"},
		{"011 44 7911 123456", "US"}, {"415-555-2671 x12", "US"}, {"06 30 123 4567", "HU"},
		{"555-555-SHIP", "US"}, {"", ""}, {"+", ""}, {"0 21 11 98765-4321", "BR"},
	} {
		f.Add(s.raw, s.country)
	}
	f.Fuzz(func(t *testing.T, raw, country string) {
		got, err := Parse(raw, country)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid, "error %v does not wrap ErrInvalid", err)
			return
		}
		require.GreaterOrEqual(t, len(got), minE164, "Parse(%q, %q) = %q: not E.164 digits", raw, country, got)
		require.LessOrEqual(t, len(got), maxE164, "Parse(%q, %q) = %q: not E.164 digits", raw, country, got)
		require.True(t, allDigits(got), "Parse(%q, %q) = %q: not E.164 digits", raw, country, got)
		require.NotEqual(t, byte('0'), got[0], "Parse(%q, %q) = %q: not E.164 digits", raw, country, got)
		// The result is a fixed point, whatever the country.
		again, err := Parse("+"+got, "")
		require.NoError(t, err, "Parse(+%s) = %q, %v; want it unchanged", got, again, err)
		require.Equal(t, got, again, "Parse(+%s) = %q, %v; want it unchanged", got, again, err)
	})
}
