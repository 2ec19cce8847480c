package chatbot

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

// This file mirrors internal/outbound's request checker (whose helpers are
// unexported there): every problem is collected with its JSON path, unknown
// and duplicate members are reported, JSON null counts as absent.

// maxDetails bounds the problems one answer lists; the message says how many
// more there were.
const maxDetails = 50

// checker collects the problems found in one request body.
type checker struct {
	details []apperr.Detail
	more    int // problems found beyond maxDetails
}

func (c *checker) fail(field, format string, args ...any) {
	if len(c.details) >= maxDetails {
		c.more++
		return
	}
	c.details = append(c.details, apperr.Detail{Field: field, Issue: fmt.Sprintf(format, args...)})
}

func (c *checker) ok() bool { return len(c.details) == 0 && c.more == 0 }

// err is the 422 for everything collected; nil when nothing was.
func (c *checker) err() error {
	if c.ok() {
		return nil
	}
	first := c.details[0]
	msg := "the chatbot is invalid: " + first.Field + ": " + first.Issue
	if n := len(c.details) - 1 + c.more; n > 0 {
		msg += fmt.Sprintf(" (and %d more %s)", n, plural(n, "problem", "problems"))
	}
	e := apperr.New(apperr.Unprocessable, msg).WithDetails(c.details...)
	if c.more > 0 {
		e = e.With("details_omitted", c.more)
	}
	return e
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// join makes the path of a member of the object at path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// index makes the path of an element of the array at path.
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// kindOf names the JSON type of a valid JSON value.
func kindOf(raw json.RawMessage) string {
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

func isNull(raw json.RawMessage) bool { return kindOf(raw) == "null" }

// decodeBody checks that body is one JSON object and nothing else; anything
// else is an apperr.Invalid (400).
func decodeBody(body []byte) (json.RawMessage, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, apperr.New(apperr.Invalid, "the request body is empty; send a JSON object")
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
	if k := kindOf(raw); k != "an object" {
		return nil, apperr.Newf(apperr.Invalid, "the request body must be a JSON object, not %s", k)
	}
	return raw, nil
}

// obj is one JSON object under check: its members, which of them were read,
// and where it sits in the request.
type obj struct {
	c    *checker
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

// object opens the object raw at path, reporting a problem and returning nil
// when raw is not an object.
func (c *checker) object(path string, raw json.RawMessage) *obj {
	if k := kindOf(raw); k != "an object" {
		c.fail(path, "must be an object, not %s", k)
		return nil
	}
	keys, m, dups, err := members(raw)
	if err != nil {
		c.fail(path, "cannot be read: %v", err)
		return nil
	}
	for _, d := range dups {
		c.fail(join(path, d), "is given more than once")
	}
	return &obj{c: c, path: path, keys: keys, m: m, used: map[string]bool{}}
}

// at is the path of member key.
func (o *obj) at(key string) string { return join(o.path, key) }

// take returns member key and marks it read; null counts as absent.
func (o *obj) take(key string) (json.RawMessage, bool) {
	raw, ok := o.m[key]
	o.used[key] = true
	if !ok || isNull(raw) {
		return nil, false
	}
	return raw, true
}

// has reports whether key is present and not null, without reading it.
func (o *obj) has(key string) bool {
	raw, ok := o.m[key]
	return ok && !isNull(raw)
}

// given reports whether key is present at all, null included.
func (o *obj) given(key string) bool {
	_, ok := o.m[key]
	return ok
}

// forbid reports key, when present, with issue.
func (o *obj) forbid(key, issue string) {
	if o.has(key) {
		o.c.fail(o.at(key), "%s", issue)
	}
	o.used[key] = true
}

// skip marks keys as read without checking them (after a problem that
// makes them meaningless).
func (o *obj) skip(keys ...string) {
	for _, k := range keys {
		o.used[k] = true
	}
}

// done reports every member nobody read.
func (o *obj) done() {
	for _, k := range o.keys {
		if !o.used[k] {
			o.c.fail(o.at(k), "is not a known field")
		}
	}
}

// str reads a string member. present is false when the member is absent or
// of the wrong type (reported).
func (o *obj) str(key string, required bool) (s string, present bool) {
	raw, ok := o.take(key)
	if !ok {
		if required {
			o.c.fail(o.at(key), "is required")
		}
		return "", false
	}
	if k := kindOf(raw); k != "a string" {
		o.c.fail(o.at(key), "must be a string, not %s", k)
		return "", false
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		o.c.fail(o.at(key), "cannot be read: %v", err)
		return "", false
	}
	return s, true
}

// text reads a string member and checks its length in characters (Unicode
// code points): not blank when required, at most max.
func (o *obj) text(key string, required bool, max int) string {
	s, ok := o.str(key, required)
	if !ok {
		return ""
	}
	o.c.length(o.at(key), s, required, max)
	return s
}

// length checks s at path: non-blank when required, at most max characters.
func (c *checker) length(path, s string, required bool, max int) bool {
	if required && strings.TrimSpace(s) == "" {
		c.fail(path, "must not be empty")
		return false
	}
	if n := utf8.RuneCountInString(s); n > max {
		c.fail(path, "must be at most %d characters, not %d", max, n)
		return false
	}
	return true
}

// child opens an object member.
func (o *obj) child(key string, required bool) *obj {
	raw, ok := o.take(key)
	if !ok {
		if required {
			o.c.fail(o.at(key), "is required")
		}
		return nil
	}
	return o.c.object(o.at(key), raw)
}

// list reads an array member.
func (o *obj) list(key string, required bool) ([]json.RawMessage, bool) {
	raw, ok := o.take(key)
	if !ok {
		if required {
			o.c.fail(o.at(key), "is required")
		}
		return nil, false
	}
	if k := kindOf(raw); k != "an array" {
		o.c.fail(o.at(key), "must be an array, not %s", k)
		return nil, false
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		o.c.fail(o.at(key), "cannot be read: %v", err)
		return nil, false
	}
	return items, true
}

// boolean reads an optional boolean member.
func (o *obj) boolean(key string) *bool {
	raw, ok := o.take(key)
	if !ok {
		return nil
	}
	var b bool
	if k := kindOf(raw); k != "a boolean" || json.Unmarshal(raw, &b) != nil {
		o.c.fail(o.at(key), "must be true or false, not %s", kindOf(raw))
		return nil
	}
	return &b
}
