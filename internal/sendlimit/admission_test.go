package sendlimit_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/sendlimit"
	"github.com/pytake/pytake/internal/store"
)

// gcra is store.TakeTokens over one table: a lease is one write, decided
// at the caller's clock (the store's clock is the relay's).
type gcra struct {
	mu     sync.Mutex
	tat    map[string]int64
	writes int
	fail   error
}

func (g *gcra) TakeTokens(_ context.Context, b store.Bucket, n int, now time.Time) (store.Take, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.writes++
	if g.fail != nil {
		return store.Take{}, g.fail
	}
	t := b.Lease(g.tat[b.Key], now.UnixMicro(), n)
	if t.Allowed {
		g.tat[b.Key] = t.TAT
	}
	return t, nil
}

// relayStore is one relay invocation's view of the table: its own clock.
type relayStore struct {
	g   *gcra
	now func() time.Time
}

func (r relayStore) TakeTokens(ctx context.Context, b store.Bucket, n int) (store.Take, error) {
	return r.g.TakeTokens(ctx, b, n, r.now())
}

// Over any window of w, the messages admitted (at the time Admit said
// yes) are at most AdmitBurst + AdmitRate*w, however many invocations
// lease from the bucket, however their batches are sized and spaced, and
// whether or not they use what they leased (a relay that crashes after its
// lease, a batch that stops at a failing record).
func TestAdmissionNeverOverBucket(t *testing.T) {
	for _, tc := range []struct {
		name        string
		invocations int
		batch       int           // records of the organisation per batch
		gap         time.Duration // between records
		pause       time.Duration // most between batches
		crash       float64       // share of batches that stop after the lease
	}{
		{"one invocation, full batches back to back", 1, 25, 2 * time.Millisecond, 0, 0},
		{"eight invocations, full batches", 8, 25, 5 * time.Millisecond, 20 * time.Millisecond, 0},
		{"eight invocations, slow records", 8, 25, 40 * time.Millisecond, 100 * time.Millisecond, 0},
		{"thirty invocations, small batches", 30, 3, time.Millisecond, 50 * time.Millisecond, 0},
		{"eight invocations, half the batches crash after the lease", 8, 25, 5 * time.Millisecond, 30 * time.Millisecond, 0.5},
		{"one record a batch", 4, 1, 0, 10 * time.Millisecond, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.invocations)))
			g := &gcra{tat: map[string]int64{}}
			start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			// A discrete schedule: each invocation's next record at its
			// own time; the earliest goes next.
			type inv struct {
				adm  *sendlimit.Admission
				at   time.Time
				left int
				stop bool
			}
			invs := make([]*inv, tc.invocations)
			for i := range invs {
				v := &inv{at: start.Add(time.Duration(rng.Int64N(int64(50 * time.Millisecond))))}
				v.adm = sendlimit.NewAdmission(relayStore{g, func() time.Time { return v.at }}, 0, 0, func() time.Time { return v.at })
				invs[i] = v
			}
			var admitted []time.Time
			asked := 0
			for asked < 20000 {
				v := invs[0]
				for _, w := range invs {
					if w.at.Before(v.at) {
						v = w
					}
				}
				if v.left == 0 {
					v.left = tc.batch
					v.stop = rng.Float64() < tc.crash
					v.adm.Expect("org_a", tc.batch)
				}
				ok, err := v.adm.Admit(context.Background(), "org_a")
				require.NoError(t, err)
				asked++
				if ok {
					admitted = append(admitted, v.at)
				}
				v.left--
				if v.stop {
					v.left = 0
				}
				v.at = v.at.Add(tc.gap)
				if v.left == 0 && tc.pause > 0 {
					v.at = v.at.Add(time.Duration(rng.Int64N(int64(tc.pause))))
				}
			}
			sort.Slice(admitted, func(i, j int) bool { return admitted[i].Before(admitted[j]) })
			interval := time.Second / sendlimit.AdmitRate
			for i := range admitted {
				for j := i; j < len(admitted); j++ {
					w := admitted[j].Sub(admitted[i])
					if w > 3*time.Second {
						break
					}
					allowed := sendlimit.AdmitBurst + int(w/interval)
					require.LessOrEqual(t, j-i+1, allowed, "%d admitted in %v from %v", j-i+1, w, admitted[i].Sub(start))
				}
			}
			span := admitted[len(admitted)-1].Sub(start).Seconds()
			t.Logf("%d asked over %.1f s, %d admitted (%.1f/s), %d bucket writes (%.3f per admitted message)",
				asked, span, len(admitted), float64(len(admitted))/span, g.writes, float64(g.writes)/float64(len(admitted)))
			require.Greater(t, float64(len(admitted))/span, 0.5*sendlimit.AdmitRate, "the share is used, not starved")
		})
	}
}

