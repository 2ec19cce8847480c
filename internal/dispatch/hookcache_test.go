package dispatch_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/delivery"
	"github.com/pytake/pytake/internal/dispatch"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// countingStore counts the subscription reads and failure-streak writes.
type countingStore struct {
	*store.Store
	webhooks, failing atomic.Int32
}

func (c *countingStore) Webhooks(ctx context.Context, org string) ([]store.Webhook, error) {
	c.webhooks.Add(1)
	return c.Store.Webhooks(ctx, org)
}

func (c *countingStore) MarkWebhookFailing(ctx context.Context, org, id string) (time.Time, error) {
	c.failing.Add(1)
	return c.Store.MarkWebhookFailing(ctx, org, id)
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// cached is a dispatcher over a counting store and a settable clock.
func (e *env) cached() (*dispatch.Dispatcher, *countingStore, *testClock) {
	cs := &countingStore{Store: e.st}
	clk := &testClock{t: time.Now()}
	d := e.deps(slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.Store, d.Now = cs, clk.Now
	e.p = dispatch.New(d)
	return e.p, cs, clk
}

func (e *env) fanOut(t *testing.T, p *dispatch.Dispatcher, recs ...events.SQSMessage) {
	t.Helper()
	resp, _ := p.Handle(context.Background(), events.SQSEvent{Records: recs})
	require.Empty(t, resp.BatchItemFailures)
}

// Issue 15: a container reads an organisation's subscriptions once a
// second (HookCacheTTL), not once per event and per delivery.
func TestSubscriptionsReadOncePerSecond(t *testing.T) {
	e := setup(t)
	rcv := &receiver{}
	url := serve(t, rcv)
	p, cs, clk := e.cached()
	e.hook(t, url, []string{"*"}, true)
	for _, text := range []string{"a", "b", "c", "d", "e"} {
		e.fanOut(t, p, e.event(t, "message.received", text))
	}
	require.Len(t, e.q.jobs, 5)
	require.Empty(t, e.runJobs(t))
	require.Len(t, rcv.bodies, 5)
	require.EqualValues(t, 1, cs.webhooks.Load(), "five fan-outs and five deliveries in a second")
	clk.Add(dispatch.HookCacheTTL)
	e.fanOut(t, p, e.event(t, "message.received", "f"))
	require.EqualValues(t, 2, cs.webhooks.Load(), "read again after a second")
}

// A webhook disabled or deleted reaches the container within a second:
// until then it may still get deliveries; after, new events skip it and
// its queued jobs end failed, once (no loop, no crash).
func TestDisabledAndDeletedWebhooksAfterTheCache(t *testing.T) {
	e := setup(t)
	rcv := &receiver{}
	url := serve(t, rcv)
	p, _, clk := e.cached()
	off := e.hook(t, url+"/off", []string{"*"}, true)
	gone := e.hook(t, url+"/gone", []string{"*"}, true)
	e.fanOut(t, p, e.event(t, "message.received", "before"))
	require.Len(t, e.q.jobs, 2)
	ctx := context.Background()
	require.NoError(t, e.st.DisableWebhook(ctx, e.org, off.ID, "by the test"))
	require.NoError(t, e.st.DeleteWebhook(ctx, e.org, gone.ID))
	e.fanOut(t, p, e.event(t, "message.received", "within"))
	require.Len(t, e.q.jobs, 4, "within the second: the cached subscriptions")
	clk.Add(dispatch.HookCacheTTL + time.Millisecond)
	e.fanOut(t, p, e.event(t, "message.received", "after"))
	require.Len(t, e.q.jobs, 4, "after it: none")
	require.Empty(t, e.runJobs(t), "the jobs end")
	require.Empty(t, rcv.bodies, "nothing posted to a disabled or deleted webhook")
	page, err := e.st.Deliveries(ctx, e.org, off.ID, "", 10)
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	for _, d := range page.Items {
		require.Equal(t, store.DeliveryFailed, d.Status)
		require.Contains(t, d.Attempts[0].Error, "disabled")
	}
	page, err = e.st.Deliveries(ctx, e.org, gone.ID, "", 10)
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	for _, d := range page.Items {
		require.Equal(t, store.DeliveryFailed, d.Status)
		require.Contains(t, d.Attempts[0].Error, "deleted")
	}
}

// A webhook made after the container read the list (the API's test
// delivery of a new webhook) is found, not taken for deleted.
func TestNewWebhookFoundPastTheCache(t *testing.T) {
	e := setup(t)
	rcv := &receiver{}
	url := serve(t, rcv)
	p, cs, clk := e.cached()
	e.hook(t, url+"/old", []string{"message.received"}, true)
	e.fanOut(t, p, e.event(t, "message.received", "x"))
	require.Empty(t, e.runJobs(t))
	fresh := e.hook(t, url+"/new", []string{"*"}, true)
	ctx := context.Background()
	d, _, err := e.st.CreateDelivery(ctx, store.Delivery{ID: store.DeliveryID(clk.Now(), "evt_test", fresh.ID), OrgID: e.org,
		WebhookID: fresh.ID, EventID: "evt_test", Event: "webhook.test", Body: `{"id":"evt_test"}`})
	require.NoError(t, err)
	require.NoError(t, p.Enqueue(ctx, dispatch.Job{OrgID: e.org, WebhookID: fresh.ID, DeliveryID: d.ID}))
	require.Empty(t, e.runJobs(t))
	got, err := e.st.Delivery(ctx, e.org, fresh.ID, d.ID)
	require.NoError(t, err)
	require.Equal(t, store.DeliveryDelivered, got.Status)
	require.EqualValues(t, 2, cs.webhooks.Load(), "read again once for the webhook it did not have")
}

// cachingSecrets keeps what it read until forgotten, as secrets.Cache does.
type cachingSecrets struct {
	dispatch.Secrets
	mu   sync.Mutex
	kept map[string][]byte
}

func (c *cachingSecrets) Get(ctx context.Context, org, provider string, v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.kept[org+provider]; ok {
		return json.Unmarshal(b, v)
	}
	if err := c.Secrets.Get(ctx, org, provider, v); err != nil {
		return err
	}
	b, _ := json.Marshal(v)
	c.kept[org+provider] = b
	return nil
}

func (c *cachingSecrets) Forget(org, provider string) {
	c.mu.Lock()
	delete(c.kept, org+provider)
	c.mu.Unlock()
}

// A secret rotated while the container keeps the webhook: within the
// second it signs with the previous set (the old secret still signs for
// the rotation's overlap, so the receiver verifies it); after it, the
// webhook's new secret_version makes it read the new set.
func TestRotatedSecretAfterTheCache(t *testing.T) {
	e := setup(t)
	rcv := &receiver{}
	url := serve(t, rcv)
	cs := &countingStore{Store: e.st}
	clk := &testClock{t: time.Now()}
	d := e.deps(slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.Store, d.Now = cs, clk.Now
	d.Secrets = &cachingSecrets{Secrets: e.sec, kept: map[string][]byte{}}
	p := dispatch.New(d)
	e.p = p
	w := e.hook(t, url, []string{"*"}, true)
	e.fanOut(t, p, e.event(t, "message.received", "one"))
	require.Empty(t, e.runJobs(t))

	ctx := context.Background()
	newSecret, _ := delivery.NewSecret()
	until := clk.Now().Add(24 * time.Hour)
	e.sec.Set(e.org, secrets.ProviderWebhook(w.ID), secrets.WebhookSecrets{Version: 2, Secrets: []secrets.SigningSecret{
		{Secret: newSecret, CreatedAt: clk.Now()}, {Secret: e.secret, CreatedAt: clk.Now().Add(-time.Hour), ExpiresAt: &until}}})
	require.NoError(t, e.st.SetWebhookSecretVersion(ctx, e.org, w.ID, 2))

	e.fanOut(t, p, e.event(t, "message.received", "two"))
	require.Empty(t, e.runJobs(t))
	clk.Add(dispatch.HookCacheTTL)
	e.fanOut(t, p, e.event(t, "message.received", "three"))
	require.Empty(t, e.runJobs(t))
	require.Len(t, rcv.bodies, 3)
	require.NoError(t, delivery.Verify(e.secret, rcv.headers[1], rcv.bodies[1], time.Now(), 0), "within the second: the old set, still valid")
	require.NoError(t, delivery.Verify(newSecret, rcv.headers[2], rcv.bodies[2], time.Now(), 0), "after it: the new secret")
	require.NoError(t, delivery.Verify(e.secret, rcv.headers[2], rcv.bodies[2], time.Now(), 0), "and the old one for the overlap")
}

// A failing endpoint's streak is written once per container, not once per
// failed attempt (ORG#<org> would take a write per failure).
func TestFailureStreakMarkedOncePerContainer(t *testing.T) {
	e := setup(t)
	rcv := &receiver{statuses: []int{500, 500, 500, 500}}
	url := serve(t, rcv)
	p, cs, _ := e.cached()
	w := e.hook(t, url, []string{"*"}, true)
	for _, text := range []string{"a", "b", "c", "d"} {
		e.fanOut(t, p, e.event(t, "message.received", text))
	}
	jobs := e.q.jobs
	require.Len(t, jobs, 4)
	for i, j := range jobs { // one batch after another (a batch's records run at once)
		resp, _ := p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
			{MessageId: string(rune('a' + i)), ReceiptHandle: j, Body: j, EventSourceARN: deliveriesARN}}})
		require.Len(t, resp.BatchItemFailures, 1, "kept for its retry")
	}
	require.EqualValues(t, 1, cs.failing.Load())
	got, err := e.st.Webhook(context.Background(), e.org, w.ID)
	require.NoError(t, err)
	require.NotNil(t, got.FailingSince)
	require.True(t, got.Active)
	_, err = e.st.Webhook(context.Background(), e.org, "wh_missing")
	require.True(t, apperr.Is(err, apperr.NotFound))
}

