package sendlimit_test

import (
	"container/heap"
	"context"
	"flag"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/sendlimit"
	"github.com/pytake/pytake/internal/store"
)

// The simulation runs many sender invocations sharing one modelled
// DynamoDB table on a simulated clock: the real Limiter, the sender's path
// as latencies (claim, account read, token, attempt, Graph, record), the
// table's per-key reads and writes counted per second. By hand, longer:
//
//	go test -run TestSimulation -v ./internal/sendlimit/ -sim.seconds 600
var simSeconds = flag.Int("sim.seconds", 60, "simulated seconds of the sustained-rate simulation")

// simClock is a discrete-event clock: goroutines started with Go run until
// they all sleep; then the clock jumps to the earliest wake-up.
type simClock struct {
	mu     sync.Mutex
	now    time.Time
	active int
	seq    int
	timers timerHeap
}

type timer struct {
	at  time.Time
	seq int
	ch  chan struct{}
}

type timerHeap []timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	return h[i].at.Before(h[j].at) || h[i].at.Equal(h[j].at) && h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func newSimClock() *simClock {
	// Far from the wall clock: no real context deadline is ever reached.
	return &simClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) Go(f func()) {
	c.mu.Lock()
	c.active++
	c.mu.Unlock()
	go func() {
		defer func() {
			c.mu.Lock()
			c.active--
			c.advance()
			c.mu.Unlock()
		}()
		f()
	}()
}

func (c *simClock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	ch := make(chan struct{})
	c.seq++
	heap.Push(&c.timers, timer{at: c.now.Add(max(d, 0)), seq: c.seq, ch: ch})
	c.active--
	c.advance()
	c.mu.Unlock()
	<-ch
	return nil
}

// advance (c.mu held) wakes the earliest sleeper when no goroutine runs.
func (c *simClock) advance() {
	if c.active > 0 || len(c.timers) == 0 {
		return
	}
	t := heap.Pop(&c.timers).(timer)
	if t.at.After(c.now) {
		c.now = t.at
	}
	c.active++
	close(t.ch)
}

// table models DynamoDB: the send-rate counters (as store.LeaseSendTokens
// writes them: one write when the lease fits, a second for what is left)
// and the reads and writes per key and per partition key, per second.
type table struct {
	clock    *simClock
	latency  time.Duration
	mu       sync.Mutex
	counters map[string]int
	writes   map[string]map[int64]int // key → second → writes
	reads    map[string]map[int64]int
	fail     func(key string) error
}

func newTable(c *simClock) *table {
	return &table{clock: c, latency: 5 * time.Millisecond, counters: map[string]int{},
		writes: map[string]map[int64]int{}, reads: map[string]map[int64]int{}}
}

func (t *table) count(m map[string]map[int64]int, key string, n int) {
	sec := t.clock.Now().Unix()
	if m[key] == nil {
		m[key] = map[int64]int{}
	}
	m[key][sec] += n
}

// op is a call of the sender's path other than the lease: latency, and
// reads or writes on keys.
func (t *table) op(ctx context.Context, reads, writes []string) {
	_ = t.clock.Sleep(ctx, t.latency)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range reads {
		t.count(t.reads, k, 1)
	}
	for _, k := range writes {
		t.count(t.writes, k, 1)
	}
}

