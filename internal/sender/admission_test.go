package sender_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/id"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/sender"
	"github.com/pytake/pytake/internal/sendlimit"
	"github.com/pytake/pytake/internal/store"
)

// jobsTo records each job sent and the queue it went to.
type jobsTo struct {
	queue.API
	mu   sync.Mutex
	urls []string
	jobs []sender.Job
}

func (s *jobsTo) SendMessageBatch(_ context.Context, in *awsapi.SendMessageBatchInput) (*awsapi.BatchOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range in.Entries {
		var j sender.Job
		if err := json.Unmarshal([]byte(e.Body), &j); err != nil {
			return nil, err
		}
		s.urls = append(s.urls, in.QueueURL)
		s.jobs = append(s.jobs, j)
	}
	return &awsapi.BatchOutput{}, nil
}

const (
	txURL   = "https://sqs/outbound.fifo"
	bulkURL = "https://sqs/outbound-bulk.fifo"
)

// An organisation queueing many ordinary messages at once gets its burst
// in the transactional queue; the rest overflows to the bulk queue, marked
// bulk. Another organisation is admitted meanwhile; a campaign's message
// takes no token. A contact whose earlier message is in the other lane has
// its later one wait for it (After).
func TestEnqueuerAdmission(t *testing.T) {
	e := setup(t)
	// The counts below are the burst's: on a loaded machine the 100
	// enqueues took over a second of wall clock, and the refill admitted
	// one more.
	e.frozen = e.clock()
	ctx := context.Background()
	api := &jobsTo{}
	enq := sender.NewEnqueuer(api, txURL, bulkURL)
	enq.Admission = sendlimit.NewAdmission(e.st, 1, 20, e.clock)
	enq.Routes = e.st
	// The messages as accepted: their ids and outbox items (the route
	// finds a contact's latest transactional message there).
	ids := map[int]string{}
	msgID := func(i int) string {
		if _, ok := ids[i]; !ok {
			ids[i] = id.New("msg", e.clock().Add(time.Duration(i)*time.Millisecond))
		}
		return ids[i]
	}
	accept := func(org, contact string, i int, bulk bool) {
		require.NoError(t, e.st.WriteOutbox(ctx, store.Outbox{OrgID: org, ContactID: contact,
			Job: &store.OutboxJob{OrgID: org, ContactID: contact, MessageID: msgID(i), Bulk: bulk}}))
	}
	for i := range 100 {
		accept("org_a", "ct_"+string(rune('A'+i%50)), i, false)
		require.NoError(t, enq.Enqueue(ctx, "org_a", "ct_"+string(rune('A'+i%50)), msgID(i), false))
	}
	lanes := map[string]int{}
	for i, u := range api.urls {
		lanes[u]++
		require.Equal(t, u == bulkURL, api.jobs[i].Bulk, "job %d marked as its lane", i)
	}
	// The store's bucket holds the burst less what the rate refills while a
	// leased token may wait (1 of 20 at 1/s).
	require.Equal(t, map[string]int{txURL: 19, bulkURL: 81}, lanes, "the burst admitted, the rest overflowed")
	// ct_A's first message (0) was admitted, its second (50) overflowed:
	// the second waits for the first.
	require.Equal(t, txURL, api.urls[0])
	require.Equal(t, sender.Job{OrgID: "org_a", MessageID: msgID(50), Bulk: true, After: msgID(0)}, api.jobs[50])
	require.Empty(t, api.jobs[30].After, "ct_E's first message, nothing before it")

	api.urls, api.jobs = nil, nil
	require.NoError(t, enq.Enqueue(ctx, "org_b", "ct_B1", msgID(200), false))
	require.NoError(t, enq.Enqueue(ctx, "org_a", "ct_Z", msgID(201), true))
	require.Equal(t, []string{txURL, bulkURL}, api.urls, "another organisation admitted; a campaign's message in its lane")
	require.Equal(t, sender.Job{OrgID: "org_a", MessageID: msgID(201)}, api.jobs[1], "a campaign's message is not an overflow")

	// A second later the bucket has a token: ct_A's next message goes
	// back to the transactional lane, after its bulk one.
	e.advance(time.Second)
	api.urls, api.jobs = nil, nil
	require.NoError(t, enq.Enqueue(ctx, "org_a", "ct_A", msgID(300), false))
	require.Equal(t, []string{txURL}, api.urls)
	require.Equal(t, msgID(50), api.jobs[0].After)
}

// refusingBucket answers every take refused, counting the calls.
type refusingBucket struct{ calls int }

func (r *refusingBucket) TakeTokens(context.Context, store.Bucket, int) (store.Take, error) {
	r.calls++
	return store.Take{RetryAfter: 100 * time.Millisecond}, nil
}

// A refusal is remembered until the bucket has a token again: a flood
// costs the bucket's item a write per token, not per message.
func TestAdmissionRemembersRefusal(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	b := &refusingBucket{}
	a := sendlimit.NewAdmission(b, 0, 0, func() time.Time { return now })
	for range 50 {
		ok, err := a.Admit(context.Background(), "org_a")
		require.NoError(t, err)
		require.False(t, ok)
	}
	require.Equal(t, 1, b.calls)
	now = now.Add(100 * time.Millisecond)
	_, _ = a.Admit(context.Background(), "org_a")
	_, _ = a.Admit(context.Background(), "org_b")
	require.Equal(t, 3, b.calls)
}