// The same event twice in one batch (SQS delivers at least once): its two
// fan-outs race on the claim; one delivery is made and POSTed once,
// whichever writes it (and however many jobs they queue).
func TestSameEventTwiceInABatchDeliversOnce(t *testing.T) {
	e := setup(t)
	rcv := &receiver{}
	url := serve(t, rcv)
	w := e.hook(t, url, []string{"*"}, true)
	rec := e.event(t, "message.received", "twice")
	again := rec
	again.MessageId = "ev-twice-again"
	resp, _ := e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec, again}})
	for len(resp.BatchItemFailures) > 0 { // a fan-out that found the delivery being written comes back
		resp, _ = e.p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec}})
	}
	require.NotEmpty(t, e.q.jobs)
	require.LessOrEqual(t, len(e.q.jobs), 2)
	for range 3 {
		if len(e.q.jobs) == 0 {
			break
		}
		e.runJobs(t)
	}
	require.Len(t, rcv.bodies, 1, "POSTed once")
	page, err := e.st.Deliveries(context.Background(), e.org, w.ID, "", 10)
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	require.Equal(t, store.DeliveryDelivered, page.Items[0].Status)
}

// The jobs of a deleted webhook (a failing endpoint's queued retries, say)
// each missed the cached list and threw it away to read ORG#<org> again:
// n jobs, n reads of the organisation's subscriptions, and every fan-out
// of the organisation between them read it again too (the cache defeated
// on the hottest partition). A webhook found missing from a fresh list is
// remembered missing for the cache's life.
func TestDeletedWebhookJobsDoNotDefeatTheCache(t *testing.T) {
	e := setup(t)
	rcv := &receiver{}
	url := serve(t, rcv)
	p, cs, _ := e.cached()
	e.hook(t, url+"/keep", []string{"message.received"}, true)
	gone := e.hook(t, url+"/gone", []string{"webhook.test"}, true)
	ctx := context.Background()
	var jobs []dispatch.Job
	for i := range 20 {
		ev := "evt_gone_" + string(rune('a'+i))
		d, _, err := e.st.CreateDelivery(ctx, store.Delivery{ID: store.DeliveryID(time.Now(), ev, gone.ID), OrgID: e.org,
			WebhookID: gone.ID, EventID: ev, Event: "webhook.test", Body: `{"id":"` + ev + `"}`})
		require.NoError(t, err)
		jobs = append(jobs, dispatch.Job{OrgID: e.org, WebhookID: gone.ID, DeliveryID: d.ID})
	}
	require.NoError(t, e.st.DeleteWebhook(ctx, e.org, gone.ID))
	e.fanOut(t, p, e.event(t, "message.received", "first"))
	require.EqualValues(t, 1, cs.webhooks.Load())
	for i, j := range jobs {
		require.NoError(t, p.Enqueue(ctx, j))
		require.Empty(t, e.runJobs(t))
		e.fanOut(t, p, e.event(t, "message.received", "between "+string(rune('a'+i))))
	}
	require.LessOrEqual(t, cs.webhooks.Load(), int32(2),
		"20 jobs of a deleted webhook and 20 fan-outs within a second: one read, and one more for the missing webhook")
	for _, j := range jobs {
		d, err := e.st.Delivery(ctx, e.org, gone.ID, j.DeliveryID)
		require.NoError(t, err)
		require.Equal(t, store.DeliveryFailed, d.Status)
	}
}

