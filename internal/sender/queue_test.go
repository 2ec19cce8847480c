package sender_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/sender"
	"github.com/pytake/pytake/internal/store"
)

type sentTo struct {
	queue.API
	mu   sync.Mutex
	urls []string
}

func (s *sentTo) SendMessageBatch(_ context.Context, in *awsapi.SendMessageBatchInput) (*awsapi.BatchOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.urls = append(s.urls, in.QueueURL)
	return &awsapi.BatchOutput{}, nil
}

// The Enqueuer routes a bulk message to the bulk queue, every other to the
// transactional one; without a bulk queue, a bulk message is refused, not
// put in the transactional lane.
func TestEnqueuerLanes(t *testing.T) {
	api := &sentTo{}
	e := sender.NewEnqueuer(api, "https://sqs/outbound.fifo", "https://sqs/outbound-bulk.fifo")
	ctx := context.Background()
	for _, tc := range []struct {
		bulk bool
		want string
	}{{false, "https://sqs/outbound.fifo"}, {true, "https://sqs/outbound-bulk.fifo"}} {
		api.urls = nil
		require.NoError(t, e.Enqueue(ctx, "org_1", "ct_1", "msg_1", tc.bulk))
		require.Equal(t, []string{tc.want}, api.urls, "bulk=%v", tc.bulk)
	}
	api.urls = nil
	err := sender.Enqueuer{Queue: queue.New(api, "https://sqs/outbound.fifo", "outbound")}.Enqueue(ctx, "org_1", "ct_1", "msg_1", true)
	require.Error(t, err)
	require.Empty(t, api.urls)
}

// refusing is an SQS that answers failed the entries of the message ids
// it is told to refuse, recording the ids sent.
type refusing struct {
	queue.API
	mu     sync.Mutex
	refuse map[string]bool
	sent   []string
}

func (r *refusing) SendMessageBatch(_ context.Context, in *awsapi.SendMessageBatchInput) (*awsapi.BatchOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := &awsapi.BatchOutput{}
	for _, e := range in.Entries {
		if r.refuse[e.DedupID] {
			out.Failed = append(out.Failed, awsapi.BatchFailure{ID: e.ID, Code: "InternalError"})
			continue
		}
		r.sent = append(r.sent, e.DedupID)
		out.Successful = append(out.Successful, awsapi.BatchSuccess{ID: e.ID})
	}
	return out, nil
}

// EnqueueJobs fails exactly the jobs whose entries SQS refused; two jobs
// of one contact go one after the other, the second only if the first
// was queued.
func TestEnqueueJobsFailsOnlyTheRefused(t *testing.T) {
	ctx := context.Background()
	api := &refusing{refuse: map[string]bool{"m2": true}}
	e := sender.NewEnqueuer(api, "https://sqs/outbound.fifo", "https://sqs/outbound-bulk.fifo")
	job := func(contact, msg string, bulk bool) store.OutboxJob {
		return store.OutboxJob{OrgID: "org_1", ContactID: contact, MessageID: msg, Bulk: bulk}
	}
	errs := e.EnqueueJobs(ctx, job("c1", "m1", false), job("c2", "m2", false), job("c3", "m3", true))
	require.NoError(t, errs[0])
	require.True(t, apperr.Is(errs[1], apperr.Unavailable), "%v", errs[1])
	require.NoError(t, errs[2])
	require.ElementsMatch(t, []string{"m1", "m3"}, api.sent)

	api.sent = nil
	errs = e.EnqueueJobs(ctx, job("c1", "m2", false), job("c1", "m4", false), job("c2", "m5", false))
	require.Error(t, errs[0])
	require.Error(t, errs[1], "queued after its contact's earlier message failed")
	require.Error(t, errs[2])
	require.Empty(t, api.sent)
}

// gated is an SQS whose requests wait until n of them are in flight
// together (or a second passes), counting the most seen at once.
type gated struct {
	refusing
	n, in, most int
	all         chan struct{}
}

func (g *gated) SendMessageBatch(ctx context.Context, in *awsapi.SendMessageBatchInput) (*awsapi.BatchOutput, error) {
	g.mu.Lock()
	g.in++
	g.most = max(g.most, g.in)
	if g.in == g.n {
		close(g.all) // once: in never reaches n again after its first n
	}
	g.mu.Unlock()
	select {
	case <-g.all:
	case <-time.After(time.Second):
	}
	g.mu.Lock()
	g.in--
	g.mu.Unlock()
	return g.refusing.SendMessageBatch(ctx, in)
}

// 25 jobs of distinct contacts in one lane are three requests sent at
// once (one SQS round trip, not three), and a refused entry fails only
// its own job, whichever request it was in.
func TestEnqueueJobsSendsALanesRequestsAtOnce(t *testing.T) {
	ctx := context.Background()
	api := &gated{refusing: refusing{refuse: map[string]bool{"m12": true, "m24": true}}, n: 3, all: make(chan struct{})}
	e := sender.NewEnqueuer(api, "https://sqs/outbound.fifo", "https://sqs/outbound-bulk.fifo")
	var jobs []store.OutboxJob
	for i := range 25 {
		jobs = append(jobs, store.OutboxJob{OrgID: "org_1", ContactID: "c" + strconv.Itoa(i), MessageID: "m" + strconv.Itoa(i), Bulk: true})
	}
	errs := e.EnqueueJobs(ctx, jobs...)
	for i, err := range errs {
		if i == 12 || i == 24 {
			require.True(t, apperr.Is(err, apperr.Unavailable), "%d: %v", i, err)
		} else {
			require.NoError(t, err, i)
		}
	}
	require.Len(t, api.sent, 23)
	require.Equal(t, 3, api.most, "the lane's three requests in flight together")
}
