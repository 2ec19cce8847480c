package dispatch_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/delivery"
	"github.com/pytake/pytake/internal/dispatch"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/logctx/logctxtest"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// The two queues as the template names them; the sample in
// events/dispatcher comes from the events queue.
const (
	eventsURL     = "https://sqs.us-east-1.amazonaws.com/123456789012/pytake-dev-EventsQueue"
	eventsARN     = "arn:aws:sqs:us-east-1:123456789012:pytake-dev-EventsQueue"
	deliveriesURL = "https://sqs.us-east-1.amazonaws.com/123456789012/pytake-dev-DeliveriesQueue"
	deliveriesARN = "arn:aws:sqs:us-east-1:123456789012:pytake-dev-DeliveriesQueue"
)

type fakeQueue struct {
	mu         sync.Mutex
	jobs       []string
	visibility map[string]int32
}

func (q *fakeQueue) SendMessageBatch(_ context.Context, in *awsapi.SendMessageBatchInput) (*awsapi.BatchOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range in.Entries {
		q.jobs = append(q.jobs, e.Body)
	}
	return &awsapi.BatchOutput{Successful: []awsapi.BatchSuccess{}}, nil
}

func (q *fakeQueue) ChangeMessageVisibility(_ context.Context, in *awsapi.ChangeMessageVisibilityInput) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.visibility[in.ReceiptHandle] = in.VisibilityTimeout
	return nil
}

type env struct {
	st     *store.Store
	org    string
	sec    *secretstest.Store
	q      *fakeQueue
	p      *dispatch.Dispatcher
	secret string
}

func setup(t *testing.T) *env {
	tb := storetest.New(t)
	e := &env{sec: secretstest.New(), q: &fakeQueue{visibility: map[string]int32{}}}
	e.st = store.New(tb.Client, tb.Name, time.Now)
	org, _ := e.st.CreateOrganization(context.Background(), "A")
	e.org = org.ID
	e.secret, _ = delivery.NewSecret()
	e.p = dispatch.New(e.deps(slog.New(slog.NewTextHandler(io.Discard, nil))))
	return e
}

func (e *env) deps(log *slog.Logger) dispatch.Deps {
	return dispatch.Deps{Store: e.st, Secrets: e.sec, Events: queue.New(e.q, eventsURL, "event"), Deliveries: queue.New(e.q, deliveriesURL, "deliveries"),
		HTTP: delivery.NewClient(delivery.ClientOptions{AllowLoopback: true, Timeout: 5 * time.Second}),
		Log:  log, Rand: func() float64 { return 0.5 }}
}

func (e *env) hook(t *testing.T, url string, events []string, active bool) store.Webhook {
	w, err := e.st.CreateWebhook(context.Background(), store.Webhook{OrgID: e.org, URL: url, Events: events, Active: active})
	require.NoError(t, err)
	e.sec.Set(e.org, secrets.ProviderWebhook(w.ID), secrets.WebhookSecrets{Secrets: []secrets.SigningSecret{{Secret: e.secret, CreatedAt: time.Now()}}})
	return w
}

func (e *env) event(t *testing.T, name, text string) events.SQSMessage {
	ev, err := event.New(event.StableID(e.org, name, text), name, e.org, time.Now(), map[string]any{"text": text})
	require.NoError(t, err)
	b, _ := json.Marshal(ev)
	return events.SQSMessage{MessageId: "ev-" + text, Body: string(b), EventSourceARN: eventsARN}
}

// run handles records and then every queued job (once).
func (e *env) runJobs(t *testing.T) []string {
	e.q.mu.Lock()
	jobs := e.q.jobs
	e.q.jobs = nil
	e.q.mu.Unlock()
	var recs []events.SQSMessage
	for i, j := range jobs {
		recs = append(recs, events.SQSMessage{MessageId: "job-" + string(rune('a'+i)), ReceiptHandle: j, Body: j, EventSourceARN: deliveriesARN})
	}
	resp, _ := e.p.Handle(context.Background(), events.SQSEvent{Records: recs})
	var kept []string
	for _, f := range resp.BatchItemFailures {
		kept = append(kept, f.ItemIdentifier)
	}
	return kept
}

