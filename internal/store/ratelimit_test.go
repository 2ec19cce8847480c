package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/ratelimit"
	"github.com/pytake/pytake/internal/store"
)

// TestTokenBucketAcrossContainers: concurrent takes from several "containers"
// (goroutines sharing the table) never get more than the burst, and the
// bucket refills at its rate.
func TestTokenBucketAcrossContainers(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	b := store.Bucket{Key: "org#A", Rate: 10, Burst: 20}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, err := s.TakeToken(ctx, b)
			if err != nil {
				t.Errorf("take: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if tk.Allowed {
				allowed++
			} else if tk.RetryAfter <= 0 || tk.RetryAfter > 100*time.Millisecond {
				t.Errorf("refused with retry after %s, want (0, 100ms]", tk.RetryAfter)
			}
		}()
	}
	wg.Wait()
	if allowed != b.Burst {
		t.Fatalf("%d of 40 concurrent takes allowed, want the burst, %d", allowed, b.Burst)
	}
	c.Add(time.Second) // 10 tokens back
	n := 0
	for i := 0; i < 15; i++ {
		tk, err := s.TakeToken(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Allowed {
			n++
		}
	}
	if n != 10 {
		t.Fatalf("%d allowed a second later, want 10", n)
	}
	// Idle long enough: full again, and the answer says so.
	c.Add(time.Hour)
	tk, err := s.TakeToken(ctx, b)
	if err != nil || !tk.Allowed || tk.Remaining != b.Burst-1 {
		t.Fatalf("after an hour: %+v %v", tk, err)
	}
	if other, _ := s.TakeToken(ctx, store.Bucket{Key: "org#B", Rate: 1, Burst: 1}); !other.Allowed {
		t.Fatal("another bucket is affected")
	}
}

func TestBucketDecide(t *testing.T) {
	b := store.Bucket{Rate: 10, Burst: 3} // a token every 100 ms
	const now = int64(1_000_000_000)
	tests := []struct {
		name      string
		tat       int64
		allowed   bool
		remaining int
		retry     time.Duration
	}{
		{"idle", 0, true, 2, 0},
		{"in the past", now - 5_000_000, true, 2, 0},
		{"one used", now + 100_000, true, 1, 0},
		{"two used", now + 200_000, true, 0, 0},
		{"full", now + 300_000, false, 0, 100 * time.Millisecond},
		{"far ahead", now + 1_000_000, false, 0, 800 * time.Millisecond},
	}
	for _, tt := range tests {
		d := b.Decide(tt.tat, now)
		if d.Allowed != tt.allowed || d.Remaining != tt.remaining || d.RetryAfter != tt.retry {
			t.Errorf("%s: %+v", tt.name, d)
		}
	}
}

// TestWritesPerRateLimitedRequest: what the README says the limits cost in
// DynamoDB writes: 2 per allowed request (key and organisation buckets), 4
// right after the buckets were idle, none for a request this container
// already knows an empty bucket refuses.
func TestWritesPerRateLimitedRequest(t *testing.T) {
	tbl, c := newTable(t)
	cnt := &counting{DB: tbl.Client}
	s := store.New(cnt, tbl.Name, c.Now)
	l := ratelimit.New(s, c.Now)
	plan, _ := ratelimit.PlanNamed("free")
	ctx := context.Background()
	take := func() ratelimit.Decision {
		t.Helper()
		d, err := l.Take(ctx, "org_A", "key_A", plan)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	writes := func(what string, want int64, f func()) {
		t.Helper()
		cnt.requests.Store(0)
		f()
		if got := cnt.requests.Load(); got != want {
			t.Errorf("%s: %d write requests, want %d", what, got, want)
		}
		t.Logf("%s: %d write requests", what, cnt.requests.Load())
	}
	writes("first request (idle buckets)", 4, func() { take() })
	writes("next request", 2, func() { take() })
	for i := 2; i < plan.KeyBurst; i++ {
		take()
	}
	// This container made the last allowed request, so it knows the
	// bucket is empty: no write. (A refusal learnt from DynamoDB, after
	// another container emptied the bucket, is one failed conditional
	// write per bucket asked.)
	writes("a refusal", 0, func() {
		if take().Allowed {
			t.Fatal("over the burst and allowed")
		}
	})
	writes("later refusals", 0, func() {
		for i := 0; i < 10; i++ {
			if take().Allowed {
				t.Fatal("over the burst and allowed")
			}
		}
	})
}

// TestTakeTokensAcrossContainers: concurrent leases of up to 7 tokens from
// several containers take the burst exactly, the last ones partially, and
// the bucket refills at its rate.
func TestTakeTokensAcrossContainers(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	b := store.Bucket{Key: "admit#A", Rate: 10, Burst: 30}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		taken int
	)
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, err := s.TakeTokens(ctx, b, 7)
			if err != nil {
				t.Errorf("lease: %v", err)
				return
			}
			if tk.Tokens < 0 || tk.Tokens > 7 || tk.Allowed != (tk.Tokens > 0) {
				t.Errorf("lease answered %+v", tk)
			}
			mu.Lock()
			taken += tk.Tokens
			mu.Unlock()
		}()
	}
	wg.Wait()
	if taken != b.Burst {
		t.Fatalf("%d tokens leased by 12 concurrent leases of 7, want the burst, %d", taken, b.Burst)
	}
	tk, err := s.TakeTokens(ctx, b, 5)
	if err != nil || tk.Tokens != 0 || tk.RetryAfter <= 0 || tk.RetryAfter > 100*time.Millisecond {
		t.Fatalf("empty bucket answered %+v, %v; want refused, retry within 100ms", tk, err)
	}
	c.Add(time.Second) // 10 tokens back
	tk, err = s.TakeTokens(ctx, b, 25)
	if err != nil || tk.Tokens != 10 {
		t.Fatalf("a second later: %+v, %v; want 10 tokens", tk, err)
	}
}

