package chatbot

import (
	"strings"
	"unicode"
)

// folds maps a lower-case letter with a diacritic (or a ligature) to the
// plain ASCII it folds to. It covers Latin-1 Supplement and Latin
// Extended-A, plus the Romanian and Vietnamese letters most often typed
// precomposed. Fold lower-cases before looking a letter up, so only lower
// case is listed; upper-case letters whose lower case is here fold too.
// Decomposed input (a letter followed by combining marks) needs no table:
// Fold drops the marks.
var folds = map[rune]string{}

func init() {
	groups := map[string]string{
		"a":  "àáâãäåāăąª",
		"ae": "æ",
		"c":  "çćĉċč",
		"d":  "ðďđ",
		"e":  "èéêëēĕėęě",
		"g":  "ĝğġģ",
		"h":  "ĥħ",
		"i":  "ìíîïĩīĭįı",
		"ij": "ĳ",
		"j":  "ĵ",
		"k":  "ķĸ",
		"l":  "ĺļľŀł",
		"n":  "ñńņňŉŋ",
		"o":  "òóôõöøōŏőºơ",
		"oe": "œ",
		"r":  "ŕŗř",
		"s":  "śŝşšſș",
		"ss": "ß",
		"t":  "ţťŧț",
		"th": "þ",
		"u":  "ùúûüũūŭůűųư",
		"w":  "ŵ",
		"y":  "ýÿŷ",
		"z":  "źżž",
		"1":  "¹",
		"2":  "²",
		"3":  "³",
	}
	for to, from := range groups {
		for _, r := range from {
			folds[r] = to
		}
	}
}

// Fold makes text comparable for keyword matching: it lower-cases, strips
// accents and other diacritics (á→a, ç→c, ñ→n, ü→u, ß→ss, æ→ae), and turns
// every run of characters that are neither letters nor digits (punctuation,
// symbols, emoji, white space) into one space, with none at either end.
// "Olá, TUDO bem?!" folds to "ola tudo bem". Fold(Fold(s)) == Fold(s).
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	pending := false // a separator is owed before the next kept character
	for _, r := range s {
		r = unicode.ToLower(r)
		if to, ok := folds[r]; ok {
			if pending && b.Len() > 0 {
				b.WriteByte(' ')
			}
			pending = false
			b.WriteString(to)
			continue
		}
		switch {
		case unicode.Is(unicode.Mn, r):
			// A combining accent belongs to the letter before it: drop it
			// without splitting the word.
		case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mc, r):
			if pending && b.Len() > 0 {
				b.WriteByte(' ')
			}
			pending = false
			b.WriteRune(r)
		default:
			pending = true
		}
	}
	return b.String()
}

// containsPhrase reports whether the folded phrase kw occurs in the folded
// text as whole words: "ola" is in "ola tudo bem" but not in "bolacha".
func containsPhrase(text, kw string) bool {
	if kw == "" || text == "" {
		return false
	}
	return strings.Contains(" "+text+" ", " "+kw+" ")
}
