package delivery

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrUnsafeNumber is returned by CanonicalBody for an integer that
// JavaScript cannot hold exactly (beyond 2^53, or 1e21 and up) or a number
// too large for a float64: JSON.parse would change it, so the body could
// not be both faithful and verifiable by the guide's Node.js snippet. Such
// values (Shopify order ids, ...) must travel as JSON strings.
var ErrUnsafeNumber = errors.New("delivery: number not representable in JavaScript")

// ErrInvalidBody is returned by CanonicalBody for input that is not one
// JSON value.
var ErrInvalidBody = errors.New("delivery: invalid JSON body")

// MarshalBody encodes v with encoding/json and returns CanonicalBody of the
// result.
func MarshalBody(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("delivery: encode body: %w", err)
	}
	return CanonicalBody(b)
}

// CanonicalBody re-encodes the JSON value b into the bytes a delivery sends
// and signs: out is such that JSON.stringify(JSON.parse(out)) is out again,
// byte for byte, and it is valid UTF-8.
//
// Why: the integrations guide's Node.js snippet computes the HMAC over
// JSON.stringify(req.body), the body re-serialised by Express after
// parsing, not over the bytes received; its Python snippet decodes the
// bytes as UTF-8 and encodes them again. Go's encoding/json writes <, >, &,
// U+2028 and U+2029 as \u escapes, which JSON.stringify writes literally,
// so a body straight from json.Marshal fails the Node.js check whenever a
// message contains one of them. CanonicalBody writes what JSON.stringify
// writes:
//
//   - no insignificant whitespace;
//   - strings with only ", \, and control characters escaped (\b \t \n \f
//     \r, others as \u00xx), everything else literal UTF-8; invalid UTF-8
//     becomes U+FFFD;
//   - numbers in JavaScript's shortest form (1.0 → 1, 1e2 → 100, 1e-7,
//     1e+21); an integer JavaScript would round is refused (ErrUnsafeNumber)
//     rather than altered;
//   - object members in JavaScript's property order: keys that are array
//     indices ("0", "17", up to 4294967294) first, in ascending numeric
//     order, then the others in their order in b; for a repeated key the
//     last value is kept at the first key's position, as JSON.parse does.
//
// Values nested deeper than 256 levels are refused. Errors wrap ErrInvalidBody or ErrUnsafeNumber.
func CanonicalBody(b []byte) ([]byte, error) {
	c := canonicalizer{dec: json.NewDecoder(bytes.NewReader(b))}
	c.dec.UseNumber()
	out, err := c.value(make([]byte, 0, len(b)))
	if err != nil {
		return nil, err
	}
	if _, err := c.dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the top-level value", ErrInvalidBody)
	}
	return out, nil
}

// maxDepth bounds the nesting of a body: events are a few levels deep, and
// the bound keeps the work linear.
const maxDepth = 256

// canonicalizer re-encodes one JSON value read from dec.
type canonicalizer struct {
	dec  *json.Decoder
	path []step // down to the current value
}

// step is one member key or array index of a path.
type step struct {
	key   string
	index int // -1 for a key
}

// where names the current value in errors: $.data.items[2].
func (c *canonicalizer) where() string {
	var b strings.Builder
	b.WriteByte('$')
	for _, s := range c.path {
		if s.index < 0 {
			b.WriteString("." + s.key)
		} else {
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		}
	}
	return b.String()
}

func (c *canonicalizer) fail(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: at %s: %s", sentinel, c.where(), fmt.Sprintf(format, args...))
}