// A message whose recipient's previous message (in the other lane) is
// still queued is held, not sent and not attempted; once that one is sent
// it goes. An overflowed message takes its token in the bulk lane.
func TestHeldBehindPreviousInOtherLane(t *testing.T) {
	e := setup(t)
	rec := &ceilings{Store: e.st}
	d := e.deps(slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.Store = rec
	e.s = sender.New(d)
	first, r1 := e.queueMsg(t, "5511900000060")
	second, r2 := e.queueMsg(t, "5511900000060")
	body, _ := json.Marshal(sender.Job{OrgID: e.org, MessageID: second.ID, Bulk: true, After: first.ID})
	r2.Body = string(body)
	r2.Attributes["ApproximateReceiveCount"] = "3"
	require.Equal(t, []string{r2.MessageId}, e.handle(t, r2))
	require.Empty(t, e.graph.sent, "sent before its recipient's previous message")
	got := e.msg(t, second.ID)
	require.Equal(t, store.StatusQueued, got.Status)
	require.Equal(t, 0, got.Attempts, "holding is not an attempt")
	require.Equal(t, int32(4), e.queue.visibility[r2.ReceiptHandle], "the third look waits 4 s")
	require.Empty(t, e.handle(t, r1))
	require.Empty(t, e.handle(t, r2))
	require.Len(t, e.graph.sent, 2)
	require.Equal(t, store.StatusAccepted, e.msg(t, second.ID).Status)
	require.Equal(t, []int{1000, 970}, rec.seen, "the overflowed message in the bulk lane")
}

// A test key's messages (never sent to Meta) are admitted under their
// organisation's test share: a load test with a test key does not use up
// the share its live messages are admitted with. Before, they took the
// same bucket, and the organisation's next order confirmation overflowed
// to the bulk lane behind its campaigns.
func TestTestKeyTrafficKeepsTheLiveShare(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	api := &jobsTo{}
	enq := sender.NewEnqueuer(api, txURL, bulkURL)
	enq.Admission = sendlimit.NewAdmission(e.st, 1, 20, e.clock)
	for i := range 100 {
		require.NoError(t, enq.EnqueueJob(ctx, store.OutboxJob{OrgID: "org_a", ContactID: "ct_test", MessageID: id.New("msg", e.clock()), Test: true}))
		if i == 0 {
			require.Equal(t, []string{txURL}, api.urls, "a test message is admitted within its share")
		}
	}
	require.Equal(t, bulkURL, api.urls[len(api.urls)-1], "the test share overflows on its own")
	api.urls = nil
	require.NoError(t, enq.EnqueueJob(ctx, store.OutboxJob{OrgID: "org_a", ContactID: "ct_live", MessageID: id.New("msg", e.clock())}))
	require.Equal(t, []string{txURL}, api.urls, "the live message is admitted: its share untouched by the test traffic")
}

// countedBucket is the store's bucket, recording how many tokens each
// take asked for.
type countedBucket struct {
	sendlimit.TokenStore
	mu    sync.Mutex
	takes map[string][]int
}

func (c *countedBucket) TakeTokens(ctx context.Context, b store.Bucket, n int) (store.Take, error) {
	c.mu.Lock()
	c.takes[b.Key] = append(c.takes[b.Key], n)
	c.mu.Unlock()
	return c.TokenStore.TakeTokens(ctx, b, n)
}

// EnqueueJobs (the outbox relay's waves) still admits each non-bulk job
// per organisation, from the lease the batch expected (one take per
// organisation, none for a campaign's jobs), and queues each lane's jobs
// in requests of up to 10.
func TestEnqueueJobsAdmitsPerOrganisation(t *testing.T) {
	e := setup(t)
	e.frozen = e.clock()
	ctx := context.Background()
	api := &jobsTo{}
	enq := sender.NewEnqueuer(api, txURL, bulkURL)
	g := &countedBucket{TokenStore: e.st, takes: map[string][]int{}}
	enq.Admission = sendlimit.NewAdmission(g, 0, 0, e.clock)
	var jobs []store.OutboxJob
	for i := range 12 {
		jobs = append(jobs, store.OutboxJob{OrgID: "org_a", ContactID: "ct_" + string(rune('A'+i)), MessageID: "msg_a" + string(rune('A'+i))})
	}
	jobs = append(jobs, store.OutboxJob{OrgID: "org_b", ContactID: "ct_B", MessageID: "msg_b"},
		store.OutboxJob{OrgID: "org_a", ContactID: "ct_Z", MessageID: "msg_bulk", Bulk: true})
	enq.Expect("org_a", 12)
	enq.Expect("org_b", 1)
	for i, err := range enq.EnqueueJobs(ctx, jobs...) {
		require.NoError(t, err, i)
	}
	require.Len(t, g.takes, 2, "no take for the campaign's job: %v", g.takes)
	for key, takes := range g.takes {
		require.Len(t, takes, 1, "%s leased once", key)
	}
	lanes := map[string]int{}
	for _, u := range api.urls {
		lanes[u]++
	}
	require.Equal(t, map[string]int{txURL: 13, bulkURL: 1}, lanes)
}
