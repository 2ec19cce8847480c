package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/delivery"
	"github.com/pytake/pytake/internal/dispatch"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// hookReceiver records the headers of every delivery.
type hookReceiver struct {
	mu      sync.Mutex
	headers []http.Header
	bodies  [][]byte
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.headers = append(h.headers, r.Header.Clone())
	h.bodies = append(h.bodies, b)
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) last(t *testing.T) (http.Header, []byte) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.headers) == 0 {
		t.Fatal("nothing delivered")
	}
	return h.headers[len(h.headers)-1], h.bodies[len(h.bodies)-1]
}

// The rig's queues: the API hands delivery jobs to a jobQueue, and the test
// feeds them to the dispatcher as records of the deliveries queue.
const (
	rigEventsURL     = "https://sqs.us-east-1.amazonaws.com/123456789012/pytake-test-EventsQueue"
	rigDeliveriesURL = "https://sqs.us-east-1.amazonaws.com/123456789012/pytake-test-DeliveriesQueue"
	rigDeliveriesARN = "arn:aws:sqs:us-east-1:123456789012:pytake-test-DeliveriesQueue"
)

// noSQS fails the test's queue calls: every delivery of the rig succeeds,
// so the dispatcher sends and delays nothing.
type noSQS struct{}

func (noSQS) SendMessageBatch(context.Context, *awsapi.SendMessageBatchInput) (*awsapi.BatchOutput, error) {
	return nil, errors.New("no SQS in this test")
}

func (noSQS) ChangeMessageVisibility(context.Context, *awsapi.ChangeMessageVisibilityInput) error {
	return errors.New("no SQS in this test")
}

// deliveryRig is the API and the dispatcher as two Lambda containers: each
// has its own secrets cache over one Secrets Manager.
type deliveryRig struct {
	f    *fixture
	key  string
	q    *jobQueue
	d    *dispatch.Dispatcher
	recv *hookReceiver
	url  string
	now  *time.Time
}

func newDeliveryRig(t *testing.T) *deliveryRig {
	t.Helper()
	tbl := storetest.New(t)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	rig := &deliveryRig{q: &jobQueue{}, recv: &hookReceiver{}, now: &now}
	clock := func() time.Time { return *rig.now }
	st := store.New(tbl.Client, tbl.Name, clock)
	ctx := context.Background()
	org, _ := st.CreateOrganization(ctx, "A")
	_, rig.key, _ = st.IssueKey(ctx, org.ID, "a", apikey.Live)
	sm := secretstest.NewSecretsManager()
	apiSecrets := secrets.New(sm, "pytake/test/", 5*time.Minute, clock)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := api.New(api.Deps{Store: st, Secrets: apiSecrets, SecretWriter: apiSecrets, Webhooks: st, Deliveries: st,
		DeliveryQueue: rig.q, InsecureWebhooks: true, Log: log, Now: clock})
	rig.f = &fixture{t: t, router: srv.Router()}
	rig.d = dispatch.New(dispatch.Deps{Store: st, Secrets: secrets.New(sm, "pytake/test/", time.Minute, clock),
		Events: queue.New(noSQS{}, rigEventsURL, "events"), Deliveries: queue.New(noSQS{}, rigDeliveriesURL, "deliveries"),
		HTTP: delivery.NewClient(delivery.ClientOptions{AllowLoopback: true, Timeout: 5 * time.Second}),
		Log:  log, Now: clock, Rand: func() float64 { return 0.5 }})
	hs := httptest.NewServer(rig.recv)
	t.Cleanup(hs.Close)
	rig.url = hs.URL + "/hook"
	return rig
}

