package outbound

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/pytake/pytake/internal/graph"
)

// Class is what the sender does after a failed send.
type Class int

// The classes.
const (
	// Retry: a transient failure (throttling, Meta's 5xx, the network). Send
	// again after Backoff, up to MaxAttempts attempts in all.
	Retry Class = iota
	// FailMessage: this message can never be sent as it is; mark it failed.
	FailMessage
	// FailAccount: the organisation's WhatsApp account or token is unusable
	// (expired token, missing permission, blocked or locked account); mark
	// the message failed and tell the organisation, since every other send
	// would fail the same way.
	FailAccount
)

func (c Class) String() string {
	switch c {
	case Retry:
		return "retry"
	case FailMessage:
		return "fail_message"
	case FailAccount:
		return "fail_account"
	}
	return "unknown"
}

// Decision is Classify's verdict on one failed send.
type Decision struct {
	Class   Class
	Code    int    // Meta's error code; 0 when Meta gave none (network errors)
	Message string // Meta's message, or the error's text
	Details string // Meta's error_data.details, its most specific explanation
}

// Backoff limits and the attempt budget.
const (
	// MaxAttempts is how many times the sender tries one message, the first
	// try included, before it marks the message failed. With Backoff's
	// 2 s base the seven waits are at most 2+4+...+128 = 254 s in all, about
	// two minutes on average: long enough to ride out throttling and a brief
	// Meta incident, short enough that a late chat reply is still useful.
	MaxAttempts = 8
	backoffBase = 2 * time.Second
	// MaxBackoff is the longest wait: SQS's largest per-message delay.
	MaxBackoff = 900 * time.Second
)

// Meta's error codes by what they mean for the sender (FACTS.md, "Error
// codes"; Meta's error-code reference). Codes 1 ("API Unknown: invalid
// request or possible server error") and 2 ("API Service: temporary
// downtime or overload") are retried too.
var (
	retryCodes = map[int]bool{1: true, 2: true, 4: true, 80007: true, 130429: true, 131000: true, 131056: true}
	// 200-299 are account codes as well (see accountCode).
	accountCodes = map[int]bool{0: true, 3: true, 10: true, 190: true, 368: true, 131031: true, 131048: true, 131049: true}
	messageCodes = map[int]bool{100: true, 131008: true, 131009: true, 131026: true, 131030: true, 131047: true, 131050: true, 131051: true, 132000: true, 132001: true}
)

func accountCode(code int) bool { return accountCodes[code] || code >= 200 && code <= 299 }

// Classify decides what to do after a send failed with err.
//
// A *graph.Error (anywhere in err's chain) is decided by Meta's code when
// the code is one of the listed ones, since Meta sends some account errors
// (code 3) with HTTP 500. Otherwise the HTTP status decides: 5xx, 408 and
// 429 are retried, 401 fails the account, any other 4xx fails the message.
// A code of 0 counts as Meta's AuthException only when Meta's error object
// was there (it has a type); graph.Client leaves code 0 and no type on
// answers that carried no Meta error, such as a proxy's HTML page.
//
// Any other error (network failure, timeout, context deadline) is retried.
// Classify(nil) is a zero Decision (Retry); callers classify failures only.
func Classify(err error) Decision {
	if err == nil {
		return Decision{}
	}
	var ge *graph.Error
	if !errors.As(err, &ge) {
		return Decision{Class: Retry, Message: err.Error()}
	}
	d := Decision{Code: ge.Code, Message: ge.Message, Details: ge.ErrorData.Details}
	metaCode := ge.Code != 0 || ge.Type != ""
	switch {
	case metaCode && retryCodes[ge.Code]:
		d.Class = Retry
	case metaCode && accountCode(ge.Code):
		d.Class = FailAccount
	case metaCode && messageCodes[ge.Code]:
		d.Class = FailMessage
	case ge.HTTPStatus >= 500, ge.HTTPStatus == http.StatusTooManyRequests, ge.HTTPStatus == http.StatusRequestTimeout:
		d.Class = Retry
	case ge.HTTPStatus == http.StatusUnauthorized:
		d.Class = FailAccount
	case ge.HTTPStatus >= 400:
		d.Class = FailMessage
	default:
		// Not an HTTP failure Meta described (status 0 or a stray 2xx/3xx):
		// nothing says it is final.
		d.Class = Retry
	}
	if d.Message == "" {
		d.Message = ge.Error()
	}
	return d
}

// Backoff is how long to wait before attempt+1, after attempt attempts
// (1 after the first failure): "full jitter" exponential backoff, a random
// wait from 0 up to 2 s × 2^(attempt-1), the ceiling capped at MaxBackoff.
// The wait is at least retryAfter (a server's Retry-After) and never more
// than MaxBackoff. rnd returns a number in [0, 1); nil means math/rand/v2.
// The caller rounds up to whole seconds for SQS.
func Backoff(attempt int, retryAfter time.Duration, rnd func() float64) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	ceiling := MaxBackoff
	if attempt <= 20 { // beyond that the ceiling is MaxBackoff anyway
		if c := backoffBase << (attempt - 1); c < MaxBackoff {
			ceiling = c
		}
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	f := rnd()
	if f < 0 || f != f {
		f = 0
	}
	if f > 1 {
		f = 1
	}
	wait := time.Duration(f * float64(ceiling))
	if wait < retryAfter {
		wait = retryAfter
	}
	if wait > MaxBackoff {
		wait = MaxBackoff
	}
	return wait
}
