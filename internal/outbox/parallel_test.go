package outbox_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/outbox"
	"github.com/pytake/pytake/internal/store"
)

// batcher is a topic and a queue that take batches (outbox.BatchPublisher,
// outbox.BatchEnqueuer): it records each call and what was taken, in the
// order taken, and fails the events and jobs it is told to.
type batcher struct {
	mu        sync.Mutex
	jitter    time.Duration // each call answers after up to this long
	events    []event.Event
	jobs      []store.OutboxJob
	pubCalls  []int            // events per publish call
	jobCalls  []int            // jobs per enqueue call
	failEvent map[string]error // by event id, once
	failJob   map[string]error // by message id, once
	expected  []string
	// flaky: each entry fails with this probability, half of those after
	// being taken (a request that timed out after SNS or SQS took it).
	flaky float64
	rnd   *rand.Rand
	// onCall, when set, runs at the start of every call (a test's clock
	// moving on by what the call takes).
	onCall func()
	// hang, when set, makes every publish wait for its context's end.
	hang bool
}

// flake answers whether an entry is taken and whether it is answered failed.
func (b *batcher) flake() (taken bool, err error) {
	if b.flaky == 0 || b.rnd.Float64() >= b.flaky {
		return true, nil
	}
	return b.rnd.IntN(2) == 0, errors.New("timed out")
}

func (b *batcher) sleep() {
	if b.onCall != nil {
		b.onCall()
	}
	if b.jitter > 0 {
		time.Sleep(rand.N(b.jitter))
	}
}

func (b *batcher) Publish(ctx context.Context, evs ...event.Event) error {
	return errors.Join(b.PublishEach(ctx, evs...)...)
}

func (b *batcher) PublishEach(ctx context.Context, evs ...event.Event) []error {
	b.sleep()
	if b.hang {
		<-ctx.Done()
		errs := make([]error, len(evs))
		for i := range errs {
			errs[i] = ctx.Err()
		}
		return errs
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pubCalls = append(b.pubCalls, len(evs))
	errs := make([]error, len(evs))
	for i, e := range evs {
		if err := b.failEvent[e.ID]; err != nil {
			delete(b.failEvent, e.ID)
			errs[i] = err
			continue
		}
		taken, err := b.flake()
		if taken {
			b.events = append(b.events, e)
		}
		errs[i] = err
	}
	return errs
}

func (b *batcher) Enqueue(ctx context.Context, org, contactID, messageID string, bulk bool) error {
	return errors.Join(b.EnqueueJobs(ctx, store.OutboxJob{OrgID: org, ContactID: contactID, MessageID: messageID, Bulk: bulk})...)
}

func (b *batcher) EnqueueJobs(_ context.Context, jobs ...store.OutboxJob) []error {
	b.sleep()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.jobCalls = append(b.jobCalls, len(jobs))
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		if err := b.failJob[j.MessageID]; err != nil {
			delete(b.failJob, j.MessageID)
			errs[i] = err
			continue
		}
		taken, err := b.flake()
		if taken {
			b.jobs = append(b.jobs, j)
		}
		errs[i] = err
	}
	return errs
}

func (b *batcher) Expect(org string, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expected = append(b.expected, org+"="+strconv.Itoa(n))
}

// byContact is the message ids queued per contact, in the order queued.
func (b *batcher) byContact() map[string][]string {
	out := map[string][]string{}
	for _, j := range b.jobs {
		out[j.ContactID] = append(out[j.ContactID], j.MessageID)
	}
	return out
}

func (b *batcher) queued(msg string) bool {
	for _, j := range b.jobs {
		if j.MessageID == msg {
			return true
		}
	}
	return false
}