type receiver struct {
	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	statuses []int
	delay    time.Duration
}

// serve starts a server of rcv for the test and answers its URL.
func serve(t *testing.T, rcv *receiver) string {
	t.Helper()
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	return srv.URL
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, b)
	r.headers = append(r.headers, req.Header.Clone())
	code := 200
	if len(r.statuses) > 0 {
		code, r.statuses = r.statuses[0], r.statuses[1:]
	}
	w.WriteHeader(code)
	_, _ = io.WriteString(w, `{"ok":true}`)
}

func TestFanOutSignsAndDeliversOnce(t *testing.T) {
	e := setup(t)
	rcv := &receiver{}
	url := serve(t, rcv)
	e.hook(t, url+"/all", []string{"*"}, true)
	e.hook(t, url+"/msgs", []string{"message.received"}, true)
	e.hook(t, url+"/contacts", []string{"contact.created"}, true)
	e.hook(t, url+"/off", []string{"*"}, false)

	rec := e.event(t, "message.received", "Olá <b>&")
	for i := 0; i < 2; i++ { // SQS redelivers the event: fanned out once
		resp, _ := e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec}})
		require.Empty(t, resp.BatchItemFailures, "fan-out kept %v", resp.BatchItemFailures)
	}
	require.Len(t, e.q.jobs, 2, "%d jobs, want 2 (the matching active hooks)", len(e.q.jobs))
	kept := e.runJobs(t)
	require.Empty(t, kept, "kept %v", kept)
	require.Len(t, rcv.bodies, 2, "%d deliveries", len(rcv.bodies))
	for i, b := range rcv.bodies {
		h := rcv.headers[i]
		require.NoError(t, delivery.Verify(e.secret, h, b, time.Now(), 0), "Standard Webhooks signature")
		require.NoError(t, delivery.VerifyPyTake(e.secret, h.Get("X-PyTake-Signature"), b), "X-PyTake-Signature")
		var got event.Event
		err := json.Unmarshal(b, &got)
		require.NoError(t, err, "body %s headers %v", b, h)
		require.Equal(t, "message.received", got.Event, "body %s headers %v", b, h)
		require.Equal(t, got.ID, h.Get("webhook-id"), "body %s headers %v", b, h)
	}
	// Samples keep the exact bytes.
	samples, err := e.st.EventSamples(context.Background(), e.org, "message.received", 3)
	require.NoError(t, err, "samples %q %v", samples, err)
	require.Len(t, samples, 1, "samples %q %v", samples, err)
	require.Equal(t, string(rcv.bodies[0]), string(samples[0]), "samples %q %v", samples, err)
}

func TestRetriesThenSucceeds(t *testing.T) {
	e := setup(t)
	rcv := &receiver{statuses: []int{500, 503}}
	url := serve(t, rcv)
	w := e.hook(t, url, []string{"*"}, true)
	rec := e.event(t, "contact.created", "x")
	_, _ = e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec}})
	job := e.q.jobs[0]
	for attempt := 1; attempt <= 3; attempt++ {
		resp, _ := e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "j", ReceiptHandle: "rh", Body: job, EventSourceARN: deliveriesARN}}})
		if attempt < 3 && (len(resp.BatchItemFailures) != 1 || e.q.visibility["rh"] < 1) {
			t.Fatalf("attempt %d: %+v %v", attempt, resp, e.q.visibility)
		}
		if attempt == 3 && len(resp.BatchItemFailures) != 0 {
			t.Fatalf("attempt 3 kept")
		}
	}
	page, err := e.st.Deliveries(context.Background(), e.org, w.ID, "", 10)
	require.NoError(t, err, "deliveries %+v %v", page, err)
	require.Len(t, page.Items, 1, "deliveries %+v %v", page, err)
	d := page.Items[0]
	require.Equal(t, store.DeliveryDelivered, d.Status, "delivery %+v", d)
	require.Len(t, d.Attempts, 3, "delivery %+v", d)
	require.Equal(t, 500, d.Attempts[0].StatusCode, "delivery %+v", d)
	require.NotNil(t, d.Attempts[0].NextAt, "delivery %+v", d)
	require.Equal(t, 200, d.Attempts[2].StatusCode, "delivery %+v", d)
	// The same event id on every attempt.
	require.Equal(t, rcv.headers[2].Get("webhook-id"), rcv.headers[0].Get("webhook-id"), "webhook-id changed across retries")
}

