package sender_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/sender"
	"github.com/pytake/pytake/internal/store"
)

// flakyStore fails the next calls of some of its methods, as a throttled
// or unreachable table does.
type flakyStore struct {
	*store.Store
	failAccepted, failFailed int
}

var errTransient = apperr.New(apperr.Unavailable, "the data store is unavailable, retry")

func (f *flakyStore) SendAccepted(ctx context.Context, c store.Claim, wamid string) ([]store.StatusUpdate, error) {
	if f.failAccepted > 0 {
		f.failAccepted--
		return nil, errTransient
	}
	return f.Store.SendAccepted(ctx, c, wamid)
}

func (f *flakyStore) SendFailed(ctx context.Context, c store.Claim, e store.MessageError) (store.Message, error) {
	if f.failFailed > 0 {
		f.failFailed--
		return store.Message{}, errTransient
	}
	return f.Store.SendFailed(ctx, c, e)
}

func (e *env) with(st sender.Store) *sender.Sender {
	d := e.deps(slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.Store = st
	return sender.New(d)
}

func handleWith(t *testing.T, s *sender.Sender, recs ...events.SQSMessage) []string {
	t.Helper()
	resp, err := s.Handle(context.Background(), events.SQSEvent{Records: recs})
	require.NoError(t, err)
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

// Issue 13, items 1 and 3: Meta accepted the message but the wamid could
// not be recorded (or the sender stopped before recording it). The queue
// message is kept; when it comes back the message is not sent again: the
// attempt recorded before the POST makes its outcome unknown, and the
// status Meta sends (echoing PyTake's message id in
// biz_opaque_callback_data) reconciles it.
func TestAcceptedButNotRecordedIsReconciledNotResent(t *testing.T) {
	e := setup(t)
	fs := &flakyStore{Store: e.st, failAccepted: 10}
	s := e.with(fs)
	m, rec := e.queueMsg(t, "5511900000020")
	require.Equal(t, []string{rec.MessageId}, handleWith(t, s, rec), "the queue message is kept")
	require.Len(t, e.graph.sent, 1)
	require.Contains(t, e.graph.sent[0], `"biz_opaque_callback_data":"pytake:`+m.ID+`"`)
	fs.failAccepted = 0
	for i := 0; i < 3; i++ {
		e.advance(2 * time.Minute)
		require.Equal(t, []string{rec.MessageId}, handleWith(t, s, rec), "waiting for the outcome")
	}
	require.Len(t, e.graph.sent, 1, "never sent twice")
	// Meta's status names the message.
	r, err := e.st.ApplyStatus(context.Background(), store.StatusUpdate{OrgID: e.org, WAMID: "wamid.simB", Status: store.StatusSent,
		Timestamp: e.clock(), CallbackData: "pytake:" + m.ID})
	require.NoError(t, err)
	require.True(t, r.Applied, "%+v", r)
	got := e.msg(t, m.ID)
	require.Equal(t, store.StatusSent, got.Status)
	require.Equal(t, "wamid.simB", got.WAMID)
	e.advance(2 * time.Minute)
	require.Empty(t, handleWith(t, s, rec), "done")
	require.Len(t, e.graph.sent, 1, "never sent twice")
}

// Issue 13, item 3: an attempt whose outcome stays unknown ends failed,
// with a reason that says so, and message.failed, after a bound.
func TestUnknownOutcomeFailsAfterTheBound(t *testing.T) {
	e := setup(t)
	fs := &flakyStore{Store: e.st, failAccepted: 10}
	s := e.with(fs)
	m, rec := e.queueMsg(t, "5511900000021")
	handleWith(t, s, rec)
	for i := 0; i < 20 && e.msg(t, m.ID).Status != store.StatusFailed; i++ {
		e.advance(2 * time.Minute)
		handleWith(t, s, rec)
	}
	got := e.msg(t, m.ID)
	require.Equal(t, store.StatusFailed, got.Status)
	require.Equal(t, "outcome_unknown", got.Error.Title)
	require.Contains(t, got.Error.Message, "outcome")
	require.Len(t, e.graph.sent, 1, "never sent twice")
	require.Len(t, e.evs.Distinct(event.MessageFailed), 1)
}

// Issue 13, item 2: a transient store error while recording a permanent
// failure keeps the queue message; the message ends failed with
// message.failed.
func TestFailureNotRecordedIsRecordedLater(t *testing.T) {
	e := setup(t)
	fs := &flakyStore{Store: e.st, failFailed: 1}
	s := e.with(fs)
	e.graph.errs = []error{&graph.Error{HTTPStatus: 400, Code: 131047, Message: "Re-engagement message"},
		&graph.Error{HTTPStatus: 400, Code: 131047, Message: "Re-engagement message"}}
	m, rec := e.queueMsg(t, "5511900000022")
	require.Equal(t, []string{rec.MessageId}, handleWith(t, s, rec))
	for i := 0; i < 10 && e.msg(t, m.ID).Status != store.StatusFailed; i++ {
		e.advance(2 * time.Minute)
		handleWith(t, s, rec)
	}
	got := e.msg(t, m.ID)
	require.Equal(t, store.StatusFailed, got.Status)
	require.Equal(t, 131047, got.Error.Code)
	require.Len(t, e.evs.Distinct(event.MessageFailed), 1)
}

// Issue 13, item 7: a message.failed the sender could not publish is
// published when the queue message comes back.
func TestFailedEventNotPublishedIsPublishedLater(t *testing.T) {
	e := setup(t)
	e.graph.errs = []error{&graph.Error{HTTPStatus: 400, Code: 131047, Message: "Re-engagement message"}}
	m, rec := e.queueMsg(t, "5511900000023")
	e.evs.FailNextNamed(event.MessageFailed, 1)
	require.Equal(t, []string{rec.MessageId}, e.handle(t, rec))
	require.Equal(t, store.StatusFailed, e.msg(t, m.ID).Status)
	require.Empty(t, e.handle(t, rec))
	require.Len(t, e.evs.Distinct(event.MessageFailed), 1)
}

// Issue 13, item 5: a status that arrived before the wamid was recorded,
// whose event the sender could not publish, is published when the queue
// message comes back.
func TestEarlyStatusEventNotPublishedIsPublishedLater(t *testing.T) {
	e := setup(t)
	m, rec := e.queueMsg(t, "5511900000024")
	_, err := e.st.ApplyStatus(context.Background(), store.StatusUpdate{OrgID: e.org, WAMID: "wamid.simB", Status: store.StatusDelivered, Timestamp: e.clock()})
	require.NoError(t, err)
	e.evs.FailNextNamed(event.MessageDelivered, 1)
	require.Equal(t, []string{rec.MessageId}, e.handle(t, rec))
	require.Equal(t, store.StatusDelivered, e.msg(t, m.ID).Status)
	require.Empty(t, e.evs.Distinct(event.MessageDelivered))
	require.Empty(t, e.handle(t, rec))
	require.Len(t, e.evs.Distinct(event.MessageDelivered), 1)
	require.Len(t, e.graph.sent, 1)
}

// The Graph call is bounded by the invocation's remaining time: with too
// little left it is not made (and the message is retried, not stranded).
func TestNoSendWithoutTimeToRecordIt(t *testing.T) {
	e := setup(t)
	var seen time.Duration
	g := &deadlineGraph{fakeGraph: e.graph, seen: &seen}
	d := e.deps(slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.Graph = g
	s := sender.New(d)
	m, rec := e.queueMsg(t, "5511900000025")
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(4*time.Second))
	defer cancel()
	resp, _ := s.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{rec}})
	require.Len(t, resp.BatchItemFailures, 1)
	require.Empty(t, e.graph.sent, "no POST it could not record")
	require.Equal(t, store.StatusQueued, e.msg(t, m.ID).Status)
	ctx2, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(30*time.Second))
	defer cancel2()
	resp, _ = s.Handle(ctx2, events.SQSEvent{Records: []events.SQSMessage{rec}})
	require.Empty(t, resp.BatchItemFailures)
	require.Len(t, e.graph.sent, 1)
	require.Less(t, seen, 30*time.Second-5*time.Second, "the POST leaves time to record its outcome")
}

