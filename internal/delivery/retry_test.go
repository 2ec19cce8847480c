package delivery

import (
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	netErr := errors.New("dial tcp: connection refused")
	tests := []struct {
		status int
		err    error
		want   Outcome
	}{
		{200, nil, Success},
		{201, nil, Success},
		{202, nil, Success},
		{204, nil, Success},
		{299, nil, Success},
		{200, netErr, Retry}, // an error wins: the body was cut off
		{0, netErr, Retry},
		{0, ErrBlockedAddress, Retry},
		{0, nil, Retry},
		{199, nil, Retry},
		{301, nil, Retry},
		{302, nil, Retry},
		{304, nil, Retry},
		{307, nil, Retry},
		{400, nil, Retry},
		{401, nil, Retry},
		{403, nil, Retry},
		{404, nil, Retry},
		{408, nil, Retry},
		{409, nil, Retry},
		{410, nil, Gone},
		{410, netErr, Retry},
		{413, nil, Retry},
		{422, nil, Retry},
		{425, nil, Retry},
		{429, nil, Retry},
		{500, nil, Retry},
		{502, nil, Retry},
		{503, nil, Retry},
		{504, nil, Retry},
	}
	for _, tt := range tests {
		got := Classify(tt.status, tt.err)
		assert.Equal(t, tt.want, got, "Classify(%d, %v) = %v, want %v", tt.status, tt.err, got, tt.want)
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{Success: "success", Retry: "retry", Gone: "gone", 0: "unknown"} {
		assert.Equal(t, want, o.String(), "%d.String() = %q, want %q", int(o), o.String(), want)
	}
}

func TestSchedule(t *testing.T) {
	want := []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	s := Schedule()
	require.Len(t, s, MaxAttempts, "Schedule has %d entries, want %d", len(s), MaxAttempts)
	require.Len(t, s, len(want), "Schedule has %d entries, want %d", len(s), MaxAttempts)
	for i := range want {
		assert.Equal(t, want[i], s[i], "Schedule()[%d] = %v, want %v", i, s[i], want[i])
	}
	s[1] = time.Hour
	assert.Equal(t, 5*time.Second, Schedule()[1], "Schedule hands out its own table")
	var total time.Duration
	for _, d := range want {
		total += d
	}
	assert.GreaterOrEqual(t, total, 27*time.Hour, "schedule spans %v, want about 27.5 h", total)
	assert.LessOrEqual(t, total, 28*time.Hour, "schedule spans %v, want about 27.5 h", total)
}

func TestNextDelay(t *testing.T) {
	fixed := func(r float64) func() float64 { return func() float64 { return r } }
	tests := []struct {
		name       string
		attempt    int
		retryAfter time.Duration
		r          float64
		want       time.Duration
		ok         bool
	}{
		{"first attempt immediate", 0, 0, 0.9, 0, true},
		{"negative attempt: first", -3, 0, 0.5, 0, true},
		{"after 1 failure, middle", 1, 0, 0.5, 5 * time.Second, true},
		{"after 1 failure, low", 1, 0, 0, 4500 * time.Millisecond, true},
		{"after 1 failure, high", 1, 0, 1, 5500 * time.Millisecond, true},
		{"after 2 failures", 2, 0, 0.5, 5 * time.Minute, true},
		{"after 3 failures", 3, 0, 0.5, 30 * time.Minute, true},
		{"after 4 failures", 4, 0, 0.5, 2 * time.Hour, true},
		{"after 5 failures", 5, 0, 0.5, 5 * time.Hour, true},
		{"after 6 failures", 6, 0, 0.5, 10 * time.Hour, true},
		{"after 7 failures, low", 7, 0, 0, 9 * time.Hour, true},
		{"after 8 failures: done", 8, 0, 0.5, 0, false},
		{"after 9 failures: done", 9, time.Minute, 0.5, 0, false},
		{"rnd out of range clamps", 1, 0, 7, 5500 * time.Millisecond, true},
		{"rnd negative clamps", 1, 0, -7, 4500 * time.Millisecond, true},
		{"rnd NaN is the middle", 1, 0, math.NaN(), 5 * time.Second, true},
		{"retry-after raises the delay", 1, time.Minute, 0.5, time.Minute, true},
		{"retry-after below the delay", 3, time.Minute, 0.5, 30 * time.Minute, true},
		{"retry-after on the immediate attempt", 0, 30 * time.Second, 0.5, 30 * time.Second, true},
		{"retry-after capped at 10 h", 1, 48 * time.Hour, 0.5, 10 * time.Hour, true},
		{"negative retry-after ignored", 1, -time.Hour, 0.5, 5 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := NextDelay(tt.attempt, tt.retryAfter, fixed(tt.r))
			assert.Equal(t, tt.want, got, "NextDelay(%d, %v) = %v, %v, want %v, %v", tt.attempt, tt.retryAfter, got, ok, tt.want, tt.ok)
			assert.Equal(t, tt.ok, ok, "NextDelay(%d, %v) = %v, %v, want %v, %v", tt.attempt, tt.retryAfter, got, ok, tt.want, tt.ok)
		})
	}
}

