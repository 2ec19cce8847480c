package dispatch_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/delivery"
	"github.com/pytake/pytake/internal/dispatch"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
)

// memStore keeps deliveries in memory, so the benchmark measures the
// dispatcher (job decoding, signing, the HTTP POST, the outcome), not a
// database.
type memStore struct {
	mu   sync.Mutex
	hook store.Webhook
	dlv  map[string]store.Delivery
}

func (m *memStore) Webhooks(context.Context, string) ([]store.Webhook, error) {
	return []store.Webhook{m.hook}, nil
}
func (m *memStore) Webhook(context.Context, string, string) (store.Webhook, error) {
	return m.hook, nil
}
func (m *memStore) CreateDelivery(_ context.Context, d store.Delivery) (store.Delivery, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d.Status = store.DeliveryPending
	m.dlv[d.ID] = d
	return d, true, nil
}
func (m *memStore) Delivery(_ context.Context, _, _, id string) (store.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.dlv[id]
	if !ok {
		return d, apperr.New(apperr.NotFound, "no")
	}
	d.Status = store.DeliveryPending // every op delivers again
	return d, nil
}
func (m *memStore) RecordAttempt(_ context.Context, d store.Delivery, a store.Attempt, status string) (store.Delivery, error) {
	return d, nil
}
func (m *memStore) RecordEventSample(context.Context, string, string, string, time.Time, []byte) error {
	return nil
}
func (m *memStore) MarkWebhookFailing(context.Context, string, string) (time.Time, error) {
	return time.Time{}, nil
}
func (m *memStore) MarkWebhookHealthy(context.Context, string, string) error         { return nil }
func (m *memStore) DisableWebhook(context.Context, string, string, string) error     { return nil }
func (m *memStore) MarkDeliveryQueued(context.Context, string, string, string) error { return nil }
func (m *memStore) ClaimAttempt(context.Context, store.Delivery, time.Time) error    { return nil }

// benchSetup starts a receiver answering 204 after delay, points ms's
// webhook at it, stores a batch of 10 deliveries of event (body) in ms, and
// returns a dispatcher reading st (ms, or a store wrapping it) and the
// batch's jobs.
func benchSetup(b *testing.B, st dispatch.Store, ms *memStore, delay time.Duration, event, body string) (*dispatch.Dispatcher, []events.SQSMessage) {
	b.Helper()
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(delay)
		w.WriteHeader(204)
	}))
	b.Cleanup(rcv.Close)
	secret, _ := delivery.NewSecret()
	sec := secretstest.New()
	ms.hook = store.Webhook{ID: "wh_1", OrgID: "org_1", URL: rcv.URL, Events: []string{"*"}, Active: true}
	ms.dlv = map[string]store.Delivery{}
	sec.Set("org_1", secrets.ProviderWebhook("wh_1"), secrets.WebhookSecrets{Secrets: []secrets.SigningSecret{{Secret: secret}}})
	batch := make([]events.SQSMessage, 10)
	for i := range batch {
		id := "dlv_" + string(rune('a'+i))
		ms.dlv[id] = store.Delivery{ID: id, OrgID: "org_1", WebhookID: "wh_1", EventID: "evt_1", Event: event, Body: body}
		j, _ := json.Marshal(dispatch.Job{OrgID: "org_1", WebhookID: "wh_1", DeliveryID: id})
		batch[i] = events.SQSMessage{MessageId: id, Body: string(j), EventSourceARN: deliveriesARN}
	}
	p := dispatch.New(dispatch.Deps{Store: st, Secrets: sec, Deliveries: queue.New(&fakeQueue{visibility: map[string]int32{}}, deliveriesURL, "deliveries"),
		HTTP: delivery.NewClient(delivery.ClientOptions{AllowLoopback: true, MaxIdleConnsPerHost: 16}),
		Log:  slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))})
	return p, batch
}

// BenchmarkDeliver: one op is one delivery (batches of 10, concurrently, as
// the function runs them) to a local receiver over real HTTP.
//
//	go test -run '^$' -bench Deliver -benchmem ./internal/dispatch/
func BenchmarkDeliver(b *testing.B) {
	ms := &memStore{}
	body := `{"id":"evt_1","event":"message.received","timestamp":"2026-11-30T12:00:00Z","organization_id":"org_1","data":{"message":{"id":"msg_1","type":"text","content":{"text":"Olá, preciso de ajuda"}}}}`
	p, batch := benchSetup(b, ms, ms, 0, "message.received", body)
	ctx := context.Background()
	b.ReportAllocs()
	start := time.Now()
	for i := 0; i < b.N; i += len(batch) {
		resp, _ := p.Handle(ctx, events.SQSEvent{Records: batch})
		require.Empty(b, resp.BatchItemFailures, "failures %v", resp.BatchItemFailures)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}

// slowStore is memStore with every call costing what DynamoDB costs.
type slowStore struct {
	*memStore
	calls atomic.Int64
}

const storeLatency = 5 * time.Millisecond

func (s *slowStore) wait() { s.calls.Add(1); time.Sleep(storeLatency) }

func (s *slowStore) Webhooks(ctx context.Context, org string) ([]store.Webhook, error) {
	s.wait()
	return s.memStore.Webhooks(ctx, org)
}
func (s *slowStore) Webhook(ctx context.Context, org, id string) (store.Webhook, error) {
	s.wait()
	return s.memStore.Webhook(ctx, org, id)
}
func (s *slowStore) Delivery(ctx context.Context, org, wh, id string) (store.Delivery, error) {
	s.wait()
	return s.memStore.Delivery(ctx, org, wh, id)
}
func (s *slowStore) RecordAttempt(ctx context.Context, d store.Delivery, a store.Attempt, status string) (store.Delivery, error) {
	s.wait()
	return s.memStore.RecordAttempt(ctx, d, a, status)
}
func (s *slowStore) RecordEventSample(ctx context.Context, org, name, id string, at time.Time, b []byte) error {
	s.wait()
	return nil
}
func (s *slowStore) MarkWebhookHealthy(context.Context, string, string) error { s.wait(); return nil }
func (s *slowStore) ClaimAttempt(context.Context, store.Delivery, time.Time) error {
	s.wait()
	return nil
}

// BenchmarkDeliverThroughput: deliveries against receivers answering in
// 200 ms, every store call 5 ms; batches of 10 worked on concurrently as
// the function does. deliveries/s is per invocation.
//
//	go test -run '^$' -bench DeliverThroughput -benchtime 100x ./internal/dispatch/
func BenchmarkDeliverThroughput(b *testing.B) {
	ms := &slowStore{memStore: &memStore{}}
	body := `{"id":"evt_1","event":"message.delivered","timestamp":"2026-11-30T12:00:00Z","organization_id":"org_1","data":{"message":{"id":"msg_1","type":"text"}}}`
	p, batch := benchSetup(b, ms, ms.memStore, 200*time.Millisecond, "message.delivered", body)
	ctx := context.Background()
	n := 0
	start := time.Now()
	for b.Loop() {
		resp, _ := p.Handle(ctx, events.SQSEvent{Records: batch})
		require.Empty(b, resp.BatchItemFailures, "failures %v", resp.BatchItemFailures)
		n += len(batch)
	}
	el := time.Since(start)
	b.ReportMetric(float64(n)/el.Seconds(), "deliveries/s")
	b.ReportMetric(float64(ms.calls.Load())/float64(n), "store-calls/delivery")
}