// deliver runs every queued job through the dispatcher.
func (r *deliveryRig) deliver(t *testing.T) {
	t.Helper()
	r.q.mu.Lock()
	jobs := r.q.jobs
	r.q.jobs = nil
	r.q.mu.Unlock()
	var recs []events.SQSMessage
	for i, j := range jobs {
		b, _ := json.Marshal(j)
		recs = append(recs, events.SQSMessage{MessageId: "job-" + string(rune('a'+i)), Body: string(b), EventSourceARN: rigDeliveriesARN})
	}
	resp, err := r.d.Handle(context.Background(), events.SQSEvent{Records: recs})
	if err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("dispatch: %v %+v", err, resp.BatchItemFailures)
	}
}

// TestWebhookGuideSecret: the integrations guide creates a webhook with
// "Secret: abc123" and checks X-PyTake-Signature with that string.
func TestWebhookGuideSecret(t *testing.T) {
	rig := newDeliveryRig(t)
	code, body := rig.f.call("POST", "/v1/webhooks", rig.key, `{"name":"My Integration","url":"`+rig.url+`","events":["message.received","conversation.resolved"],"secret":"abc123"}`)
	if code != 201 {
		t.Fatalf("the guide's webhook: %d %s", code, body)
	}
	var created struct {
		ID            string `json:"id"`
		Secret        string `json:"secret"`
		SignatureKeys string `json:"webhook_signature_key"`
	}
	_ = json.Unmarshal([]byte(body), &created)
	if created.Secret != "abc123" || created.SignatureKeys != "secret_utf8" {
		t.Fatalf("create answer: %s", body)
	}
	if code, body := rig.f.call("POST", "/v1/webhooks/"+created.ID+"/test", rig.key, ""); code != 202 {
		t.Fatalf("test event: %d %s", code, body)
	}
	rig.deliver(t)
	h, b := rig.recv.last(t)
	if err := delivery.VerifyPyTake("abc123", h.Get(delivery.HeaderPyTakeSignature), b); err != nil {
		t.Errorf("X-PyTake-Signature with the guide's secret: %v", err)
	}
	if err := delivery.Verify("abc123", h, b, *rig.now, 0); err != nil {
		t.Errorf("webhook-signature keyed with the secret's bytes: %v", err)
	}
	// A generated secret still says how its Standard Webhooks key is read.
	_, body = rig.f.call("POST", "/v1/webhooks", rig.key, `{"url":"`+rig.url+`","events":["*"]}`)
	if !strings.Contains(body, `"secret":"whsec_`) || !strings.Contains(body, `"webhook_signature_key":"whsec_base64"`) {
		t.Errorf("generated secret: %s", body)
	}
	for _, c := range []struct{ name, secret string }{
		{"too short", "abc12"},
		{"space", "abc 123 456"},
		{"control", `abc\u0001defgh`},
		{"non-ascii", "sénha-secreta"},
		{"too long", strings.Repeat("a", 257)},
		{"broken whsec", "whsec_not base64!"},
	} {
		if code, body := rig.f.call("POST", "/v1/webhooks", rig.key, `{"url":"`+rig.url+`","events":["*"],"secret":"`+c.secret+`"}`); code != 422 || !strings.Contains(body, `"field":"secret"`) {
			t.Errorf("%s: %d %s", c.name, code, body)
		}
	}
}