func TestGoneDisables(t *testing.T) {
	e := setup(t)
	rcv := &receiver{statuses: []int{410}}
	url := serve(t, rcv)
	w := e.hook(t, url, []string{"*"}, true)
	_, _ = e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{e.event(t, "contact.created", "y")}})
	kept := e.runJobs(t)
	require.Empty(t, kept, "kept %v", kept)
	got, _ := e.st.Webhook(context.Background(), e.org, w.ID)
	require.False(t, got.Active, "after 410: %+v", got)
	require.NotEmpty(t, got.DisabledReason, "after 410")
	// Later events skip it.
	_, _ = e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{e.event(t, "contact.created", "z")}})
	require.Empty(t, e.q.jobs, "a disabled webhook got a job")
}

// A slow endpoint does not hold up another endpoint's delivery.
func TestSlowEndpointIsolated(t *testing.T) {
	e := setup(t)
	slow := &receiver{delay: 2 * time.Second}
	fast := &receiver{}
	s1, s2 := httptest.NewServer(slow), httptest.NewServer(fast)
	defer s1.Close()
	defer s2.Close()
	e.hook(t, s1.URL, []string{"*"}, true)
	e.hook(t, s2.URL, []string{"*"}, true)
	_, _ = e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{e.event(t, "contact.created", "w")}})
	start := time.Now()
	done := make(chan struct{})
	go func() { e.runJobs(t); close(done) }()
	for time.Since(start) < 1500*time.Millisecond {
		fast.mu.Lock()
		n := len(fast.bodies)
		fast.mu.Unlock()
		if n == 1 {
			<-done
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the fast endpoint waited for the slow one")
}

func TestPrivateAddressRefusedOutsideLocal(t *testing.T) {
	e := setup(t)
	rcv := &receiver{}
	url := serve(t, rcv)
	p := dispatch.New(dispatch.Deps{Store: e.st, Secrets: e.sec, Events: queue.New(e.q, eventsURL, "event"), Deliveries: queue.New(e.q, deliveriesURL, "deliveries"),
		HTTP: delivery.NewClient(delivery.ClientOptions{}), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Rand: func() float64 { return 0.5 }})
	w := e.hook(t, url, []string{"*"}, true)
	_, _ = p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{e.event(t, "contact.created", "v")}})
	job := e.q.jobs[0]
	resp, _ := p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "j", ReceiptHandle: "rh", Body: job, EventSourceARN: deliveriesARN}}})
	require.Len(t, resp.BatchItemFailures, 1, "loopback reached: %+v, %d", resp, len(rcv.bodies))
	require.Empty(t, rcv.bodies, "loopback reached")
	page, _ := e.st.Deliveries(context.Background(), e.org, w.ID, "", 10)
	require.Len(t, page.Items, 1, "attempt not recorded with the refusal: %+v", page.Items)
	require.Len(t, page.Items[0].Attempts, 1, "attempt not recorded with the refusal")
	require.NotEmpty(t, page.Items[0].Attempts[0].Error, "attempt not recorded with the refusal")
}

