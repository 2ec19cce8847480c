package sender_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/logctx/logctxtest"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/sender"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// fakeGraph answers sends from a script of errors, then wamids.
type fakeGraph struct {
	mu     sync.Mutex
	errs   []error
	sent   []string // bodies
	tokens []string
	n      int
	// waIDs: the wa_id Meta answers for a recipient ("to" or
	// "recipient"), when it is not the digits sent.
	waIDs map[string]string
	// errTo, when set, is the only recipient errs are answered to (a
	// batch's groups are sent concurrently, in no set order).
	errTo string
}

func (g *fakeGraph) SendMessage(_ context.Context, version, phone, token string, body []byte) (graph.SendResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tokens = append(g.tokens, token)
	var to struct{ To, Recipient string }
	_ = json.Unmarshal(body, &to)
	if len(g.errs) > 0 && (g.errTo == "" || g.errTo == to.To) {
		err := g.errs[0]
		g.errs = g.errs[1:]
		return graph.SendResult{}, err
	}
	g.sent = append(g.sent, string(body))
	g.n++
	wa := to.To
	if w, ok := g.waIDs[to.To+to.Recipient]; ok {
		wa = w
	}
	return graph.SendResult{WAMID: "wamid.sim" + string(rune('A'+g.n)), WaID: wa}, nil
}

type fakeQueue struct {
	queue.API  // the sender only delays messages
	mu         sync.Mutex
	visibility map[string]int32
}

func (q *fakeQueue) ChangeMessageVisibility(_ context.Context, in *awsapi.ChangeMessageVisibilityInput) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.visibility[in.ReceiptHandle] = in.VisibilityTimeout
	return nil
}

type env struct {
	st    *store.Store
	org   string
	graph *fakeGraph
	queue *fakeQueue
	evs   *eventtest.Recorder
	sec   *secretstest.Store
	s     *sender.Sender
	now   time.Time
	mu    sync.Mutex
	skew  time.Duration // added to the wall clock of the store and the sender
	// frozen, when set, is the clock's time (plus skew) instead of the wall
	// clock's: for tests whose counts must not depend on how long the
	// machine takes.
	frozen time.Time
}

// clock is the wall clock moved on by advance.
func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.frozen.IsZero() {
		return e.frozen.Add(e.skew)
	}
	return time.Now().Add(e.skew)
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.skew += d
}

func setup(t *testing.T) *env {
	t.Helper()
	tb := storetest.New(t)
	e := &env{now: time.Now()}
	e.st = store.New(tb.Client, tb.Name, e.clock)
	ctx := context.Background()
	org, _ := e.st.CreateOrganization(ctx, "A")
	e.org = org.ID
	_, err := e.st.PutWhatsAppAccount(ctx, store.WhatsAppAccount{OrgID: org.ID, PhoneNumberID: "106540352242922", VerifyTokenHash: "h-" + org.ID})
	require.NoError(t, err)
	e.graph = &fakeGraph{}
	e.queue = &fakeQueue{visibility: map[string]int32{}}
	e.evs = &eventtest.Recorder{}
	e.sec = secretstest.New()
	e.sec.Set(org.ID, secrets.ProviderWhatsApp, secrets.WhatsApp{PhoneNumberID: "106540352242922", AccessToken: "tok"})
	e.s = sender.New(e.deps(slog.New(slog.NewTextHandler(io.Discard, nil))))
	return e
}

func (e *env) deps(log *slog.Logger) sender.Deps {
	return sender.Deps{
		Store: e.st, Secrets: e.sec, Graph: e.graph, Queue: queue.New(e.queue, "q", "outbound"), Events: e.evs,
		GraphVersion: "v26.0", RatePerSecond: 1000, Log: log, Now: e.clock,
		Sleep: func(context.Context, time.Duration) error { return nil }, Rand: func() float64 { return 0.5 },
	}
}

// queue accepts a template to a number and returns its SQS record.
func (e *env) queueMsg(t *testing.T, to string) (store.Message, events.SQSMessage) {
	t.Helper()
	res, err := e.st.AcceptOutbound(context.Background(), store.OutboundMessage{
		OrgID: e.org, To: store.Identity{WaID: to}, Type: "template",
		Content: json.RawMessage(`{"name":"hello_world","language":{"code":"en_US"}}`),
	})
	require.NoError(t, err)
	body, _ := json.Marshal(sender.Job{OrgID: e.org, MessageID: res.Message.ID})
	return res.Message, events.SQSMessage{MessageId: "sqs-" + res.Message.ID, ReceiptHandle: "rh-" + res.Message.ID, Body: string(body),
		Attributes: map[string]string{"MessageGroupId": e.org + ":" + res.Message.ContactID}}
}

