package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/graph"
)

func metaErr(status, code int) *graph.Error {
	e := &graph.Error{HTTPStatus: status, Code: code, Type: "OAuthException", Message: fmt.Sprintf("error %d", code)}
	e.ErrorData.Details = "details of " + fmt.Sprint(code)
	return e
}

func TestClassifyCodes(t *testing.T) {
	cases := []struct {
		status, code int
		want         Class
	}{
		// Retry with backoff.
		{400, 4, Retry},
		{400, 80007, Retry},
		{400, 130429, Retry},
		{400, 131056, Retry},
		{500, 131000, Retry},
		{400, 131000, Retry},
		{400, 1, Retry},
		{503, 2, Retry},
		// Terminal for the message.
		{400, 100, FailMessage},
		{400, 131008, FailMessage},
		{400, 131009, FailMessage},
		{400, 131026, FailMessage},
		{400, 131030, FailMessage},
		{400, 131047, FailMessage},
		{400, 131050, FailMessage},
		{400, 131051, FailMessage},
		{400, 132000, FailMessage},
		{400, 132001, FailMessage},
		{400, 131053, FailMessage}, // an unlisted 4xx
		{404, 33, FailMessage},
		// Terminal for the account.
		{401, 190, FailAccount},
		{401, 0, FailAccount},
		{500, 3, FailAccount}, // Meta sends code 3 with HTTP 500
		{403, 10, FailAccount},
		{403, 200, FailAccount},
		{403, 250, FailAccount},
		{403, 299, FailAccount},
		{400, 368, FailAccount},
		{400, 131031, FailAccount},
		{400, 131048, FailAccount},
		{400, 131049, FailAccount},
		// Unlisted codes: the HTTP status decides.
		{500, 131016, Retry},
		{502, 99999, Retry},
		{503, 133004, Retry},
		{429, 613, Retry},
		{400, 300, FailMessage},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d_%d", tc.status, tc.code), func(t *testing.T) {
			e := metaErr(tc.status, tc.code)
			for _, err := range []error{e, fmt.Errorf("send msg_1: %w", e)} {
				d := Classify(err)
				assert.Equal(t, tc.want, d.Class, "Classify(%v) = %s, want %s", err, d.Class, tc.want)
				if d.Code != tc.code || d.Message != e.Message || d.Details != e.ErrorData.Details {
					t.Errorf("decision %+v lost Meta's code, message or details", d)
				}
			}
		})
	}
}

func TestClassifyWithoutMetaCode(t *testing.T) {
	noCode := func(status int) error {
		return &graph.Error{HTTPStatus: status, Message: "<html>bad gateway</html>"}
	}
	var dnsErr error = &net.DNSError{Err: "no such host", Name: "graph.facebook.com", IsTimeout: true}
	cases := []struct {
		name string
		err  error
		want Class
	}{
		{"502 without body", noCode(502), Retry},
		{"500 without body", noCode(500), Retry},
		{"504 without body", noCode(504), Retry},
		{"429 without body", noCode(429), Retry},
		{"408 without body", noCode(408), Retry},
		{"401 without body", noCode(401), FailAccount},
		{"404 without body", noCode(404), FailMessage},
		{"400 without body", noCode(400), FailMessage},
		{"no status", &graph.Error{}, Retry},
		{"deadline", fmt.Errorf("graph: POST /v23.0/1/messages: %w", context.DeadlineExceeded), Retry},
		{"canceled", context.Canceled, Retry},
		{"dns", &url.Error{Op: "Post", URL: "https://graph.facebook.com", Err: dnsErr}, Retry},
		{"connection reset", errors.New("read tcp: connection reset by peer"), Retry},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Classify(tc.err)
			assert.Equal(t, tc.want, d.Class, "Classify = %+v, want %s", d, tc.want)
			assert.NotEmpty(t, d.Message, "no message")
		})
	}
	if d := Classify(nil); d != (Decision{}) {
		t.Errorf("Classify(nil) = %+v", d)
	}
}

func TestClassString(t *testing.T) {
	for c, want := range map[Class]string{Retry: "retry", FailMessage: "fail_message", FailAccount: "fail_account", Class(9): "unknown"} {
		assert.Equal(t, want, c.String(), "%d.String() = %q", c, c.String())
	}
}

func TestBackoff(t *testing.T) {
	fixed := func(f float64) func() float64 { return func() float64 { return f } }
	const almostOne = 0.999999999
	cases := []struct {
		attempt    int
		retryAfter time.Duration
		rnd        float64
		want       time.Duration
	}{
		{1, 0, 0, 0},
		{1, 0, 0.5, time.Second},
		{1, 0, 1, 2 * time.Second},
		{2, 0, 1, 4 * time.Second},
		{3, 0, 0.5, 4 * time.Second},
		{7, 0, 1, 128 * time.Second},
		{9, 0, 1, 512 * time.Second},
		{10, 0, 1, 900 * time.Second}, // 1024 s capped
		{10, 0, 0.5, 450 * time.Second},
		{64, 0, 1, 900 * time.Second},
		{1 << 30, 0, 1, 900 * time.Second},
		{0, 0, 1, 2 * time.Second},  // attempt < 1 counts as 1
		{-5, 0, 1, 2 * time.Second}, // likewise
		{1, 30 * time.Second, 0.5, 30 * time.Second},
		{5, 3 * time.Second, 1, 32 * time.Second}, // jitter above Retry-After wins
		{1, time.Hour, 1, 900 * time.Second},      // Retry-After capped at SQS's limit
		{1, 0, -1, 0},                             // rnd out of range is clamped
		{1, 0, 7, 2 * time.Second},
	}
	for _, tc := range cases {
		got := Backoff(tc.attempt, tc.retryAfter, fixed(tc.rnd))
		assert.Equal(t, tc.want, got, "Backoff(%d, %s, %v) = %s, want %s", tc.attempt, tc.retryAfter, tc.rnd, got, tc.want)
	}
	// Bounds over many random draws, with the real source.
	for attempt := 1; attempt <= MaxAttempts+5; attempt++ {
		ceiling := min(MaxBackoff, 2*time.Second<<(attempt-1))
		for range 200 {
			got := Backoff(attempt, 0, nil)
			require.GreaterOrEqual(t, got, time.Duration(0), "Backoff(%d) = %s, outside [0, %s]", attempt, got, ceiling)
			require.LessOrEqual(t, got, ceiling, "Backoff(%d) = %s, outside [0, %s]", attempt, got, ceiling)
		}
		got := Backoff(attempt, 0, fixed(almostOne))
		assert.LessOrEqual(t, got, ceiling, "Backoff(%d) at the top = %s, want about %s", attempt, got, ceiling)
		assert.GreaterOrEqual(t, got, ceiling*99/100, "Backoff(%d) at the top = %s, want about %s", attempt, got, ceiling)
	}
	if MaxAttempts < 2 || MaxBackoff != 900*time.Second {
		t.Errorf("MaxAttempts %d, MaxBackoff %s", MaxAttempts, MaxBackoff)
	}
}
