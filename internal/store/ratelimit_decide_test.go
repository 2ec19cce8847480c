package store_test

import (
	"testing"
	"time"

	"github.com/pytake/pytake/internal/store"
)

// decideBefore is Bucket.Decide as it was written before it became
// Lease(tat, now, 1): kept as the reference the one-token answer must match.
func decideBefore(b store.Bucket, tat, now int64) store.Take {
	t := (int64(time.Second/time.Microsecond) + int64(b.Rate) - 1) / max(int64(b.Rate), 1)
	if b.Every > 0 {
		t = max(int64(b.Every/time.Microsecond), 1)
	}
	limit := now + int64(b.Burst)*t
	next := max(tat, now) + t
	if next > limit {
		return store.Take{TAT: tat, Full: time.Duration(tat-now) * time.Microsecond, RetryAfter: time.Duration(next-limit) * time.Microsecond}
	}
	return store.Take{Allowed: true, TAT: next, Remaining: int((limit - next) / t), Full: time.Duration(next-now) * time.Microsecond}
}

// TestDecideIsOneTokenLease: Decide and Lease(tat, now, 1) answer what
// Decide answered before, over buckets of several rates and bursts and
// theoretical arrival times from long idle to far ahead; the only new
// field is Tokens, 1 when allowed.
func TestDecideIsOneTokenLease(t *testing.T) {
	buckets := []store.Bucket{
		{Rate: 1, Burst: 1}, {Rate: 3, Burst: 2}, {Rate: 10, Burst: 3}, {Rate: 40, Burst: 70},
		{Rate: 7, Burst: 20}, {Rate: 1000, Burst: 5}, {Rate: 3_000_000, Burst: 4},
		{Every: 6 * time.Second, Burst: 45}, {Every: 6 * time.Second, Burst: 1}, {Every: time.Nanosecond, Burst: 2},
	}
	const now = int64(1_764_000_000_123_457)
	n := 0
	for _, b := range buckets {
		for _, step := range []int64{1, 7, 33_333, 99_999, 100_000, 333_334, 1_000_000, 6_000_000} {
			for i := int64(-60); i <= 60; i++ {
				for _, tat := range []int64{0, now + i*step, now + i*step + 1, now + i*step - 1} {
					want := decideBefore(b, tat, now)
					if want.Allowed {
						want.Tokens = 1
					}
					if got := b.Lease(tat, now, 1); got != want {
						t.Fatalf("%+v Lease(now%+d, 1): %+v, want %+v", b, tat-now, got, want)
					}
					if got := b.Decide(tat, now); got != want {
						t.Fatalf("%+v Decide(now%+d): %+v, want %+v", b, tat-now, got, want)
					}
					n++
				}
			}
		}
	}
	t.Logf("%d answers compared", n)
}