func (t *table) LeaseSendTokens(ctx context.Context, phone string, second int64, want, ceiling int) (int, error) {
	_ = t.clock.Sleep(ctx, t.latency)
	key := fmt.Sprintf("RATE#%s#%d", phone, second)
	if t.fail != nil {
		if err := t.fail(key); err != nil {
			return 0, err
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.counters[key]
	t.count(t.writes, "RATE#"+phone, 1)
	if n+want <= ceiling {
		t.counters[key] = n + want
		return want, nil
	}
	if n >= ceiling {
		return 0, nil
	}
	t.count(t.writes, "RATE#"+phone, 1)
	t.counters[key] = ceiling
	return ceiling - n, nil
}

// peak is the most a key saw in one second, and its key.
func peak(m map[string]map[int64]int, prefix string) (string, int) {
	best, at := 0, ""
	for k, secs := range m {
		if len(k) < len(prefix) || k[:len(prefix)] != prefix {
			continue
		}
		for _, n := range secs {
			if n > best {
				best, at = n, k
			}
		}
	}
	return at, best
}

// msg is a queued message.
type msg struct {
	org, phone, to string
	perSecond      int
	lane           sendlimit.Lane
	queuedAt       time.Time
	sentAt         time.Time // when its token was taken (the Graph call starts)
	trueSecond     int64
	mark           string
}

// lane is a queue with its invocations.
type lane struct {
	mu    sync.Mutex
	queue []*msg
}

func (l *lane) take(n int) []*msg {
	l.mu.Lock()
	defer l.mu.Unlock()
	n = min(n, len(l.queue))
	b := l.queue[:n]
	l.queue = l.queue[n:]
	return b
}

func (l *lane) put(ms ...*msg) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queue = append(l.queue, ms...)
}

// sim is a platform: lanes, invocations, one table.
type sim struct {
	clock *simClock
	tbl   *table
	until time.Time
	mu    sync.Mutex
	sent  []*msg
	skew  func(inv int) time.Duration
}

// invocation polls its lane and works on each batch of up to 10 messages
// concurrently, as the sender does, with its own Limiter.
func (s *sim) invocation(inv int, l *lane) {
	var off time.Duration
	if s.skew != nil {
		off = s.skew(inv)
	}
	lim := sendlimit.New(sendlimit.Config{Store: s.tbl, Sleep: s.clock.Sleep,
		Now: func() time.Time { return s.clock.Now().Add(off) }})
	state := &invState{lim: lim, read: map[string]time.Time{}}
	var next func()
	next = func() {
		ctx := context.Background()
		for s.clock.Now().Before(s.until) {
			batch := l.take(10)
			if len(batch) == 0 {
				_ = s.clock.Sleep(ctx, 20*time.Millisecond) // long poll
				continue
			}
			left := len(batch)
			var mu sync.Mutex
			for _, m := range batch {
				s.clock.Go(func() {
					s.send(ctx, state, m)
					mu.Lock()
					left--
					last := left == 0
					mu.Unlock()
					if last {
						next()
					}
				})
			}
			return
		}
	}
	s.clock.Go(next)
}

// invState is what an invocation keeps between messages: its limiter and
// when it last read each organisation's account (the sender keeps a
// healthy account for a second).
type invState struct {
	lim  *sendlimit.Limiter
	mu   sync.Mutex
	read map[string]time.Time
}

// send is the sender's path for one message.
func (s *sim) send(ctx context.Context, inv *invState, m *msg) {
	org := "ORG#" + m.org
	s.tbl.op(ctx, nil, []string{"MSG#" + m.to}) // ClaimSend
	inv.mu.Lock()
	stale := s.clock.Now().Sub(inv.read[m.org]) >= time.Second
	if stale {
		inv.read[m.org] = s.clock.Now()
	}
	inv.mu.Unlock()
	if stale {
		s.tbl.op(ctx, []string{org + "/WHATSAPP", org}, nil) // WhatsAppAccount
	}
	s.tbl.op(ctx, nil, []string{"LIMIT#pair#" + m.phone + "#" + m.to})      // the pair bucket
	if err := inv.lim.Take(ctx, m.phone, m.perSecond, m.lane); err != nil { // the token
		panic(err)
	}
	now := s.clock.Now()
	m.sentAt, m.trueSecond = now, now.Unix()
	s.tbl.op(ctx, nil, []string{"MSG#" + m.to})  // SendAttempt
	_ = s.clock.Sleep(ctx, 200*time.Millisecond) // Graph
	s.tbl.op(ctx, nil, []string{"MSG#" + m.to})  // SendAccepted
	// Its three statuses (sent, delivered, read) later: each applied on
	// the message's items and published with its contact and
	// conversation read (ORG#<org> / CONTACT#, CONV#).
	s.tbl.mu.Lock()
	for range 3 {
		s.tbl.count(s.tbl.reads, org+"/CONTACT", 1)
		s.tbl.count(s.tbl.reads, org+"/CONV", 1)
		s.tbl.count(s.tbl.reads, org, 2)
	}
	s.tbl.count(s.tbl.writes, org, 1) // accepting it: the conversation's update
	s.tbl.mu.Unlock()
	s.mu.Lock()
	s.sent = append(s.sent, m)
	s.mu.Unlock()
}

func (s *sim) run(t *testing.T, lanes map[*lane]int, d time.Duration, during func()) {
	t.Helper()
	s.until = s.clock.Now().Add(d)
	done := make(chan struct{})
	s.clock.Go(func() {
		inv := 0
		for l, n := range lanes {
			for range n {
				s.invocation(inv, l)
				inv++
			}
		}
		if during != nil {
			during()
		}
		_ = s.clock.Sleep(context.Background(), d+time.Second)
		close(done)
	})
	<-done
}

func perSecond(sent []*msg, phone string) map[int64]int {
	out := map[int64]int{}
	for _, m := range sent {
		if m.phone == phone {
			out[m.trueSecond]++
		}
	}
	return out
}

func sustained(t *testing.T, counts map[int64]int, from, to int64, limit int) (minRate, mean float64) {
	t.Helper()
	total := 0
	minRate = 1e9
	for sec := from; sec < to; sec++ {
		n := counts[sec]
		total += n
		minRate = min(minRate, float64(n))
	}
	for sec, n := range counts {
		require.LessOrEqual(t, n, limit, "second %d: %d sends, limit %d", sec, n, limit)
	}
	return minRate, float64(total) / float64(to-from)
}

func unique(prefix string, i int) string { return fmt.Sprintf("%s%06d", prefix, i) }

// One number at the HIGH tier (1,000/s), an unbounded backlog of messages
// to distinct recipients, 30 invocations (10 messages each at once): the
// number is kept at ≥ 950 sends/s, never over 1,000 in a second, and the
// keys stay under DynamoDB's per-item limits.
func TestSimulationSustainedHighTier(t *testing.T) {
	for _, tc := range []struct {
		lane    sendlimit.Lane
		minMean float64
	}{{sendlimit.Transactional, 950}, {sendlimit.Bulk, 950}} {
		t.Run(tc.lane.String(), func(t *testing.T) {
			c := newSimClock()
			s := &sim{clock: c, tbl: newTable(c)}
			l := &lane{}
			n := 1100 * (*simSeconds + 2)
			for i := range n {
				l.queue = append(l.queue, &msg{org: "org_a", phone: "P1", to: unique("r", i), perSecond: 1000, lane: tc.lane})
			}
			start := c.Now().Unix()
			s.run(t, map[*lane]int{l: 30}, time.Duration(*simSeconds)*time.Second, nil)
			counts := perSecond(s.sent, "P1")
			minRate, mean := sustained(t, counts, start+1, start+int64(*simSeconds), 1000)
			rk, rw := peak(s.tbl.writes, "RATE#")
			ak, ar := peak(s.tbl.reads, "ORG#org_a/WHATSAPP")
			ok, ow := peak(s.tbl.writes, "ORG#org_a")
			_, or := peak(s.tbl.reads, "ORG#org_a")
			t.Logf("%s lane, %d s: mean %.1f sends/s, lowest second %.0f; hottest keys per second: %s %d writes, %s %d reads; partition ORG#org_a %d writes %d reads (%s)",
				tc.lane, *simSeconds, mean, minRate, rk, rw, ak, ar, ow, or, ok)
			require.GreaterOrEqual(t, mean, tc.minMean)
			require.Less(t, rw, 1000, "the counter of a number's second is one item: ~1,000 writes/s")
			require.Less(t, ar, 3000, "the account item: ~3,000 reads/s")
		})
	}
}

// A campaign of 10,000 messages from one organisation is queued on the
// bulk lane of its HIGH-tier number; meanwhile another organisation's
// single message and the same organisation's transactional message are
// each sent within 2 s of being queued.
func TestSimulationFairness(t *testing.T) {
	for _, tier := range []int{1000, 80} {
		t.Run(fmt.Sprint(tier), func(t *testing.T) {
			c := newSimClock()
			s := &sim{clock: c, tbl: newTable(c)}
			bulk, tx := &lane{}, &lane{}
			for i := range 10000 {
				bulk.queue = append(bulk.queue, &msg{org: "org_a", phone: "PA", to: unique("c", i), perSecond: tier, lane: sendlimit.Bulk})
			}
			other := &msg{org: "org_b", phone: "PB", to: "b1", perSecond: 80, lane: sendlimit.Transactional, mark: "other organisation"}
			own := &msg{org: "org_a", phone: "PA", to: "a1", perSecond: tier, lane: sendlimit.Transactional, mark: "same organisation"}
			s.run(t, map[*lane]int{bulk: 30, tx: 30}, 12*time.Second, func() {
				_ = c.Sleep(context.Background(), 5*time.Second+300*time.Millisecond)
				other.queuedAt, own.queuedAt = c.Now(), c.Now()
				tx.put(other, own)
			})
			for _, m := range []*msg{other, own} {
				require.False(t, m.sentAt.IsZero(), "%s: never sent", m.mark)
				wait := m.sentAt.Sub(m.queuedAt)
				t.Logf("tier %d/s: %s's message sent %v after it was queued, behind a 10,000-message campaign", tier, m.mark, wait)
				require.LessOrEqual(t, wait, 2*time.Second, m.mark)
			}
			for sec, n := range perSecond(s.sent, "PA") {
				require.LessOrEqual(t, n, tier, "second %d", sec)
			}
		})
	}
}

// Invocations whose clocks differ (by less than the Guard) never send more
// than the limit in a true second.
func TestSimulationClockSkew(t *testing.T) {
	c := newSimClock()
	s := &sim{clock: c, tbl: newTable(c), skew: func(inv int) time.Duration {
		return time.Duration(inv%5-2) * 4 * time.Millisecond // -8 ms .. +8 ms
	}}
	l := &lane{}
	for i := range 20000 {
		l.queue = append(l.queue, &msg{org: "org_a", phone: "P1", to: unique("r", i), perSecond: 1000})
	}
	s.run(t, map[*lane]int{l: 30}, 10*time.Second, nil)
	counts := perSecond(s.sent, "P1")
	secs := make([]int64, 0, len(counts))
	for sec := range counts {
		secs = append(secs, sec)
	}
	sort.Slice(secs, func(i, j int) bool { return secs[i] < secs[j] })
	for _, sec := range secs {
		require.LessOrEqual(t, counts[sec], 1000, "true second %d", sec)
	}
	require.Greater(t, len(s.sent), 5000, "the skewed senders still send")
}

// buckets is the modelled table's token buckets (store.TakeToken's GCRA),
// each take a write on its key.
type buckets struct {
	tbl *table
	mu  sync.Mutex
	tat map[string]int64
}

func (b *buckets) TakeToken(ctx context.Context, bk store.Bucket) (store.Take, error) {
	_ = b.tbl.clock.Sleep(ctx, b.tbl.latency)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tbl.mu.Lock()
	b.tbl.count(b.tbl.writes, "LIMIT#"+bk.Key, 1)
	b.tbl.mu.Unlock()
	t := bk.Decide(b.tat[bk.Key], b.tbl.clock.Now().UnixMicro())
	if t.Allowed {
		b.tat[bk.Key] = t.TAT
	}
	return t, nil
}

// One organisation queues 10,000 ordinary (non-bulk) messages through the
// API at once; the relay's admission control keeps a burst of them in the
// transactional queue and overflows the rest to the bulk queue (paced as
// bulk). Meanwhile another organisation's single message is sent within
// 2 s of being queued, and the flooding organisation's own later message
// (an order confirmation to a new customer) within 2 s too; no second over
// a number's limit; the admission bucket's item far under its limit.
func TestSimulationAdmission(t *testing.T) {
	for _, tier := range []int{1000, 80} {
		t.Run(fmt.Sprint(tier), func(t *testing.T) {
			c := newSimClock()
			s := &sim{clock: c, tbl: newTable(c)}
			bulk, tx := &lane{}, &lane{}
			adm := sendlimit.NewAdmission(&buckets{tbl: s.tbl, tat: map[string]int64{}}, 0, 0, c.Now)
			// enqueue is the relay: sender.Enqueuer with its Admission.
			enqueue := func(m *msg) {
				m.queuedAt = c.Now()
				if ok, err := adm.Admit(context.Background(), m.org); err != nil || !ok {
					m.lane = sendlimit.Bulk
					bulk.put(m)
					return
				}
				tx.put(m)
			}
			other := &msg{org: "org_b", phone: "PB", to: "b1", perSecond: 80, mark: "other organisation"}
			own := &msg{org: "org_a", phone: "PA", to: "a-new", perSecond: tier, mark: "same organisation"}
			s.run(t, map[*lane]int{bulk: 30, tx: 30}, 12*time.Second, func() {
				for i := range 10000 {
					enqueue(&msg{org: "org_a", phone: "PA", to: unique("c", i), perSecond: tier})
				}
				_ = c.Sleep(context.Background(), 5*time.Second+300*time.Millisecond)
				enqueue(other)
				enqueue(own)
			})
			overflow := 0
			for _, m := range s.sent {
				if m.org == "org_a" && m.lane == sendlimit.Bulk {
					overflow++
				}
			}
			_, writes := peak(s.tbl.writes, "LIMIT#admit#")
			for _, m := range []*msg{other, own} {
				require.False(t, m.sentAt.IsZero(), "%s: never sent", m.mark)
				wait := m.sentAt.Sub(m.queuedAt)
				t.Logf("tier %d/s: %s's message sent %v after it was queued (%s lane), org_a's 10,000 ordinary messages queued 5.3 s before (%d sent through the bulk lane by then); admission bucket peak %d writes/s",
					tier, m.mark, wait, m.lane, overflow, writes)
				require.LessOrEqual(t, wait, 2*time.Second, m.mark)
				require.Equal(t, sendlimit.Transactional, m.lane, m.mark)
			}
			for _, phone := range []string{"PA", "PB"} {
				for sec, n := range perSecond(s.sent, phone) {
					require.LessOrEqual(t, n, map[string]int{"PA": tier, "PB": 80}[phone], "%s second %d", phone, sec)
				}
			}
			require.Less(t, writes, 200, "the admission bucket's item (~1,000 writes/s per item)")
		})
	}
}