// TestTakeOneTokenRequests pins what taking one token asks DynamoDB in each
// state of a bucket (write requests, failed ones included, and reads), and
// its answer: TakeToken and TakeTokens(1) alike.
func TestTakeOneTokenRequests(t *testing.T) {
	type step struct {
		name          string
		after         time.Duration // clock moved first
		writes, reads int64
		allowed       bool
		remaining     int
	}
	inUse := []step{
		{"new", 0, 2, 0, true, 2},
		{"in use", 0, 1, 0, true, 1},
		{"last token", 0, 1, 0, true, 0},
		{"empty", 0, 1, 0, false, 0},
		{"a token back", 100 * time.Millisecond, 1, 0, true, 0},
		{"idle (refilled)", time.Hour, 2, 0, true, 2},
	}
	idleFirst := []step{
		{"new", 0, 1, 0, true, 2},
		{"in use", 0, 2, 0, true, 1},
		{"last token", 0, 2, 0, true, 0},
		{"empty", 0, 2, 0, false, 0},
		{"idle (refilled)", time.Hour, 1, 0, true, 2},
	}
	takes := map[string]func(context.Context, *store.Store, store.Bucket) (store.Take, error){
		"TakeToken": func(ctx context.Context, s *store.Store, b store.Bucket) (store.Take, error) {
			return s.TakeToken(ctx, b)
		},
		"TakeTokens(1)": func(ctx context.Context, s *store.Store, b store.Bucket) (store.Take, error) {
			return s.TakeTokens(ctx, b, 1)
		},
	}
	for name, take := range takes {
		for _, idle := range []bool{false, true} {
			steps := inUse
			if idle {
				steps = idleFirst
			}
			tbl, c := newTable(t)
			cnt := &counting{DB: tbl.Client}
			s := store.New(cnt, tbl.Name, c.Now)
			b := store.Bucket{Key: "org#A", Rate: 10, Burst: 3, IdleFirst: idle}
			for _, st := range steps {
				c.Add(st.after)
				cnt.requests.Store(0)
				cnt.reads.Store(0)
				tk, err := take(context.Background(), s, b)
				if err != nil {
					t.Fatalf("%s idle first %v, %s: %v", name, idle, st.name, err)
				}
				if w, r := cnt.requests.Load(), cnt.reads.Load(); w != st.writes || r != st.reads {
					t.Errorf("%s idle first %v, %s: %d writes, %d reads; want %d, %d", name, idle, st.name, w, r, st.writes, st.reads)
				}
				if tk.Allowed != st.allowed || tk.Remaining != st.remaining || tk.Allowed != (tk.Tokens == 1) {
					t.Errorf("%s idle first %v, %s: %+v", name, idle, st.name, tk)
				}
			}
		}
	}
}