// value reads one value and appends its canonical form to dst.
func (c *canonicalizer) value(dst []byte) ([]byte, error) {
	tok, err := c.dec.Token()
	if err != nil {
		return nil, c.fail(ErrInvalidBody, "%v", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if len(c.path) >= maxDepth {
			return nil, c.fail(ErrInvalidBody, "nested deeper than %d levels", maxDepth)
		}
		switch t {
		case '{':
			return c.object(dst)
		case '[':
			return c.array(dst)
		}
		return nil, c.fail(ErrInvalidBody, "unexpected %q", t)
	case string:
		return appendJSString(dst, t), nil
	case json.Number:
		return c.number(dst, string(t))
	case bool:
		return strconv.AppendBool(dst, t), nil
	case nil:
		return append(dst, "null"...), nil
	}
	return nil, c.fail(ErrInvalidBody, "unexpected token %v", tok)
}

type member struct {
	key   string
	value []byte
}

func (c *canonicalizer) object(dst []byte) ([]byte, error) {
	var members []member
	var seen map[string]int
	for c.dec.More() {
		tok, err := c.dec.Token()
		if err != nil {
			return nil, c.fail(ErrInvalidBody, "%v", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, c.fail(ErrInvalidBody, "object key expected")
		}
		c.path = append(c.path, step{key: key, index: -1})
		value, err := c.value(nil)
		c.path = c.path[:len(c.path)-1]
		if err != nil {
			return nil, err
		}
		if i, dup := seen[key]; dup {
			members[i].value = value
			continue
		}
		if seen == nil {
			seen = make(map[string]int)
		}
		seen[key] = len(members)
		members = append(members, member{key, value})
	}
	if _, err := c.dec.Token(); err != nil { // '}'
		return nil, c.fail(ErrInvalidBody, "%v", err)
	}
	// JavaScript's own-property order: array indices ascending, then the
	// rest in insertion order (the sort is stable).
	slices.SortStableFunc(members, func(a, b member) int {
		ai, aok := arrayIndex(a.key)
		bi, bok := arrayIndex(b.key)
		switch {
		case aok && bok:
			return cmp.Compare(ai, bi)
		case aok:
			return -1
		case bok:
			return 1
		}
		return 0
	})
	dst = append(dst, '{')
	for i, m := range members {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSString(dst, m.key)
		dst = append(dst, ':')
		dst = append(dst, m.value...)
	}
	return append(dst, '}'), nil
}

func (c *canonicalizer) array(dst []byte) ([]byte, error) {
	dst = append(dst, '[')
	for i := 0; c.dec.More(); i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		c.path = append(c.path, step{index: i})
		var err error
		dst, err = c.value(dst)
		c.path = c.path[:len(c.path)-1]
		if err != nil {
			return nil, err
		}
	}
	if _, err := c.dec.Token(); err != nil { // ']'
		return nil, c.fail(ErrInvalidBody, "%v", err)
	}
	return append(dst, ']'), nil
}

// number appends the JSON number literal lit as JSON.stringify writes the
// float64 JSON.parse makes of it, refusing integers it would change.
func (c *canonicalizer) number(dst []byte, lit string) ([]byte, error) {
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, c.fail(ErrUnsafeNumber, "%s is out of float64 range", lit)
	}
	js := formatJSNumber(f)
	if !strings.ContainsAny(lit, ".eE") && js != lit && lit != "-0" {
		return nil, c.fail(ErrUnsafeNumber, "the integer %s would become %s; send it as a string", lit, js)
	}
	return append(dst, js...), nil
}

// arrayIndex reports whether k is an ECMAScript array index: the canonical
// decimal form of an integer from 0 to 2^32-2.
func arrayIndex(k string) (uint64, bool) {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') || strings.TrimLeft(k, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	if err != nil || n > math.MaxUint32-1 {
		return 0, false
	}
	return n, true
}

// appendJSString appends s quoted the way JSON.stringify quotes strings.
func appendJSString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			if c < 0x20 {
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			} else {
				dst = append(dst, c)
			}
		}
		i++
	}
	return append(dst, '"')
}

// formatJSNumber is ECMAScript's Number::toString(10) for finite f, which
// JSON.stringify uses: the shortest digits that round-trip, in plain
// notation for 1e-7 < |f| < 1e21 and exponent notation otherwise.
func formatJSNumber(f float64) string {
	if f == 0 {
		return "0" // -0 too
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// Shortest round-trip digits d.ddd and exponent: f = 0.digits × 10^n.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	expSign := "+"
	if n-1 < 0 {
		expSign = "-"
	}
	exp = strconv.Itoa(abs(n - 1))
	if k == 1 {
		return sign + digits + "e" + expSign + exp
	}
	return sign + digits[:1] + "." + digits[1:] + "e" + expSign + exp
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
