package sendlimit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/sendlimit"
)

// run runs f on the simulated clock and waits for it.
func run(c *simClock, f func()) {
	done := make(chan struct{})
	c.Go(func() { f(); close(done) })
	<-done
}

func TestCeiling(t *testing.T) {
	for _, tc := range []struct {
		limit          int
		lane           sendlimit.Lane
		want, headroom int
	}{
		{1000, sendlimit.Transactional, 1000, 30},
		{1000, sendlimit.Bulk, 970, 30},
		{80, sendlimit.Bulk, 77, 3},
		{20, sendlimit.Bulk, 19, 1},
		{1, sendlimit.Bulk, 1, 0},
	} {
		require.Equal(t, tc.want, sendlimit.Ceiling(tc.limit, tc.lane), "%d %s", tc.limit, tc.lane)
		require.Equal(t, tc.headroom, sendlimit.Headroom(tc.limit), "%d", tc.limit)
	}
}

// The limiter's item unavailable: no token, the store's error (the sender
// retries the message later; it never sends on an unknown budget).
func TestStoreUnavailableGivesNoToken(t *testing.T) {
	c := newSimClock()
	tbl := newTable(c)
	boom := errors.New("ProvisionedThroughputExceeded")
	tbl.fail = func(string) error { return boom }
	lim := sendlimit.New(sendlimit.Config{Store: tbl, Now: c.Now, Sleep: c.Sleep})
	var err error
	run(c, func() { err = lim.Take(context.Background(), "P1", 80, sendlimit.Transactional) })
	require.ErrorIs(t, err, boom)
}

// An invocation that dies holding leased tokens costs at most its lease of
// that second: the next second's budget is whole, and no second goes over.
func TestCrashHoldingTokens(t *testing.T) {
	c := newSimClock()
	tbl := newTable(c)
	dead := sendlimit.New(sendlimit.Config{Store: tbl, Now: c.Now, Sleep: c.Sleep, MaxLease: 10})
	run(c, func() {
		_ = c.Sleep(context.Background(), 100*time.Millisecond)
		require.NoError(t, dead.Take(context.Background(), "P1", 20, sendlimit.Transactional))
	})
	// dead is gone, holding what it leased; another invocation sends.
	live := sendlimit.New(sendlimit.Config{Store: tbl, Now: c.Now, Sleep: c.Sleep})
	got := map[int64]int{}
	run(c, func() {
		for range 40 {
			require.NoError(t, live.Take(context.Background(), "P1", 20, sendlimit.Transactional))
			got[c.Now().Unix()]++
		}
	})
	for sec, n := range got {
		require.LessOrEqual(t, n, 20, "second %d", sec)
	}
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	require.GreaterOrEqual(t, got[start], 20-10, "the dead invocation's lease is all that is lost")
	require.Equal(t, 20, got[start+1], "the next second is whole")
}

// A lease written as the second turns (the write outlasts it): its tokens
// are not spent in the next second.
func TestLeaseLostAsTheSecondTurns(t *testing.T) {
	c := newSimClock()
	tbl := newTable(c)
	tbl.latency = 30 * time.Millisecond
	lim := sendlimit.New(sendlimit.Config{Store: tbl, Now: c.Now, Sleep: c.Sleep, MaxLease: 25})
	var at []time.Time
	run(c, func() {
		_ = c.Sleep(context.Background(), 975*time.Millisecond) // 15 ms before the guard
		for range 3 {
			require.NoError(t, lim.Take(context.Background(), "P1", 2, sendlimit.Transactional))
			at = append(at, c.Now())
		}
	})
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	per := map[int64]int{}
	for _, a := range at {
		per[a.Unix()]++
	}
	for sec, n := range per {
		require.LessOrEqual(t, n, 2, "second %d", sec)
	}
	require.Zero(t, per[start], "tokens of a second that ended during the write were used late")
}

// No token before the deadline: ErrNoToken, not a wait past it.
func TestDeadline(t *testing.T) {
	c := newSimClock()
	tbl := newTable(c)
	lim := sendlimit.New(sendlimit.Config{Store: tbl, Now: c.Now, Sleep: c.Sleep})
	var err error
	run(c, func() {
		ctx, cancel := context.WithDeadline(context.Background(), c.Now().Add(1500*time.Millisecond))
		defer cancel()
		for range 3 {
			if err = lim.Take(ctx, "P1", 1, sendlimit.Transactional); err != nil {
				return
			}
		}
	})
	require.ErrorIs(t, err, sendlimit.ErrNoToken)
	require.Error(t, lim.Take(context.Background(), "P1", 0, sendlimit.Transactional), "a limit of 0 is refused")
}

