package apikey

import (
	"strings"
	"testing"
)

func TestGenerateParseRoundTrip(t *testing.T) {
	for _, mode := range []string{Live, Test} {
		t.Run(mode, func(t *testing.T) {
			k, err := Generate(mode)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(k.Plaintext, "pytake_"+mode+"_") {
				t.Fatalf("prefix: %q", k.Plaintext)
			}
			h, m, err := Parse(k.Plaintext)
			if err != nil || m != mode || !Equal(h, k.Hash) {
				t.Fatalf("Parse = %q %q %v", h, m, err)
			}
			if k.Last4 != k.Plaintext[len(k.Plaintext)-4:] {
				t.Fatalf("last4 %q", k.Last4)
			}
		})
	}
	a, _ := Generate(Live)
	b, _ := Generate(Live)
	if a.Plaintext == b.Plaintext {
		t.Fatal("two keys are equal")
	}
}

func TestParseRejects(t *testing.T) {
	good, _ := Generate(Live)
	tests := map[string]string{
		"empty":        "",
		"no prefix":    strings.TrimPrefix(good.Plaintext, "pytake_"),
		"other mode":   strings.Replace(good.Plaintext, "_live_", "_prod_", 1),
		"short":        good.Plaintext[:len(good.Plaintext)-1],
		"long":         good.Plaintext + "a",
		"upper":        strings.ToUpper(good.Plaintext[:12]) + good.Plaintext[12:],
		"bad char":     good.Plaintext[:len(good.Plaintext)-1] + "1",
		"seed example": "pytake_live_abc123",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, _, err := Parse(in); err == nil {
				t.Fatalf("Parse(%q) accepted", in)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	k, _ := Generate(Test)
	f.Add(k.Plaintext)
	f.Add("pytake_live_")
	f.Fuzz(func(t *testing.T, s string) {
		h, mode, err := Parse(s)
		if err != nil {
			return
		}
		if mode != Live && mode != Test || len(h) != 64 || Hash(s) != h {
			t.Fatalf("accepted %q with %q %q", s, h, mode)
		}
	})
}
