// Package ratelimit is the per-organisation and per-key rate limit of the
// /v1 API: two token buckets per request (the key's, then its
// organisation's), sized by the organisation's plan, kept in DynamoDB so the
// limit holds across every concurrent Lambda container, and described to
// clients with the IETF RateLimit and RateLimit-Policy fields
// (draft-ietf-httpapi-ratelimit-headers) and Retry-After.
//
// Each container also remembers the last state it saw of each bucket (its
// theoretical arrival time, which only ever grows): a request that this
// state already refuses is refused without a DynamoDB call, so a client
// hammering a full bucket costs no writes.
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pytake/pytake/internal/store"
)

// Plan is the limits of an organisation: a token bucket for the whole
// organisation and one for each of its keys (requests per second, burst).
type Plan struct {
	Name     string
	OrgRate  int
	OrgBurst int
	KeyRate  int
	KeyBurst int
}

// The plans; an organisation without one (or with an unknown name) has
// DefaultPlan.
var plans = map[string]Plan{
	"free":     {Name: "free", OrgRate: 1, OrgBurst: 20, KeyRate: 1, KeyBurst: 20},
	"standard": {Name: "standard", OrgRate: 100, OrgBurst: 500, KeyRate: 50, KeyBurst: 250},
	"scale":    {Name: "scale", OrgRate: 500, OrgBurst: 2000, KeyRate: 250, KeyBurst: 1000},
}

// DefaultPlan is the plan of organisations that name none.
const DefaultPlan = "standard"

// PlanNamed returns a plan by name; ok is false for an unknown name (the
// plan returned is then DefaultPlan's).
func PlanNamed(name string) (Plan, bool) {
	if name == "" {
		return plans[DefaultPlan], true
	}
	p, ok := plans[name]
	if !ok {
		return plans[DefaultPlan], false
	}
	return p, true
}

// PlanNames lists the plans, sorted.
func PlanNames() []string {
	out := make([]string, 0, len(plans))
	for n := range plans {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Store keeps the buckets.
type Store interface {
	TakeToken(ctx context.Context, b store.Bucket) (store.Take, error)
}

// Limiter takes tokens for requests. One per container.
type Limiter struct {
	st  Store
	now func() time.Time

	mu   sync.Mutex
	seen map[string]int64 // bucket → the latest tat seen (unix µs)
}

// New returns a Limiter over st with clock now.
func New(st Store, now func() time.Time) *Limiter {
	return &Limiter{st: st, now: now, seen: map[string]int64{}}
}

// Decision is the outcome for one request.
type Decision struct {
	Allowed bool
	// Policy says which bucket refused ("key" or "org"), when one did.
	Policy string
	// RetryAfter is how long to wait before a token is available (refused).
	RetryAfter time.Duration
	// Headers are RateLimit-Policy and RateLimit for the answer, plus
	// Retry-After when refused.
	Headers map[string]string
}

// Take takes one token from the key's bucket, then from the
// organisation's; both must allow the request. Errors are the store's
// (the caller decides whether to fail open).
func (l *Limiter) Take(ctx context.Context, orgID, keyID string, p Plan) (Decision, error) {
	buckets := []struct {
		policy string
		b      store.Bucket
	}{
		{"key", store.Bucket{Key: "key#" + keyID, Rate: p.KeyRate, Burst: p.KeyBurst}},
		{"org", store.Bucket{Key: "org#" + orgID, Rate: p.OrgRate, Burst: p.OrgBurst}},
	}
	takes := make([]store.Take, len(buckets))
	d := Decision{Allowed: true}
	for i, bk := range buckets {
		t, err := l.take(ctx, bk.b)
		if err != nil {
			return Decision{}, err
		}
		takes[i] = t
		if !t.Allowed {
			d = Decision{Policy: bk.policy, RetryAfter: t.RetryAfter}
			break
		}
	}
	d.Headers = headers(p, takes, d)
	return d, nil
}

// take asks the store unless what this container last saw of the bucket
// already refuses the request.
func (l *Limiter) take(ctx context.Context, b store.Bucket) (store.Take, error) {
	now := l.now().UnixMicro()
	l.mu.Lock()
	tat, ok := l.seen[b.Key]
	l.mu.Unlock()
	if ok {
		if d := b.Decide(tat, now); !d.Allowed {
			return d, nil
		}
	}
	t, err := l.st.TakeToken(ctx, b)
	if err != nil {
		return t, err
	}
	l.mu.Lock()
	if t.TAT > l.seen[b.Key] {
		l.seen[b.Key] = t.TAT
	}
	if len(l.seen) > 100_000 { // bounded: forget everything rather than grow
		l.seen = map[string]int64{b.Key: t.TAT}
	}
	l.mu.Unlock()
	return t, nil
}

// headers are the IETF fields: RateLimit-Policy lists both policies
// ("key" and "org", q = burst per w = the seconds the bucket takes to
// refill from empty), RateLimit the state of each bucket taken (r =
// remaining, t = seconds until full), and Retry-After when refused.
func headers(p Plan, takes []store.Take, d Decision) map[string]string {
	h := map[string]string{
		"RateLimit-Policy": fmt.Sprintf(`"key";q=%d;w=%d, "org";q=%d;w=%d`,
			p.KeyBurst, window(p.KeyBurst, p.KeyRate), p.OrgBurst, window(p.OrgBurst, p.OrgRate)),
	}
	var parts []string
	for i, name := range []string{"key", "org"} {
		if i >= len(takes) || takes[i] == (store.Take{}) {
			continue
		}
		t := takes[i]
		parts = append(parts, fmt.Sprintf(`"%s";r=%d;t=%d`, name, t.Remaining, ceilSeconds(t.Full)))
	}
	h["RateLimit"] = strings.Join(parts, ", ")
	if !d.Allowed {
		h["Retry-After"] = strconv.Itoa(max(1, ceilSeconds(d.RetryAfter)))
	}
	return h
}

func window(burst, rate int) int { return max(1, int(math.Ceil(float64(burst)/float64(rate)))) }

func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// TakeOne takes a token from one bucket of its own (rate tokens a second,
// burst), with the same exact, container-remembered GCRA as Take: for
// limits that are not a plan's, such as the dashboard's sign-in attempts
// per client address. key names the bucket and must not collide with
// Take's ("key#...", "org#...").
func (l *Limiter) TakeOne(ctx context.Context, key string, rate, burst int) (store.Take, error) {
	if strings.HasPrefix(key, "key#") || strings.HasPrefix(key, "org#") {
		return store.Take{}, fmt.Errorf("ratelimit: bucket %q is reserved for plan limits", key)
	}
	return l.take(ctx, store.Bucket{Key: key, Rate: rate, Burst: burst})
}
