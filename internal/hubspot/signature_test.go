package hubspot

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func headers(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// HubSpot's own v2 example (developers.hubspot.com, v2 request validation):
// a GET of https://www.example.com/webhook_uri.
func TestSignV2VendorVector(t *testing.T) {
	got := SignV2("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy", "GET", "https://www.example.com/webhook_uri", nil)
	assert.Equal(t, "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e", got)
}

func TestVerify(t *testing.T) {
	now := time.UnixMilli(1796040000123)
	body := []byte(`[{"eventId":1,"subscriptionId":2,"portalId":62515,"objectId":123,"subscriptionType":"contact.creation"}]`)
	uri := "https://api.example.com/webhooks/hubspot?x=1"
	ts := strconv.FormatInt(now.Add(-time.Minute).UnixMilli(), 10)
	v3 := SignV3("secret", "POST", uri, body, ts)
	for _, tc := range []struct {
		name    string
		secret  string
		uri     string
		body    []byte
		h       map[string]string
		version string
		err     error
	}{
		{"v3", "secret", uri, body, map[string]string{HeaderSignatureV3: v3, HeaderTimestamp: ts}, "v3", nil},
		{"v3 escaped URI", "secret", "https://api.example.com/webhooks/hubspot%3Fx=1", body,
			map[string]string{HeaderSignatureV3: SignV3("secret", "POST", "https://api.example.com/webhooks/hubspot?x=1", body, ts), HeaderTimestamp: ts}, "v3", nil},
		{"v3 other secret", "other", uri, body, map[string]string{HeaderSignatureV3: v3, HeaderTimestamp: ts}, "", ErrSignature},
		{"v3 body changed", "secret", uri, append([]byte(" "), body...), map[string]string{HeaderSignatureV3: v3, HeaderTimestamp: ts}, "", ErrSignature},
		{"v3 other URI", "secret", "https://evil.example/webhooks/hubspot?x=1", body, map[string]string{HeaderSignatureV3: v3, HeaderTimestamp: ts}, "", ErrSignature},
		{"v3 stale", "secret", uri, body, map[string]string{HeaderSignatureV3: SignV3("secret", "POST", uri, body, "1796039000000"), HeaderTimestamp: "1796039000000"}, "", ErrStale},
		{"v3 future", "secret", uri, body, map[string]string{HeaderSignatureV3: v3, HeaderTimestamp: strconv.FormatInt(now.Add(6*time.Minute).UnixMilli(), 10)}, "", ErrStale},
		{"v3 no timestamp", "secret", uri, body, map[string]string{HeaderSignatureV3: v3}, "", ErrStale},
		{"v3 timestamp in seconds", "secret", uri, body, map[string]string{HeaderSignatureV3: v3, HeaderTimestamp: "1796040000"}, "", ErrStale},
		{"v2", "secret", uri, body, map[string]string{HeaderSignature: SignV2("secret", "POST", uri, body), HeaderVersion: "v2"}, "v2", nil},
		{"v2 upper-case hex", "secret", uri, body, map[string]string{HeaderSignature: strings.ToUpper(SignV2("secret", "POST", uri, body)), HeaderVersion: "v2"}, "v2", nil},
		{"v2 wrong", "secret", uri, body, map[string]string{HeaderSignature: SignV2("secret", "POST", uri, []byte("x")), HeaderVersion: "v2"}, "", ErrSignature},
		{"v1 refused", "secret", uri, body, map[string]string{HeaderSignature: SignV2("secret", "", "", body), HeaderVersion: "v1"}, "", ErrVersion},
		{"unsigned", "secret", uri, body, map[string]string{}, "", ErrNoSignature},
		{"no secret configured", "", uri, body, map[string]string{HeaderSignatureV3: SignV3("", "POST", uri, body, ts), HeaderTimestamp: ts}, "", ErrSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Verify(tc.secret, Request{Method: "POST", URI: tc.uri, Body: tc.body, Header: headers(tc.h)}, now)
			assert.ErrorIs(t, err, tc.err)
			assert.Equal(t, tc.version, v)
		})
	}
}

func TestDecodeURI(t *testing.T) {
	for in, want := range map[string]string{
		"https://h/p":                        "https://h/p",
		"https://h/p%3Fa%3Db":                "https://h/p?a%3Db", // %3D is not decoded
		"https://h/%2f%40%21%24%27%28%29%2A": "https://h//@!$'()*",
		"https://h/p%2C%3B%3a%20":            "https://h/p,;:%20",
		"%":                                  "%",
		"%3":                                 "%3",
		"x%3A":                               "x:",
	} {
		assert.Equal(t, want, DecodeURI(in), in)
	}
}

// FuzzVerify: no input panics; a request signed with the secret verifies
// and any change to its body does not.
func FuzzVerify(f *testing.F) {
	f.Add("secret", "https://h/webhooks/hubspot", []byte(`[{"eventId":1}]`), "v3sig", "1796040000000", "v2")
	f.Add("", "%", []byte{}, "", "", "")
	f.Add("s", "https://h/p%3F%3a", []byte("\x00"), "=====", "-1", "V2")
	now := time.UnixMilli(1796040000000)
	f.Fuzz(func(t *testing.T, secret, uri string, body []byte, sig, ts, version string) {
		h := map[string]string{HeaderSignatureV3: sig, HeaderTimestamp: ts, HeaderSignature: sig, HeaderVersion: version}
		_, _ = Verify(secret, Request{Method: "POST", URI: uri, Body: body, Header: headers(h)}, now)
		_ = DecodeURI(uri)
		if secret == "" {
			return
		}
		stamp := strconv.FormatInt(now.UnixMilli(), 10)
		good := map[string]string{HeaderSignatureV3: SignV3(secret, "POST", uri, body, stamp), HeaderTimestamp: stamp}
		if _, err := Verify(secret, Request{Method: "POST", URI: uri, Body: body, Header: headers(good)}, now); err != nil {
			t.Fatalf("signed request refused: %v", err)
		}
		if _, err := Verify(secret, Request{Method: "POST", URI: uri, Body: append(append([]byte{}, body...), 'x'), Header: headers(good)}, now); err == nil {
			t.Fatal("a changed body verified")
		}
	})
}