type deadlineGraph struct {
	*fakeGraph
	seen *time.Duration
}

func (g *deadlineGraph) SendMessage(ctx context.Context, version, phone, token string, body []byte) (graph.SendResult, error) {
	dl, ok := ctx.Deadline()
	if !ok {
		return graph.SendResult{}, errors.New("no deadline on the Graph call")
	}
	*g.seen = time.Until(dl)
	return g.fakeGraph.SendMessage(ctx, version, phone, token, body)
}

const dlqARN = "arn:aws:sqs:us-east-1:123456789012:pytake-dev-outbound-dlq.fifo"

// Issue 13, item 8: a message whose queue message reached the outbound
// dead-letter queue ends failed, with a reason, and message.failed (it
// stayed queued: nothing read that queue).
func TestDeadLetteredMessageIsFailed(t *testing.T) {
	e := setup(t)
	d := e.deps(slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.DeadLetter = queue.New(e.queue, "https://sqs.us-east-1.amazonaws.com/123456789012/pytake-dev-outbound-dlq.fifo", "outbound dead-letter")
	s := sender.New(d)
	m, rec := e.queueMsg(t, "5511900000026")
	rec.EventSourceARN = dlqARN
	require.Empty(t, handleWith(t, s, rec))
	got := e.msg(t, m.ID)
	require.Equal(t, store.StatusFailed, got.Status)
	require.Equal(t, "dead_lettered", got.Error.Title)
	require.Empty(t, e.graph.sent, "a dead-lettered message is not sent")
	require.Len(t, e.evs.Distinct(event.MessageFailed), 1)
	// Again (SQS delivers at least once): nothing new.
	require.Empty(t, handleWith(t, s, rec))
	require.Len(t, e.evs.Distinct(event.MessageFailed), 1)

	// One a sender holds (its lease is live) is looked at again later.
	m2, rec2 := e.queueMsg(t, "5511900000027")
	_, err := e.st.ClaimSend(context.Background(), e.org, m2.ID, time.Minute)
	require.NoError(t, err)
	rec2.EventSourceARN = dlqARN
	require.Equal(t, []string{rec2.MessageId}, handleWith(t, s, rec2))
	e.advance(2 * time.Minute)
	require.Empty(t, handleWith(t, s, rec2))
	require.Equal(t, store.StatusFailed, e.msg(t, m2.ID).Status)
	// One already sent is left alone.
	m3, rec3 := e.queueMsg(t, "5511900000028")
	require.Empty(t, e.handle(t, rec3))
	rec3.EventSourceARN = dlqARN
	require.Empty(t, handleWith(t, s, rec3))
	require.Equal(t, store.StatusAccepted, e.msg(t, m3.ID).Status)
}

// Issue 13, item 7: a message accepted for a new number (POST
// /v1/messages, a chatbot reply, a shop order) created a contact and
// opened a conversation: contact.created and conversation.created are
// emitted, once, even when publishing fails at first.
func TestAcceptedMessageEmitsWhatItCreated(t *testing.T) {
	e := setup(t)
	_, rec := e.queueMsg(t, "5511900000029")
	e.evs.FailNext(1)
	require.Equal(t, []string{rec.MessageId}, e.handle(t, rec))
	require.Empty(t, e.graph.sent, "not sent before its events are out")
	require.Empty(t, e.handle(t, rec))
	require.Len(t, e.graph.sent, 1)
	require.Len(t, e.evs.Distinct(event.ContactCreated), 1)
	require.Len(t, e.evs.Distinct(event.ConversationCreated), 1)
	// A second message to the same number creates nothing.
	_, rec2 := e.queueMsg(t, "5511900000029")
	require.Empty(t, e.handle(t, rec2))
	require.Len(t, e.evs.Distinct(event.ContactCreated), 1)
	require.Len(t, e.evs.Distinct(event.ConversationCreated), 1)
}

// applyFlaky fails the next ApplyStatus calls.
type applyFlaky struct {
	*store.Store
	failApply int
}

func (f *applyFlaky) ApplyStatus(ctx context.Context, u store.StatusUpdate) (store.StatusResult, error) {
	if f.failApply > 0 {
		f.failApply--
		return store.StatusResult{}, errTransient
	}
	return f.Store.ApplyStatus(ctx, u)
}

// An early status the sender could not apply (the store failed) is
// applied, and its event published, when the queue message comes back.
func TestEarlyStatusNotAppliedIsAppliedLater(t *testing.T) {
	e := setup(t)
	fs := &applyFlaky{Store: e.st}
	s := e.with(fs)
	m, rec := e.queueMsg(t, "5511900000030")
	_, err := e.st.ApplyStatus(context.Background(), store.StatusUpdate{OrgID: e.org, WAMID: "wamid.simB", Status: store.StatusDelivered, Timestamp: e.clock()})
	require.NoError(t, err)
	fs.failApply = 1
	require.Equal(t, []string{rec.MessageId}, handleWith(t, s, rec))
	require.Equal(t, store.StatusAccepted, e.msg(t, m.ID).Status)
	require.Empty(t, handleWith(t, s, rec))
	require.Equal(t, store.StatusDelivered, e.msg(t, m.ID).Status)
	require.Len(t, e.evs.Distinct(event.MessageDelivered), 1)
	require.Len(t, e.graph.sent, 1)
}
