package dispatch_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/delivery"
	"github.com/pytake/pytake/internal/dispatch"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

type memSecrets struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memSecrets) Get(_ context.Context, org, provider string, v any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[org+"/"+provider]
	if !ok {
		return apperr.New(apperr.NotFound, "no secret")
	}
	return json.Unmarshal(b, v)
}

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

func (q *fakeQueue) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range in.Entries {
		q.jobs = append(q.jobs, aws.ToString(e.MessageBody))
	}
	return &sqs.SendMessageBatchOutput{Successful: []sqstypes.SendMessageBatchResultEntry{}}, nil
}

func (q *fakeQueue) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.visibility[aws.ToString(in.ReceiptHandle)] = in.VisibilityTimeout
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

type env struct {
	st     *store.Store
	org    string
	sec    *memSecrets
	q      *fakeQueue
	p      *dispatch.Dispatcher
	secret string
}

func setup(t *testing.T) *env {
	tb := storetest.New(t)
	e := &env{sec: &memSecrets{m: map[string][]byte{}}, q: &fakeQueue{visibility: map[string]int32{}}}
	e.st = store.New(tb.Client, tb.Name, time.Now)
	org, _ := e.st.CreateOrganization(context.Background(), "A")
	e.org = org.ID
	e.secret, _ = delivery.NewSecret()
	e.p = dispatch.New(dispatch.Deps{Store: e.st, Secrets: e.sec, Events: queue.New(e.q, eventsURL, "event"), Deliveries: queue.New(e.q, deliveriesURL, "deliveries"),
		HTTP: delivery.NewClient(delivery.ClientOptions{AllowLoopback: true, Timeout: 5 * time.Second}),
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil)), Rand: func() float64 { return 0.5 }})
	return e
}

func (e *env) hook(t *testing.T, url string, events []string, active bool) store.Webhook {
	w, err := e.st.CreateWebhook(context.Background(), store.Webhook{OrgID: e.org, URL: url, Events: events, Active: active})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(secrets.WebhookSecrets{Secrets: []secrets.SigningSecret{{Secret: e.secret, CreatedAt: time.Now()}}})
	e.sec.m[e.org+"/"+secrets.ProviderWebhook(w.ID)] = b
	return w
}

func (e *env) event(t *testing.T, name, text string) events.SQSMessage {
	ev, err := event.New(event.StableID(e.org, name, text), name, e.org, time.Now(), map[string]any{"text": text})
	if err != nil {
		t.Fatal(err)
	}
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
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	e.hook(t, srv.URL+"/all", []string{"*"}, true)
	e.hook(t, srv.URL+"/msgs", []string{"message.received"}, true)
	e.hook(t, srv.URL+"/contacts", []string{"contact.created"}, true)
	e.hook(t, srv.URL+"/off", []string{"*"}, false)

	rec := e.event(t, "message.received", "Olá <b>&")
	for i := 0; i < 2; i++ { // SQS redelivers the event: fanned out once
		if resp, _ := e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec}}); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("fan-out kept %v", resp.BatchItemFailures)
		}
	}
	if len(e.q.jobs) != 2 {
		t.Fatalf("%d jobs, want 2 (the matching active hooks)", len(e.q.jobs))
	}
	if kept := e.runJobs(t); len(kept) != 0 {
		t.Fatalf("kept %v", kept)
	}
	if len(rcv.bodies) != 2 {
		t.Fatalf("%d deliveries", len(rcv.bodies))
	}
	for i, b := range rcv.bodies {
		h := rcv.headers[i]
		if err := delivery.Verify(e.secret, h, b, time.Now(), 0); err != nil {
			t.Fatalf("Standard Webhooks signature: %v", err)
		}
		if err := delivery.VerifyPyTake(e.secret, h.Get("X-PyTake-Signature"), b); err != nil {
			t.Fatalf("X-PyTake-Signature: %v", err)
		}
		var got event.Event
		if err := json.Unmarshal(b, &got); err != nil || got.Event != "message.received" || h.Get("webhook-id") != got.ID {
			t.Fatalf("body %s headers %v", b, h)
		}
	}
	// Samples keep the exact bytes.
	samples, err := e.st.EventSamples(context.Background(), e.org, "message.received", 3)
	if err != nil || len(samples) != 1 || string(samples[0]) != string(rcv.bodies[0]) {
		t.Fatalf("samples %q %v", samples, err)
	}
}

