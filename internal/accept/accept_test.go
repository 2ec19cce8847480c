package accept_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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

func (q *queue) Enqueue(_ context.Context, org, contactID, messageID string, _ bool) error {
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
	require.NoError(t, err)
	f.org = org.ID
	f.a = accept.New(f.st, f.q, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return f
}

func template(t *testing.T, to string) outbound.Request {
	r, err := outbound.BodyTemplate(to, "order_confirmation", "pt_BR", []string{"1001"})
	require.NoError(t, err)
	return r
}

func TestAcceptStoresAndQueuesOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := accept.Message{OrgID: f.org, Request: template(t, "+5511999999999"), IdempotencyKey: "k1", Fingerprint: []byte("a")}
	first, err := f.a.Accept(ctx, m)
	require.NoError(t, err)
	require.Equal(t, store.StatusQueued, first.Message.Status, "accepted %+v", first)
	require.True(t, first.ContactCreated, "accepted %+v", first)
	require.Equal(t, "5511999999999", first.Message.To, "accepted %+v", first)
	again, err := f.a.Accept(ctx, m)
	require.NoError(t, err, "replay %+v %v", again, err)
	require.True(t, again.Replayed, "replay %+v %v", again, err)
	require.Equal(t, first.Message.ID, again.Message.ID, "replay %+v %v", again, err)
	require.Len(t, f.q.ids, 1, "queued %v", f.q.ids)
	require.Equal(t, first.Message.ID, f.q.ids[0], "queued %v", f.q.ids)
	m.Fingerprint = []byte("b")
	_, err = f.a.Accept(ctx, m)
	require.True(t, accept.Refused(err), "key reused with another request: %v", err)
	require.True(t, apperr.Is(err, apperr.Conflict), "key reused with another request")
}

func TestAcceptRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	text, err := outbound.Text("5511988887777", "Olá")
	require.NoError(t, err)
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
			require.True(t, apperr.Is(err, tt.kind), "err = %v", err)
			require.True(t, accept.Refused(err), "err")
		})
	}
	require.Empty(t, f.q.ids, "queued %v", f.q.ids)
	require.False(t, accept.Refused(apperr.New(apperr.Unavailable, "down")), "a transient error counts as refused")
	require.False(t, accept.Refused(errors.New("x")), "a transient error counts as refused")
}

// Without an idempotency key a message the queue did not take is failed
// (nothing could queue it later); with one it stays queued and the retry
// queues it.
func TestAcceptQueueDown(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	f.q.fail = 1
	res, err := f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: template(t, "5511999999991")})
	require.True(t, apperr.Is(err, apperr.Unavailable), "%+v %v", res, err)
	require.NotEmpty(t, res.Message.ID, "%+v %v", res, err)
	if m, _ := f.st.Message(ctx, f.org, res.Message.ID); m.Status != store.StatusFailed || m.Error == nil || m.Error.Title != "enqueue_failed" {
		t.Fatalf("without a key: %+v", m)
	}

	f.q.fail = 1
	m := accept.Message{OrgID: f.org, Request: template(t, "5511999999992"), IdempotencyKey: "k2", Fingerprint: []byte("a")}
	res, err = f.a.Accept(ctx, m)
	require.True(t, apperr.Is(err, apperr.Unavailable), "%+v %v", res, err)
	require.NotEmpty(t, res.Message.ID, "%+v %v", res, err)
	got, _ := f.st.Message(ctx, f.org, res.Message.ID)
	require.Equal(t, store.StatusQueued, got.Status, "with a key: %+v", got)
	retry, err := f.a.Accept(ctx, m)
	require.NoError(t, err, "retry %+v %v, queued %v", retry, err, f.q.ids)
	require.Equal(t, res.Message.ID, retry.Message.ID, "retry %+v %v, queued %v", retry, err, f.q.ids)
	require.Len(t, f.q.ids, 1, "retry %+v %v, queued %v", retry, err, f.q.ids)
	require.Equal(t, res.Message.ID, f.q.ids[0], "retry %+v %v, queued %v", retry, err, f.q.ids)
}

