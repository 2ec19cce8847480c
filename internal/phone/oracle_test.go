package phone

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// oracleNumbers generates valid numbers of region: libphonenumber's example
// mobile and fixed-line numbers with their last digits changed, kept only
// when libphonenumber still calls them valid.
func oracleNumbers(t *testing.T, region string, r *rand.Rand, n int) []*phonenumbers.PhoneNumber {
	t.Helper()
	var out []*phonenumbers.PhoneNumber
	for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.MOBILE, phonenumbers.FIXED_LINE} {
		ex := phonenumbers.GetExampleNumberForType(region, typ)
		if ex == nil {
			continue
		}
		out = append(out, ex)
		nsn := phonenumbers.GetNationalSignificantNumber(ex)
		for i := 0; i < n; i++ {
			b := []byte(nsn)
			for j := len(b) - 4; j < len(b); j++ {
				if j >= 0 {
					b[j] = byte('0' + r.IntN(10))
				}
			}
			num, err := phonenumbers.Parse("+"+strconv.Itoa(phonenumbers.GetCountryCodeForRegion(region))+string(b), "")
			if err == nil && phonenumbers.IsValidNumberForRegion(num, region) {
				out = append(out, num)
			}
		}
	}
	return out
}

// TestOracleLibphonenumber compares the compact rules with libphonenumber
// on generated numbers of every country the table claims: each must read
// the national and international forms as libphonenumber does.
func TestOracleLibphonenumber(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 26))
	checked := 0
	for _, c := range countries {
		for _, num := range oracleNumbers(t, c.code, r, 25) {
			e164 := strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+")
			national := phonenumbers.Format(num, phonenumbers.NATIONAL)
			intl := phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
			checked++
			if c.code == "AR" && strings.HasPrefix(e164, "549") {
				// This port formats Argentine mobiles nationally without
				// their area code ("09 15-2345-6789" for 54 9 11 2345
				// 6789); the national form is tested in parse_test.go.
				national = intl
			}
			if got, err := Parse(national, c.code); err != nil || got != e164 {
				t.Errorf("%s: Parse(%q, %s) = %q, %v; libphonenumber says %s", c.code, national, c.code, got, err, e164)
			}
			if got, err := Parse(intl, ""); err != nil || got != e164 {
				t.Errorf("%s: Parse(%q) = %q, %v; libphonenumber says %s", c.code, intl, got, err, e164)
			}
			if got, err := ParseRecipient(intl, ""); err != nil || got != e164 {
				t.Errorf("%s: ParseRecipient(%q) = %q, %v; libphonenumber says %s", c.code, intl, got, err, e164)
			}
			// WhatsApp's own form, digits without '+', is never refused
			// nor misread, whatever the default country.
			for _, def := range []string{"", "BR", c.code} {
				if def == "BR" && c.code != "BR" && brazilNational(e164) {
					// Ten or eleven digits that are also a Brazilian
					// national number ("51 91234-5678", Porto Alegre, or
					// Peru): a Brazilian organisation means Brazil.
					continue
				}
				if got, err := ParseRecipient(e164, def); err != nil || got != e164 {
					t.Errorf("%s: ParseRecipient(%q, %q) = %q, %v; want it unchanged", c.code, e164, def, got, err)
				}
			}
			if c.code == "BR" || c.code == "MX" || c.code == "AR" {
				if got, err := ParseRecipient(national, c.code); err != nil || got != e164 {
					t.Errorf("%s: ParseRecipient(%q, %s) = %q, %v; libphonenumber says %s", c.code, national, c.code, got, err, e164)
				}
			}
			if CountryOf(e164) == "" {
				t.Errorf("%s: CountryOf(%s) is empty", c.code, e164)
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d numbers checked", checked)
	}
	t.Logf("%d numbers of %d regions agree with libphonenumber", checked, len(countries))
}