// A container's cached failure streak is only its view of a second ago:
// the endpoint failing for five days recovers, another container's
// delivery succeeds and ends the streak in the store, and this container's
// next failed attempt (a passing error) must not take its cached streak
// start for the current one and disable a healthy webhook: the decision to
// disable is checked against the store.
func TestRecoveredWebhookNotDisabledFromACachedStreak(t *testing.T) {
	clk := &testClock{t: time.Now()}
	tb := storetest.New(t)
	e := &env{sec: secretstest.New(), q: &fakeQueue{visibility: map[string]int32{}}}
	e.st = store.New(tb.Client, tb.Name, clk.Now)
	org, err := e.st.CreateOrganization(context.Background(), "A")
	require.NoError(t, err)
	e.org = org.ID
	e.secret, _ = delivery.NewSecret()
	rcv := &receiver{statuses: []int{500}}
	url := serve(t, rcv)
	w := e.hook(t, url, []string{"*"}, true)
	ctx := context.Background()
	_, err = e.st.MarkWebhookFailing(ctx, e.org, w.ID)
	require.NoError(t, err)
	clk.Add(dispatch.DisableAfter + 24*time.Hour)
	d := e.deps(slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.Now = clk.Now
	p := dispatch.New(d)
	e.p = p
	e.fanOut(t, p, e.event(t, "message.received", "a"))           // caches the streak of six days
	require.NoError(t, e.st.MarkWebhookHealthy(ctx, e.org, w.ID)) // another container's success
	e.runJobs(t)
	got, err := e.st.Webhook(ctx, e.org, w.ID)
	require.NoError(t, err)
	require.True(t, got.Active, "a webhook that recovered was disabled from a cached failure streak: %s", got.DisabledReason)
}
