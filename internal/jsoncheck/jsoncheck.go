// Package jsoncheck reads a JSON request body member by member and collects
// every problem with its JSON path (rules[2].reply.buttons[0].title), so a
// 422 names them all at once: unknown and duplicate members are reported,
// JSON null counts as absent, numbers keep their literal text. The request
// parsers of internal/outbound (POST /v1/messages), internal/chatbot
// (chatbot definitions) and internal/shopconfig (shop settings) are written
// with it.
package jsoncheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pytake/pytake/internal/apperr"
)

// MaxDetails bounds the problems one answer lists; the message says how many
// more there were.
const MaxDetails = 50

// Checker collects the problems found in one request body.
type Checker struct {
	what    string // "message", "chatbot": the 422 says "the <what> is invalid"
	details []apperr.Detail
	more    int // problems found beyond MaxDetails
}

// New returns a Checker for a request body describing a what.
func New(what string) *Checker { return &Checker{what: what} }

func (c *Checker) Fail(field, format string, args ...any) {
	if len(c.details) >= MaxDetails {
		c.more++
		return
	}
	c.details = append(c.details, apperr.Detail{Field: field, Issue: fmt.Sprintf(format, args...)})
}

func (c *Checker) OK() bool { return len(c.details) == 0 && c.more == 0 }

// Err is the 422 for everything collected; nil when nothing was.
func (c *Checker) Err() error {
	if c.OK() {
		return nil
	}
	first := c.details[0]
	msg := "the " + c.what + " is invalid: " + first.Field + ": " + first.Issue
	if n := len(c.details) - 1 + c.more; n > 0 {
		msg += fmt.Sprintf(" (and %d more %s)", n, Plural(n, "problem", "problems"))
	}
	return c.ErrWith(msg)
}

// ErrWith is the 422 for everything collected under a message of the
// caller's; nil when nothing was collected.
func (c *Checker) ErrWith(msg string) error {
	if c.OK() {
		return nil
	}
	e := apperr.New(apperr.Unprocessable, msg).WithDetails(c.details...)
	if c.more > 0 {
		e = e.With("details_omitted", c.more)
	}
	return e
}

func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Join makes the path of a member of the object at path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index makes the path of an element of the array at path.
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// KindOf names the JSON type of a valid JSON value.
func KindOf(raw json.RawMessage) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func IsNull(raw json.RawMessage) bool { return KindOf(raw) == "null" }

// DecodeBody checks that body is one JSON object and nothing else, its
// strings valid UTF-8; anything else is an apperr.Invalid (400).
func DecodeBody(body []byte) (json.RawMessage, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, apperr.New(apperr.Invalid, "the request body is empty; send a JSON object")
	}
	if err := CheckUTF8(body); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, apperr.Newf(apperr.Invalid, "the request body is not valid JSON: %v", err).WithCause(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, apperr.New(apperr.Invalid, "the request body has data after its JSON object")
	}
	if k := KindOf(raw); k != "an object" {
		return nil, apperr.Newf(apperr.Invalid, "the request body must be a JSON object, not %s", k)
	}
	return raw, nil
}

// Obj is one JSON object under check: its members, which of them were read,
// and where it sits in the request.
type Obj struct {
	C    *Checker
	path string
	keys []string // document order
	m    map[string]json.RawMessage
	used map[string]bool
}

// members decodes a JSON object into its members in document order; dups
// lists keys given more than once.
func members(raw json.RawMessage) (keys []string, m map[string]json.RawMessage, dups []string, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read object: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, nil, fmt.Errorf("read object: not an object")
	}
	m = map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read object key: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, nil, fmt.Errorf("read object key: got %v", tok)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, nil, fmt.Errorf("read %q: %w", key, err)
		}
		if _, seen := m[key]; seen {
			dups = append(dups, key)
		} else {
			keys = append(keys, key)
		}
		m[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, nil, fmt.Errorf("read object end: %w", err)
	}
	return keys, m, dups, nil
}

// Object opens the object raw at path, reporting a problem and returning nil
// when raw is not an object.
func (c *Checker) Object(path string, raw json.RawMessage) *Obj {
	if k := KindOf(raw); k != "an object" {
		c.Fail(path, "must be an object, not %s", k)
		return nil
	}
	keys, m, dups, err := members(raw)
	if err != nil {
		c.Fail(path, "cannot be read: %v", err)
		return nil
	}
	for _, d := range dups {
		c.Fail(Join(path, d), "is given more than once")
	}
	return &Obj{C: c, path: path, keys: keys, m: m, used: map[string]bool{}}
}

// Path is where the object sits in the request.
func (o *Obj) Path() string { return o.path }

// At is the path of member key.
func (o *Obj) At(key string) string { return Join(o.path, key) }

// Take returns member key and marks it read; null counts as absent.
func (o *Obj) Take(key string) (json.RawMessage, bool) {
	raw, ok := o.m[key]
	o.used[key] = true
	if !ok || IsNull(raw) {
		return nil, false
	}
	return raw, true
}

// Has reports whether key is present and not null, without reading it.
func (o *Obj) Has(key string) bool {
	raw, ok := o.m[key]
	return ok && !IsNull(raw)
}

