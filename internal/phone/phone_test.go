package phone

import (
	"errors"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRecipient(t *testing.T) {
	const missing = "missing"
	tests := []struct {
		raw, def string
		want     string // "" an error, "missing" ErrMissingCountry
	}{
		// International, with or without '+': the default country is not used.
		{"+55 11 98765-4321", "", "5511987654321"},
		{"+55 11 98765-4321", "US", "5511987654321"},
		{"5511987654321", "", "5511987654321"},
		{"551187654321", "", "551187654321"}, // a wa_id from before the ninth digit
		{"5511987654321", "BR", "5511987654321"},
		{"14155552671", "BR", "14155552671"}, // not a Brazilian national number
		{"14155552671", "DE", "14155552671"},
		{"447911123456", "US", "447911123456"},
		{"0044 7911 123456", "", "447911123456"},
		{"5215512345678", "", "5215512345678"}, // Mexico's legacy mobile prefix
		{"5491123456789", "", "5491123456789"}, // Argentina's mobile 9
		// National numbers need a country: never guessed.
		{"(11) 95555-1234", "", missing},
		{"11 95555-1234", "", missing}, // not +1 195..., an invalid NANP number
		{"(11) 95555-1234", "BR", "5511955551234"},
		{"11 95555-1234", "BR", "5511955551234"},
		{"11955551234", "br", "5511955551234"},
		{"011 95555-1234", "BR", "5511955551234"},
		{"011 95555-1234", "", missing},
		{"(21) 3456-7890", "BR", "552134567890"},
		{"51 91234-5678", "BR", "5551912345678"}, // Porto Alegre, not Peru, for a Brazilian organisation
		{"51912345678", "", "51912345678"},       // without a default it is Peru's form
		{"(55) 1234 5678", "MX", "525512345678"},
		{"55 1234 5678", "MX", "525512345678"},
		{"011 15-2345-6789", "AR", "5491123456789"}, // Argentina's national mobile form
		{"0351 15-234-5678", "AR", "5493512345678"},
		{"11 2345-6789", "AR", "541123456789"},
		{"07911 123456", "GB", "447911123456"},
		{"07911 123456", "", missing},
		{"(415) 555-2671", "US", "14155552671"},
		{"(415) 555-2671", "", missing},
		{"415 555 2671", "US", "14155552671"},
		// Refused.
		{"(11) 95555-1234", "Brasil", ""},
		{"", "BR", ""},
		{"+", "", ""},
		{"abc", "BR", ""},
		{"+0 11 95555 1234", "", ""},
		{"0000000", "BR", ""},
		{"+1234567890123456", "", ""},
	}
	for _, tt := range tests {
		got, err := ParseRecipient(tt.raw, tt.def)
		switch tt.want {
		case "":
			assert.ErrorIs(t, err, ErrInvalid, "ParseRecipient(%q, %q) = %q", tt.raw, tt.def, got)
			assert.NotErrorIs(t, err, ErrMissingCountry, "ParseRecipient(%q, %q)", tt.raw, tt.def)
		case missing:
			assert.ErrorIs(t, err, ErrMissingCountry, "ParseRecipient(%q, %q) = %q", tt.raw, tt.def, got)
			assert.ErrorIs(t, err, ErrInvalid, "ParseRecipient(%q, %q)", tt.raw, tt.def)
		default:
			assert.NoError(t, err, "ParseRecipient(%q, %q)", tt.raw, tt.def)
			assert.Equal(t, tt.want, got, "ParseRecipient(%q, %q)", tt.raw, tt.def)
		}
	}
}

func TestVariants(t *testing.T) {
	tests := []struct {
		d    string
		want []string
	}{
		// Brazil: the ninth digit, both ways, for mobiles (8 digits starting 6-9).
		{"5511987654321", []string{"5511987654321", "551187654321"}},
		{"551187654321", []string{"551187654321", "5511987654321"}},
		{"5521996543210", []string{"5521996543210", "552196543210"}},
		{"558176543210", []string{"558176543210", "5581976543210"}},
		{"551134567890", []string{"551134567890"}},   // a landline (starts 2-5): one form
		{"5511954567890", []string{"5511954567890"}}, // 9 then 5: no eight-digit form
		{"5501987654321", []string{"5501987654321"}}, // no area code has a 0
		{"55119876543210", []string{"55119876543210"}},
		// Mexico: the legacy 521.
		{"5215512345678", []string{"5215512345678", "525512345678"}},
		{"525512345678", []string{"525512345678", "5215512345678"}},
		{"5211512345678", []string{"5211512345678"}}, // 52 1 then 1: no national number starts with 1
		// Argentina: the mobile 9.
		{"5491123456789", []string{"5491123456789", "541123456789"}},
		{"541123456789", []string{"541123456789", "5491123456789"}},
		{"5493512345678", []string{"5493512345678", "543512345678"}},
		{"5498123456789", []string{"5498123456789"}}, // no area code starts with 8
		// Everyone else: one form.
		{"14155552671", []string{"14155552671"}},
		{"447911123456", []string{"447911123456"}},
		{"351912345678", []string{"351912345678"}},
		{"", []string{""}},
		{"55abc", []string{"55abc"}},
	}
	for _, tt := range tests {
		got := Variants(tt.d)
		assert.Equal(t, tt.want, got, "Variants(%q)", tt.d)
		for _, v := range got {
			assert.True(t, Same(tt.d, v), "Same(%q, %q)", tt.d, v)
			assert.True(t, Same(v, tt.d), "Same(%q, %q)", v, tt.d)
		}
	}
	assert.Equal(t, Canonical("5511987654321"), Canonical("551187654321"))
	assert.Equal(t, Canonical("5215512345678"), Canonical("525512345678"))
	assert.NotEqual(t, Canonical("5511987654321"), Canonical("5511987654322"))
	assert.False(t, Same("5511987654321", "5511987654322"))
	assert.False(t, Same("", "5511987654321"))
	assert.False(t, Same("14155552671", "4155552671"))
}

// The Brazilian variants agree with libphonenumber where it can say: the
// nine-digit form of every generated Brazilian mobile is valid to it, and
// the eight-digit form is the pre-2016 numbering it no longer lists.
func TestVariantsBrazilOracle(t *testing.T) {
	checked := 0
	for area := 11; area <= 99; area++ {
		if area%10 == 0 {
			continue
		}
		d := "55" + itoa(area) + "987654321"
		num, err := phonenumbers.Parse("+"+d, "")
		require.NoError(t, err)
		if !phonenumbers.IsValidNumber(num) || phonenumbers.GetNumberType(num) != phonenumbers.MOBILE {
			continue // an unassigned area code
		}
		checked++
		v := Variants(d)
		require.Len(t, v, 2, "Variants(%s)", d)
		require.Equal(t, "55"+itoa(area)+"87654321", v[1])
		assert.Equal(t, []string{v[1], d}, Variants(v[1]))
	}
	assert.GreaterOrEqual(t, checked, 60, "only %d area codes", checked)
}

func itoa(n int) string {
	return string([]byte{byte('0' + n/10), byte('0' + n%10)})
}

func TestCountryOf(t *testing.T) {
	for d, want := range map[string]string{
		"5511987654321": "BR", "551187654321": "BR", "15550783881": "US", "447911123456": "GB",
		"5215512345678": "MX", "525512345678": "MX", "5491123456789": "AR", "351912345678": "PT",
		"99912345678": "", "": "", "55": "", "55x1187654321": "",
	} {
		assert.Equal(t, want, CountryOf(d), "CountryOf(%q)", d)
	}
	for code, want := range map[string]string{"br": "BR", " BR ": "BR", "uk": "GB", "XX": "", "": "", "Brazil": ""} {
		got, ok := Country(code)
		assert.Equal(t, want, got, "Country(%q)", code)
		assert.Equal(t, want != "", ok, "Country(%q)", code)
	}
}

func TestMissingCountryErrorSaysWhatToDo(t *testing.T) {
	_, err := ParseRecipient("(11) 95555-1234", "")
	require.True(t, errors.Is(err, ErrMissingCountry))
	assert.Contains(t, err.Error(), "country code")
	assert.NotContains(t, err.Error(), "1234", "the error repeats the number")
}

func FuzzParseRecipient(f *testing.F) {
	for _, s := range []struct{ raw, def string }{
		{"+55 (11) 98765-4321", ""}, {"(11) 95555-1234", "BR"}, {"11 95555-1234", ""},
		{"5511987654321", "US"}, {"011 15-2345-6789", "AR"}, {"55 1234 5678", "MX"},
		{"07911 123456", "GB"}, {"(415) 555-2671", "US"}, {"", ""}, {"+", ""}, {"(1)", "BR"},
	} {
		f.Add(s.raw, s.def)
	}
	f.Fuzz(func(t *testing.T, raw, def string) {
		got, err := ParseRecipient(raw, def)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			return
		}
		require.True(t, allDigits(got) && len(got) >= minE164 && len(got) <= maxE164 && got[0] != '0',
			"ParseRecipient(%q, %q) = %q: not E.164 digits", raw, def, got)
		// The result is a fixed point: with '+', and as bare digits
		// without a default country.
		again, err := ParseRecipient("+"+got, "")
		require.NoError(t, err)
		require.Equal(t, got, again)
		if plain, err := ParseRecipient(got, ""); err == nil {
			require.Equal(t, got, plain)
		}
		// Variants are an equivalence: symmetric, at most two, each
		// listing the same set.
		vs := Variants(got)
		require.LessOrEqual(t, len(vs), 2)
		require.Equal(t, got, vs[0])
		for _, v := range vs {
			require.True(t, Same(got, v) && Same(v, got))
			w := Variants(v)
			require.ElementsMatch(t, vs, w, "Variants(%s) and Variants(%s)", got, v)
			require.True(t, allDigits(v) && len(v) >= minE164 && len(v) <= maxE164, "variant %q", v)
		}
		if strings.TrimSpace(def) == "" {
			return
		}
		if _, ok := Country(def); !ok {
			t.Fatalf("ParseRecipient accepted an unknown default country %q", def)
		}
	})
}

func BenchmarkParseRecipient(b *testing.B) {
	for _, in := range []struct{ name, raw, def string }{
		{"international", "+55 (11) 98765-4321", ""},
		{"national", "(11) 98765-4321", "BR"},
		{"wa_id", "551187654321", "BR"},
	} {
		b.Run(in.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := ParseRecipient(in.raw, in.def); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVariants(b *testing.B) {
	for b.Loop() {
		_ = Variants("5511987654321")
	}
}

// BenchmarkLibphonenumber is the same work through the library this
// package keeps out of the binaries, for the README's comparison.
func BenchmarkLibphonenumber(b *testing.B) {
	for _, in := range []struct{ name, raw, def string }{
		{"international", "+55 (11) 98765-4321", ""},
		{"national", "(11) 98765-4321", "BR"},
	} {
		b.Run(in.name, func(b *testing.B) {
			for b.Loop() {
				n, err := phonenumbers.Parse(in.raw, in.def)
				if err != nil {
					b.Fatal(err)
				}
				_ = phonenumbers.Format(n, phonenumbers.E164)
			}
		})
	}
}
