package sender_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/sender"
	"github.com/pytake/pytake/internal/store"
)

// memStore is an in-memory Store, so the benchmark measures the sender
// (claim bookkeeping, body building, the HTTP call and its decoding), not
// a database.
type memStore struct {
	mu   sync.Mutex
	msgs map[string]store.Message
}

func (m *memStore) ClaimSend(_ context.Context, org, id string, _ time.Duration) (store.Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	msg := m.msgs[id]
	msg.Attempts++
	m.msgs[id] = msg
	return store.Claim{Message: msg, Token: "c", State: store.SendSending}, nil
}
func (m *memStore) SendAccepted(_ context.Context, c store.Claim, wamid string) ([]store.StatusUpdate, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	msg := m.msgs[c.Message.ID]
	msg.WAMID, msg.Status = wamid, store.StatusAccepted
	m.msgs[c.Message.ID] = msg
	return nil, nil
}
func (m *memStore) SendRetry(context.Context, store.Claim, string) error   { return nil }
func (m *memStore) SendRelease(context.Context, store.Claim, string) error { return nil }
func (m *memStore) SendFailed(_ context.Context, c store.Claim, _ store.MessageError) (store.Message, error) {
	return c.Message, nil
}
func (m *memStore) TakeToken(context.Context, store.Bucket) (store.Take, error) {
	return store.Take{Allowed: true}, nil
}
func (m *memStore) LeaseSendTokens(_ context.Context, _ string, _ int64, want, _ int) (int, error) {
	return want, nil
}
func (m *memStore) WhatsAppAccount(_ context.Context, org string) (store.WhatsAppAccount, error) {
	return store.WhatsAppAccount{OrgID: org, PhoneNumberID: "106540352242922", Healthy: true}, nil
}
func (m *memStore) MarkWhatsAppUnhealthy(context.Context, string, string) error { return nil }
func (m *memStore) ApplyStatus(context.Context, store.StatusUpdate) (store.StatusResult, error) {
	return store.StatusResult{}, nil
}
func (m *memStore) MarkStatusEventsSent(context.Context, string, string, string) error { return nil }
func (m *memStore) FailStranded(context.Context, string, string, store.MessageError) (store.Claim, error) {
	return store.Claim{}, store.ErrNotClaimable
}
func (m *memStore) EarlyStatuses(context.Context, string, string) ([]store.StatusUpdate, error) {
	return nil, nil
}
func (m *memStore) SendAttempt(context.Context, store.Claim) error { return nil }
func (m *memStore) StatusesPendingEvents(context.Context, string, string) ([]string, error) {
	return nil, nil
}
func (m *memStore) EventContext(context.Context, store.Message) (store.Contact, store.Conversation, error) {
	return store.Contact{}, store.Conversation{}, nil
}
func (m *memStore) RefreshEventContext(context.Context, string, string, string, string) error {
	return nil
}
func (m *memStore) ContactOptOut(context.Context, string, string, string) (*store.OptOut, error) {
	return nil, nil
}
func (m *memStore) Message(context.Context, string, string) (store.Message, error) {
	return store.Message{}, apperr.New(apperr.NotFound, "message not found")
}

func (m *memStore) RecordWhatsAppID(context.Context, string, string, string) (store.Contact, *store.Merge, error) {
	return store.Contact{}, nil, nil
}
func (m *memStore) SkipQueuedRecipient(context.Context, string, string, string, string, string) error {
	return nil
}
func (m *memStore) OptOutContact(context.Context, string, string, store.OptOut) (store.Contact, bool, error) {
	return store.Contact{}, false, nil
}

// BenchmarkSend: one op is one message through Handle, in batches of 10,
// against a local Graph stub over real HTTP.
//
//	go test -run '^$' -bench Send -benchmem ./internal/sender/
func BenchmarkSend(b *testing.B) {
	n := 0
	var mu sync.Mutex
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		n++
		id := n
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"messaging_product":"whatsapp","contacts":[{"input":"5511999999999","wa_id":"5511999999999"}],"messages":[{"id":"wamid.`+strconv.Itoa(id)+`"}]}`)
	}))
	defer stub.Close()
	ms := &memStore{msgs: map[string]store.Message{}}
	content := json.RawMessage(`{"name":"order_update","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"1001"}]}]}`)
	batch := make([]events.SQSMessage, 10)
	for i := range batch {
		id := "msg_" + strconv.Itoa(i)
		ms.msgs[id] = store.Message{ID: id, OrgID: "org_1", Type: "template", Content: content, To: "5511999999999"}
		body, _ := json.Marshal(sender.Job{OrgID: "org_1", MessageID: id})
		batch[i] = events.SQSMessage{MessageId: id, Body: string(body)}
	}
	sec := secretstest.New()
	sec.Set("org_1", secrets.ProviderWhatsApp, secrets.WhatsApp{AccessToken: "tok"})
	s := sender.New(sender.Deps{
		Store: ms, Secrets: sec,
		Graph: graph.New(stub.URL, stub.Client()), Events: &eventtest.Recorder{}, GraphVersion: "v26.0",
		Log: slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += len(batch) {
		resp, err := s.Handle(ctx, events.SQSEvent{Records: batch})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			b.Fatal(err, resp)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
