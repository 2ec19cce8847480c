// Package sendlimit keeps the sends of a WhatsApp phone number under the
// number's throughput limit (messages per second, Meta's), across every
// concurrent sender invocation, and gives the transactional lane priority
// over bulk sends.
//
// The budget of a number is one counter per second in the store (RATE#<phone>#<second>),
// raised only while under a ceiling by conditional writes. An invocation
// does not take one token per write: it leases several at once, as many as
// it expects to use in what is left of the second (its use in the previous
// second, at least what its waiting senders need, at most MaxLease), and
// hands them out to its concurrent senders from memory. At 1,000 sends/s
// for a number that is tens of writes a second on the counter, not 1,000,
// far under what one DynamoDB item takes (about 1,000 writes/s).
//
// Never over the limit in any second: a token of second S is used only
// while the local clock is in [S+Guard, S+1-Guard), so two invocations
// whose clocks differ by less than Guard never spend second S's tokens
// outside the true second S; tokens not used in their second are lost
// (under-sending, never over). An invocation that crashes holding tokens
// loses at most one lease of its second.
//
// Lanes: the transactional lane may fill the counter to the limit; the bulk
// lane only to the limit less a headroom (Headroom), so a campaign flooding
// a number leaves tokens in every second for the order confirmation that
// arrives meanwhile.
package sendlimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/pytake/pytake/internal/ctxsleep"
)

// Lane is a class of traffic.
type Lane int

const (
	// Transactional: messages sent one at a time (API calls, chatbot
	// replies, shop notifications).
	Transactional Lane = iota
	// Bulk: campaigns and other mass sends.
	Bulk
)

func (l Lane) String() string {
	if l == Bulk {
		return "bulk"
	}
	return "transactional"
}

// Store leases tokens of a number's second.
type Store interface {
	// LeaseSendTokens adds up to want to the counter of the number's
	// second without taking it over ceiling, and answers how many it
	// added (0: the second is full up to ceiling).
	LeaseSendTokens(ctx context.Context, phoneNumberID string, second int64, want, ceiling int) (int, error)
}

// frozenWaits is how many waits in a row on a clock that does not move
// end a Take.
const frozenWaits = 1000

// leasePoll is how often a sender waiting for another's lease looks again.
const leasePoll = 2 * time.Millisecond

// ErrNoToken: no token before the context's deadline.
var ErrNoToken = errors.New("sendlimit: no send token before the deadline")

// Config wires a Limiter.
type Config struct {
	Store Store
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxLease is the most tokens leased in one write (default 25).
	MaxLease int
	// Guard is the margin kept at both ends of a second (default 10 ms):
	// at least the clock skew between invocations.
	Guard time.Duration
	// MaxWait bounds how long one Take waits, by the clock (default
	// 20 s): ErrNoToken after it. A clock that does not move across
	// frozenWaits waits ends in ErrNoToken too, not a spin.
	MaxWait time.Duration
}

// Limiter hands out send tokens; one per invocation, shared by its
// concurrent senders.
type Limiter struct {
	c     Config
	mu    sync.Mutex
	pools map[poolKey]*pool
}

type poolKey struct {
	phone string
	lane  Lane
}

// pool is an invocation's tokens of one number and lane.
type pool struct {
	leasing bool // one lease write at a time
	second  int64
	tokens  int
	full    bool // the counter reached this lane's ceiling this second
	used    int  // tokens used in second
	prev    int  // tokens used in the second before
	waiting int
}

// New returns a Limiter.
func New(c Config) *Limiter {
	if c.MaxLease <= 0 {
		c.MaxLease = 25
	}
	if c.Guard <= 0 {
		c.Guard = 10 * time.Millisecond
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 20 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = ctxsleep.Sleep
	}
	return &Limiter{c: c, pools: map[poolKey]*pool{}}
}

// Headroom is how many tokens of each second of a number limited to
// perSecond the bulk lane leaves to the transactional lane: 3 %, at least 1
// (30 of 1,000; 3 of 80), none for a limit of 1.
func Headroom(perSecond int) int {
	if perSecond <= 1 {
		return 0
	}
	return max(1, int(math.Ceil(float64(perSecond)*0.03)))
}

// Ceiling is how far a lane may fill a second's counter.
func Ceiling(perSecond int, lane Lane) int {
	if lane == Bulk {
		return perSecond - Headroom(perSecond)
	}
	return perSecond
}

// Take waits for a token of the number (limited to perSecond) in the lane.
// It answers ErrNoToken rather than wait past ctx's deadline, and the
// store's error when a lease cannot be written (no token: the caller
// retries later; the limit is never assumed).
func (l *Limiter) Take(ctx context.Context, phoneNumberID string, perSecond int, lane Lane) error {
	_, err := l.TakeUntil(ctx, phoneNumberID, perSecond, lane)
	return err
}

