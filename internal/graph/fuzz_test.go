package graph

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeError: any answer decodes to an error that keeps the HTTP
// status, a non-negative Retry-After of at most a day, and a message that is
// Meta's or at most 1 KB of the body's text.
func FuzzDecodeError(f *testing.F) {
	f.Add(400, "", []byte(`{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"details":"Message failed"},"fbtrace_id":"A"}}`))
	f.Add(429, "30", []byte(`{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429}}`))
	f.Add(502, "", []byte(`<html><body>Bad Gateway</body></html>`))
	f.Add(500, "99999999999999999999", []byte(`{"error":null}`))
	f.Add(401, "-5", []byte(`{"error":{"code":"190"}}`))
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		e := DecodeError(status, retryAfter, body)
		if e == nil || e.HTTPStatus != status {
			t.Fatalf("DecodeError = %+v", e)
		}
		if e.RetryAfter < 0 || e.RetryAfter > maxRetryAfterSeconds*1e9 {
			t.Fatalf("RetryAfter %v", e.RetryAfter)
		}
		if e.Code == 0 && e.Type == "" && !strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
			if len(e.Message) > maxErrorMessage || (utf8.ValidString(strings.TrimSpace(string(body))) && !utf8.ValidString(e.Message)) {
				t.Fatalf("message of %d bytes", len(e.Message))
			}
		}
		_ = e.Error()
	})
}
