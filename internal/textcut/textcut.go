// Package textcut cuts text to a size without breaking a UTF-8 character.
package textcut

import "unicode/utf8"

// Bytes is s cut to at most n bytes, on a character boundary.
func Bytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// A character is at most utf8.UTFMax bytes: further back than that
	// is not UTF-8, and is cut where it is.
	for back := 0; back < utf8.UTFMax-1 && n > 0 && !utf8.RuneStart(s[n]); back++ {
		n--
	}
	return s[:n]
}

// Clip is s cut like Bytes and marked "…" when it was cut: a user's text
// quoted in an error message.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return Bytes(s, n) + "…"
}
