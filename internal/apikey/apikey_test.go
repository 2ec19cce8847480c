package apikey

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGenerateParseRoundTrip(t *testing.T) {
	for _, mode := range []string{Live, Test} {
		t.Run(mode, func(t *testing.T) {
			k, err := Generate(mode)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(k.Plaintext, "pytake_"+mode+"_"), "prefix: %q", k.Plaintext)
			h, m, err := Parse(k.Plaintext)
			require.NoError(t, err, "Parse = %q %q %v", h, m, err)
			require.Equal(t, mode, m, "Parse")
			require.True(t, Equal(h, k.Hash), "Parse")
			require.Equal(t, k.Plaintext[len(k.Plaintext)-4:], k.Last4, "last4 %q", k.Last4)
		})
	}
	a, _ := Generate(Live)
	b, _ := Generate(Live)
	require.NotEqual(t, b.Plaintext, a.Plaintext, "two keys are equal")
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
			_, _, err := Parse(in)
			require.Error(t, err, "Parse(%q) accepted", in)
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
