package sender_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/sender"
	"github.com/pytake/pytake/internal/store"
)

// slowStore is memStore with every call the sender makes taking delay, as
// a DynamoDB round trip does.
type slowStore struct {
	*memStore
	delay time.Duration
	calls atomic.Int64
}

func (s *slowStore) wait() { s.calls.Add(1); time.Sleep(s.delay) }

func (s *slowStore) ClaimSend(ctx context.Context, org, id string, l time.Duration) (store.Claim, error) {
	s.wait()
	return s.memStore.ClaimSend(ctx, org, id, l)
}
func (s *slowStore) SendAttempt(ctx context.Context, c store.Claim) error {
	s.wait()
	return s.memStore.SendAttempt(ctx, c)
}
func (s *slowStore) SendAccepted(ctx context.Context, c store.Claim, wamid string) ([]store.StatusUpdate, error) {
	s.wait()
	return s.memStore.SendAccepted(ctx, c, wamid)
}
func (s *slowStore) WhatsAppAccount(ctx context.Context, org string) (store.WhatsAppAccount, error) {
	s.wait()
	return s.memStore.WhatsAppAccount(ctx, org)
}
func (s *slowStore) TakeToken(ctx context.Context, b store.Bucket) (store.Take, error) {
	s.wait()
	return s.memStore.TakeToken(ctx, b)
}
func (s *slowStore) LeaseSendTokens(ctx context.Context, phone string, second int64, want, ceiling int) (int, error) {
	s.wait()
	return s.memStore.LeaseSendTokens(ctx, phone, second, want, ceiling)
}

// BenchmarkSendThroughput: one invocation works on a batch of 10 messages,
// against a Graph stub (over real HTTP) answering after 200 ms and a store
// whose every call takes 5 ms. It reports msgs/s: to 10 recipients (their
// groups worked on concurrently; the ceiling is 50) and to one recipient
// (in order, one after another; the ceiling is 5).
//
//	go test -run '^$' -bench SendThroughput -benchtime 20x ./internal/sender/
func BenchmarkSendThroughput(b *testing.B) {
	for _, bc := range []struct {
		name       string
		recipients int
	}{{"10_recipients", 10}, {"1_recipient", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			var n atomic.Int64
			stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				time.Sleep(200 * time.Millisecond)
				id := n.Add(1)
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"messaging_product":"whatsapp","contacts":[{"input":"5511999999999","wa_id":"5511999999999"}],"messages":[{"id":"wamid.`+strconv.FormatInt(id, 10)+`"}]}`)
			}))
			defer stub.Close()
			st := &slowStore{memStore: &memStore{msgs: map[string]store.Message{}}, delay: 5 * time.Millisecond}
			content := json.RawMessage(`{"name":"order_update","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"1001"}]}]}`)
			batch := make([]events.SQSMessage, 10)
			for i := range batch {
				id := "msg_" + strconv.Itoa(i)
				to := "55119999" + strconv.Itoa(10000+i%bc.recipients)
				st.msgs[id] = store.Message{ID: id, OrgID: "org_1", Type: "template", Content: content, To: to}
				body, _ := json.Marshal(sender.Job{OrgID: "org_1", MessageID: id})
				batch[i] = events.SQSMessage{MessageId: id, Body: string(body), Attributes: map[string]string{"MessageGroupId": "org_1:" + to}}
			}
			sec := secretstest.New()
			sec.Set("org_1", secrets.ProviderWhatsApp, secrets.WhatsApp{AccessToken: "tok"})
			s := sender.New(sender.Deps{
				Store: st, Secrets: sec,
				Graph: graph.New(stub.URL, stub.Client()), Events: &eventtest.Recorder{}, GraphVersion: "v26.0",
				Log: slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})),
			})
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			sent := 0
			for i := 0; i < b.N; i++ {
				resp, err := s.Handle(ctx, events.SQSEvent{Records: batch})
				if err != nil || len(resp.BatchItemFailures) != 0 {
					b.Fatal(err, resp)
				}
				sent += len(batch)
			}
			b.ReportMetric(float64(sent)/time.Since(start).Seconds(), "msgs/s")
			b.ReportMetric(float64(st.calls.Load())/float64(sent), "store-calls/msg")
		})
	}
}
