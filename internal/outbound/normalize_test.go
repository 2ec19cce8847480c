package outbound

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
)

func TestNormalizeTo(t *testing.T) {
	cases := []struct {
		in   string
		kind ToKind
		out  string
	}{
		{"5511999999999", ToPhone, "5511999999999"},
		{"+5511999999999", ToPhone, "5511999999999"},
		{"+55 11 99999-9999", ToPhone, "5511999999999"},
		{"+55 (11) 99999-9999", ToPhone, "5511999999999"},
		{"+1.555.078.3881", ToPhone, "15550783881"},
		{"  +44 20 7946 0958 ", ToPhone, "442079460958"},
		{"+68312345", ToPhone, "68312345"},               // 8 digits
		{"+882123456789012", ToPhone, "882123456789012"}, // 15 digits
		{"15550783881", ToPhone, "15550783881"},          // Meta's test numbers, exchange 0xx
		{"551187654321", ToPhone, "551187654321"},        // a wa_id from before the ninth digit
		{"11 98765-4321", ToPhone, "5511987654321"},      // national: the default country (BR)
		{"(11) 98765-4321", ToPhone, "5511987654321"},    // national: the default country (BR)
		{"ct_01JABCDEFGHJKMNPQRSTVWXYZ0", ToContact, "ct_01JABCDEFGHJKMNPQRSTVWXYZ0"},
		{"ct_x", ToContact, "ct_x"},
		{"US.13491208655302741918", ToBSUID, "US.13491208655302741918"},
		{"BR.12345", ToBSUID, "BR.12345"},
		{"HK.abcDEF123", ToBSUID, "HK.abcDEF123"}, // Meta: letters and digits
		{"US." + strings.Repeat("9", 128), ToBSUID, "US." + strings.Repeat("9", 128)},
	}
	for _, tc := range cases {
		kind, out, err := NormalizeTo("to", tc.in, "BR")
		assert.NoError(t, err, "NormalizeTo(%q) = %s, %q, %v; want %s, %q", tc.in, kind, out, err, tc.kind, tc.out)
		assert.Equal(t, tc.kind, kind, "NormalizeTo(%q) = %s, %q, %v; want %s, %q", tc.in, kind, out, err, tc.kind, tc.out)
		assert.Equal(t, tc.out, out, "NormalizeTo(%q) = %s, %q, %v; want %s, %q", tc.in, kind, out, err, tc.kind, tc.out)
	}
}

func TestNormalizeToRejects(t *testing.T) {
	cases := map[string]string{
		"":                               "empty",
		"   ":                            "empty",
		"+1234567":                       "digits",
		"+1234567890123456":              "digits",
		"+55 11 9999a-9999":              "phone number",
		"55+11999999999":                 "phone number",
		"++5511999999999":                "phone number",
		"+0 55 11 99999-9999":            "calling code",
		"+":                              "phone number",
		"()-. ":                          "phone number",
		"ct_":                            "contact id",
		"ct_01JA-BC":                     "contact id",
		"ct_" + strings.Repeat("a", 65):  "contact id",
		"us.13491208655302741918":        "phone number",
		"US.1234":                        "phone number", // too short for a BSUID
		"US." + strings.Repeat("9", 129): "phone number",
		"USA.13491208655302741918":       "phone number",
		"US.ENT.11815799212886844830":    "phone number", // parent BSUIDs are not accepted
		"US.1349-1208":                   "phone number",
		"5511999999999@s.whatsapp.net":   "phone number",
		"+55 11 99999-9999\n":            "", // trailing space is trimmed: accepted
		"\u0665\u0665\u0661\u0661\u0669\u0669\u0669\u0669\u0669\u0669\u0669\u0669\u0669": "phone number", // Arabic-Indic digits
	}
	for in, want := range cases {
		kind, out, err := NormalizeTo("to", in, "")
		if want == "" {
			assert.NoError(t, err, "NormalizeTo(%q): %v", in, err)
			continue
		}
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.Unprocessable || len(e.Details) != 1 || e.Details[0].Field != "to" {
			t.Errorf("NormalizeTo(%q) = %s, %q, %v; want a 422 on to", in, kind, out, err)
			continue
		}
		assert.Contains(t, e.Details[0].Issue, want, "NormalizeTo(%q): issue %q does not mention %q", in, e.Details[0].Issue, want)
	}
}

// A number without its country code is never guessed: with no default
// country it is a 422 missing_country_code naming the field.
func TestNormalizeToMissingCountry(t *testing.T) {
	for _, in := range []string{"(11) 95555-1234", "11 95555-1234", "011 95555-1234", "11955551234"} {
		_, _, err := NormalizeTo("whatsapp_id", in, "")
		e, ok := apperr.As(err)
		if !assert.True(t, ok, "NormalizeTo(%q): %v", in, err) {
			continue
		}
		assert.Equal(t, apperr.Unprocessable, e.Kind, in)
		assert.Equal(t, "missing_country_code", e.Code, in)
		assert.Equal(t, []string{"whatsapp_id"}, apperr.Fields(err), in)
		_, d, err := NormalizeTo("whatsapp_id", in, "BR")
		assert.NoError(t, err, in)
		assert.Equal(t, "5511955551234", d, in)
	}
}

// Parse keeps a phone written without '+' for the API to read with the
// organisation's default country.
func TestParseDefersNationalNumbers(t *testing.T) {
	r, err := Parse([]byte(`{"to":"(11) 95555-1234","text":"Olá"}`))
	require.NoError(t, err)
	assert.True(t, r.NeedsCountry())
	assert.Empty(t, r.To)
	e, _ := apperr.As(r.ResolveTo(""))
	require.NotNil(t, e)
	assert.Equal(t, "missing_country_code", e.Code)
	require.NoError(t, r.ResolveTo("BR"))
	assert.Equal(t, "5511955551234", r.To)

	r, err = Parse([]byte(`{"to":"51912345678","text":"Olá"}`))
	require.NoError(t, err)
	assert.Equal(t, "51912345678", r.To, "Peru without a default country")
	require.NoError(t, r.ResolveTo("BR"))
	assert.Equal(t, "5551912345678", r.To, "Porto Alegre for a Brazilian organisation")

	r, err = Parse([]byte(`{"to":"+55 11 95555-1234","text":"Olá"}`))
	require.NoError(t, err)
	assert.False(t, r.NeedsCountry())
	assert.Equal(t, "5511955551234", r.To)
}
