package jsoncheck_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/jsoncheck"
)

func TestObjectMembers(t *testing.T) {
	c := jsoncheck.New("thing")
	raw, err := jsoncheck.DecodeBody([]byte(`{"name":"x","name":"y","n":1.50,"gone":null,"extra":true,"kids":[{"a":1}]}`))
	require.NoError(t, err)
	o := c.Object("", raw)
	name := o.Text("name", true, 10)
	require.Equal(t, "y", name, "name %q", name)
	if n, ok := o.Number("n", true); !ok || n != "1.50" {
		t.Fatalf("number %q", n)
	}
	if _, ok := o.Str("gone", false); ok || !o.Given("gone") || o.Has("gone") {
		t.Fatal("null is absent but given")
	}
	if items, ok := o.List("kids", true); !ok || len(items) != 1 {
		t.Fatal("list")
	}
	o.Done()
	err = c.Err()
	e, ok := apperr.As(err)
	require.True(t, ok, "err = %v", err)
	require.Equal(t, apperr.Unprocessable, e.Kind, "err")
	require.True(t, strings.HasPrefix(e.Message, "the thing is invalid: name: is given more than once"), "err")
	fields := []string{}
	for _, d := range e.Details {
		fields = append(fields, d.Field)
	}
	require.Equal(t, "name,extra", strings.Join(fields, ","), "details %v", fields)
}

func TestKeysAndErrWith(t *testing.T) {
	c := jsoncheck.New("thing")
	o := c.Object("m", json.RawMessage(`{"b":1,"a":null,"c":"x"}`))
	got := strings.Join(o.Keys(), ",")
	require.Equal(t, "b,a,c", got, "keys %s", got)
	if _, ok := o.Take("a"); ok {
		t.Fatal("null taken")
	}
	o.Done() // every key was read by Keys
	require.NoError(t, c.ErrWith("the settings are invalid"), "nothing collected, yet an error")
	c.Fail(o.At("b"), "must be %s", "a string")
	e, ok := apperr.As(c.ErrWith("the settings are invalid"))
	if !ok || e.Kind != apperr.Unprocessable || e.Message != "the settings are invalid" ||
		len(e.Details) != 1 || e.Details[0] != (apperr.Detail{Field: "m.b", Issue: "must be a string"}) {
		t.Fatalf("err = %+v", e)
	}
}

func TestTooManyProblems(t *testing.T) {
	c := jsoncheck.New("thing")
	for i := 0; i < jsoncheck.MaxDetails+7; i++ {
		c.Fail(jsoncheck.Index("x", i), "bad")
	}
	e, _ := apperr.As(c.Err())
	require.Len(t, e.Details, jsoncheck.MaxDetails, "%d details, %q", len(e.Details), e.Message)
	require.Contains(t, e.Message, "and 56 more problems", "%d details, %q", len(e.Details), e.Message)
}

func TestDecodeBody(t *testing.T) {
	for _, body := range []string{"", "  ", "null", "[1]", `"x"`, `{"a":1} {}`, `{"a":`} {
		_, err := jsoncheck.DecodeBody([]byte(body))
		assert.True(t, apperr.Is(err, apperr.Invalid), "%q: %v, want Invalid", body, err)
	}
}

func TestDecimal(t *testing.T) {
	cases := map[string]string{
		"0": "0", "1001": "1001", "-7": "-7", "150.00": "150.00", "-0.5": "-0.5",
		"1e3": "1000", "1E+3": "1000", "1.5e3": "1500", "1.2345e2": "123.45", "25e-3": "0.025",
		"-2.5E-1": "-0.25", "0e5": "0", "0.0e1": "0", "12e-1": "1.2", "1e0": "1",
		"123456789012345678901234567890": "123456789012345678901234567890",
	}
	for in, want := range cases {
		got, ok := jsoncheck.Decimal(json.Number(in))
		assert.True(t, ok, "jsoncheck.Decimal(%s) = %q, %v; want %q", in, got, ok, want)
		assert.Equal(t, want, got, "jsoncheck.Decimal(%s) = %q, %v; want %q", in, got, ok, want)
	}
	_, ok := jsoncheck.Decimal("1e1101")
	assert.False(t, ok, "decimal accepted a huge exponent")
}

