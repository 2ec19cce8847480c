package campaign

import (
	"regexp"
	"strings"
	"testing"
)

// validAttrKey answers as the expression it replaced.
func TestValidAttrKeyMatchesItsExpression(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9_\-]{1,64}$`)
	cases := []string{"", "a", "Z9_-", "a b", "é", "a\n", "a.b", "a/b", strings.Repeat("x", 64), strings.Repeat("x", 65), "\x00", "{", "`", "@", "[", ":"}
	for c := 0; c < 256; c++ {
		cases = append(cases, string(rune(c)), "k"+string([]byte{byte(c)}))
	}
	for _, k := range cases {
		if got, want := validAttrKey(k), re.MatchString(k); got != want {
			t.Errorf("validAttrKey(%q) = %v, want %v", k, got, want)
		}
	}
}

func FuzzValidAttrKey(f *testing.F) {
	re := regexp.MustCompile(`^[A-Za-z0-9_\-]{1,64}$`)
	f.Add("order_id")
	f.Add("a-b")
	f.Fuzz(func(t *testing.T, k string) {
		if got, want := validAttrKey(k), re.MatchString(k); got != want {
			t.Fatalf("validAttrKey(%q) = %v, want %v", k, got, want)
		}
	})
}
