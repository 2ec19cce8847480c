// Package awsapi is a small hand-written client for the few SQS, SNS and
// Secrets Manager operations PyTake's functions call. The SDK's service
// packages for these three (their schemas, types, and SNS's XML protocol)
// cost every artifact hundreds of kilobytes and init work for a handful of
// requests; this package signs the same requests with the SDK's SigV4
// signer (already linked for DynamoDB), retries like the SDK's standard
// mode and reads bounded responses. Request bodies (secret values among
// them) and signed headers never appear in its errors.
package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/pytake/pytake/internal/ctxsleep"
	"github.com/pytake/pytake/internal/textcut"
)

// MaxResponseBytes caps a response body; a longer one is an error.
const MaxResponseBytes = 1 << 20

// maxAttempts is the SDK's standard retry mode's default.
const maxAttempts = 3

// The standard retry mode of the SDK this module pins (aws-sdk-go-v2
// v1.48, its retry behaviour of 2026): a retry waits a jittered
// min(base x 2^i, maxBackoff) for the i-th retry, base 50 ms, or 1 s after
// a throttling error; an X-Amz-Retry-After header (milliseconds) moves
// the wait within [that, that + 5 s].
const (
	maxBackoff      = 20 * time.Second
	baseBackoff     = 50 * time.Millisecond
	throttleBackoff = time.Second
	maxRetryAfter   = 5 * time.Second
)

// The retry bucket of the same mode, one per client: a retry takes
// retryCost tokens (throttleRetryCost after a throttling error), a success
// gives back what its retry took, or noRetryIncrement when it needed none.
// With the bucket empty a failure is not retried, so a service that is
// down is not sent three times the calls.
const (
	quotaMax          = 500
	retryCost         = 14
	throttleRetryCost = 5
	noRetryIncrement  = 1
)

// retryQuota is a client's retry bucket.
type retryQuota struct {
	mu     sync.Mutex
	tokens int
}

// take takes a retry's cost, or answers false when the bucket has less.
func (q *retryQuota) take(cost int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.tokens < cost {
		return false
	}
	q.tokens -= cost
	return true
}

// give puts n tokens back, up to quotaMax.
func (q *retryQuota) give(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tokens = min(quotaMax, q.tokens+n)
}

// Error is an error response from a service, or a response that could not
// be read. Code is the service's error code (ResourceNotFoundException,
// InvalidParameterValue, ...), empty when there was none.
type Error struct {
	Service   string
	Op        string
	Status    int
	Code      string
	Message   string
	RequestID string
	// retryAfter is the response's X-Amz-Retry-After, 0 without one.
	retryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "awsapi: %s %s: status %d", e.Service, e.Op, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// HasCode reports whether err is (or wraps) an *Error with this code.
func HasCode(err error, code string) bool {
	var e *Error
	return code != "" && errors.As(err, &e) && e.Code == code
}

// throttles are the SDK's throttling error codes: retried, at the
// throttling cost and wait.
var throttles = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestThrottledException": true, "TooManyRequestsException": true,
	"ProvisionedThroughputExceededException": true, "TransactionInProgressException": true,
	"RequestLimitExceeded": true, "BandwidthLimitExceeded": true, "LimitExceededException": true,
	"RequestThrottled": true, "SlowDown": true, "PriorRequestNotComplete": true,
	"EC2ThrottledException": true,
}

// transients are other error codes retried: the SDK's (RequestTimeout,
// RequestTimeoutException) and the service-side failures SQS and SNS name
// (they come with a 5xx, retried anyway, but also with a 400 from SNS's
// query protocol).
var transients = map[string]bool{
	"RequestTimeout": true, "RequestTimeoutException": true,
	"ServiceUnavailable": true, "InternalError": true, "InternalFailure": true,
}

// throttled: a throttling code, or a 429 whose body names none of the
// service's errors (the SDK's unmodelled 429).
func (e *Error) throttled() bool {
	return throttles[e.Code] || e.Status == http.StatusTooManyRequests
}

// retryable: the SDK's standard mode's statuses (500, 502, 503, 504, and
// 429) and codes. Other 5xx (501 Not Implemented, 505) answer the same on
// every attempt.
func (e *Error) retryable() bool {
	switch e.Status {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable,
		http.StatusGatewayTimeout, http.StatusTooManyRequests:
		return true
	}
	return throttles[e.Code] || transients[e.Code]
}

// sendRetryable says whether a request that could not be sent, or whose
// response could not be read, may be repeated: not once ctx is done, nor
// for a host name that does not exist (as the SDK's standard mode).
func sendRetryable(ctx context.Context, err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return false
	}
	return ctx.Err() == nil
}

// caller sends one service's signed requests.
type caller struct {
	service  string
	region   string
	endpoint string
	creds    aws.CredentialsProvider
	http     aws.HTTPClient
	signer   *v4.Signer
	sleep    func(context.Context, time.Duration) error
	now      func() time.Time
	jitter   func() float64 // in [0, 1): the share of a backoff's cap waited
	quota    *retryQuota
	// parseError reads an error response's code, message and request id.
	parseError func(h http.Header, body []byte) (code, msg, reqID string)
}

