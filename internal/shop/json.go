package shop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/pytake/pytake/internal/textcut"
)

// ErrInvalidPayload is wrapped by every error ParseShopifyOrder and
// ParseWooCommerceOrder return.
var ErrInvalidPayload = errors.New("invalid payload")

// maxIDDigits is the length of the largest uint64.
const maxIDDigits = 20

func payloadErr(platform, format string, args ...any) error {
	return fmt.Errorf("%s order: %w: %s", platform, ErrInvalidPayload, fmt.Sprintf(format, args...))
}

// decodeObject decodes body, which must be exactly one JSON object, into v.
// Unknown fields are ignored.
func decodeObject(platform string, body []byte, v any) error {
	b := bytes.TrimSpace(body)
	switch {
	case len(b) == 0:
		return payloadErr(platform, "empty body")
	case b[0] != '{':
		if json.Valid(b) {
			return payloadErr(platform, "not a JSON object")
		}
		return payloadErr(platform, "not JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return payloadErr(platform, "not JSON: %s at byte %d", syn.Error(), syn.Offset)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return payloadErr(platform, "truncated JSON")
		case errors.As(err, &typ):
			return payloadErr(platform, "field %q: unexpected %s", typ.Field, typ.Value)
		default:
			return payloadErr(platform, "%v", err)
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return payloadErr(platform, "data after the JSON object")
	}
	return nil
}

// text is a JSON value read leniently as text: a string as it is, a number
// exactly as written (no float rounding), null and false as "". Objects,
// arrays and true are type errors naming the field.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	switch c := b[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	case c == 'n' || c == 'f':
		*t = ""
	case c == '-' || c >= '0' && c <= '9':
		*t = text(b)
	default:
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[string]()}
	}
	return nil
}

func (t text) trim() string { return strings.TrimSpace(string(t)) }

// orderID is a positive integer id read from a JSON number or a string of
// digits, kept as its canonical decimal text: ids above 2^53 (Shopify's)
// stay exact because no float is involved. null leaves it empty.
type orderID string

func (id *orderID) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] == 'n' {
		*id = ""
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	} else if c := b[0]; c != '-' && (c < '0' || c > '9') {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[uint64]()}
	}
	n, ok := parseID(s)
	if !ok {
		return &json.UnmarshalTypeError{Value: "value " + strconv.Quote(textcut.Clip(s, 32)) + " (not a positive integer)", Type: reflect.TypeFor[uint64]()}
	}
	*id = orderID(strconv.FormatUint(n, 10))
	return nil
}

func parseID(s string) (uint64, bool) {
	if len(s) > maxIDDigits || !allDigits(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n > 0
}

// lenient holds an optional JSON object: null, false and an empty array (PHP
// encodes an empty associative array as []) leave it zero.
type lenient[T any] struct{ V T }

func (l *lenient[T]) UnmarshalJSON(b []byte) error {
	s := bytes.TrimSpace(b)
	if len(s) == 0 || s[0] == 'n' || s[0] == 'f' || (s[0] == '[' && isEmptyArray(s)) {
		var zero T
		l.V = zero
		return nil
	}
	return json.Unmarshal(s, &l.V)
}

func isEmptyArray(b []byte) bool {
	return len(b) >= 2 && b[0] == '[' && b[len(b)-1] == ']' && len(bytes.TrimSpace(b[1:len(b)-1])) == 0
}

// jsonKind names the kind of a JSON value for error messages.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "empty value"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// alpha2 returns s as an upper-case ISO 3166-1 alpha-2 code, or "" when s is
// not two ASCII letters (Shopify's "country" holds a name, for instance).
func alpha2(s string) string {
	s = strings.TrimSpace(s)
	if len(s) != 2 {
		return ""
	}
	u := strings.ToUpper(s)
	if u[0] < 'A' || u[0] > 'Z' || u[1] < 'A' || u[1] > 'Z' {
		return ""
	}
	return u
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