// A bulk flood cannot starve the transactional lane: with bulk senders
// asking for every token of every second, transactional ones still get
// the headroom.
func TestBulkFloodLeavesHeadroom(t *testing.T) {
	c := newSimClock()
	tbl := newTable(c)
	bulk := sendlimit.New(sendlimit.Config{Store: tbl, Now: c.Now, Sleep: c.Sleep})
	tx := sendlimit.New(sendlimit.Config{Store: tbl, Now: c.Now, Sleep: c.Sleep})
	until := c.Now().Add(5 * time.Second)
	txSent := map[int64]int{}
	run(c, func() {
		for range 20 {
			c.Go(func() {
				for c.Now().Before(until) {
					_ = bulk.Take(context.Background(), "P1", 100, sendlimit.Bulk)
				}
			})
		}
		_ = c.Sleep(context.Background(), 2*time.Second+50*time.Millisecond)
		for range 3 {
			require.NoError(t, tx.Take(context.Background(), "P1", 100, sendlimit.Transactional))
			txSent[c.Now().Unix()]++
		}
		_ = c.Sleep(context.Background(), 4*time.Second)
	})
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	require.Equal(t, 3, txSent[start+2], "the transactional lane's three tokens, in the flood's second")
	for k, n := range tbl.counters {
		require.LessOrEqual(t, n, 100, k)
	}
}

// A clock that does not move and a sleep that does not sleep (a test's, or
// a broken one) end in ErrNoToken, not a spin.
func TestFrozenClockDoesNotSpin(t *testing.T) {
	frozen := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) // on a second's edge: inside the guard
	c := newSimClock()
	lim := sendlimit.New(sendlimit.Config{Store: newTable(c), Now: func() time.Time { return frozen },
		Sleep: func(context.Context, time.Duration) error { return nil }})
	done := make(chan error, 1)
	go func() { done <- lim.Take(context.Background(), "P1", 80, sendlimit.Transactional) }()
	select {
	case err := <-done:
		require.ErrorIs(t, err, sendlimit.ErrNoToken)
	case <-time.After(10 * time.Second):
		t.Fatal("Take spins on a frozen clock")
	}
}

// A sleep that does not sleep beside a clock that moves (a test's wall
// clock): a Take at a second's edge spins through the guard and gets its
// token; it does not give up for waits it only asked for.
func TestNoOpSleepAtTheEdge(t *testing.T) {
	c := newSimClock()
	var mu sync.Mutex
	at := time.Date(2030, 1, 1, 0, 0, 0, 995_000_000, time.UTC)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		at = at.Add(time.Microsecond)
		return at
	}
	tbl := newTable(c)
	tbl.latency = 0
	lim := sendlimit.New(sendlimit.Config{Store: tbl, Now: now, Sleep: func(context.Context, time.Duration) error { return nil }})
	var err error
	run(c, func() { err = lim.Take(context.Background(), "P1", 80, sendlimit.Transactional) })
	require.NoError(t, err)
}

// counters is a store of per-second counters with no latency.
type counters struct {
	mu sync.Mutex
	n  map[int64]int
}

func (c *counters) LeaseSendTokens(_ context.Context, _ string, second int64, want, ceiling int) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	got := min(want, ceiling-c.n[second])
	c.n[second] += got
	return got, nil
}

// The wall clock stepped back (an NTP correction) while the pool holds
// tokens leased for the later second: they are not spent in the earlier
// one, whose counter was already full.
func TestClockSteppedBackSpendsNoLaterTokens(t *testing.T) {
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	now := base.Add(100 * time.Millisecond)
	clock := func() time.Time { return now }
	sleep := func(_ context.Context, d time.Duration) error { now = now.Add(d); return nil }
	st := &counters{n: map[int64]int{}}
	lim := sendlimit.New(sendlimit.Config{Store: st, Now: clock, Sleep: sleep})
	ctx := context.Background()
	used := map[int64]int{}
	take := func() {
		require.NoError(t, lim.Take(ctx, "P1", 10, sendlimit.Transactional))
		used[now.Unix()]++
	}
	for range 10 { // second T filled
		take()
	}
	now = base.Add(1500 * time.Millisecond)
	take() // second T+1: a lease of several, one used
	require.Greater(t, st.n[base.Unix()+1], 1, "the lease took several tokens")
	now = base.Add(600 * time.Millisecond) // stepped back into T
	take()
	require.Equal(t, 10, used[base.Unix()], "second T stays at its limit")
	for sec, n := range used {
		require.LessOrEqual(t, n, 10, "second %d", sec)
	}
}
