package schedule_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/schedule"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// flaky fails the next n TransactWriteItems calls (a throttled table),
// and every one that updates the message poison.
type flaky struct {
	store.DB
	fail   atomic.Int32
	poison atomic.Value // a message id
}

func (f *flaky) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if f.fail.Add(-1) >= 0 {
		return nil, errors.New("ProvisionedThroughputExceededException")
	}
	if p, _ := f.poison.Load().(string); p != "" {
		for _, it := range in.TransactItems {
			if it.Update == nil {
				continue
			}
			if pk, ok := it.Update.Key["pk"].(*types.AttributeValueMemberS); ok && strings.HasSuffix(pk.Value, "#MSG#"+p) {
				return nil, errors.New("InternalServerError")
			}
		}
	}
	return f.DB.TransactWriteItems(ctx, in, o...)
}

type fixture struct {
	t      *testing.T
	mu     sync.Mutex
	now    time.Time
	st     *store.Store
	stream *storetest.Stream
	db     *flaky
	acc    *accept.Accepter
	sweep  *schedule.Sweeper
	org    string
}

func (f *fixture) clock() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fixture) add(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func newFixture(t *testing.T) *fixture {
	tbl := storetest.New(t)
	f := &fixture{t: t, now: time.Date(2026, 11, 29, 12, 0, 30, 0, time.UTC)}
	f.stream = storetest.NewStream(tbl.Client)
	f.db = &flaky{DB: f.stream}
	f.st = store.New(f.db, tbl.Name, f.clock)
	org, err := f.st.CreateOrganization(context.Background(), "Scheduled")
	require.NoError(t, err)
	f.org = org.ID
	f.acc = accept.New(f.st)
	f.sweep = schedule.New(f.st, f.acc, schedule.FailedEvents(f.st, f.clock), slog.New(slog.NewTextHandler(io.Discard, nil)), f.clock)
	return f
}

// schedule accepts a message to wa for in from now.
func (f *fixture) schedule(body string, in time.Duration, idem string) store.OutboundResult {
	f.t.Helper()
	req, err := outbound.Parse([]byte(body))
	require.NoError(f.t, err)
	res, err := f.acc.Accept(context.Background(), accept.Message{OrgID: f.org, Request: req, IdempotencyKey: idem,
		Fingerprint: req.Fingerprint(), SendAt: f.clock().Add(in)})
	require.NoError(f.t, err, "%v", apperr.DetailsOf(err))
	return res
}

const tpl = `{"to":"+5511900000001","type":"template","template":{"name":"hello","language":{"code":"pt_BR"}}}`

func (f *fixture) jobs() []store.OutboxJob {
	f.t.Helper()
	obs, err := f.stream.Outboxes(0)
	require.NoError(f.t, err)
	var out []store.OutboxJob
	for _, o := range obs {
		if o.Job != nil {
			out = append(out, *o.Job)
		}
	}
	return out
}

func (f *fixture) events(name string) int {
	f.t.Helper()
	obs, err := f.stream.Outboxes(0)
	require.NoError(f.t, err)
	n := 0
	for _, o := range obs {
		for _, e := range o.Events {
			var ev struct {
				Event string `json:"event"`
			}
			require.NoError(f.t, json.Unmarshal(e, &ev))
			if ev.Event == name {
				n++
			}
		}
	}
	return n
}

func (f *fixture) message(id string) store.Message {
	f.t.Helper()
	m, err := f.st.Message(context.Background(), f.org, id)
	require.NoError(f.t, err)
	return m
}

func (f *fixture) tick() schedule.Result {
	f.t.Helper()
	res, err := f.sweep.Tick(context.Background())
	require.NoError(f.t, err)
	return res
}

// A scheduled message stays scheduled, without an outbound job, until its
// time; the sweep then queues it once, whatever the number of sweeps.
func TestScheduledMessageIsQueuedOnceWhenDue(t *testing.T) {
	f := newFixture(t)
	res := f.schedule(tpl, 3*time.Minute, "k1")
	require.Equal(t, store.StatusScheduled, res.Message.Status)
	require.NotNil(t, res.Message.SendAt)
	m := f.message(res.Message.ID)
	require.Equal(t, store.StatusScheduled, m.Status)
	require.Equal(t, f.clock().Add(3*time.Minute), *m.SendAt)

	// The same key and request answers the same scheduled message, and
	// queues nothing.
	again := f.schedule(tpl, 3*time.Minute, "k1")
	require.True(t, again.Replayed)
	require.Equal(t, res.Message.ID, again.Message.ID)
	require.Equal(t, store.StatusScheduled, again.Message.Status)

	f.tick()
	f.add(2 * time.Minute)
	f.tick()
	require.Empty(t, f.jobs(), "not due yet")
	require.Equal(t, store.StatusScheduled, f.message(res.Message.ID).Status)

	f.add(time.Minute) // exactly send_at
	r := f.tick()
	require.Equal(t, 1, r.Released)
	require.Equal(t, []store.OutboxJob{{OrgID: f.org, ContactID: res.Message.ContactID, MessageID: res.Message.ID}}, f.jobs())
	require.Equal(t, store.StatusQueued, f.message(res.Message.ID).Status)

	// Sweeping again, now or later, sends nothing more.
	f.tick()
	f.add(time.Minute)
	f.tick()
	require.Len(t, f.jobs(), 1)

	// Nor does a release of the same message that read it before the first.
	_, err := f.acc.Release(context.Background(), f.st, store.Scheduled{OrgID: f.org, MessageID: res.Message.ID,
		ContactID: res.Message.ContactID, SendAt: *res.Message.SendAt}, f.clock(), nil)
	require.NoError(t, err)
	require.Len(t, f.jobs(), 1)
}

// Sweeps running at once release each message once.
func TestConcurrentSweepsQueueOnce(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, f.schedule(tpl, time.Minute+time.Duration(i)*time.Second, "").Message.ID)
	}
	f.add(2 * time.Minute)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = f.sweep.Tick(context.Background()) }()
	}
	wg.Wait()
	seen := map[string]int{}
	for _, j := range f.jobs() {
		seen[j.MessageID]++
	}
	for _, id := range ids {
		require.Equal(t, 1, seen[id], "message %s queued %d times", id, seen[id])
	}
	require.Len(t, f.jobs(), 5)
}