func TestRetriesThenSucceeds(t *testing.T) {
	e := setup(t)
	rcv := &receiver{statuses: []int{500, 503}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	w := e.hook(t, srv.URL, []string{"*"}, true)
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
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("deliveries %+v %v", page, err)
	}
	d := page.Items[0]
	if d.Status != store.DeliveryDelivered || len(d.Attempts) != 3 || d.Attempts[0].StatusCode != 500 || d.Attempts[0].NextAt == nil || d.Attempts[2].StatusCode != 200 {
		t.Fatalf("delivery %+v", d)
	}
	// The same event id on every attempt.
	if rcv.headers[0].Get("webhook-id") != rcv.headers[2].Get("webhook-id") {
		t.Fatal("webhook-id changed across retries")
	}
}

func TestGoneDisables(t *testing.T) {
	e := setup(t)
	rcv := &receiver{statuses: []int{410}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	w := e.hook(t, srv.URL, []string{"*"}, true)
	_, _ = e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{e.event(t, "contact.created", "y")}})
	if kept := e.runJobs(t); len(kept) != 0 {
		t.Fatalf("kept %v", kept)
	}
	got, _ := e.st.Webhook(context.Background(), e.org, w.ID)
	if got.Active || got.DisabledReason == "" {
		t.Fatalf("after 410: %+v", got)
	}
	// Later events skip it.
	_, _ = e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{e.event(t, "contact.created", "z")}})
	if len(e.q.jobs) != 0 {
		t.Fatal("a disabled webhook got a job")
	}
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
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	p := dispatch.New(dispatch.Deps{Store: e.st, Secrets: e.sec, Events: queue.New(e.q, eventsURL, "event"), Deliveries: queue.New(e.q, deliveriesURL, "deliveries"),
		HTTP: delivery.NewClient(delivery.ClientOptions{}), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Rand: func() float64 { return 0.5 }})
	w := e.hook(t, srv.URL, []string{"*"}, true)
	_, _ = p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{e.event(t, "contact.created", "v")}})
	job := e.q.jobs[0]
	resp, _ := p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "j", ReceiptHandle: "rh", Body: job, EventSourceARN: deliveriesARN}}})
	if len(resp.BatchItemFailures) != 1 || len(rcv.bodies) != 0 {
		t.Fatalf("loopback reached: %+v, %d", resp, len(rcv.bodies))
	}
	page, _ := e.st.Deliveries(context.Background(), e.org, w.ID, "", 10)
	if len(page.Items) != 1 || len(page.Items[0].Attempts) != 1 || page.Items[0].Attempts[0].Error == "" {
		t.Fatalf("attempt not recorded with the refusal: %+v", page.Items)
	}
}

// The sample in events/dispatcher is an events-queue batch the dispatcher
// accepts (an organisation with no webhooks: nothing to deliver).
func TestEventSamples(t *testing.T) {
	e := setup(t)
	b, err := os.ReadFile("../../events/dispatcher/event.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(b, &ev); err != nil || len(ev.Records) == 0 {
		t.Fatalf("sample: %v", err)
	}
	resp, err := e.p.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%+v %v", resp, err)
	}
}

// The queue a record came from decides what it is, not its body: an event
// from the deliveries queue is not fanned out, a job from the events queue
// is not delivered, and a record from a queue the dispatcher was not given
// stays on it (for its dead-letter queue).
func TestRecordsAreRoutedByTheirQueue(t *testing.T) {
	e := setup(t)
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	e.hook(t, srv.URL, []string{"*"}, true)
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
			if err != nil || (len(resp.BatchItemFailures) == 1) != tt.kept {
				t.Fatalf("kept %v, want kept %v (%v)", resp.BatchItemFailures, tt.kept, err)
			}
			if len(e.q.jobs) != 0 {
				t.Fatalf("fanned out: %v", e.q.jobs)
			}
		})
	}
	if resp, _ := e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{ev}}); len(resp.BatchItemFailures) != 0 || len(e.q.jobs) != 1 {
		t.Fatalf("from the events queue: %+v, %d jobs", resp, len(e.q.jobs))
	}
	job := events.SQSMessage{MessageId: "d", Body: e.q.jobs[0], EventSourceARN: eventsARN}
	if resp, _ := e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{job}}); len(resp.BatchItemFailures) != 0 || len(rcv.bodies) != 0 {
		t.Fatalf("a job from the events queue was delivered: %+v, %d", resp, len(rcv.bodies))
	}
	if kept := e.runJobs(t); len(kept) != 0 || len(rcv.bodies) != 1 {
		t.Fatalf("from the deliveries queue: kept %v, %d delivered", kept, len(rcv.bodies))
	}
}
