package delivery

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Outcome is what the dispatcher does after one delivery attempt.
type Outcome int

// The outcomes.
const (
	// Success: the endpoint answered 2xx; the delivery is done.
	Success Outcome = iota + 1
	// Retry: the attempt failed; try again after NextDelay, until the
	// attempts run out.
	Retry
	// Gone: the endpoint answered 410 Gone (Zapier does for a Zap turned
	// off); disable the subscription and stop.
	Gone
)

func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Retry:
		return "retry"
	case Gone:
		return "gone"
	}
	return "unknown"
}

// Classify decides the outcome of an attempt from the response status and
// the client's error, as Svix does:
//
//   - any error (network, DNS, TLS, timeout, a blocked address, a
//     cancelled context): Retry, whatever status came with it;
//   - 2xx: Success;
//   - 410: Gone;
//   - everything else: Retry. That includes 3xx, since the client follows
//     no redirects and a webhook must be answered where it was sent, and
//     every 4xx but 410: a 400 or 401 often comes from a receiver that is
//     being deployed or has a stale secret, and Svix retries those too.
//     The schedule is finite, so a permanently broken endpoint costs eight
//     attempts per event.
func Classify(status int, err error) Outcome {
	switch {
	case err != nil:
		return Retry
	case status >= 200 && status <= 299:
		return Success
	case status == http.StatusGone:
		return Gone
	}
	return Retry
}

// Retry limits.
const (
	// MaxAttempts is the number of attempts per delivery, the first
	// included.
	MaxAttempts = 8
	// MaxRetryAfter caps the Retry-After a receiver can impose.
	MaxRetryAfter = 10 * time.Hour
	// Jitter is the relative spread of the delays: ±10 %.
	Jitter = 0.1
)

// schedule is Svix's: the delay before attempt i+1. Constant; Schedule
// hands out copies.
var schedule = [MaxAttempts]time.Duration{
	0,
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	10 * time.Hour,
}

// Schedule returns the nominal delay before each attempt, without jitter:
// 0 (the first attempt is immediate), 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
// 10 h; about 27.6 hours from first to last attempt. The slice is a copy.
func Schedule() []time.Duration {
	s := schedule
	return s[:]
}

// NextDelay returns the delay before attempt attempt+1, once attempt
// attempts have failed (NextDelay(0, ...) is the immediate first attempt),
// and false when all MaxAttempts attempts are spent.
//
// The nominal delay is spread by ±Jitter: d × (1 + Jitter × (2r − 1)) with
// r = rnd() in [0, 1) (nil rnd: math/rand/v2), so it is never negative and
// 0 stays 0. A positive retryAfter, the receiver's Retry-After (see
// RetryAfter), is a floor: the delay is at least min(retryAfter,
// MaxRetryAfter). The longest delay, 11 h, fits within SQS's 12-hour
// visibility timeout but not its 15-minute message delay: the dispatcher
// has to hold long retries with the visibility timeout or a schedule.
func NextDelay(attempt int, retryAfter time.Duration, rnd func() float64) (time.Duration, bool) {
	if attempt >= MaxAttempts {
		return 0, false
	}
	attempt = max(attempt, 0)
	if rnd == nil {
		rnd = rand.Float64
	}
	r := rnd()
	if math.IsNaN(r) {
		r = 0.5
	}
	r = min(max(r, 0), 1)
	d := max(time.Duration(float64(schedule[attempt])*(1+Jitter*(2*r-1))), 0)
	if retryAfter > 0 {
		d = max(d, min(retryAfter, MaxRetryAfter))
	}
	return d, true
}

// RetryAfter returns the delay a response asks for: ParseRetryAfter of its
// Retry-After header when the status is 429 or 503 (the two Svix honours),
// else 0.
func RetryAfter(status int, h http.Header, now time.Time) time.Duration {
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		return 0
	}
	return ParseRetryAfter(h.Get("Retry-After"), now)
}

// ParseRetryAfter reads a Retry-After value: delay-seconds (digits only)
// or an HTTP-date, relative to now. It returns 0 for an empty, invalid or
// past value. Huge values saturate instead of overflowing; NextDelay caps
// them at MaxRetryAfter.
func ParseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if strings.TrimLeft(h, "0123456789") == "" {
		n, err := strconv.ParseUint(h, 10, 64)
		if err != nil || n > uint64(math.MaxInt64/int64(time.Second)) {
			return time.Duration(math.MaxInt64)
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0
	}
	return max(t.Sub(now), 0)
}

// MaxExcerpt is the most bytes Excerpt keeps.
const MaxExcerpt = 1024

// Excerpt returns the part of a response body kept in the delivery log:
// valid UTF-8 of at most MaxExcerpt bytes, cut between characters, each
// invalid byte replaced with U+FFFD (which counts for its three bytes).
func Excerpt(body []byte) string {
	var b strings.Builder
	b.Grow(min(len(body), MaxExcerpt))
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRune(body[i:])
		n := size
		if r == utf8.RuneError && size == 1 {
			n = utf8.RuneLen(utf8.RuneError)
		}
		if b.Len()+n > MaxExcerpt {
			break
		}
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.Write(body[i : i+size])
		}
		i += size
	}
	return b.String()
}