// A cancel racing the sweep: exactly one of them wins.
func TestCancelRacesTheSweep(t *testing.T) {
	for i := 0; i < 8; i++ {
		f := newFixture(t)
		m := f.schedule(tpl, time.Minute, "").Message
		f.add(time.Minute)
		var (
			wg        sync.WaitGroup
			cancelErr error
		)
		wg.Add(2)
		go func() { defer wg.Done(); _, _ = f.sweep.Tick(context.Background()) }()
		go func() { defer wg.Done(); _, cancelErr = f.st.CancelScheduled(context.Background(), f.org, m.ID) }()
		wg.Wait()
		got := f.message(m.ID)
		switch got.Status {
		case store.StatusCancelled:
			require.NoError(t, cancelErr)
			require.Empty(t, f.jobs(), "cancelled and queued")
		case store.StatusQueued:
			e, ok := apperr.As(cancelErr)
			require.True(t, ok, "queued and cancelled: %v", cancelErr)
			require.Equal(t, "message_not_scheduled", e.Code)
			require.Equal(t, apperr.Conflict, e.Kind)
			require.Len(t, f.jobs(), 1)
		default:
			t.Fatalf("status %s", got.Status)
		}
		// Whoever won, later sweeps change nothing.
		f.add(time.Minute)
		f.tick()
		require.Equal(t, got.Status, f.message(m.ID).Status)
		require.LessOrEqual(t, len(f.jobs()), 1)
	}
}

// A cancelled message is never sent; a released one cannot be cancelled.
func TestCancel(t *testing.T) {
	f := newFixture(t)
	a := f.schedule(tpl, 2*time.Minute, "").Message
	b := f.schedule(tpl, 2*time.Minute, "").Message
	c, err := f.st.CancelScheduled(context.Background(), f.org, a.ID)
	require.NoError(t, err)
	require.Equal(t, store.StatusCancelled, c.Status)
	require.NotNil(t, c.CancelledAt)
	_, err = f.st.CancelScheduled(context.Background(), f.org, a.ID)
	require.Equal(t, apperr.Conflict, apperr.KindOf(err), "cancelled twice: %v", err)

	f.add(3 * time.Minute)
	f.tick()
	require.Equal(t, store.StatusCancelled, f.message(a.ID).Status)
	require.Equal(t, []store.OutboxJob{{OrgID: f.org, ContactID: b.ContactID, MessageID: b.ID}}, f.jobs())
	_, err = f.st.CancelScheduled(context.Background(), f.org, b.ID)
	e, ok := apperr.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, "message_not_scheduled", e.Code)
	require.Equal(t, store.StatusQueued, e.Extra["status"])

	// Another organisation's id is not found.
	other, err := f.st.CreateOrganization(context.Background(), "Other")
	require.NoError(t, err)
	_, err = f.st.CancelScheduled(context.Background(), other.ID, b.ID)
	require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
}

