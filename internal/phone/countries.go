package phone

import "strings"

// country is one row of the numbering table.
type country struct {
	code     string   // ISO 3166-1 alpha-2
	cc       string   // ITU calling code
	trunks   []string // national trunk prefixes, most usual first; none when numbers are dialled in full
	min, max int      // national significant number length (digits after the calling code)
}

func (c country) fits(n int) bool { return n >= c.min && n <= c.max }

// trunk0 reports whether the country's trunk prefix is "0", the case where a
// "0" written after the calling code is a leftover trunk prefix.
func (c country) trunk0() bool {
	for _, t := range c.trunks {
		if t == "0" {
			return true
		}
	}
	return false
}

var (
	noTrunk  = []string(nil)
	trunk0   = []string{"0"}
	trunk1   = []string{"1"}
	trunk8   = []string{"8"}
	trunk06  = []string{"06"}
	trunk8o0 = []string{"8", "0"}
	trunk80  = []string{"80", "8", "0"} // Belarus: 8, then the 0 of the area code
)

// nanp builds a North American Numbering Plan row: calling code 1, trunk 1,
// ten-digit national numbers.
func nanp(code string) country { return country{code, "1", trunk1, 10, 10} }

// countries is the numbering table. Calling codes are prefix-free (E.164),
// which byCallingCode relies on; lengths follow the ITU national plans,
// approximately.
var countries = [...]country{
	// North American Numbering Plan.
	nanp("US"), nanp("CA"), nanp("PR"), nanp("VI"), nanp("GU"), nanp("AS"), nanp("MP"),
	nanp("AG"), nanp("AI"), nanp("BB"), nanp("BM"), nanp("BS"), nanp("DM"), nanp("DO"),
	nanp("GD"), nanp("JM"), nanp("KN"), nanp("KY"), nanp("LC"), nanp("MS"), nanp("SX"),
	nanp("TC"), nanp("TT"), nanp("VC"), nanp("VG"),

	// Rest of the Americas.
	{"MX", "52", noTrunk, 10, 10},
	{"GT", "502", noTrunk, 8, 8},
	{"BZ", "501", noTrunk, 7, 7},
	{"SV", "503", noTrunk, 8, 8},
	{"HN", "504", noTrunk, 8, 8},
	{"NI", "505", noTrunk, 8, 8},
	{"CR", "506", noTrunk, 8, 8},
	{"PA", "507", noTrunk, 7, 8},
	{"HT", "509", noTrunk, 8, 8},
	{"CU", "53", trunk0, 6, 8},
	{"CO", "57", trunk0, 8, 10},
	{"VE", "58", trunk0, 10, 10},
	{"EC", "593", trunk0, 8, 9},
	{"PE", "51", trunk0, 8, 9},
	{"BO", "591", trunk0, 8, 8},
	{"BR", "55", trunk0, 10, 11},
	{"PY", "595", trunk0, 7, 9},
	{"UY", "598", trunk0, 8, 8},
	{"AR", "54", trunk0, 10, 11},
	{"CL", "56", noTrunk, 9, 9},
	{"GY", "592", noTrunk, 7, 7},
	{"SR", "597", noTrunk, 6, 7},
	{"GF", "594", trunk0, 9, 9},
	{"AW", "297", noTrunk, 7, 7},
	{"CW", "599", noTrunk, 7, 8},

	// Europe.
	{"GB", "44", trunk0, 9, 10},
	{"GG", "44", trunk0, 9, 10},
	{"JE", "44", trunk0, 9, 10},
	{"IM", "44", trunk0, 9, 10},
	{"IE", "353", trunk0, 7, 9},
	{"PT", "351", noTrunk, 9, 9},
	{"ES", "34", noTrunk, 9, 9},
	{"FR", "33", trunk0, 9, 9},
	{"DE", "49", trunk0, 6, 11},
	{"IT", "39", noTrunk, 6, 11},
	{"NL", "31", trunk0, 9, 9},
	{"BE", "32", trunk0, 8, 9},
	{"LU", "352", noTrunk, 6, 11},
	{"AT", "43", trunk0, 6, 13},
	{"CH", "41", trunk0, 9, 9},
	{"LI", "423", noTrunk, 7, 9},
	{"DK", "45", noTrunk, 8, 8},
	{"SE", "46", trunk0, 7, 10},
	{"NO", "47", noTrunk, 8, 8},
	{"FI", "358", trunk0, 6, 11},
	{"IS", "354", noTrunk, 7, 9},
	{"PL", "48", noTrunk, 9, 9},
	{"CZ", "420", noTrunk, 9, 9},
	{"SK", "421", trunk0, 9, 9},
	{"HU", "36", trunk06, 8, 9},
	{"RO", "40", trunk0, 9, 9},
	{"BG", "359", trunk0, 7, 9},
	{"GR", "30", noTrunk, 10, 10},
	{"HR", "385", trunk0, 8, 9},
	{"SI", "386", trunk0, 8, 8},
	{"EE", "372", noTrunk, 7, 8},
	{"LV", "371", noTrunk, 8, 8},
	{"LT", "370", trunk8o0, 8, 8},
	{"CY", "357", noTrunk, 8, 8},
	{"MT", "356", noTrunk, 8, 8},
	{"MC", "377", trunk0, 8, 9},
	{"AD", "376", noTrunk, 6, 9},
	{"SM", "378", noTrunk, 6, 10},
	{"UA", "380", trunk0, 9, 9},
	{"MD", "373", trunk0, 8, 8},
	{"BY", "375", trunk80, 9, 9},
	{"RU", "7", trunk8, 10, 10},
	{"KZ", "7", trunk8, 10, 10},
	{"RS", "381", trunk0, 7, 9},
	{"BA", "387", trunk0, 8, 9},
	{"ME", "382", trunk0, 8, 8},
	{"MK", "389", trunk0, 8, 8},
	{"AL", "355", trunk0, 8, 9},
	{"TR", "90", trunk0, 10, 10},
	{"GE", "995", trunk0, 9, 9},
	{"AM", "374", trunk0, 8, 8},

	// Asia, Middle East and Oceania.
	{"IN", "91", trunk0, 10, 10},
	{"PK", "92", trunk0, 9, 10},
	{"BD", "880", trunk0, 8, 10},
	{"LK", "94", trunk0, 9, 9},
	{"NP", "977", trunk0, 8, 10},
	{"CN", "86", trunk0, 10, 11},
	{"HK", "852", noTrunk, 8, 8},
	{"MO", "853", noTrunk, 8, 8},
	{"TW", "886", trunk0, 8, 9},
	{"JP", "81", trunk0, 9, 10},
	{"KR", "82", trunk0, 8, 10},
	{"SG", "65", noTrunk, 8, 8},
	{"MY", "60", trunk0, 9, 10},
	{"ID", "62", trunk0, 9, 12},
	{"PH", "63", trunk0, 9, 10},
	{"TH", "66", trunk0, 8, 9},
	{"VN", "84", trunk0, 9, 10},
	{"AU", "61", trunk0, 9, 9},
	{"NZ", "64", trunk0, 8, 10},
	{"AE", "971", trunk0, 8, 9},
	{"SA", "966", trunk0, 9, 9},
	{"QA", "974", noTrunk, 8, 8},
	{"KW", "965", noTrunk, 8, 8},
	{"BH", "973", noTrunk, 8, 8},
	{"OM", "968", noTrunk, 8, 8},
	{"JO", "962", trunk0, 8, 9},
	{"LB", "961", trunk0, 7, 8},
	{"IL", "972", trunk0, 8, 9},

	// Africa.
	{"ZA", "27", trunk0, 9, 9},
	{"NG", "234", trunk0, 8, 10},
	{"KE", "254", trunk0, 9, 9},
	{"EG", "20", trunk0, 9, 10},
	{"MA", "212", trunk0, 9, 9},
	{"DZ", "213", trunk0, 8, 9},
	{"TN", "216", noTrunk, 8, 8},
	{"GH", "233", trunk0, 9, 9},
	{"AO", "244", noTrunk, 9, 9},
	{"MZ", "258", noTrunk, 8, 9},
	{"CV", "238", noTrunk, 7, 7},
	{"ET", "251", trunk0, 9, 9},
	{"TZ", "255", trunk0, 9, 9},
	{"UG", "256", trunk0, 9, 9},
	{"SN", "221", noTrunk, 9, 9},
	{"CI", "225", noTrunk, 10, 10},
	{"CM", "237", noTrunk, 9, 9},
}

// lookupCountry finds an ISO 3166-1 alpha-2 code, case-insensitively; "UK"
// is read as GB.
func lookupCountry(code string) (country, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "UK" {
		code = "GB"
	}
	for _, c := range countries {
		if c.code == code {
			return c, true
		}
	}
	return country{}, false
}

// byCallingCode finds the table row whose calling code starts digits.
// Countries sharing a code (NANP, RU/KZ, GB/GG/JE/IM) share the attributes
// used here, so the first row is as good as any.
func byCallingCode(digits string) (country, bool) {
	for _, c := range countries {
		if strings.HasPrefix(digits, c.cc) {
			return c, true
		}
	}
	return country{}, false
}
