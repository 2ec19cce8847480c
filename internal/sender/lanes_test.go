package sender_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/sender"
	"github.com/pytake/pytake/internal/store"
)

// leaseDown is the store with the send-rate counters unavailable.
type leaseDown struct {
	*store.Store
}

func (l *leaseDown) LeaseSendTokens(context.Context, string, int64, int, int) (int, error) {
	return 0, errors.New("store: lease send tokens: service unavailable")
}

// With the limiter's item unavailable nothing is sent on an unknown
// budget: the message is kept for later, its group held, and Meta is not
// called.
func TestLimiterUnavailableSendsNothing(t *testing.T) {
	e := setup(t)
	d := e.deps(slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.Store = &leaseDown{Store: e.st}
	e.s = sender.New(d)
	m1, r1 := e.queueMsg(t, "5511900000041")
	_, r2 := e.queueMsg(t, "5511900000041")
	require.Equal(t, []string{r1.MessageId, r2.MessageId}, e.handle(t, r1, r2))
	require.Empty(t, e.graph.sent, "sent without a token")
	require.Equal(t, store.StatusQueued, e.msg(t, m1.ID).Status)
}

// ceilings records the ceiling of each lease: the lane's.
type ceilings struct {
	*store.Store
	seen []int
}

func (c *ceilings) LeaseSendTokens(ctx context.Context, phone string, second int64, want, ceiling int) (int, error) {
	c.seen = append(c.seen, ceiling)
	return c.Store.LeaseSendTokens(ctx, phone, second, want, ceiling)
}

// The limit follows the number: the default, Meta's HIGH throughput level
// (1,000/s), an operator's override; a bulk message (persisted Bulk) takes
// tokens in the bulk lane, under the headroom.
func TestLimitFollowsTheNumberAndLane(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		level    string
		override int
		bulk     bool
		ceiling  int
	}{
		{"standard", "", 0, false, 80},
		{"standard, bulk", "STANDARD", 0, true, 77},
		{"high", "HIGH", 0, false, 1000},
		{"high, bulk", "HIGH", 0, true, 970},
		{"override", "HIGH", 250, false, 250},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			rec := &ceilings{Store: e.st}
			d := e.deps(slog.New(slog.NewTextHandler(io.Discard, nil)))
			d.Store, d.RatePerSecond = rec, 80
			e.s = sender.New(d)
			if tc.level != "" {
				_, err := e.st.UpdateWhatsAppSignals(ctx, e.org, store.WhatsAppSignals{ThroughputLevel: tc.level})
				require.NoError(t, err)
			}
			require.NoError(t, e.st.SetSendRateOverride(ctx, e.org, tc.override))
			res, err := e.st.AcceptOutbound(ctx, store.OutboundMessage{OrgID: e.org, To: store.Identity{WaID: "5511900000042"},
				Type: "template", Content: []byte(`{"name":"hello_world","language":{"code":"en_US"}}`), Bulk: tc.bulk})
			require.NoError(t, err)
			require.Equal(t, tc.bulk, e.msg(t, res.Message.ID).Bulk, "Bulk persisted")
			_, r := e.queueMsg(t, "5511900000043")
			r.Body = `{"org_id":"` + e.org + `","message_id":"` + res.Message.ID + `"}`
			require.Empty(t, e.handle(t, r))
			// One lease, or two when the send crossed a second's edge (a
			// token is used only away from its second's edges): each at
			// the number's ceiling.
			require.NotEmpty(t, rec.seen)
			for _, c := range rec.seen {
				require.Equal(t, tc.ceiling, c, "ceilings seen %v", rec.seen)
			}
		})
	}
}

// A recipient's messages are paced under Meta's pair rate limit (one every
// 6 s, bursts of 45): the 46th in a burst is not sent (no 131056 provoked)
// but kept for the interval, then sent.
func TestPairPacing(t *testing.T) {
	e := setup(t)
	var last events.SQSMessage
	var lastMsg store.Message
	for i := range sender.PairBurst + 1 {
		lastMsg, last = e.queueMsg(t, "5511900000044")
		f := e.handle(t, last)
		if i < sender.PairBurst {
			require.Empty(t, f, "message %d of the burst", i)
		}
	}
	require.Len(t, e.graph.sent, sender.PairBurst, "the 46th was sent at once")
	require.Equal(t, store.StatusQueued, e.msg(t, lastMsg.ID).Status)
	// Kept until the bucket has room: at most the interval (the burst took
	// real time, during which it refilled a little).
	require.Contains(t, []int32{1, 2, 3, 4, 5, 6}, e.queue.visibility[last.ReceiptHandle], "kept for the pair interval")
	_, other := e.queueMsg(t, "5511900000045")
	require.Empty(t, e.handle(t, other), "another recipient is not paced by this one")
	e.advance(sender.PairInterval)
	require.Empty(t, e.handle(t, last))
	require.Equal(t, store.StatusAccepted, e.msg(t, lastMsg.ID).Status)
}

// panicGraph panics for one recipient.
type panicGraph struct {
	*fakeGraph
	to string
}

func (g panicGraph) SendMessage(ctx context.Context, version, phone, token string, body []byte) (graph.SendResult, error) {
	if strings.Contains(string(body), g.to) {
		panic("boom")
	}
	return g.fakeGraph.SendMessage(ctx, version, phone, token, body)
}

