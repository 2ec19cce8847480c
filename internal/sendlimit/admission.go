package sendlimit

import (
	"context"
	"sync"
	"time"

	"github.com/pytake/pytake/internal/store"
)

// Admission is the per-organisation admission control of the
// transactional lane, at enqueue time (the outbox relay): each
// organisation has a token bucket of AdmitRate messages a second with a
// burst of AdmitBurst, shared by every relay invocation (a store bucket,
// LIMIT#admit#<org>). A non-bulk message that finds a token goes to the
// transactional queue; one that finds none overflows to the bulk queue,
// where it is still sent, at its number's rate. So one organisation
// queueing thousands of ordinary messages at once keeps at most a burst of
// them in the transactional queue, whose FIFO order would otherwise put
// every other organisation's message behind them all.
//
// The bucket is asked once per admitted message; a refusal is remembered
// by the invocation until the bucket has a token again, so an
// organisation flooding the lane costs the bucket's item about AdmitRate
// writes a second, not one per message.
type Admission struct {
	store TokenStore
	rate  int
	burst int
	now   func() time.Time

	mu      sync.Mutex
	refused map[string]time.Time // organisation → when its bucket has a token again
}

// TokenStore is the store's token bucket (store.Store.TakeToken).
type TokenStore interface {
	TakeToken(ctx context.Context, b store.Bucket) (store.Take, error)
}

// AdmitRate and AdmitBurst are an organisation's share of the
// transactional lane: under the standard throughput level (80/s), so an
// organisation's admitted messages never queue up behind its own number's
// limit, and a burst that one number sends within a second.
const (
	AdmitRate  = 40
	AdmitBurst = 80
)

// NewAdmission returns the admission control over st's buckets (rate and
// burst 0: AdmitRate and AdmitBurst; now nil: time.Now).
func NewAdmission(st TokenStore, rate, burst int, now func() time.Time) *Admission {
	if rate <= 0 {
		rate = AdmitRate
	}
	if burst <= 0 {
		burst = AdmitBurst
	}
	if now == nil {
		now = time.Now
	}
	return &Admission{store: st, rate: rate, burst: burst, now: now, refused: map[string]time.Time{}}
}

// Admit says whether the organisation's next non-bulk message goes to the
// transactional lane. An error reading the bucket answers true with the
// error (the caller logs it): fairness is not worth holding a message.
func (a *Admission) Admit(ctx context.Context, org string) (bool, error) {
	now := a.now()
	a.mu.Lock()
	until, ok := a.refused[org]
	if ok && now.Before(until) {
		a.mu.Unlock()
		return false, nil
	}
	delete(a.refused, org)
	a.mu.Unlock()
	t, err := a.store.TakeToken(ctx, store.Bucket{Key: "admit#" + org, Rate: a.rate, Burst: a.burst})
	if err != nil {
		return true, err
	}
	if !t.Allowed {
		a.mu.Lock()
		a.refused[org] = now.Add(t.RetryAfter)
		a.mu.Unlock()
	}
	return t.Allowed, nil
}