func TestNextDelayDefaultRandomness(t *testing.T) {
	for range 1000 {
		d, ok := NextDelay(2, 0, nil)
		require.True(t, ok, "NextDelay(2) = %v, %v, want 5 min ± 10 %%", d, ok)
		require.GreaterOrEqual(t, d, 270*time.Second, "NextDelay(2)")
		require.LessOrEqual(t, d, 330*time.Second, "NextDelay(2)")
	}
	attempts := 1 // the first, immediate
	for {
		if _, ok := NextDelay(attempts, 0, nil); !ok {
			break
		}
		attempts++
	}
	assert.Equal(t, MaxAttempts, attempts, "%d attempts in all, want %d", attempts, MaxAttempts)
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 10, 3, 16, 30, 0, 0, time.UTC)
	tests := []struct {
		h    string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"120", 2 * time.Minute},
		{" 30 ", 30 * time.Second},
		{"-5", 0},
		{"1.5", 0},
		{"soon", 0},
		{"99999999999999999999999", time.Duration(math.MaxInt64)},
		{"9223372036", 9223372036 * time.Second},
		{"9223372037", time.Duration(math.MaxInt64)},
		{"Fri, 03 Oct 2025 16:35:00 GMT", 5 * time.Minute},
		{"Friday, 03-Oct-25 16:31:00 GMT", time.Minute},
		{"Fri Oct  3 16:30:10 2025", 10 * time.Second},
		{"Fri, 03 Oct 2025 16:00:00 GMT", 0},
		{"2025-10-03T16:35:00Z", 0},
	}
	for _, tt := range tests {
		got := ParseRetryAfter(tt.h, now)
		assert.Equal(t, tt.want, got, "ParseRetryAfter(%q) = %v, want %v", tt.h, got, tt.want)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Unix(1759509000, 0)
	h := http.Header{"Retry-After": {"60"}}
	for status, want := range map[int]time.Duration{429: time.Minute, 503: time.Minute, 500: 0, 502: 0, 200: 0, 301: 0} {
		got := RetryAfter(status, h, now)
		assert.Equal(t, want, got, "RetryAfter(%d) = %v, want %v", status, got, want)
	}
	got := RetryAfter(429, http.Header{}, now)
	assert.Equal(t, time.Duration(0), got, "RetryAfter without the header = %v", got)
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"nil", nil, ""},
		{"short", []byte(`{"ok":true}`), `{"ok":true}`},
		{"exactly the limit", []byte(strings.Repeat("a", 1024)), strings.Repeat("a", 1024)},
		{"over the limit", []byte(strings.Repeat("a", 5000)), strings.Repeat("a", 1024)},
		{"multi-byte rune straddling the limit", []byte(strings.Repeat("a", 1023) + "é"), strings.Repeat("a", 1023)},
		{"multi-byte rune ending at the limit", []byte(strings.Repeat("a", 1022) + "é!"), strings.Repeat("a", 1022) + "é"},
		{"4-byte runes", []byte(strings.Repeat("😀", 300)), strings.Repeat("😀", 256)},
		{"invalid bytes replaced", []byte("ok\xff\xfe!"), "ok\uFFFD\uFFFD!"},
		{"truncated rune at the end", []byte("ab\xe2\x82"), "ab\uFFFD\uFFFD"},
		{"replacement near the limit", []byte(strings.Repeat("a", 1022) + "\xff"), strings.Repeat("a", 1022)},
		{"replacement fits", []byte(strings.Repeat("a", 1021) + "\xff"), strings.Repeat("a", 1021) + "\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Excerpt(tt.body)
			assert.Equal(t, tt.want, got, "Excerpt = %q (%d bytes), want %q (%d bytes)", shorten(got), len(got), shorten(tt.want), len(tt.want))
			if len(got) > MaxExcerpt || !utf8.ValidString(got) {
				t.Errorf("%d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
			}
		})
	}
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:20] + "…" + s[len(s)-20:]
	}
	return s
}

func FuzzExcerpt(f *testing.F) {
	f.Add([]byte("ok\xff"))
	f.Add([]byte(strings.Repeat("é", 600)))
	f.Fuzz(func(t *testing.T, body []byte) {
		got := Excerpt(body)
		require.LessOrEqual(t, len(got), MaxExcerpt, "Excerpt gave %d bytes, valid %v", len(got), utf8.ValidString(got))
		require.True(t, utf8.ValidString(got), "Excerpt gave %d bytes, valid %v", len(got), utf8.ValidString(got))
		if utf8.Valid(body) && !strings.HasPrefix(string(body), got) {
			t.Fatal("the excerpt of valid UTF-8 is not a prefix")
		}
	})
}