func (e *env) handle(t *testing.T, recs ...events.SQSMessage) []string {
	t.Helper()
	resp, err := e.s.Handle(context.Background(), events.SQSEvent{Records: recs})
	require.NoError(t, err)
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

func (e *env) msg(t *testing.T, id string) store.Message {
	t.Helper()
	m, err := e.st.Message(context.Background(), e.org, id)
	require.NoError(t, err)
	return m
}

func TestSendOnceEvenWhenRedelivered(t *testing.T) {
	e := setup(t)
	m, rec := e.queueMsg(t, "5511900000001")
	if f := e.handle(t, rec); len(f) != 0 {
		t.Fatalf("failures %v", f)
	}
	got := e.msg(t, m.ID)
	require.Equal(t, store.StatusAccepted, got.Status, "after send: %+v, %d sends", got, len(e.graph.sent))
	require.NotEmpty(t, got.WAMID, "after send")
	require.Len(t, e.graph.sent, 1, "after send")
	var body map[string]any
	_ = json.Unmarshal([]byte(e.graph.sent[0]), &body)
	if body["to"] != "5511900000001" || body["type"] != "template" || body["messaging_product"] != "whatsapp" {
		t.Fatalf("Graph body %s", e.graph.sent[0])
	}
	// SQS delivers it again (at-least-once): nothing is sent twice.
	f := e.handle(t, rec)
	require.Empty(t, f, "redelivery: failures %v, %d sends", f, len(e.graph.sent))
	require.Len(t, e.graph.sent, 1, "redelivery: failures %v, %d sends", f, len(e.graph.sent))
}

func TestRetryableErrorsBackOff(t *testing.T) {
	e := setup(t)
	e.graph.errs = []error{
		&graph.Error{HTTPStatus: 400, Code: 130429, Message: "Rate limit hit"},
		&graph.Error{HTTPStatus: 503, Message: "unavailable"},
		&net.OpError{Op: "dial", Err: errors.New("connection refused")},
	}
	m, rec := e.queueMsg(t, "5511900000002")
	for i := 0; i < 3; i++ {
		f := e.handle(t, rec)
		require.Len(t, f, 1, "attempt %d: failures %v", i+1, f)
		require.Equal(t, rec.MessageId, f[0], "attempt %d: failures %v", i+1, f)
		got := e.msg(t, m.ID)
		require.Equal(t, store.StatusQueued, got.Status, "attempt %d: %+v", i+1, got)
		require.NotEmpty(t, got.LastError, "attempt %d: %+v", i+1, got)
		v := e.queue.visibility[rec.ReceiptHandle]
		require.GreaterOrEqual(t, v, int32(1), "attempt %d: visibility %d", i+1, v)
		require.LessOrEqual(t, v, int32(900), "attempt %d: visibility %d", i+1, v)
	}
	f := e.handle(t, rec)
	require.Empty(t, f, "fourth attempt: %v", f)
	got := e.msg(t, m.ID)
	require.Equal(t, store.StatusAccepted, got.Status, "after retries: %+v", got)
	require.Equal(t, 4, got.Attempts, "after retries")
}

func TestTerminalErrors(t *testing.T) {
	e := setup(t)
	e.graph.errs = []error{&graph.Error{HTTPStatus: 400, Code: 131047, Message: "Re-engagement message", ErrorData: struct {
		Details string `json:"details,omitempty"`
	}{Details: "more than 24 hours"}}}
	m, rec := e.queueMsg(t, "5511900000003")
	f := e.handle(t, rec)
	require.Empty(t, f, "failures %v", f)
	got := e.msg(t, m.ID)
	require.Equal(t, store.StatusFailed, got.Status, "131047: %+v", got)
	require.NotNil(t, got.Error, "131047")
	require.Equal(t, 131047, got.Error.Code, "131047")
	require.Equal(t, "more than 24 hours", got.Error.Details, "131047")
	require.Len(t, e.evs.Named(event.MessageFailed), 1)
	// The account stays healthy after a message error.
	a, _ := e.st.WhatsAppAccount(context.Background(), e.org)
	require.True(t, a.Healthy, "131047 marked the account unhealthy")
}

func TestExpiredTokenFailsFastUntilSettingsChange(t *testing.T) {
	e := setup(t)
	e.graph.errs = []error{&graph.Error{HTTPStatus: 401, Code: 190, Message: "Error validating access token"}}
	m1, r1 := e.queueMsg(t, "5511900000004")
	m2, r2 := e.queueMsg(t, "5511900000005")
	// Two batches: within one batch, groups are sent concurrently, so a
	// second recipient's send may already be at Meta (and answered 190
	// too); fail-fast is for the messages taken up after the 190.
	if f := e.handle(t, r1); len(f) != 0 {
		t.Fatalf("failures %v", f)
	}
	if f := e.handle(t, r2); len(f) != 0 {
		t.Fatalf("failures %v", f)
	}
	if got := e.msg(t, m1.ID); got.Status != store.StatusFailed || got.Error.Code != 190 {
		t.Fatalf("first: %+v", got)
	}
	// The second never reached Meta: failed fast with a clear error.
	got := e.msg(t, m2.ID)
	require.Equal(t, store.StatusFailed, got.Status, "second: %+v, graph calls %d", got, len(e.graph.tokens))
	require.Equal(t, "whatsapp_connection_unhealthy", got.Error.Title, "second")
	require.Len(t, e.graph.tokens, 1, "second")
	a, _ := e.st.WhatsAppAccount(context.Background(), e.org)
	require.False(t, a.Healthy, "190 did not mark the account unhealthy")
	// New settings: sends work again with the new token.
	time.Sleep(2 * time.Millisecond)
	e.sec.Set(e.org, secrets.ProviderWhatsApp, secrets.WhatsApp{PhoneNumberID: "106540352242922", AccessToken: "tok2"})
	_, err := e.st.PutWhatsAppAccount(context.Background(), store.WhatsAppAccount{OrgID: e.org, PhoneNumberID: "106540352242922", VerifyTokenHash: "h-" + e.org})
	require.NoError(t, err)
	m3, r3 := e.queueMsg(t, "5511900000006")
	f := e.handle(t, r3)
	require.Empty(t, f, "failures %v", f)
	got = e.msg(t, m3.ID)
	require.Equal(t, store.StatusAccepted, got.Status, "after new settings: %+v tokens %v", got, e.graph.tokens)
	require.Equal(t, "tok2", e.graph.tokens[len(e.graph.tokens)-1], "after new settings")
}

// FIFO: after a message must be retried, the later records of its message
// group are kept untouched so none of the recipient's later messages
// overtakes it; other recipients' groups are not held back (issue 13,
// item 8: every later record of the batch was).
func TestBatchHoldsBackOnlyTheRetriedGroup(t *testing.T) {
	e := setup(t)
	m1, r1 := e.queueMsg(t, "5511900000007")
	m2, r2 := e.queueMsg(t, "5511900000007")
	m3, r3 := e.queueMsg(t, "5511900000008")
	m4, r4 := e.queueMsg(t, "5511900000007")
	// The first goes; the next hits a throughput error.
	resp := e.handle(t, r1)
	require.Empty(t, resp, "first message")
	require.Equal(t, store.StatusAccepted, e.msg(t, m1.ID).Status, "first message")
	e.graph.errs = []error{&graph.Error{HTTPStatus: 400, Code: 130429}}
	e.graph.errTo = "5511900000007"
	failed := e.handle(t, r2, r3, r4)
	require.Equal(t, []string{r2.MessageId, r4.MessageId}, failed)
	require.Len(t, e.graph.sent, 2, "the other recipient's message is sent")
	require.Equal(t, store.StatusQueued, e.msg(t, m2.ID).Status)
	require.Equal(t, store.StatusAccepted, e.msg(t, m3.ID).Status)
	require.Equal(t, store.StatusQueued, e.msg(t, m4.ID).Status, "the same recipient's later message waits")
	// Without a group attribute every later record is held back.
	r2.Attributes, r3.Attributes = nil, nil
	e.graph.errs = []error{&graph.Error{HTTPStatus: 400, Code: 130429}}
	_, r5 := e.queueMsg(t, "5511900000010")
	r5.Attributes = nil
	require.Equal(t, []string{r2.MessageId, r5.MessageId}, e.handle(t, r2, r5))
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	e := setup(t)
	m, rec := e.queueMsg(t, "5511900000009")
	for i := 0; i < 20; i++ {
		e.graph.errs = append(e.graph.errs, &graph.Error{HTTPStatus: 500, Code: 131000, Message: "Something went wrong"})
	}
	for i := 0; i < 20; i++ {
		if f := e.handle(t, rec); len(f) == 0 {
			break
		}
	}
	got := e.msg(t, m.ID)
	require.Equal(t, store.StatusFailed, got.Status, "after giving up: %+v", got)
	require.NotNil(t, got.Error, "after giving up")
	require.Equal(t, 131000, got.Error.Code, "after giving up")
}

func TestBadJobIsDropped(t *testing.T) {
	e := setup(t)
	if f := e.handle(t, events.SQSMessage{MessageId: "x", Body: "{"}); len(f) != 0 {
		t.Fatalf("failures %v", f)
	}
	body, _ := json.Marshal(sender.Job{OrgID: e.org, MessageID: "msg_missing"})
	f := e.handle(t, events.SQSMessage{MessageId: "y", Body: string(body)})
	require.Empty(t, f, "failures %v", f)
}

// The cap holds across concurrent senders: no second sees more sends of a
// number than the cap.
func TestThroughputCapAcrossSenders(t *testing.T) {
	e := setup(t)
	const perSecond, n = 10, 40
	slots := &slotRecorder{Store: e.st, at: map[int64]int{}}
	g := &timedGraph{onSend: func() {}}
	var recs []events.SQSMessage
	for i := 0; i < n; i++ {
		_, r := e.queueMsg(t, fmt.Sprintf("55119100%05d", i))
		recs = append(recs, r)
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		s := sender.New(sender.Deps{
			Store: slots, Secrets: e.sec, Graph: g, Queue: queue.New(e.queue, "q", "outbound"), Events: e.evs,
			GraphVersion: "v26.0", RatePerSecond: perSecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		part := recs[w*n/4 : (w+1)*n/4]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range part {
				_, err := s.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{r}})
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, n, g.n, "%d sends of %d", g.n, n)
	granted := 0
	for sec, c := range slots.at {
		granted += c
		require.LessOrEqual(t, c, perSecond, "second %d had %d tokens, cap %d", sec, c, perSecond)
	}
	require.GreaterOrEqual(t, granted, n, "%d sends on %d tokens", n, granted)
	require.GreaterOrEqual(t, len(slots.at), n/perSecond, "%d messages at %d/s went out in %d seconds", n, perSecond, len(slots.at))
}

type timedGraph struct {
	mu     sync.Mutex
	n      int
	onSend func()
}

func (g *timedGraph) SendMessage(context.Context, string, string, string, []byte) (graph.SendResult, error) {
	g.onSend()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return graph.SendResult{WAMID: "wamid.t" + time.Now().Format("150405.000000000") + string(rune('a'+g.n%26))}, nil
}

// slotRecorder notes the tokens granted in each second.
type slotRecorder struct {
	*store.Store
	mu sync.Mutex
	at map[int64]int
}

func (r *slotRecorder) LeaseSendTokens(ctx context.Context, phone string, second int64, want, ceiling int) (int, error) {
	got, err := r.Store.LeaseSendTokens(ctx, phone, second, want, ceiling)
	r.mu.Lock()
	r.at[second] += got
	r.mu.Unlock()
	return got, err
}

// The sample in events/sender is a valid SQS batch for the sender (a
// message that does not exist is dropped, not retried forever).
func TestEventSamples(t *testing.T) {
	files, _ := filepath.Glob("../../events/sender/*.json")
	require.NotEmpty(t, files, "no samples in events/sender")
	e := setup(t)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var ev events.SQSEvent
		err = json.Unmarshal(b, &ev)
		require.NoError(t, err, "%s: %v", f, err)
		require.NotEmpty(t, ev.Records, "%s: %v", f, err)
		resp, err := e.s.Handle(context.Background(), ev)
		require.NoError(t, err, "%s: %+v %v", f, resp, err)
		require.Empty(t, resp.BatchItemFailures, "%s: %+v %v", f, resp, err)
	}
}

// TestLogLinesNameTheInvocation: a sender line carries the Lambda request id
// (from the invocation's context) and the SQS message it is about.
func TestLogLinesNameTheInvocation(t *testing.T) {
	e := setup(t)
	log, lines := logctxtest.Capture(t)
	e.s = sender.New(e.deps(log))
	m, rec := e.queueMsg(t, "5511900000001")
	resp, err := e.s.Handle(logctxtest.Invocation(context.Background(), "req-sender-1"), events.SQSEvent{Records: []events.SQSMessage{rec}})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	var sent []string
	for _, l := range lines() {
		if strings.Contains(l, "sent") && strings.Contains(l, m.ID) {
			sent = append(sent, l)
		}
	}
	require.Len(t, sent, 1, "lines: %v", lines())
	for _, want := range []string{"requestId", "req-sender-1", "sqs_message_id", rec.MessageId} {
		assert.Contains(t, sent[0], want)
	}
}

// Meta's answer names the wa_id the number resolved to: it becomes the
// contact's; when another contact held it, the two are merged and
// contact.merged names the survivor.
func TestSendRecordsMetasWaID(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.graph.waIDs = map[string]string{"5511987654321": "551187654321", "BR.13491208655302741918": "552198765432"}

	m, rec := e.queueMsg(t, "5511987654321")
	require.Empty(t, e.handle(t, rec))
	c, err := e.st.Contact(ctx, e.org, m.ContactID)
	require.NoError(t, err)
	assert.Equal(t, "551187654321", c.WhatsAppID)
	assert.Empty(t, e.evs.Named(event.ContactMerged))

	// A contact known by BSUID only, sent to; one known by phone: Meta
	// answers the BSUID's phone, which the second holds.
	res, err := e.st.AcceptOutbound(ctx, store.OutboundMessage{OrgID: e.org, To: store.Identity{UserID: "BR.13491208655302741918"},
		Type: "template", Content: json.RawMessage(`{"name":"hello_world","language":{"code":"en_US"}}`)})
	require.NoError(t, err)
	// The phone's contact is made a second later, so which is older does
	// not rest on two ids minted in the same millisecond.
	e.advance(time.Second)
	byPhone, err := e.st.CreateContact(ctx, store.Contact{OrgID: e.org, WhatsAppID: "5521998765432", Tags: []string{"lead"}}, nil)
	require.NoError(t, err)
	body, _ := json.Marshal(sender.Job{OrgID: e.org, MessageID: res.Message.ID})
	require.Empty(t, e.handle(t, events.SQSMessage{MessageId: "sqs-b", ReceiptHandle: "rh-b", Body: string(body)}))
	merged := e.evs.Named(event.ContactMerged)
	require.Len(t, merged, 1)
	var d event.MergedData
	require.NoError(t, json.Unmarshal(merged[0].Data, &d))
	assert.Equal(t, res.Contact.ID, d.SurvivingID, "the older contact survives")
	assert.Equal(t, res.Contact.ID, d.Contact.ID)
	assert.Equal(t, byPhone.ID, d.MergedContactID)
	assert.Equal(t, "+552198765432", d.WhatsAppID)
	assert.Equal(t, []string{"lead"}, d.Contact.Tags)
	got, err := e.st.Contact(ctx, e.org, byPhone.ID)
	require.NoError(t, err)
	assert.Equal(t, res.Contact.ID, got.ID, "the merged id answers the survivor")
	assert.Equal(t, "BR.13491208655302741918", got.UserID)
}

// Meta's 131050 (the user stopped marketing messages) fails the message
// and opts its contact out of marketing, with contact.opted_out.
func TestMarketingStoppedOptsTheContactOut(t *testing.T) {
	e := setup(t)
	e.graph.errs = []error{&graph.Error{HTTPStatus: 400, Code: 131050, Message: "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business"}}
	m, rec := e.queueMsg(t, "5511900000050")
	require.Empty(t, e.handle(t, rec))
	got := e.msg(t, m.ID)
	require.Equal(t, store.StatusFailed, got.Status)
	require.Equal(t, 131050, got.Error.Code)
	c, err := e.st.Contact(context.Background(), e.org, m.ContactID)
	require.NoError(t, err)
	require.NotNil(t, c.OptOut, "opted out")
	require.Equal(t, store.OptOutMeta, c.OptOut.Reason)
	require.Equal(t, m.ID, c.OptOut.MessageID)
	require.Len(t, e.evs.Distinct(event.ContactOptedOut), 1)
	require.Len(t, e.evs.Named(event.MessageFailed), 1)
}

// After Meta's wa_id merges the message's contact with another, the
// message's status events show the survivor as merged, whichever of the
// two survives; the message's own copy is rewritten only when its contact
// is the survivor (a merged-away contact's MERGED redirect already carries
// the survivor's copy: rewriting the message would be a write for nothing).
func TestSendMergeStatusesShowTheSurvivor(t *testing.T) {
	for _, tc := range []struct {
		name        string
		olderHolder bool // the wa_id's holder is older than the message's contact: the message's contact is merged away
	}{
		{"message's contact merged away", true},
		{"message's contact survives", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			ctx := context.Background()
			e.graph.waIDs = map[string]string{"BR.13491208655302741918": "552198765432"}
			holder := func() store.Contact {
				c, err := e.st.CreateContact(ctx, store.Contact{OrgID: e.org, WhatsAppID: "5521998765432", Tags: []string{"lead"}}, nil)
				require.NoError(t, err)
				return c
			}
			var byPhone store.Contact
			if tc.olderHolder {
				byPhone = holder()
				e.advance(time.Second)
			}
			res, err := e.st.AcceptOutbound(ctx, store.OutboundMessage{OrgID: e.org, To: store.Identity{UserID: "BR.13491208655302741918"},
				Type: "template", Content: json.RawMessage(`{"name":"hello_world","language":{"code":"en_US"}}`)})
			require.NoError(t, err)
			if !tc.olderHolder {
				e.advance(time.Second)
				byPhone = holder()
			}
			body, _ := json.Marshal(sender.Job{OrgID: e.org, MessageID: res.Message.ID})
			require.Empty(t, e.handle(t, events.SQSMessage{MessageId: "sqs-b", ReceiptHandle: "rh-b", Body: string(body)}))
			require.Len(t, e.evs.Named(event.ContactMerged), 1)

			survivor, merged := res.Contact.ID, byPhone.ID
			if tc.olderHolder {
				survivor, merged = byPhone.ID, res.Contact.ID
			}
			m := e.msg(t, res.Message.ID)
			ct, cv, err := e.st.EventContext(ctx, m)
			require.NoError(t, err)
			assert.Equal(t, survivor, ct.ID, "a status's event names the survivor")
			assert.NotEqual(t, merged, ct.ID)
			assert.Equal(t, []string{"lead"}, ct.Tags, "the survivor as merged")
			assert.Equal(t, "552198765432", ct.WhatsAppID)
			assert.Equal(t, survivor, cv.ContactID, "its conversation is the survivor's")
			assert.Equal(t, res.Conversation.ID, cv.ID)
			require.NotNil(t, m.Context)
			if tc.olderHolder {
				assert.Equal(t, res.Contact.ID, m.Context.Contact.ID, "the message's copy is not rewritten: the redirect names the survivor")
			} else {
				assert.Equal(t, []string{"lead"}, m.Context.Contact.Tags, "the survivor's own message's copy is refreshed")
			}
		})
	}
}

// The sender's contact.created and conversation.created show the
// conversation as it is when they are published, not the copy its message
// took at accept: a handoff between the accept and the send shows (so the
// sender cannot build them from the message's copy without reading the
// conversation's event view, Store.EventContext).
func TestCreatedEventsShowChangesSinceAccept(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	m, rec := e.queueMsg(t, "5511900000090")
	_, changed, err := e.st.HandoffConversation(ctx, e.org, m.ConversationID, true, nil)
	require.NoError(t, err)
	require.True(t, changed)
	require.Empty(t, e.handle(t, rec))
	created := e.evs.Named(event.ConversationCreated)
	require.Len(t, created, 1)
	var d struct {
		Conversation event.ConversationView `json:"conversation"`
	}
	require.NoError(t, json.Unmarshal(created[0].Data, &d))
	assert.Equal(t, m.ConversationID, d.Conversation.ID)
	assert.True(t, d.Conversation.Handoff, "the handoff made after the accept")
}