// A live request never replays a test message nor a test request a live
// one, whatever Idempotency-Key the caller picks: test keys' keys are
// prefixed "test:", so a live key sending "test:k" with the same body as a
// test key's "k" names the same stored key. Replaying it would answer the
// live caller with a message that never reaches Meta (or a test caller
// with a live one, re-queued).
func TestAcceptIdempotencyNeverCrossesModes(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		firstTest, laterTest bool
		firstKey, laterKey   string
	}{
		{"live after test", true, false, "k", "test:k"},
		{"test after live", false, true, "test:k", "k"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			m := accept.Message{OrgID: f.org, Request: template(t, "+5511999999999"), Fingerprint: []byte("same body")}
			m.IdempotencyKey, m.Test = tc.firstKey, tc.firstTest
			first, err := f.a.Accept(ctx, m)
			require.NoError(t, err)
			require.Equal(t, tc.firstTest, first.Message.Test)
			m.IdempotencyKey, m.Test = tc.laterKey, tc.laterTest
			later, err := f.a.Accept(ctx, m)
			if err == nil {
				require.False(t, later.Replayed, "a %v request replayed a %v message", tc.laterTest, tc.firstTest)
				require.Equal(t, tc.laterTest, later.Message.Test)
				return
			}
			require.True(t, apperr.Is(err, apperr.Conflict), "%v", err)
			require.Len(t, f.q.ids, 1, "queued %v", f.q.ids)
		})
	}
}

// Once the organisation's copy of its templates is synced, a template
// message is checked against it before anything is stored or queued.
func TestAcceptChecksTemplatesOnceSynced(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	two := func() outbound.Request {
		r, err := outbound.BodyTemplate("+5511999999999", "order_confirmation", "pt_BR", []string{"1001", "R$ 10"})
		require.NoError(t, err)
		return r
	}
	// Never synced: sent as it is (Meta would judge it).
	_, err := f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: template(t, "+5511999999999")})
	require.NoError(t, err)
	_, err = f.st.SyncTemplates(ctx, f.org, []store.Template{{ID: "1", Name: "order_confirmation", Language: "pt_BR", Category: "UTILITY",
		Status: "APPROVED", Components: []byte(`[{"type":"BODY","text":"Pedido {{1}} de {{2}} confirmado."}]`)},
		{ID: "2", Name: "order_confirmation", Language: "en_US", Category: "UTILITY", Status: "PENDING",
			Components: []byte(`[{"type":"BODY","text":"Order {{1}} of {{2}} confirmed."}]`)}})
	require.NoError(t, err)
	queued := len(f.q.ids)
	_, err = f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: template(t, "+5511999999999")})
	require.True(t, accept.Refused(err), "one parameter for two: %v", err)
	e, _ := apperr.As(err)
	require.Equal(t, "template_parameter_mismatch", e.Code, "%v", err)
	require.Contains(t, e.Message, "the body expects 2 parameters, not 1")
	_, err = f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: two()})
	require.NoError(t, err, "the right count")
	wrongLang, err := outbound.BodyTemplate("+5511999999999", "order_confirmation", "es", []string{"1", "2"})
	require.NoError(t, err)
	_, err = f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: wrongLang})
	e, _ = apperr.As(err)
	require.Equal(t, "template_not_found", e.Code, "%v", err)
	require.Contains(t, e.Message, "it has en_US, pt_BR")
	pending, err := outbound.BodyTemplate("+5511999999999", "order_confirmation", "en_US", []string{"1", "2"})
	require.NoError(t, err)
	_, err = f.a.Accept(ctx, accept.Message{OrgID: f.org, Request: pending})
	e, _ = apperr.As(err)
	require.Equal(t, "template_not_approved", e.Code, "%v", err)
	require.Len(t, f.q.ids, queued+1, "only the right one is queued")
}

// A retry of an accepted template message (same Idempotency-Key) is a
// replay even when its template has been paused since: the client learns
// its message was accepted, not that it was refused.
func TestTemplateRetryIsAReplay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	comps := []byte(`[{"type":"BODY","text":"Pedido {{1}} confirmado."}]`)
	_, err := f.st.SyncTemplates(ctx, f.org, []store.Template{{ID: "1", Name: "order_confirmation", Language: "pt_BR", Status: "APPROVED", Components: comps}})
	require.NoError(t, err)
	m := accept.Message{OrgID: f.org, Request: template(t, "+5511999999999"), IdempotencyKey: "order-1", Fingerprint: []byte("a")}
	first, err := f.a.Accept(ctx, m)
	require.NoError(t, err)
	_, err = f.st.SyncTemplates(ctx, f.org, []store.Template{{ID: "1", Name: "order_confirmation", Language: "pt_BR", Status: "PAUSED", Components: comps}})
	require.NoError(t, err)
	again, err := f.a.Accept(ctx, m)
	require.NoError(t, err)
	require.True(t, again.Replayed)
	require.Equal(t, first.Message.ID, again.Message.ID)
	// A new key is refused.
	m.IdempotencyKey = "order-2"
	_, err = f.a.Accept(ctx, m)
	e, _ := apperr.As(err)
	require.Equal(t, "template_not_approved", e.Code, "%v", err)
}