// The sample in events/dispatcher is an events-queue batch the dispatcher
// accepts (an organisation with no webhooks: nothing to deliver).
func TestEventSamples(t *testing.T) {
	e := setup(t)
	b, err := os.ReadFile("../../events/dispatcher/event.json")
	require.NoError(t, err)
	var ev events.SQSEvent
	err = json.Unmarshal(b, &ev)
	require.NoError(t, err, "sample: %v", err)
	require.NotEmpty(t, ev.Records, "sample")
	resp, err := e.p.Handle(context.Background(), ev)
	require.NoError(t, err, "%+v %v", resp, err)
	require.Empty(t, resp.BatchItemFailures, "%+v %v", resp, err)
}

// The queue a record came from decides what it is, not its body: an event
// from the deliveries queue is not fanned out, a job from the events queue
// is not delivered, and a record from a queue the dispatcher was not given
// stays on it (for its dead-letter queue).
func TestRecordsAreRoutedByTheirQueue(t *testing.T) {
	e := setup(t)
	rcv := &receiver{}
	url := serve(t, rcv)
	e.hook(t, url, []string{"*"}, true)
	ev := e.event(t, "contact.created", "routed")

	tests := []struct {
		name string
		rec  events.SQSMessage
		kept bool
	}{
		{"event from the deliveries queue", events.SQSMessage{MessageId: "a", Body: ev.Body, EventSourceARN: deliveriesARN}, false},
		{"event from an unknown queue", events.SQSMessage{MessageId: "b", Body: ev.Body, EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:other"}, true},
		{"event without a source", events.SQSMessage{MessageId: "c", Body: ev.Body}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{tt.rec}})
			require.NoError(t, err, "kept %v, want kept %v (%v)", resp.BatchItemFailures, tt.kept, err)
			require.Equal(t, tt.kept, len(resp.BatchItemFailures) == 1, "kept %v, want kept %v (%v)", resp.BatchItemFailures, tt.kept, err)
			require.Empty(t, e.q.jobs, "fanned out: %v", e.q.jobs)
		})
	}
	if resp, _ := e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{ev}}); len(resp.BatchItemFailures) != 0 || len(e.q.jobs) != 1 {
		t.Fatalf("from the events queue: %+v, %d jobs", resp, len(e.q.jobs))
	}
	job := events.SQSMessage{MessageId: "d", Body: e.q.jobs[0], EventSourceARN: eventsARN}
	resp, _ := e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{job}})
	require.Empty(t, resp.BatchItemFailures, "a job from the events queue was delivered: %+v, %d", resp, len(rcv.bodies))
	require.Empty(t, rcv.bodies, "a job from the events queue was delivered")
	kept := e.runJobs(t)
	require.Empty(t, kept, "from the deliveries queue: kept %v, %d delivered", kept, len(rcv.bodies))
	require.Len(t, rcv.bodies, 1, "from the deliveries queue: kept %v, %d delivered", kept, len(rcv.bodies))
}

// TestLogLinesNameTheInvocation: dispatcher lines, and the lines of what
// React runs (the chatbot), carry the Lambda request id and the SQS message
// (and the event) they are about.
func TestLogLinesNameTheInvocation(t *testing.T) {
	e := setup(t)
	log, lines := logctxtest.Capture(t)
	deps := e.deps(log)
	deps.React = func(ctx context.Context, ev event.Event) error {
		log.InfoContext(ctx, "reacted")
		return nil
	}
	e.p = dispatch.New(deps)
	rcv := &receiver{statuses: []int{410}}
	url := serve(t, rcv)
	e.hook(t, url, []string{"*"}, true)
	ctx := logctxtest.Invocation(context.Background(), "req-dispatch-1")

	rec := e.event(t, "message.received", "oi")
	var ev event.Event
	require.NoError(t, json.Unmarshal([]byte(rec.Body), &ev))
	resp, err := e.p.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{rec}})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Len(t, e.q.jobs, 1)
	job := events.SQSMessage{MessageId: "job-1", ReceiptHandle: e.q.jobs[0], Body: e.q.jobs[0], EventSourceARN: deliveriesARN}
	resp, err = e.p.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{job}})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)

	find := func(msg string) string {
		for _, l := range lines() {
			if strings.Contains(l, msg) {
				return l
			}
		}
		require.Failf(t, "no line", "%q in %v", msg, lines())
		return ""
	}
	for msg, want := range map[string][]string{
		"reacted":                         {"requestId", "req-dispatch-1", "sqs_message_id", rec.MessageId, "event_id", ev.ID},
		"endpoint gone; webhook disabled": {"requestId", "req-dispatch-1", "sqs_message_id", "job-1"},
	} {
		line := find(msg)
		for _, w := range want {
			assert.Contains(t, line, w, msg)
		}
	}
}

