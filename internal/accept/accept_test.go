package accept_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// queue records enqueued message ids; fail makes the next calls fail.
type queue struct {
	mu   sync.Mutex
	ids  []string
	fail int
}

func (q *queue) Enqueue(_ context.Context, org, contactID, messageID string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail > 0 {
		q.fail--
		return apperr.New(apperr.Unavailable, "the outbound queue is unavailable, retry")
	}
	q.ids = append(q.ids, messageID)
	return nil
}

type fixture struct {
	st  *store.Store
	q   *queue
	a   *accept.Accepter
	org string
}

func newFixture(t *testing.T) *fixture {
	tbl := storetest.New(t)
	f := &fixture{st: store.New(tbl.Client, tbl.Name, time.Now), q: &queue{}}
	org, err := f.st.CreateOrganization(context.Background(), "A")
	if err != nil {
		t.Fatal(err)
	}
	f.org = org.ID
	f.a = accept.New(f.st, f.q, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return f
}

func template(t *testing.T, to string) outbound.Request {
	r, err := outbound.BodyTemplate(to, "order_confirmation", "pt_BR", []string{"1001"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAcceptStoresAndQueuesOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := accept.Message{OrgID: f.org, Request: template(t, "+5511999999999"), IdempotencyKey: "k1", Fingerprint: []byte("a")}
	first, err := f.a.Accept(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if first.Message.Status != store.StatusQueued || !first.ContactCreated || first.Message.To != "5511999999999" {
		t.Fatalf("accepted %+v", first)
	}
	again, err := f.a.Accept(ctx, m)
	if err != nil || !again.Replayed || again.Message.ID != first.Message.ID {
		t.Fatalf("replay %+v %v", again, err)
	}
	if len(f.q.ids) != 1 || f.q.ids[0] != first.Message.ID {
		t.Fatalf("queued %v", f.q.ids)
	}
	m.Fingerprint = []byte("b")
	if _, err := f.a.Accept(ctx, m); !accept.Refused(err) || !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("key reused with another request: %v", err)
	}
}

func TestAcceptRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	text, err := outbound.Text("5511988887777", "Olá")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  outbound.Request
		kind apperr.Kind
	}{
		{"free-form outside the window", text, apperr.Unprocessable},
		{"unknown contact", template(t, "ct_missing1"), apperr.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: tt.req})
			if !apperr.Is(err, tt.kind) || !accept.Refused(err) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if len(f.q.ids) != 0 {
		t.Fatalf("queued %v", f.q.ids)
	}
	if accept.Refused(apperr.New(apperr.Unavailable, "down")) || accept.Refused(errors.New("x")) {
		t.Fatal("a transient error counts as refused")
	}
}

// Without an idempotency key a message the queue did not take is failed
// (nothing could queue it later); with one it stays queued and the retry
// queues it.
func TestAcceptQueueDown(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	f.q.fail = 1
	res, err := f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: template(t, "5511999999991")})
	if !apperr.Is(err, apperr.Unavailable) || res.Message.ID == "" {
		t.Fatalf("%+v %v", res, err)
	}
	if m, _ := f.st.Message(ctx, f.org, res.Message.ID); m.Status != store.StatusFailed || m.Error == nil || m.Error.Title != "enqueue_failed" {
		t.Fatalf("without a key: %+v", m)
	}

	f.q.fail = 1
	m := accept.Message{OrgID: f.org, Request: template(t, "5511999999992"), IdempotencyKey: "k2", Fingerprint: []byte("a")}
	res, err = f.a.Accept(ctx, m)
	if !apperr.Is(err, apperr.Unavailable) || res.Message.ID == "" {
		t.Fatalf("%+v %v", res, err)
	}
	if got, _ := f.st.Message(ctx, f.org, res.Message.ID); got.Status != store.StatusQueued {
		t.Fatalf("with a key: %+v", got)
	}
	retry, err := f.a.Accept(ctx, m)
	if err != nil || retry.Message.ID != res.Message.ID || len(f.q.ids) != 1 || f.q.ids[0] != res.Message.ID {
		t.Fatalf("retry %+v %v, queued %v", retry, err, f.q.ids)
	}
}
