package sendlimit

import (
	"context"
	"math"
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
// Leases: the bucket is not asked once per message. An invocation leases
// the tokens its batch expects to use for an organisation (Expect, from
// the relay's batch; at most MaxAdmitLease) in one conditional write and
// hands them out from memory. A leased token is usable for Hold after its
// lease; one not used by then is lost, never returned (returning it would
// be a second write, the one leasing saves, and a crash loses it anyway:
// the error is always under-admission). Because a token is used up to
// Hold after the bucket counted it, the store's bucket has a burst of
// AdmitBurst less what the rate refills in Hold (AdmitRate*Hold): over
// any window of w, the messages admitted, by the time they were admitted,
// are at most AdmitBurst + AdmitRate*w, whatever the invocations and
// their leases (TestAdmissionNeverOverBucket).
//
// A refusal is remembered by the invocation until the bucket has a token
// again, at most refusalMemory (a peer whose clock is ahead can push the
// bucket's state into this one's future: its answer is not trusted for
// longer), so an organisation flooding the lane costs the bucket's item a
// few writes a second per invocation, not one per message.
//
// A bucket that cannot be written (throttled, the store down) admits the
// message only when the organisation is not known to be over its share:
// its own flood is what throttles its bucket's item, and answering yes to
// every message then would put the whole flood in the transactional lane.
type Admission struct {
	store TokenStore
	rate  int
	burst int
	hold  time.Duration
	now   func() time.Time

	mu    sync.Mutex
	pools map[string]*admitPool
}

// admitPool is an invocation's leased tokens of one organisation.
type admitPool struct {
	tokens    int
	until     time.Time // the tokens are usable before this
	expect    int       // admissions the current batch still expects
	refused   time.Time // no token before this (a refusal remembered)
	pressured time.Time // the last refusal: the organisation was over its share
	tat       int64     // the bucket's state as the last lease left it (unix µs)
}

// TokenStore is the store's token bucket (store.Store.TakeTokens).
type TokenStore interface {
	TakeTokens(ctx context.Context, b store.Bucket, n int) (store.Take, error)
}

// AdmitRate and AdmitBurst are an organisation's share of the
// transactional lane: under the standard throughput level (80/s), so an
// organisation's admitted messages never queue up behind its own number's
// limit, and a burst that one number sends within a second.
const (
	AdmitRate  = 40
	AdmitBurst = 80
)

// AdmitHold is how long a leased token stays usable, and MaxAdmitLease the
// most tokens one lease takes (the relay's batch is at most 25 records).
const (
	AdmitHold     = 250 * time.Millisecond
	MaxAdmitLease = 25
)

// refusalMemory bounds how long a refusal is remembered; pressureMemory
// is how long after its last refusal an organisation counts as over its
// share (a bucket that cannot be written then refuses).
const (
	refusalMemory  = time.Second
	pressureMemory = 10 * time.Second
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
	return &Admission{store: st, rate: rate, burst: burst, hold: AdmitHold, now: now, pools: map[string]*admitPool{}}
}

// bucket is the store's bucket of org: the burst less what the rate
// refills while a leased token may wait (at least 1).
func (a *Admission) bucket(org string) store.Bucket {
	slack := int(math.Ceil(float64(a.rate) * a.hold.Seconds()))
	return store.Bucket{Key: "admit#" + org, Rate: a.rate, Burst: max(a.burst-slack, 1)}
}

func (a *Admission) pool(org string) *admitPool {
	p, ok := a.pools[org]
	if !ok {
		p = &admitPool{}
		a.pools[org] = p
	}
	return p
}

// Expect sets how many non-bulk messages of org the current batch will
// ask to admit: the size of the next lease (the relay calls it for each
// organisation of a batch before relaying it).
func (a *Admission) Expect(org string, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pool(org).expect = max(n, 0)
}

// Admit says whether the next non-bulk message of an organisation's share
// (its id; its test share for a test key's message,
// store.OutboxJob.AdmitKey) goes to the transactional lane. An error writing the bucket is returned with the
// answer (the caller logs it): yes, unless the organisation was refused
// within pressureMemory (then no, until the bucket answers again).
func (a *Admission) Admit(ctx context.Context, org string) (bool, error) {
	now := a.now()
	a.mu.Lock()
	p := a.pool(org)
	if p.expect > 0 {
		p.expect--
	}
	if p.tokens > 0 && now.Before(p.until) && !now.Before(p.until.Add(-a.hold)) {
		p.tokens--
		a.mu.Unlock()
		return true, nil
	}
	p.tokens = 0
	if now.Before(p.refused) {
		a.mu.Unlock()
		return false, nil
	}
	want := min(p.expect+1, MaxAdmitLease)
	idle := now.UnixMicro() > p.tat
	a.mu.Unlock()

	b := a.bucket(org)
	// A bucket last seen drained by now is most likely idle: its write
	// first (one write instead of two).
	b.IdleFirst = idle
	t, err := a.store.TakeTokens(ctx, b, min(want, b.Burst))
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		if now.Sub(p.pressured) < pressureMemory {
			// Still over its share as far as is known: so until the
			// bucket answers again.
			p.pressured = now
			return false, err
		}
		return true, err
	}
	p.tat = t.TAT
	if t.Tokens <= 0 {
		p.refused = now.Add(min(max(t.RetryAfter, 0), refusalMemory))
		p.pressured = now
		return false, nil
	}
	// The lease's tokens are counted at now by this clock: usable in
	// [now, now+hold) by it, and never by a clock that stepped back.
	p.tokens, p.until = t.Tokens-1, now.Add(a.hold)
	return true, nil
}
