package outbound

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

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
		{"12345678", ToPhone, "12345678"},               // 8 digits
		{"123456789012345", ToPhone, "123456789012345"}, // 15 digits
		{"ct_01JABCDEFGHJKMNPQRSTVWXYZ0", ToContact, "ct_01JABCDEFGHJKMNPQRSTVWXYZ0"},
		{"ct_x", ToContact, "ct_x"},
		{"US.13491208655302741918", ToBSUID, "US.13491208655302741918"},
		{"BR.12345", ToBSUID, "BR.12345"},
		{"HK.abcDEF123", ToBSUID, "HK.abcDEF123"}, // Meta: letters and digits
		{"US." + strings.Repeat("9", 128), ToBSUID, "US." + strings.Repeat("9", 128)},
	}
	for _, tc := range cases {
		kind, out, err := NormalizeTo(tc.in)
		assert.NoError(t, err, "NormalizeTo(%q) = %s, %q, %v; want %s, %q", tc.in, kind, out, err, tc.kind, tc.out)
		assert.Equal(t, tc.kind, kind, "NormalizeTo(%q) = %s, %q, %v; want %s, %q", tc.in, kind, out, err, tc.kind, tc.out)
		assert.Equal(t, tc.out, out, "NormalizeTo(%q) = %s, %q, %v; want %s, %q", tc.in, kind, out, err, tc.kind, tc.out)
	}
}

func TestNormalizeToRejects(t *testing.T) {
	cases := map[string]string{
		"":                               "empty",
		"   ":                            "empty",
		"1234567":                        "7 digits",
		"1234567890123456":               "16 digits",
		"+55 11 9999a-9999":              "phone number",
		"55+11999999999":                 "phone number",
		"++5511999999999":                "phone number",
		"0055 11 99999-9999":             "country code",
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
		kind, out, err := NormalizeTo(in)
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