// A panic while one group is sent (groups run concurrently, outside the
// runtime's recovery) keeps that group's records and does not end the
// invocation: the other groups' outcomes are reported.
func TestPanicInOneGroupKeepsOnlyIt(t *testing.T) {
	e := setup(t)
	d := e.deps(slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.Graph = panicGraph{fakeGraph: e.graph, to: "5511900000046"}
	e.s = sender.New(d)
	_, r1 := e.queueMsg(t, "5511900000046")
	_, r2 := e.queueMsg(t, "5511900000046")
	m3, r3 := e.queueMsg(t, "5511900000047")
	require.ElementsMatch(t, []string{r1.MessageId, r2.MessageId}, e.handle(t, r1, r2, r3))
	require.Equal(t, store.StatusAccepted, e.msg(t, m3.ID).Status)
}

// slowAttempt is the store with the attempt's write outlasting a second
// (throttled, retried by the SDK), counting the tokens leased per second.
type slowAttempt struct {
	*slotRecorder
	e *env
}

func (s *slowAttempt) SendAttempt(ctx context.Context, c store.Claim) error {
	s.e.advance(time.Second)
	return s.slotRecorder.SendAttempt(ctx, c)
}

// postClock notes the second of each POST by the env's clock.
type postClock struct {
	*fakeGraph
	e  *env
	mu sync.Mutex
	at map[int64]int
}

func (g *postClock) SendMessage(ctx context.Context, version, phone, token string, body []byte) (graph.SendResult, error) {
	g.mu.Lock()
	g.at[g.e.clock().Unix()]++
	g.mu.Unlock()
	return g.fakeGraph.SendMessage(ctx, version, phone, token, body)
}

// A token is spent in its second: when the write recording the attempt
// outlasts the second the token was taken in, the POST does not go out on
// it in the next second (over that second's budget) but on a token of the
// second it is sent in.
func TestTokenOutlivedByAttemptWriteIsNotSpent(t *testing.T) {
	e := setup(t)
	rec := &slowAttempt{slotRecorder: &slotRecorder{Store: e.st, at: map[int64]int{}}, e: e}
	g := &postClock{fakeGraph: e.graph, e: e, at: map[int64]int{}}
	d := e.deps(slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.Store, d.Graph = rec, g
	e.s = sender.New(d)
	m, r := e.queueMsg(t, "5511900000048")
	require.Empty(t, e.handle(t, r))
	require.Equal(t, store.StatusAccepted, e.msg(t, m.ID).Status)
	require.Len(t, g.at, 1)
	for sec, n := range g.at {
		require.LessOrEqual(t, n, rec.at[sec], "second %d: %d sent on %d tokens of that second (leased: %v)", sec, n, rec.at[sec], rec.at)
	}
}

// A number's limit is never over Meta's highest throughput level, whatever
// override an older release stored (it allowed up to 10,000/s).
func TestRateOfNeverOverMetasHighest(t *testing.T) {
	s := sender.New(sender.Deps{RatePerSecond: 80})
	for _, tc := range []struct {
		level    string
		override int
		want     int
	}{
		{"", 0, 80},
		{"HIGH", 0, 1000},
		{"STANDARD", 20, 20},
		{"HIGH", 5000, 1000},
		{"", 10000, 1000},
	} {
		got := s.RateOf(store.WhatsAppAccount{SendRateOverride: tc.override, Signals: store.WhatsAppSignals{ThroughputLevel: tc.level}})
		require.Equal(t, tc.want, got, "level %q override %d", tc.level, tc.override)
	}
}

// A send postponed without being attempted (its recipient's pair rate used
// up) does not count as an attempt: after postponements past MaxAttempts,
// Meta's first retryable error is retried, not "gave up".
func TestPostponementsAreNotAttempts(t *testing.T) {
	e := setup(t)
	var last events.SQSMessage
	var lastMsg store.Message
	for range sender.PairBurst + 1 {
		lastMsg, last = e.queueMsg(t, "5511900000049")
		e.handle(t, last)
	}
	require.Equal(t, store.StatusQueued, e.msg(t, lastMsg.ID).Status, "paced")
	for i := range 10 {
		require.Equal(t, []string{last.MessageId}, e.handle(t, last), "postponement %d", i)
	}
	e.advance(sender.PairInterval)
	e.graph.errs = []error{&graph.Error{HTTPStatus: 500, Code: 131000, Message: "Something went wrong"}}
	require.Equal(t, []string{last.MessageId}, e.handle(t, last))
	got := e.msg(t, lastMsg.ID)
	require.Equal(t, store.StatusQueued, got.Status, "retried, not failed: %+v", got.Error)
	require.Equal(t, 1, got.Attempts, "one attempt made")
	e.advance(sender.PairInterval)
	require.Empty(t, e.handle(t, last))
	require.Equal(t, store.StatusAccepted, e.msg(t, lastMsg.ID).Status)
}

// A record held back behind its group's postponed record is not left in
// flight for the queue's visibility timeout (180 s): FIFO returns none of
// a group while one is in flight, so the recipient would wait minutes, not
// the pair interval. It is made visible again at once; its group's order
// keeps it behind the postponed one.
func TestHeldRecordsDoNotBlockTheirGroup(t *testing.T) {
	e := setup(t)
	for range sender.PairBurst {
		_, r := e.queueMsg(t, "5511900000050")
		require.Empty(t, e.handle(t, r))
	}
	_, head := e.queueMsg(t, "5511900000050")
	_, held := e.queueMsg(t, "5511900000050")
	require.Equal(t, []string{head.MessageId, held.MessageId}, e.handle(t, head, held))
	require.Contains(t, []int32{1, 2, 3, 4, 5, 6}, e.queue.visibility[head.ReceiptHandle], "paced for the interval")
	require.Equal(t, int32(1), e.queue.visibility[held.ReceiptHandle], "held: visible again at once, behind its group's head")
}
