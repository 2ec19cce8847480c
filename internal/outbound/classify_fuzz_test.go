package outbound

import (
	"errors"
	"net/http"
	"testing"

	"github.com/pytake/pytake/internal/graph"
)

// FuzzClassify: every Graph API answer gets one of the three classes, with
// Meta's code kept; what the FACTS table fixes holds whatever the body: an
// unavailable or rate-limited Meta without a code is retried, a 401 without
// one fails the account, and a plain network error is retried.
func FuzzClassify(f *testing.F) {
	f.Add(400, "", []byte(`{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047}}`))
	f.Add(400, "", []byte(`{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}`))
	f.Add(429, "7", []byte(`{"error":{"code":130429,"message":"Rate limit hit"}}`))
	f.Add(503, "", []byte(`upstream connect error`))
	f.Add(401, "", []byte(``))
	f.Add(200, "", []byte(`{}`))
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		ge := graph.DecodeError(status, retryAfter, body)
		d := Classify(ge)
		switch d.Class {
		case Retry, FailMessage, FailAccount:
		default:
			t.Fatalf("class %v", d.Class)
		}
		if d.Code != ge.Code || d.Message == "" {
			t.Fatalf("decision %+v for %+v", d, ge)
		}
		if ge.Code == 0 && ge.Type == "" {
			switch {
			case status >= 500 || status == http.StatusTooManyRequests:
				if d.Class != Retry {
					t.Fatalf("HTTP %d without a Meta code: %v", status, d.Class)
				}
			case status == http.StatusUnauthorized:
				if d.Class != FailAccount {
					t.Fatalf("HTTP 401 without a Meta code: %v", d.Class)
				}
			}
		}
		if Classify(errors.New("dial tcp: connection refused")).Class != Retry {
			t.Fatal("a network error is final")
		}
	})
}