func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,{"b":null}]}`, `null`, `{"a":1}x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		raw, err := jsoncheck.DecodeBody(body)
		if err != nil {
			return
		}
		c := jsoncheck.New("thing")
		if o := c.Object("", raw); o == nil && c.OK() {
			t.Fatalf("an accepted body is not an object and nothing was reported: %q", body)
		}
	})
}

func TestCheckUTF8(t *testing.T) {
	tests := []struct {
		body, field string // field "" means accepted
	}{
		{`{"name":"João","tags":["a","b"],"n":1.5e3,"ok":true,"z":null}`, ""},
		{`{"emoji":"\ud83d\ude00","esc":"\"\\\/\b\f\n\r\t\u00e9"}`, ""},
		{"{\"name\":\"Jo\xffo\"}", "name"},
		{"\"\xff\"", "body"},
		{`{"a":{"b":[1,{"c":"\ud800"}]}}`, "a.b[1].c"},
		{`{"a":"\udc00x"}`, "a"},
		{`{"a":"\ud83dx"}`, "a"},
		{`{"a":"\ud83d\u0041"}`, "a"},
		{"{\"a\":{\"k\xc3\x28\":1}}", "a"},
		{"[\"ok\",\"\xed\xa0\x80\"]", "[1]"},      // a surrogate encoded in UTF-8 is not UTF-8
		{"{\"a\":\"x\",\"b\":\"\xc0\xaf\"}", "b"}, // overlong
		{"not json \xff", ""},                     // left to the decoder
		{`{"a":"\u12"}`, ""},
	}
	for _, tt := range tests {
		err := jsoncheck.CheckUTF8([]byte(tt.body))
		if tt.field == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.body, err)
			}
			continue
		}
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.Invalid || e.Code != "invalid_utf8" || e.Details[0].Field != tt.field {
			t.Errorf("%q: %v, want invalid_utf8 at %s", tt.body, err, tt.field)
		}
	}
}

func TestControlIssue(t *testing.T) {
	for s, bad := range map[string]bool{"João Ñandú": false, "São Paulo 🙂": false, "": false,
		"a\x00b": true, "a\tb": true, "a\nb": true, "a\x7fb": true, "a\u0085b": true, "a\u009bb": true} {
		if got := jsoncheck.ControlIssue(s) != ""; got != bad {
			t.Errorf("ControlIssue(%q) = %v", s, got)
		}
	}
}

// FuzzCheckUTF8: for JSON text, CheckUTF8 refuses exactly the bodies whose
// strings a decoder would have to repair: invalid UTF-8 bytes (which in
// valid JSON can only sit inside strings) or a lone surrogate escape.
func FuzzCheckUTF8(f *testing.F) {
	for _, s := range []string{`{"name":"João"}`, "{\"name\":\"Jo\xffo\"}", `{"a":["\ud83d\ude00","\ud800"]}`, `"\udc00"`, `[1,true,null,{"k":{}}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := jsoncheck.CheckUTF8(b)
		if !json.Valid(b) {
			return
		}
		repaired := !utf8.Valid(b) || loneSurrogate(b)
		if (err != nil) != repaired {
			t.Fatalf("CheckUTF8(%q) = %v; invalid UTF-8 or lone surrogate: %v", b, err, repaired)
		}
		if err != nil {
			if e, ok := apperr.As(err); !ok || len(e.Details) != 1 || e.Details[0].Field == "" {
				t.Fatalf("error %v names no field", err)
			}
		}
	})
}

// loneSurrogate reports a \u escape of a surrogate not part of a pair, by
// decoding each string with strconv's rules.
func loneSurrogate(b []byte) bool {
	s := string(b)
	for i := 0; i+6 <= len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		if s[i+1] != 'u' {
			i++ // an escaped character, maybe a backslash
			continue
		}
		r, err := strconv.ParseUint(s[i+2:i+6], 16, 32)
		if err != nil {
			continue
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if i+12 <= len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
				if lo, err := strconv.ParseUint(s[i+8:i+12], 16, 32); err == nil && lo >= 0xDC00 && lo < 0xE000 {
					i += 11
					continue
				}
			}
			return true
		case r >= 0xDC00 && r < 0xE000:
			return true
		}
		i += 5
	}
	return false
}