// failingQueue fails the next n sends, then behaves as fakeQueue.
type failingQueue struct {
	*fakeQueue
	fail int
}

func (q *failingQueue) SendMessageBatch(ctx context.Context, in *awsapi.SendMessageBatchInput) (*awsapi.BatchOutput, error) {
	q.mu.Lock()
	if q.fail > 0 {
		q.fail--
		q.mu.Unlock()
		return nil, io.ErrUnexpectedEOF
	}
	q.mu.Unlock()
	return q.fakeQueue.SendMessageBatch(ctx, in)
}

// Issue 13, item 9: the same event published again (a new timestamp, the
// same id) is fanned out once per subscription.
func TestRepublishedEventFansOutOnce(t *testing.T) {
	e := setup(t)
	w := e.hook(t, "https://example.com/h", []string{"*"}, true)
	for i, at := range []time.Time{time.Now().Add(-3 * time.Second), time.Now()} {
		ev, err := event.New(event.StableID(e.org, "contact.created", "c1"), "contact.created", e.org, at, map[string]any{"n": 1})
		require.NoError(t, err)
		b, _ := json.Marshal(ev)
		resp, _ := e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m" + string(rune('0'+i)), Body: string(b), EventSourceARN: eventsARN}}})
		require.Empty(t, resp.BatchItemFailures)
	}
	require.Len(t, e.q.jobs, 1, "one job for one event")
	page, err := e.st.Deliveries(context.Background(), e.org, w.ID, "", 10)
	require.NoError(t, err)
	require.Len(t, page.Items, 1, "one delivery for one event")
}

// Issue 13, item 4: a fan-out whose job could not be queued after its
// delivery was created queues it when the event comes back; one that
// queued it does not queue it again.
func TestFanOutQueuesTheJobOfADeliveryCreatedBefore(t *testing.T) {
	e := setup(t)
	fq := &failingQueue{fakeQueue: e.q, fail: 1}
	d := e.deps(slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.Deliveries = queue.New(fq, deliveriesURL, "deliveries")
	d.Events = queue.New(fq, eventsURL, "event")
	p := dispatch.New(d)
	w := e.hook(t, "https://example.com/h", []string{"*"}, true)
	rec := e.event(t, "contact.created", "x")
	resp, _ := p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec}})
	require.Len(t, resp.BatchItemFailures, 1, "the event comes back")
	require.Empty(t, e.q.jobs)
	for i := 0; i < 2; i++ {
		resp, _ = p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec}})
		require.Empty(t, resp.BatchItemFailures)
	}
	require.Len(t, e.q.jobs, 1, "the job is queued once")
	page, err := e.st.Deliveries(context.Background(), e.org, w.ID, "", 10)
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
}