func newCaller(cfg aws.Config, service string, parseError func(http.Header, []byte) (string, string, string)) *caller {
	hc := cfg.HTTPClient
	if c, ok := hc.(*http.Client); ok {
		// A signed request is never followed elsewhere: a redirect is an
		// answer (an error), not a place to resend the body to.
		nc := *c
		nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		hc = &nc
	} else if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &caller{
		service:    service,
		region:     cfg.Region,
		endpoint:   Endpoint(cfg, service),
		creds:      cfg.Credentials,
		http:       hc,
		signer:     v4.NewSigner(),
		sleep:      ctxsleep.Sleep,
		now:        time.Now,
		jitter:     rand.Float64,
		quota:      &retryQuota{tokens: quotaMax},
		parseError: parseError,
	}
}

// Endpoint is where requests to service go: cfg.BaseEndpoint when set (the
// local stack), else the service's regional endpoint.
func Endpoint(cfg aws.Config, service string) string {
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		return strings.TrimRight(*cfg.BaseEndpoint, "/") + "/"
	}
	suffix := ".amazonaws.com"
	if strings.HasPrefix(cfg.Region, "cn-") {
		suffix = ".amazonaws.com.cn"
	}
	return "https://" + service + "." + cfg.Region + suffix + "/"
}

// call POSTs body (with these headers) and returns a 2xx response's body,
// retrying network errors, 500, 502, 503, 504, 429 and throttling errors up to
// maxAttempts times with jittered exponential backoff, never waiting past
// ctx's deadline, while the client's retry bucket has the tokens.
func (c *caller) call(ctx context.Context, op string, header http.Header, body []byte) ([]byte, error) {
	hash := sha256Hex(body)
	var last error
	paid := 0 // the tokens the last retry took
	for attempt := 1; ; attempt++ {
		out, retry, err := c.once(ctx, op, header, body, hash)
		if err == nil {
			if paid == 0 {
				paid = noRetryIncrement
			}
			c.quota.give(paid)
			return out, nil
		}
		last = err
		if !retry || attempt >= maxAttempts || ctx.Err() != nil {
			return nil, last
		}
		paid = retryCost
		base := baseBackoff
		var e *Error
		if errors.As(err, &e) && e.throttled() {
			paid, base = throttleRetryCost, throttleBackoff
		}
		d := time.Duration(c.jitter() * float64(min(maxBackoff, base<<(attempt-1))))
		if e != nil {
			d = min(max(d, e.retryAfter), d+maxRetryAfter)
		}
		if deadline, ok := ctx.Deadline(); ok && deadline.Sub(c.now()) <= d {
			// The wait would outlast the caller: give it the failure now,
			// with the time it has left, rather than the deadline's error.
			return nil, last
		}
		if !c.quota.take(paid) {
			return nil, last
		}
		if err := c.sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("%w (then %w)", last, err)
		}
	}
}

// once makes one attempt; retry says whether a failed one may be repeated.
func (c *caller) once(ctx context.Context, op string, header http.Header, body []byte, hash string) (out []byte, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, false, fmt.Errorf("awsapi: %s %s: %w", c.service, op, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if c.creds == nil {
		return nil, false, fmt.Errorf("awsapi: %s %s: no credentials", c.service, op)
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("awsapi: %s %s: credentials: %w", c.service, op, err)
	}
	if err := c.signer.SignHTTP(ctx, creds, req, hash, c.service, c.region, c.now()); err != nil {
		return nil, false, fmt.Errorf("awsapi: %s %s: sign: %w", c.service, op, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The error names the endpoint, never the body or the headers.
		return nil, sendRetryable(ctx, err), fmt.Errorf("awsapi: %s %s: %w", c.service, op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, sendRetryable(ctx, err), fmt.Errorf("awsapi: %s %s: read response: %w", c.service, op, err)
	}
	if len(b) > MaxResponseBytes {
		return nil, false, &Error{Service: c.service, Op: op, Status: resp.StatusCode,
			Message: fmt.Sprintf("response larger than %d bytes", MaxResponseBytes)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return b, false, nil
	}
	code, msg, reqID := c.parseError(resp.Header, b)
	if reqID == "" {
		reqID = resp.Header.Get("X-Amzn-Requestid")
	}
	e := &Error{Service: c.service, Op: op, Status: resp.StatusCode, Code: clip(code, 100), Message: clip(msg, 300), RequestID: clip(reqID, 100),
		retryAfter: retryAfter(resp.Header)}
	return nil, e.retryable(), e
}

// retryAfter reads X-Amz-Retry-After (milliseconds): 0 when absent or
// not a number of them.
func retryAfter(h http.Header) time.Duration {
	ms, err := strconv.ParseInt(h.Get("X-Amz-Retry-After"), 10, 64)
	if err != nil || ms < 0 || ms > int64(time.Hour/time.Millisecond) {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// clip keeps at most the first n bytes of s (a service's text in an
// error), cut on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return textcut.Bytes(s, n) + "..."
}