// batchFixture is a fixture whose relay publishes and queues through b.
func batchFixture(t *testing.T, b *batcher) *fixture {
	f := newFixture(t)
	f.relay = outbox.New(b, b, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return f
}

// writeMsg writes an outbox item of a contact with one event and a job,
// and answers the job's message id (msg_<position in the stream>).
func (f *fixture) writeMsg(t *testing.T, org, contact string) string {
	t.Helper()
	n := len(f.stream.Records(0))
	f.write(t, org, contact, true, event.MessageSent)
	return "msg_" + strconv.Itoa(n)
}

// The records of a batch are relayed concurrently across partition keys,
// each key's in order (a contact's messages reach the FIFO queue in the
// order accepted), and in batched calls: a batch of 5 contacts' 5 records
// each is 5 waves of one publish and one send each, not 25 of each.
func TestRelayKeepsEachKeysOrderUnderConcurrency(t *testing.T) {
	b := &batcher{jitter: 2 * time.Millisecond}
	f := batchFixture(t, b)
	want := map[string][]string{}
	for i := 0; i < 25; i++ {
		ct := "ct_" + strconv.Itoa(i%5)
		want[ct] = append(want[ct], f.writeMsg(t, "org_1", ct))
	}
	resp, err := f.relay.Handle(context.Background(), f.batch(0))
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Equal(t, want, b.byContact())
	require.Len(t, b.events, 25)
	require.Equal(t, []int{5, 5, 5, 5, 5}, b.pubCalls)
	require.Equal(t, []int{5, 5, 5, 5, 5}, b.jobCalls)

	// 25 contacts: one wave, its events in calls of up to 10.
	b2 := &batcher{jitter: 2 * time.Millisecond}
	f2 := batchFixture(t, b2)
	for i := 0; i < 25; i++ {
		f2.writeMsg(t, "org_1", "ct_"+strconv.Itoa(i))
	}
	resp, err = f2.relay.Handle(context.Background(), f2.batch(0))
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Len(t, b2.jobs, 25)
	require.ElementsMatch(t, []int{10, 10, 5}, b2.pubCalls)
	// The jobs in one call: the enqueuer admits them in order against one
	// lease and sends them 10 to a request itself.
	require.Equal(t, []int{25}, b2.jobCalls)
}

// A record that fails stops its key (no later record of it is relayed),
// not the others; the failure named is the failed record of lowest
// sequence number (compared as numbers: "9" before "10"), from which the
// event source mapping retries.
func TestRelayFailureStopsOnlyItsKey(t *testing.T) {
	b := &batcher{failJob: map[string]error{}}
	f := batchFixture(t, b)
	for i := 0; i < 8; i++ { // positions 0-7, not in the batch
		f.write(t, "org_0", "ct_0", false, event.ContactUpdated)
	}
	a1 := f.writeMsg(t, "org_1", "ct_a") // 8
	a2 := f.writeMsg(t, "org_1", "ct_a") // 9: fails in the second wave
	b1 := f.writeMsg(t, "org_2", "ct_b") // 10: fails in the first wave
	a3 := f.writeMsg(t, "org_1", "ct_a") // 11
	c1 := f.writeMsg(t, "org_2", "ct_c") // 12
	c2 := f.writeMsg(t, "org_2", "ct_c") // 13
	b2 := f.writeMsg(t, "org_2", "ct_b") // 14
	b.failJob[a2] = errors.New("refused")
	b.failJob[b1] = errors.New("refused")
	resp, err := f.relay.Handle(context.Background(), f.batch(8))
	require.NoError(t, err)
	require.Equal(t, []events.DynamoDBBatchItemFailure{{ItemIdentifier: "9"}}, resp.BatchItemFailures)
	require.Equal(t, map[string][]string{"ct_a": {a1}, "ct_c": {c1, c2}}, b.byContact())
	for _, m := range []string{a3, b2} {
		require.False(t, b.queued(m), "%s relayed after its key failed", m)
	}

	// Lambda retries from 9: the records after it are relayed again
	// (the same message ids: the FIFO queue's deduplication id), in order.
	resp, err = f.relay.Handle(context.Background(), f.batch(9))
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Equal(t, map[string][]string{"ct_a": {a1, a2, a3}, "ct_b": {b1, b2}, "ct_c": {c1, c2, c1, c2}}, b.byContact())
}

// A partial batch failure (SNS or SQS answering some entries failed)
// fails exactly the records whose entries failed.
func TestRelayPartialBatchFailureFailsOnlyItsRecords(t *testing.T) {
	for _, what := range []string{"event", "job"} {
		t.Run(what, func(t *testing.T) {
			b := &batcher{failEvent: map[string]error{}, failJob: map[string]error{}}
			f := batchFixture(t, b)
			var msgs []string
			var evs []string
			for i := 0; i < 12; i++ {
				n := len(f.stream.Records(0))
				evs = append(evs, f.write(t, "org_1", "ct_"+strconv.Itoa(i), true, event.MessageSent)...)
				msgs = append(msgs, "msg_"+strconv.Itoa(n))
			}
			refused := apperr.New(apperr.Invalid, "refused")
			if what == "event" {
				b.failEvent[evs[4]], b.failEvent[evs[11]] = refused, refused
			} else {
				b.failJob[msgs[4]], b.failJob[msgs[11]] = refused, refused
			}
			resp, err := f.relay.Handle(context.Background(), f.batch(0))
			require.NoError(t, err)
			require.Equal(t, []events.DynamoDBBatchItemFailure{{ItemIdentifier: "4"}}, resp.BatchItemFailures)
			require.Len(t, b.jobs, 10)
			require.False(t, b.queued(msgs[4]))
			require.False(t, b.queued(msgs[11]))
			if what == "event" {
				require.Len(t, b.events, 10)
			} else {
				require.Len(t, b.events, 12)
			}
		})
	}
}

// A passing failure of one key's record is retried within the invocation
// after its backoff; the other keys go on meanwhile, and the relay waits
// only when no key has a record ready.
func TestRelayRetriesOneKeyWhileTheOthersGoOn(t *testing.T) {
	b := &batcher{failJob: map[string]error{}}
	f := batchFixture(t, b)
	now := time.Now() // the contexts' deadlines are real ones
	var waits []time.Duration
	f.relay.WithClock(func() time.Time { return now },
		func(_ context.Context, d time.Duration) error { waits = append(waits, d); now = now.Add(d); return nil })
	a1 := f.writeMsg(t, "org_1", "ct_a")
	a2 := f.writeMsg(t, "org_1", "ct_a")
	var others []string
	for i := 0; i < 3; i++ {
		others = append(others, f.writeMsg(t, "org_2", "ct_b"))
	}
	b.failJob[a1] = apperr.New(apperr.Unavailable, "the outbound queue is unavailable, retry")
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(30*time.Second))
	defer cancel()
	resp, err := f.relay.Handle(ctx, f.batch(0))
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Equal(t, map[string][]string{"ct_a": {a1, a2}, "ct_b": others}, b.byContact())
	require.Equal(t, []time.Duration{500 * time.Millisecond}, waits)
	require.Equal(t, []int{2, 1, 1, 1, 1}, b.jobCalls, "ct_b's records went on while ct_a waited")
}