// TestRotationReachesTheDispatcherAtOnce: after rotate-secret, the very next
// delivery carries both webhook-signature entries, even though the
// dispatcher read (and cached) the old secret a moment before; and
// X-PyTake-Signature stays on the previous secret during the overlap.
func TestRotationReachesTheDispatcherAtOnce(t *testing.T) {
	rig := newDeliveryRig(t)
	_, body := rig.f.call("POST", "/v1/webhooks", rig.key, `{"url":"`+rig.url+`","events":["*"]}`)
	var created struct{ ID, Secret string }
	_ = json.Unmarshal([]byte(body), &created)
	rig.f.call("POST", "/v1/webhooks/"+created.ID+"/test", rig.key, "")
	rig.deliver(t) // the dispatcher now has the first secret cached
	*rig.now = rig.now.Add(2 * time.Second)

	code, body := rig.f.call("POST", "/v1/webhooks/"+created.ID+"/rotate-secret", rig.key, "")
	var rotated struct {
		Secret   string    `json:"secret"`
		SwitchAt time.Time `json:"x_pytake_signature_switches_at"`
	}
	_ = json.Unmarshal([]byte(body), &rotated)
	if code != 200 || rotated.Secret == "" || !rotated.SwitchAt.Equal(rig.now.Add(api.RotationOverlap)) {
		t.Fatalf("rotate: %d %s", code, body)
	}
	*rig.now = rig.now.Add(2 * time.Second)
	rig.f.call("POST", "/v1/webhooks/"+created.ID+"/test", rig.key, "")
	rig.deliver(t)
	h, b := rig.recv.last(t)
	if n := len(strings.Fields(h.Get(delivery.HeaderSignature))); n != 2 {
		t.Fatalf("webhook-signature has %d entries 2 s after the rotation, want 2: %q", n, h.Get(delivery.HeaderSignature))
	}
	for _, s := range []string{created.Secret, rotated.Secret} {
		if err := delivery.Verify(s, h, b, *rig.now, 0); err != nil {
			t.Errorf("webhook-signature with %s...: %v", s[:10], err)
		}
	}
	if err := delivery.VerifyPyTake(created.Secret, h.Get(delivery.HeaderPyTakeSignature), b); err != nil {
		t.Errorf("X-PyTake-Signature during the overlap is not the previous secret's: %v", err)
	}
	// After the overlap only the new secret signs, X-PyTake-Signature too.
	*rig.now = rig.now.Add(api.RotationOverlap)
	rig.f.call("POST", "/v1/webhooks/"+created.ID+"/test", rig.key, "")
	rig.deliver(t)
	h, b = rig.recv.last(t)
	if err := delivery.VerifyPyTake(rotated.Secret, h.Get(delivery.HeaderPyTakeSignature), b); err != nil {
		t.Errorf("X-PyTake-Signature after the overlap: %v", err)
	}
	if err := delivery.Verify(created.Secret, h, b, *rig.now, 0); !errors.Is(err, delivery.ErrNoMatchingSignature) {
		t.Errorf("the old secret still signs after the overlap: %v", err)
	}
}

// TestCursorsAreBoundToTheirList: a cursor handed by one list is refused
// by every other, as the README promises.
func TestCursorsAreBoundToTheirList(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, n := range []string{"b", "c"} {
		if _, _, err := f.store.IssueKey(ctx, f.org.ID, n, apikey.Live); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"+5511999990001", "+5511999990002"} {
		if code, body := f.call("POST", "/v1/contacts", f.key, `{"whatsapp_id":"`+n+`"}`); code != 201 {
			t.Fatalf("contact: %d %s", code, body)
		}
	}
	cursorOf := func(path string) string {
		code, body := f.call("GET", path, f.key, "")
		var page struct {
			Next string `json:"next_cursor"`
		}
		_ = json.Unmarshal([]byte(body), &page)
		if code != 200 || page.Next == "" {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		return page.Next
	}
	keys := cursorOf("/v1/api-keys?limit=1")
	contacts := cursorOf("/v1/contacts?limit=1")
	for _, c := range []struct{ path, cursor string }{
		{"/v1/contacts", keys},
		{"/v1/webhooks", keys},
		{"/v1/webhooks", contacts},
		{"/v1/api-keys", contacts},
		{"/v1/chatbots", contacts},
		{"/v1/conversations", contacts},
	} {
		code, body := f.call("GET", c.path+"?cursor="+c.cursor, f.key, "")
		if code != 422 || !strings.Contains(body, "invalid_cursor") {
			t.Errorf("%s with another list's cursor: %d %s", c.path, code, body)
		}
	}
	if code, body := f.call("GET", "/v1/contacts?limit=1&cursor="+contacts, f.key, ""); code != 200 {
		t.Errorf("its own cursor: %d %s", code, body)
	}
}
