package chatbot

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"!!!", ""},
		{"Olá!", "ola"},
		{"  OLA   tudo bem?? ", "ola tudo bem"},
		{"Preço", "preco"},
		{"AÇÃO", "acao"},
		{"Straße", "strasse"},
		{"STRAẞE", "strasse"},
		{"Ñandú", "nandu"},
		{"Über", "uber"},
		{"Æsop œuvre", "aesop oeuvre"},
		{"Łódź", "lodz"},
		{"ŞİŞLİ", "sisli"},
		{"Ștefan Țară", "stefan tara"},
		{"Þór Ðóra", "thor dora"},
		{"a\u0301gua", "agua"},             // decomposed accent
		{"n\u0303o", "no"},                 // decomposed tilde
		{"\u212Bngstr\u00F6m", "angstrom"}, // ANGSTROM SIGN lower-cases to å
		{"d'água", "d agua"},
		{"R$ 99,90", "r 99 90"},
		{"2ª via", "2a via"},
		{"1º lugar", "1o lugar"},
		{"m²", "m2"},
		{"emoji 👍👍 ok", "emoji ok"},
		{"tab\tnew\nline", "tab new line"},
		{"snake_case-and/slash", "snake case and slash"},
		{"Привет, МИР", "привет мир"},
		{"日本語", "日本語"},
		{"bad \xff utf8", "bad utf8"},
	}
	for _, tt := range tests {
		got := Fold(tt.in)
		assert.Equal(t, tt.want, got, "Fold(%q) = %q, want %q", tt.in, got, tt.want)
	}
}

// TestFoldLatin: every letter of Latin-1 Supplement and Latin Extended-A
// folds to lower-case ASCII.
func TestFoldLatin(t *testing.T) {
	for r := rune(0xC0); r <= 0x17F; r++ {
		if r == '×' || r == '÷' {
			continue
		}
		got := Fold(string(r))
		assert.NotEmpty(t, got, "Fold(%q) is empty", r)
		for i := 0; i < len(got); i++ {
			if got[i] < 'a' || got[i] > 'z' {
				t.Errorf("Fold(%q) = %q, not lower-case ASCII", r, got)
				break
			}
		}
	}
}

func TestContainsPhrase(t *testing.T) {
	tests := []struct {
		text, kw string
		want     bool
	}{
		{"ola", "ola", true},
		{"ola tudo bem", "ola", true},
		{"bem ola", "ola", true},
		{"oi ola oi", "ola", true},
		{"bolacha", "ola", false},
		{"olaria", "ola", false},
		{"a segunda via", "segunda via", true},
		{"a segunda vias", "segunda via", false},
		{"", "ola", false},
		{"ola", "", false},
	}
	for _, tt := range tests {
		got := containsPhrase(tt.text, tt.kw)
		assert.Equal(t, tt.want, got, "containsPhrase(%q, %q) = %v", tt.text, tt.kw, got)
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"", "Olá!", "Straße", "a\u0301", "\u212B", "ǅ", "İ", "\xff", "  x  y  ", "ﬁ", "ⅫX", "1️⃣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Fold(s)
		require.True(t, utf8.ValidString(got), "Fold(%q) = %q is not UTF-8", s, got)
		again := Fold(got)
		require.Equal(t, got, again, "Fold is not idempotent: Fold(%q) = %q, Fold of that = %q", s, got, again)
		require.False(t, strings.HasPrefix(got, " "), "Fold(%q) = %q has stray spaces", s, got)
		require.False(t, strings.HasSuffix(got, " "), "Fold(%q) = %q has stray spaces", s, got)
		require.NotContains(t, got, "  ", "Fold(%q) = %q has stray spaces", s, got)
		for i := 0; i < len(got); i++ {
			c := got[i]
			if c < 0x80 && !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ' ') {
				t.Fatalf("Fold(%q) = %q keeps %q", s, got, c)
			}
		}
		for _, r := range got {
			_, ok := folds[r]
			require.False(t, ok, "Fold(%q) = %q keeps %q", s, got, r)
		}
		// A text always contains itself, and its own words.
		if got != "" && !containsPhrase(got, got) {
			t.Fatalf("%q does not contain itself", got)
		}
		for i, w := range strings.Fields(got) {
			if i == 20 {
				break
			}
			require.True(t, containsPhrase(got, w), "%q does not contain its word %q", got, w)
		}
	})
}
