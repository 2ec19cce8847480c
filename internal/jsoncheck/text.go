package jsoncheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/pytake/pytake/internal/apperr"
)

// CheckUTF8 refuses a JSON body whose strings are not valid UTF-8: raw
// bytes that do not decode, or a \u escape of a lone surrogate. Go's decoder
// would silently turn either into U+FFFD, storing something the client
// never sent. The answer is a 400 (invalid_utf8) naming the first bad
// string's path ("body" at the top level; a bad object key names its
// object). Bodies that are not JSON pass, for the decoder to report.
func CheckUTF8(body []byte) error {
	if utf8.Valid(body) && !bytes.Contains(body, []byte(`\u`)) && !bytes.Contains(body, []byte(`\U`)) {
		return nil // the common case: nothing to walk
	}
	w := walker{b: body}
	w.ws()
	path, bad := w.value("")
	if !bad {
		return nil
	}
	if path == "" {
		path = "body"
	}
	return apperr.New(apperr.Invalid, "the request body is not valid UTF-8 at "+path).WithCode("invalid_utf8").
		WithDetails(apperr.Detail{Field: path, Issue: "is not valid UTF-8 text"})
}

// walker scans JSON text, tracking the path of the value it is in. It stops
// (reporting nothing) at anything that is not JSON.
type walker struct {
	b   []byte
	i   int
	err bool
}

func (w *walker) ws() {
	for w.i < len(w.b) && (w.b[w.i] == ' ' || w.b[w.i] == '\t' || w.b[w.i] == '\n' || w.b[w.i] == '\r') {
		w.i++
	}
}

// value scans one value at path; bad reports a string that is not UTF-8 and
// where.
func (w *walker) value(path string) (string, bool) {
	if w.i >= len(w.b) {
		w.err = true
		return "", false
	}
	switch w.b[w.i] {
	case '{':
		w.i++
		w.ws()
		if w.i < len(w.b) && w.b[w.i] == '}' {
			w.i++
			return "", false
		}
		for !w.err {
			w.ws()
			start := w.i
			if w.i >= len(w.b) || w.b[w.i] != '"' {
				w.err = true
				break
			}
			if !w.str() {
				return path, true // a bad key: name its object
			}
			var key string
			if json.Unmarshal(w.b[start:w.i], &key) != nil {
				w.err = true
				break
			}
			w.ws()
			if w.i >= len(w.b) || w.b[w.i] != ':' {
				w.err = true
				break
			}
			w.i++
			w.ws()
			if p, bad := w.value(Join(path, key)); bad {
				return p, true
			}
			w.ws()
			if w.i < len(w.b) && w.b[w.i] == ',' {
				w.i++
				continue
			}
			if w.i < len(w.b) && w.b[w.i] == '}' {
				w.i++
				return "", false
			}
			w.err = true
		}
		return "", false
	case '[':
		w.i++
		w.ws()
		if w.i < len(w.b) && w.b[w.i] == ']' {
			w.i++
			return "", false
		}
		for n := 0; !w.err; n++ {
			w.ws()
			if p, bad := w.value(Index(path, n)); bad {
				return p, true
			}
			w.ws()
			if w.i < len(w.b) && w.b[w.i] == ',' {
				w.i++
				continue
			}
			if w.i < len(w.b) && w.b[w.i] == ']' {
				w.i++
				return "", false
			}
			w.err = true
		}
		return "", false
	case '"':
		if !w.str() {
			return path, true
		}
		return "", false
	default: // number, true, false, null
		for w.i < len(w.b) && !bytes.ContainsRune([]byte(",]} \t\r\n"), rune(w.b[w.i])) {
			w.i++
		}
		return "", false
	}
}

// str scans a string from its opening quote past its closing one, and
// reports whether it is valid UTF-8 (a malformed one sets err and counts
// as valid: the decoder reports it).
func (w *walker) str() bool {
	w.i++ // the opening quote
	for w.i < len(w.b) {
		c := w.b[w.i]
		switch {
		case c == '"':
			w.i++
			return true
		case c == '\\':
			if w.i+1 >= len(w.b) {
				w.err = true
				return true
			}
			if w.b[w.i+1] != 'u' {
				w.i += 2
				continue
			}
			r, ok := w.hex4(w.i + 2)
			if !ok {
				w.err = true
				return true
			}
			w.i += 6
			switch {
			case r >= 0xD800 && r < 0xDC00: // a high surrogate needs its low half
				if w.i+1 < len(w.b) && w.b[w.i] == '\\' && w.b[w.i+1] == 'u' {
					if lo, ok := w.hex4(w.i + 2); ok && lo >= 0xDC00 && lo < 0xE000 {
						w.i += 6
						continue
					}
				}
				w.skip()
				return false
			case r >= 0xDC00 && r < 0xE000:
				w.skip()
				return false
			}
		case c < utf8.RuneSelf:
			w.i++
		default:
			r, size := utf8.DecodeRune(w.b[w.i:])
			if r == utf8.RuneError && size <= 1 {
				w.skip()
				return false
			}
			w.i += size
		}
	}
	w.err = true
	return true
}

// skip moves past the rest of a string after a problem was found.
func (w *walker) skip() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case '\\':
			w.i += 2
		case '"':
			w.i++
			return
		default:
			w.i++
		}
	}
}

func (w *walker) hex4(at int) (rune, bool) {
	if at+4 > len(w.b) {
		return 0, false
	}
	var r rune
	for _, c := range w.b[at : at+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}

// ControlIssue says what is wrong with s as a name, tag, key or identifier
// (not free text): "" when it holds no control character (C0, DEL, C1:
// NUL, tabs and newlines included). Free text (messages, descriptions)
// keeps its newlines and is not checked with this.
func ControlIssue(s string) string {
	for i, r := range s {
		if unicode.IsControl(r) {
			return fmt.Sprintf("must not contain control characters (U+%04X at byte %d)", r, i)
		}
	}
	return ""
}

// Plain reports a control character in s at path; false when there was one.
func (c *Checker) Plain(path, s string) bool {
	if issue := ControlIssue(s); issue != "" {
		c.Fail(path, "%s", issue)
		return false
	}
	return true
}
