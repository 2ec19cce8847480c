package delivery

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bodyCases: input → JSON.stringify(JSON.parse(input)), the outputs taken
// from Node.js 18+. TestGuideSnippets checks them against node when it is
// installed.
var bodyCases = []struct{ name, in, want string }{
	{"member order kept", `{"b":1,"a":2}`, `{"b":1,"a":2}`},
	{"whitespace", "  {\"x\" : [ 1 , 2 ] ,\n\t\"y\":{ } }  ", `{"x":[1,2],"y":{}}`},
	{"literals", `[true,false,null,{},[],""]`, `[true,false,null,{},[],""]`},
	{"html and line separators unescaped", `{"a": "<b>&amp;\u003c\u2028\u2029"}`, "{\"a\":\"<b>&amp;<\u2028\u2029\"}"},
	{"string escapes", `"\u0000\u0001\b\t\n\u000b\f\r\u001f\u007f\"\\\/\ud83d\ude00 é"`, "\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f\x7f\\\"\\\\/😀 é\""},
	{"numbers",
		`[1.0, 1e2, 1E-7, 1.5e-7, 0.000001, 123e-9, 1e21, 1.5e21, 1e20, -0, -0.0, 0.1, 1e-400, 5e-324, 1.7976931348623157e308, 9007199254740992, -9007199254740991, 123456789.125]`,
		`[1,100,1e-7,1.5e-7,0.000001,1.23e-7,1e+21,1.5e+21,100000000000000000000,0,0,0.1,0,5e-324,1.7976931348623157e+308,9007199254740992,-9007199254740991,123456789.125]`},
	{"array-index keys first",
		`{"2":1,"10":2,"1":3,"a":4,"01":5,"-1":6,"4294967294":7,"4294967295":8,"1.5":9,"0":10}`,
		`{"0":10,"1":3,"2":1,"10":2,"4294967294":7,"a":4,"01":5,"-1":6,"4294967295":8,"1.5":9}`},
	{"duplicate key: last value, first position", `{"a":1,"b":2,"a":3}`, `{"a":3,"b":2}`},
	{"nested", `{"data":{"z":[{"2":"x","1":"y"}],"a":"\u0026"}}`, `{"data":{"z":[{"1":"y","2":"x"}],"a":"&"}}`},
}

func TestCanonicalBody(t *testing.T) {
	for _, tt := range bodyCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalBody([]byte(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got), "CanonicalBody(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			again, err := CanonicalBody(got)
			if err != nil || !bytes.Equal(again, got) {
				t.Errorf("not idempotent: %s, %v", again, err)
			}
		})
	}
}

func TestCanonicalBodyInvalidUTF8(t *testing.T) {
	got, err := CanonicalBody([]byte("[\"a\xffb\", \"\\ud800\"]"))
	require.NoError(t, err)
	want := "[\"a\uFFFDb\",\"\uFFFD\"]"
	assert.Equal(t, want, string(got), "got %q, want %q", got, want)
}

func TestCanonicalBodyErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", ``, ErrInvalidBody},
		{"truncated", `{"a":`, ErrInvalidBody},
		{"trailing comma", `{"a":1,}`, ErrInvalidBody},
		{"two values", `{} {}`, ErrInvalidBody},
		{"trailing garbage", `{}x`, ErrInvalidBody},
		{"not JSON", `<xml/>`, ErrInvalidBody},
		{"integer beyond 2^53", `{"order":{"id":9007199254740993}}`, ErrUnsafeNumber},
		{"Shopify-sized id", `[5234567890123456789]`, ErrUnsafeNumber},
		{"integer 1e21 written out", `1000000000000000000000`, ErrUnsafeNumber},
		{"overflow", `1e400`, ErrUnsafeNumber},
		{"too deep", strings.Repeat("[", 257) + strings.Repeat("]", 257), ErrInvalidBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CanonicalBody([]byte(tt.in))
			require.ErrorIs(t, err, tt.want, "err = %v, want %v", err, tt.want)
		})
	}
}

func TestCanonicalBodyErrorPath(t *testing.T) {
	_, err := CanonicalBody([]byte(`{"data":{"items":[1,{"id":12345678901234567890}]}}`))
	if want := "delivery: number not representable in JavaScript: at $.data.items[1].id: the integer 12345678901234567890 would become 12345678901234567000; send it as a string"; err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	deep := strings.Repeat("[", 256) + strings.Repeat("]", 256)
	_, err = CanonicalBody([]byte(deep))
	assert.NoError(t, err, "256 levels")
}

func TestMarshalBody(t *testing.T) {
	type msg struct {
		Text string  `json:"text"`
		N    float64 `json:"n"`
	}
	got, err := MarshalBody(map[string]any{"z": msg{"a<b & c>d", 2}, "1": true})
	require.NoError(t, err)
	want := `{"1":true,"z":{"text":"a<b & c>d","n":2}}`
	assert.Equal(t, want, string(got), "got %s, want %s", got, want)
	_, err = MarshalBody(func() {})
	assert.Error(t, err, "MarshalBody(func) succeeded")
}

func TestFormatJSNumber(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0"}, {1, "1"}, {-1, "-1"}, {0.5, "0.5"}, {123.456, "123.456"},
		{1e21, "1e+21"}, {1e-7, "1e-7"}, {1e-6, "0.000001"}, {1.25e-7, "1.25e-7"},
		{123e20, "1.23e+22"}, {1e20, "100000000000000000000"},
		{-2.5e-8, "-2.5e-8"}, {0.30000000000000004, "0.30000000000000004"}, {5e-324, "5e-324"},
	}
	for _, tt := range tests {
		got := formatJSNumber(tt.f)
		assert.Equal(t, tt.want, got, "formatJSNumber(%v) = %s, want %s", tt.f, got, tt.want)
	}
}

func FuzzCanonicalBody(f *testing.F) {
	for _, c := range bodyCases {
		f.Add([]byte(c.in))
	}
	f.Add([]byte("[\"\xff\", 1e-400, {\"\": -0.0}]"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := CanonicalBody(in)
		if err != nil {
			return
		}
		require.True(t, json.Valid(in), "accepted invalid JSON %q", in)
		require.True(t, json.Valid(out), "invalid output %q from %q", out, in)
		require.True(t, utf8.Valid(out), "invalid output %q from %q", out, in)
		again, err := CanonicalBody(out)
		require.NoError(t, err, "not a fixed point: %q → %q → %q, %v", in, out, again, err)
		require.True(t, bytes.Equal(again, out), "not a fixed point")
	})
}