// Under a failing network (a fifth of the entries fail, half of them
// after SNS or SQS took them) and Lambda's retries from the reported
// record, every contact's messages are first queued in the order
// accepted, each event is published, and the retries end.
func TestRelayUnderAFailingNetworkKeepsEachContactsOrder(t *testing.T) {
	for seed := range uint64(20) {
		b := &batcher{flaky: 0.2, rnd: rand.New(rand.NewPCG(seed, 7))}
		f := batchFixture(t, b)
		want := map[string][]string{}
		var evs []string
		for i := 0; i < 60; i++ {
			ct := "ct_" + strconv.Itoa(i*7%6)
			n := len(f.stream.Records(0))
			evs = append(evs, f.write(t, "org_"+strconv.Itoa(i%2), ct, true, event.MessageSent)...)
			want[ct] = append(want[ct], "msg_"+strconv.Itoa(n))
		}
		from := 0
		for round := 0; from < 60; round++ {
			require.Less(t, round, 500, "seed %d: retries did not end", seed)
			ev := f.batch(from)
			ev.Records = ev.Records[:min(25, len(ev.Records))]
			resp, err := f.relay.Handle(context.Background(), ev)
			require.NoError(t, err)
			if len(resp.BatchItemFailures) == 0 {
				from += len(ev.Records)
				continue
			}
			n, err := strconv.Atoi(resp.BatchItemFailures[0].ItemIdentifier)
			require.NoError(t, err)
			require.GreaterOrEqual(t, n, from)
			from = n
		}
		first := map[string][]string{}
		seen := map[string]bool{}
		for ct, ids := range b.byContact() {
			for _, id := range ids {
				if !seen[id] {
					seen[id] = true
					first[ct] = append(first[ct], id)
				}
			}
		}
		require.Equal(t, want, first, "seed %d", seed)
		published := map[string]bool{}
		for _, e := range b.events {
			published[e.ID] = true
		}
		for _, id := range evs {
			require.True(t, published[id], "seed %d: %s never published", seed, id)
		}
	}
}