// The customer-service window is judged at send_at: a free-form message
// scheduled while the customer's message was recent fails when that message
// is more than 24 hours old by then, with message.failed.
func TestWindowJudgedAtSendTime(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.st.RecordInbound(ctx, store.InboundMessage{OrgID: f.org, From: store.Identity{WaID: "5511900000001"}, WAMID: "wamid.in1",
		Type: "text", Timestamp: f.clock(), Content: json.RawMessage(`{"body":"oi"}`)})
	require.NoError(t, err)
	text := `{"to":"+5511900000001","type":"text","text":{"body":"Lembrete"}}`
	inside := f.schedule(text, 23*time.Hour, "").Message
	outside := f.schedule(text, 25*time.Hour, "").Message

	f.add(23*time.Hour + time.Minute)
	f.tick()
	require.Equal(t, store.StatusQueued, f.message(inside.ID).Status)
	f.add(2 * time.Hour)
	f.tick()
	got := f.message(outside.ID)
	require.Equal(t, store.StatusFailed, got.Status)
	require.Equal(t, "outside_customer_service_window", got.Error.Title)
	require.Contains(t, got.Error.Message, "not sent at its send_at")
	require.Equal(t, 1, f.events(event.MessageFailed))
	require.Len(t, f.jobs(), 1)
}

// A marketing template's contact that opted out between scheduling and
// send_at: failed contact_opted_out, not sent.
func TestOptOutJudgedAtSendTime(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	req, err := outbound.Parse([]byte(tpl))
	require.NoError(t, err)
	res, err := f.acc.Accept(ctx, accept.Message{OrgID: f.org, Request: req, Marketing: true, SendAt: f.clock().Add(time.Hour)})
	require.NoError(t, err)
	_, _, err = f.st.OptOutContact(ctx, f.org, res.Message.ContactID, store.OptOut{Reason: store.OptOutKeyword, Detail: "PARAR"})
	require.NoError(t, err)
	f.add(time.Hour)
	f.tick()
	got := f.message(res.Message.ID)
	require.Equal(t, store.StatusFailed, got.Status)
	require.Equal(t, "contact_opted_out", got.Error.Title)
	require.Empty(t, f.jobs())
}

// A release that fails (the table throttled) is retried by the next run:
// the cursor does not pass its minute, nothing is lost.
func TestFailedReleaseIsRetriedNextRun(t *testing.T) {
	f := newFixture(t)
	m := f.schedule(tpl, time.Minute, "").Message
	f.add(2 * time.Minute)
	f.db.fail.Store(1)
	_, err := f.sweep.Tick(context.Background())
	require.Error(t, err)
	require.Empty(t, f.jobs())
	require.Equal(t, store.StatusScheduled, f.message(m.ID).Status)
	// Much later: the cursor waited at the message's minute.
	f.add(30 * time.Minute)
	r := f.tick()
	require.Equal(t, 1, r.Released)
	require.Len(t, f.jobs(), 1)
	require.Equal(t, f.clock().Truncate(time.Minute), r.Cursor)
}

// A message that keeps failing holds the cursor at its minute, and is
// retried every run, but never holds back the messages due later, however
// much later (more minutes than a run reads).
func TestAStuckMinuteDoesNotHoldBackLaterMessages(t *testing.T) {
	f := newFixture(t)
	f.sweep.Minutes = 6
	for i := 0; i < 4; i++ { // the first runs catch up with the first lookback
		f.tick()
	}
	require.Equal(t, f.clock().Truncate(time.Minute), f.tick().Cursor)
	stuck := f.schedule(tpl, time.Minute, "").Message
	f.db.poison.Store(stuck.ID)
	f.add(2 * time.Minute)
	_, err := f.sweep.Tick(context.Background())
	require.Error(t, err)
	stuckMinute := stuck.SendAt.Truncate(time.Minute)

	f.add(30 * time.Minute)
	later := f.schedule(tpl, time.Minute, "").Message
	f.add(time.Minute)
	r, err := f.sweep.Tick(context.Background())
	require.Error(t, err, "the stuck message still fails")
	require.Equal(t, stuckMinute, r.Cursor, "the cursor waits at the stuck minute")
	require.Equal(t, store.StatusQueued, f.message(later.ID).Status, "a message due now is not held back")
	require.Equal(t, store.StatusScheduled, f.message(stuck.ID).Status)

	// Once it can be released, it is, and the cursor moves on.
	f.db.poison.Store("")
	for i := 0; i < 10 && f.message(stuck.ID).Status == store.StatusScheduled; i++ {
		f.tick()
	}
	require.Equal(t, store.StatusQueued, f.message(stuck.ID).Status)
	require.Len(t, f.jobs(), 2)
	for i := 0; i < 12; i++ {
		f.tick()
	}
	r = f.tick()
	require.Equal(t, f.clock().Truncate(time.Minute), r.Cursor)
}

// A contact deleted before send_at: failed contact_not_found, with
// message.failed naming it, never sent; a free-form message to it too.
func TestDeletedContactFailsAtSendTime(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := f.schedule(tpl, time.Hour, "").Message
	require.NoError(t, f.st.DeleteContact(ctx, f.org, m.ContactID))
	f.add(time.Hour)
	f.tick()
	got := f.message(m.ID)
	require.Equal(t, store.StatusFailed, got.Status)
	require.Equal(t, "contact_not_found", got.Error.Title)
	require.Empty(t, f.jobs())
	require.Equal(t, 1, f.events(event.MessageFailed))
}