// A lease takes the batch's tokens in one write: a steady organisation
// sending a batch of 20 a second costs its bucket one write per batch.
func TestAdmissionLeasesPerBatch(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	g := &gcra{tat: map[string]int64{}}
	a := sendlimit.NewAdmission(relayStore{g, func() time.Time { return now }}, 0, 0, func() time.Time { return now })
	for range 10 {
		a.Expect("org_a", 20)
		for range 20 {
			ok, err := a.Admit(context.Background(), "org_a")
			require.NoError(t, err)
			require.True(t, ok)
			now = now.Add(time.Millisecond)
		}
		now = now.Add(time.Second)
	}
	require.Equal(t, 10, g.writes, "one write per batch of 20")
}

// A bucket that cannot be written while its organisation floods (its own
// writes are what throttle the bucket's item) must not admit the flood:
// before, every message was admitted on a store error, so throttling one's
// own bucket put the whole flood in the transactional lane. An
// organisation not over its share is still admitted.
func TestAdmissionThrottledBucketRefusesFlood(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	g := &gcra{tat: map[string]int64{}}
	a := sendlimit.NewAdmission(relayStore{g, func() time.Time { return now }}, 0, 0, func() time.Time { return now })
	ctx := context.Background()
	admitted := 0
	for range 200 {
		if ok, _ := a.Admit(ctx, "org_a"); ok {
			admitted++
		}
	}
	require.Equal(t, 70, admitted, "the burst (less the lease slack)")
	throttled := errors.New("ProvisionedThroughputExceededException")
	g.fail = throttled
	for range 5 {
		now = now.Add(2 * time.Second)
		for range 100 {
			ok, err := a.Admit(ctx, "org_a")
			require.False(t, ok, "a flooding organisation admitted on a throttled bucket")
			if err != nil {
				require.ErrorIs(t, err, throttled)
			}
		}
	}
	ok, err := a.Admit(ctx, "org_b")
	require.ErrorIs(t, err, throttled)
	require.True(t, ok, "an organisation not over its share is admitted when its bucket cannot be written")
	now = now.Add(11 * time.Second)
	ok, _ = a.Admit(ctx, "org_a")
	require.True(t, ok, "no longer over its share after pressureMemory")
}

// A peer relay whose clock is ahead pushes the bucket's state into this
// one's future: the refusal it reads says to wait for minutes. Before, the
// invocation remembered it that long, overflowing every message of the
// organisation; now at most refusalMemory (1 s).
func TestAdmissionSkewedRefusalRememberedBriefly(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	g := &gcra{tat: map[string]int64{}}
	ahead := now.Add(5 * time.Minute)
	fast := sendlimit.NewAdmission(relayStore{g, func() time.Time { return ahead }}, 0, 0, func() time.Time { return ahead })
	slow := sendlimit.NewAdmission(relayStore{g, func() time.Time { return now }}, 0, 0, func() time.Time { return now })
	ctx := context.Background()
	fast.Expect("org_a", 25)
	for range 25 {
		ok, _ := fast.Admit(ctx, "org_a")
		require.True(t, ok)
	}
	ok, _ := slow.Admit(ctx, "org_a")
	require.False(t, ok, "the bucket is in this clock's future")
	before := g.writes
	for range 50 {
		_, _ = slow.Admit(ctx, "org_a")
	}
	require.Equal(t, before, g.writes, "the refusal remembered")
	// The skewed peer goes away (its clock fixed); 1 s later this one asks
	// again rather than five minutes later.
	g.mu.Lock()
	g.tat = map[string]int64{}
	g.mu.Unlock()
	now = now.Add(time.Second)
	ok, _ = slow.Admit(ctx, "org_a")
	require.True(t, ok, "asked again after at most a second")
}