// TakeUntil is Take, answering also until when the token may be spent (by
// the limiter's clock): the end of its second less Guard. A caller with
// work between the take and the send (a store write) checks it and takes
// another when it has passed: a token spent in a later second is over
// that second's budget.
func (l *Limiter) TakeUntil(ctx context.Context, phoneNumberID string, perSecond int, lane Lane) (time.Time, error) {
	if perSecond < 1 {
		return time.Time{}, fmt.Errorf("sendlimit: limit %d for %s is not positive", perSecond, phoneNumberID)
	}
	var until time.Time
	err := l.take(ctx, phoneNumberID, perSecond, lane, &until)
	return until, err
}

// Usable reports whether a token usable until until may still be spent.
func (l *Limiter) Usable(until time.Time) bool {
	return l.c.Now().Before(until)
}

func (l *Limiter) take(ctx context.Context, phoneNumberID string, perSecond int, lane Lane, until *time.Time) error {
	p := l.pool(phoneNumberID, lane)
	l.mu.Lock()
	p.waiting++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		p.waiting--
		l.mu.Unlock()
	}()
	start := l.c.Now()
	last, still := start, 0
	wait := func(d time.Duration) error {
		now := l.c.Now()
		if now.Equal(last) {
			still++
		} else {
			last, still = now, 0
		}
		if now.Sub(start) > l.c.MaxWait || still > frozenWaits {
			return ErrNoToken
		}
		return l.wait(ctx, d)
	}
	for {
		now := l.c.Now()
		sec := now.Unix()
		into := now.Sub(time.Unix(sec, 0))
		switch {
		case into < l.c.Guard:
			if err := wait(l.c.Guard - into); err != nil {
				return err
			}
			continue
		case into >= time.Second-l.c.Guard:
			if err := wait(time.Second - into + l.c.Guard); err != nil {
				return err
			}
			continue
		}
		l.mu.Lock()
		p.roll(sec)
		if p.second > sec {
			// The wall clock stepped back: the pool's tokens are of a
			// later second, never spent in this one; wait for it.
			l.mu.Unlock()
			if err := wait(time.Second - into + l.c.Guard); err != nil {
				return err
			}
			continue
		}
		if p.tokens > 0 {
			p.tokens--
			p.used++
			l.mu.Unlock()
			*until = time.Unix(sec, 0).Add(time.Second - l.c.Guard)
			return nil
		}
		full := p.full
		l.mu.Unlock()
		if full {
			if err := wait(time.Second - into + l.c.Guard); err != nil {
				return err
			}
			continue
		}
		polled, err := l.leaseFor(ctx, p, phoneNumberID, perSecond, lane, sec, into)
		if err != nil {
			return err
		}
		if polled {
			if err := wait(leasePoll); err != nil {
				return err
			}
		}
	}
}

// wait sleeps d, or answers ErrNoToken when ctx's deadline comes first.
func (l *Limiter) wait(ctx context.Context, d time.Duration) error {
	if dl, ok := ctx.Deadline(); ok && l.c.Now().Add(d).After(dl) {
		return ErrNoToken
	}
	if err := l.c.Sleep(ctx, d); err != nil {
		return fmt.Errorf("sendlimit: waiting for a token: %w", err)
	}
	return nil
}

// leaseFor leases tokens of second sec into p, one lease at a time per
// pool (a sender that waited for another's lease finds its tokens).
// polled: another sender's lease is being written; wait leasePoll and
// look again (a sleep, not a lock, so a simulated clock sees every wait).
func (l *Limiter) leaseFor(ctx context.Context, p *pool, phone string, perSecond int, lane Lane, sec int64, into time.Duration) (polled bool, err error) {
	l.mu.Lock()
	p.roll(sec)
	if p.tokens > 0 || p.full {
		l.mu.Unlock()
		return false, nil
	}
	if p.leasing {
		l.mu.Unlock()
		return true, nil
	}
	p.leasing = true
	defer func() {
		l.mu.Lock()
		p.leasing = false
		l.mu.Unlock()
	}()
	left := float64(time.Second-l.c.Guard-into) / float64(time.Second)
	want := max(p.waiting, int(math.Ceil(float64(p.prev)*left)))
	l.mu.Unlock()
	want = min(max(want, 1), l.c.MaxLease)
	ceiling := Ceiling(perSecond, lane)
	if ceiling < 1 {
		ceiling = perSecond
	}
	want = min(want, ceiling)
	got, err := l.c.Store.LeaseSendTokens(ctx, phone, sec, want, ceiling)
	if err != nil {
		return false, fmt.Errorf("sendlimit: lease for %s: %w", phone, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if p.second != sec {
		// Another sender moved on to the next second during the write:
		// these tokens are lost (a later Take drops them too when the
		// second is over).
		return false, nil
	}
	p.tokens += got
	if got < want {
		p.full = true
	}
	return false, nil
}

// roll moves the pool to second sec, dropping what was left of an earlier
// one.
func (p *pool) roll(sec int64) {
	if sec <= p.second {
		return
	}
	if p.second == sec-1 {
		p.prev = p.used
	} else {
		p.prev = 0
	}
	p.second, p.tokens, p.full, p.used = sec, 0, false, 0
}

func (l *Limiter) pool(phone string, lane Lane) *pool {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := poolKey{phone, lane}
	p, ok := l.pools[k]
	if !ok {
		p = &pool{}
		l.pools[k] = p
	}
	return p
}