// Issue 13, item 8 (dead-letter queues are consumed): a delivery job that
// reached the deliveries dead-letter queue ends the delivery failed, with
// the reason, instead of leaving it pending.
func TestDeadLetteredDeliveryIsFailed(t *testing.T) {
	e := setup(t)
	const dlqURL, dlqARN = "https://sqs.us-east-1.amazonaws.com/123456789012/pytake-dev-DeliveriesDLQ", "arn:aws:sqs:us-east-1:123456789012:pytake-dev-DeliveriesDLQ"
	d := e.deps(slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.DeadDeliveries = queue.New(e.q, dlqURL, "deliveries dead-letter")
	p := dispatch.New(d)
	w := e.hook(t, "https://example.com/h", []string{"*"}, true)
	resp, _ := p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{e.event(t, "contact.created", "x")}})
	require.Empty(t, resp.BatchItemFailures)
	require.Len(t, e.q.jobs, 1)
	dead := events.SQSMessage{MessageId: "dead", Body: e.q.jobs[0], EventSourceARN: dlqARN}
	for i := 0; i < 2; i++ {
		resp, _ = p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{dead}})
		require.Empty(t, resp.BatchItemFailures)
	}
	page, err := e.st.Deliveries(context.Background(), e.org, w.ID, "", 10)
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	require.Equal(t, store.DeliveryFailed, page.Items[0].Status)
	require.Len(t, page.Items[0].Attempts, 1)
	require.Contains(t, page.Items[0].Attempts[0].Error, "dead-letter")
}

// Two jobs for one delivery (SQS delivers at least once; a fan-out that
// lost the answer of its enqueue queues the job again) handled at the
// same time POST it once: the attempt is claimed before the POST.
func TestDuplicateJobsPostOnce(t *testing.T) {
	e := setup(t)
	rcv := &receiver{delay: 100 * time.Millisecond}
	url := serve(t, rcv)
	e.hook(t, url, []string{"*"}, true)
	resp, _ := e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{e.event(t, "contact.created", "dup")}})
	require.Empty(t, resp.BatchItemFailures)
	require.Len(t, e.q.jobs, 1)
	job := e.q.jobs[0]
	recs := []events.SQSMessage{
		{MessageId: "j1", ReceiptHandle: "r1", Body: job, EventSourceARN: deliveriesARN},
		{MessageId: "j2", ReceiptHandle: "r2", Body: job, EventSourceARN: deliveriesARN},
	}
	resp, _ = e.p.Handle(context.Background(), events.SQSEvent{Records: recs})
	rcv.mu.Lock()
	n := len(rcv.bodies)
	rcv.mu.Unlock()
	require.Equal(t, 1, n, "POSTs")
	// The one that found the attempt taken comes back and finds it done.
	require.LessOrEqual(t, len(resp.BatchItemFailures), 1)
	resp, _ = e.p.Handle(context.Background(), events.SQSEvent{Records: recs[:1]})
	require.Empty(t, resp.BatchItemFailures)
	require.Len(t, rcv.bodies, 1)
}

// A delivery already attempted had its job: a redelivered event does not
// queue another, even without the queued mark (items from before it).
func TestFanOutDoesNotRequeueAnAttemptedDelivery(t *testing.T) {
	e := setup(t)
	fq := &failingQueue{fakeQueue: e.q}
	d := e.deps(slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.Deliveries = queue.New(fq, deliveriesURL, "deliveries")
	p := dispatch.New(d)
	w := e.hook(t, "https://example.com/h", []string{"*"}, true)
	ev, err := event.New("evt_attempted", "contact.created", e.org, time.Now(), map[string]any{})
	require.NoError(t, err)
	body, _ := json.Marshal(ev)
	dl, created, err := e.st.CreateDelivery(context.Background(), store.Delivery{ID: store.DeliveryID(time.Now(), ev.ID, w.ID),
		OrgID: e.org, WebhookID: w.ID, EventID: ev.ID, Event: ev.Event, Body: string(body)})
	require.NoError(t, err)
	require.True(t, created)
	_, err = e.st.RecordAttempt(context.Background(), dl, store.Attempt{At: time.Now(), StatusCode: 500}, store.DeliveryPending)
	require.NoError(t, err)
	resp, _ := p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "e", Body: string(body), EventSourceARN: eventsARN}}})
	require.Empty(t, resp.BatchItemFailures)
	require.Empty(t, e.q.jobs)
}