// Given reports whether key is present at all, null included.
func (o *Obj) Given(key string) bool {
	_, ok := o.m[key]
	return ok
}

// Keys lists the members in document order and marks them all read: for
// objects whose keys are the client's (a map of order statuses, say), read
// member by member with Take.
func (o *Obj) Keys() []string {
	for _, k := range o.keys {
		o.used[k] = true
	}
	return append([]string(nil), o.keys...)
}

// Forbid reports key, when present, with issue.
func (o *Obj) Forbid(key, issue string) {
	if o.Has(key) {
		o.C.Fail(o.At(key), "%s", issue)
	}
	o.used[key] = true
}

// Skip marks keys as read without checking them (after a problem that
// makes them meaningless).
func (o *Obj) Skip(keys ...string) {
	for _, k := range keys {
		o.used[k] = true
	}
}

// Done reports every member nobody read.
func (o *Obj) Done() {
	for _, k := range o.keys {
		if !o.used[k] {
			o.C.Fail(o.At(k), "is not a known field")
		}
	}
}

// Str reads a string member. present is false when the member is absent or
// of the wrong type (reported).
func (o *Obj) Str(key string, required bool) (s string, present bool) {
	raw, ok := o.Take(key)
	if !ok {
		if required {
			o.C.Fail(o.At(key), "is required")
		}
		return "", false
	}
	if k := KindOf(raw); k != "a string" {
		o.C.Fail(o.At(key), "must be a string, not %s", k)
		return "", false
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		o.C.Fail(o.At(key), "cannot be read: %v", err)
		return "", false
	}
	return s, true
}

// Text reads a string member and checks its length in characters (Unicode
// code points): at least min when required, at most max. Blank strings
// count as missing when required.
func (o *Obj) Text(key string, required bool, max int) string {
	s, ok := o.Str(key, required)
	if !ok {
		return ""
	}
	o.C.Length(o.At(key), s, required, max)
	return s
}

// Length checks s at path: non-blank when required, at most max characters.
func (c *Checker) Length(path, s string, required bool, max int) bool {
	if required && strings.TrimSpace(s) == "" {
		c.Fail(path, "must not be empty")
		return false
	}
	if n := utf8.RuneCountInString(s); n > max {
		c.Fail(path, "must be at most %d characters, not %d", max, n)
		return false
	}
	return true
}

// Child opens an object member.
func (o *Obj) Child(key string, required bool) *Obj {
	raw, ok := o.Take(key)
	if !ok {
		if required {
			o.C.Fail(o.At(key), "is required")
		}
		return nil
	}
	return o.C.Object(o.At(key), raw)
}

// List reads an array member.
func (o *Obj) List(key string, required bool) ([]json.RawMessage, bool) {
	raw, ok := o.Take(key)
	if !ok {
		if required {
			o.C.Fail(o.At(key), "is required")
		}
		return nil, false
	}
	if k := KindOf(raw); k != "an array" {
		o.C.Fail(o.At(key), "must be an array, not %s", k)
		return nil, false
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		o.C.Fail(o.At(key), "cannot be read: %v", err)
		return nil, false
	}
	return items, true
}

// Number reads a number member, keeping its literal text.
func (o *Obj) Number(key string, required bool) (json.Number, bool) {
	raw, ok := o.Take(key)
	if !ok {
		if required {
			o.C.Fail(o.At(key), "is required")
		}
		return "", false
	}
	if k := KindOf(raw); k != "a number" {
		o.C.Fail(o.At(key), "must be a number, not %s", k)
		return "", false
	}
	return json.Number(strings.TrimSpace(string(raw))), true
}

// Boolean reads an optional boolean member.
func (o *Obj) Boolean(key string) *bool {
	raw, ok := o.Take(key)
	if !ok {
		return nil
	}
	var b bool
	if k := KindOf(raw); k != "a boolean" || json.Unmarshal(raw, &b) != nil {
		o.C.Fail(o.At(key), "must be true or false, not %s", KindOf(raw))
		return nil
	}
	return &b
}

// Decimal writes the JSON number n as a plain decimal string with exactly
// its value: "1001" stays "1001", "1.50" stays "1.50", "1e3" becomes "1000".
// ok is false for exponents too large to spell out.
func Decimal(n json.Number) (string, bool) {
	s := string(n)
	e := strings.IndexAny(s, "eE")
	if e < 0 {
		return s, true
	}
	mant, expText := s[:e], s[e+1:]
	exp, err := strconv.Atoi(expText)
	if err != nil || exp > 1100 || exp < -1100 {
		return "", false
	}
	sign := ""
	if strings.HasPrefix(mant, "-") {
		sign, mant = "-", mant[1:]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	point := len(intPart) + exp
	var out string
	switch {
	case point <= 0:
		out = "0." + strings.Repeat("0", -point) + digits
	case point >= len(digits):
		out = digits + strings.Repeat("0", point-len(digits))
	default:
		out = digits[:point] + "." + digits[point:]
	}
	whole, rest, hasPoint := strings.Cut(out, ".")
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	if hasPoint {
		return sign + whole + "." + rest, true
	}
	return sign + whole, true
}