// A wave is not started when the invocation's deadline is nearer than the
// margin: calls that take long (SNS and SQS answering in 2 s) would
// otherwise run the invocation out of time, and Lambda would retry and
// bisect the whole batch. The records not reached are reported from the
// lowest, and Lambda's retry starts there.
func TestRelayStartsNoWaveNearTheDeadline(t *testing.T) {
	var mu sync.Mutex
	now := time.Now() // the contexts' deadlines are real ones
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	b := &batcher{onCall: func() { mu.Lock(); defer mu.Unlock(); now = now.Add(2 * time.Second) }}
	f := batchFixture(t, b)
	f.relay.WithClock(clock, func(context.Context, time.Duration) error { t.Fatal("no record failed: nothing waits"); return nil })
	var a, c []string
	for i := 0; i < 10; i++ {
		a = append(a, f.writeMsg(t, "org_1", "ct_a"))
		c = append(c, f.writeMsg(t, "org_1", "ct_c"))
	}
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(30*time.Second))
	defer cancel()
	resp, err := f.relay.Handle(ctx, f.batch(0))
	require.NoError(t, err)
	// Waves start at 0, 4, ... 24 s (each a publish and a send of 2 s);
	// at 28 s only 2 s are left, under the 5 s margin.
	require.Equal(t, map[string][]string{"ct_a": a[:7], "ct_c": c[:7]}, b.byContact())
	require.Equal(t, []events.DynamoDBBatchItemFailure{{ItemIdentifier: f.batch(0).Records[14].Change.SequenceNumber}}, resp.BatchItemFailures,
		"Lambda retries from ct_a's eighth record, the lowest not relayed")
}

// A wave's calls end before the invocation does: SNS not answering at all
// is cut short of the deadline, so the relay still reports what was not
// relayed, instead of Lambda timing the invocation out and retrying and
// bisecting the whole batch.
func TestRelayAnswersBeforeTheDeadlineWhenACallHangs(t *testing.T) {
	b := &batcher{hang: true}
	f := batchFixture(t, b)
	f.writeMsg(t, "org_1", "ct_a")
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	d, _ := ctx.Deadline()
	// The relay's clock says the invocation has just begun (its 30 s),
	// so the wave starts; the calls are bound by the context's real one.
	start := d.Add(-30 * time.Second)
	f.relay.WithClock(func() time.Time { return start }, func(context.Context, time.Duration) error { return nil })
	resp, err := f.relay.Handle(ctx, f.batch(0))
	require.NoError(t, err)
	require.NoError(t, ctx.Err(), "answered before the invocation's deadline")
	require.Len(t, resp.BatchItemFailures, 1)
	require.Empty(t, b.jobs)
}
