//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/internal/delivery"
	"github.com/pytake/pytake/internal/dispatch"
)

// subscriber is an integrator's endpoint on 127.0.0.1.
type subscriber struct {
	mu       sync.Mutex
	secret   string
	statuses []int
	got      []received
	srv      *http.Server
	url      string
}

type received struct {
	body     []byte
	header   http.Header
	verified error
}

func newSubscriber(t *testing.T, statuses ...int) *subscriber {
	s := &subscriber{statuses: statuses}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.url = "http://" + l.Addr().String() + "/hooks/pytake"
	s.srv = &http.Server{Handler: s}
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

func (s *subscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	// Both of the guide's checks: X-PyTake-Signature over the body, and
	// the Standard Webhooks signature over id.timestamp.body.
	err := delivery.VerifyPyTake(s.secret, r.Header.Get("X-PyTake-Signature"), b)
	if err == nil {
		err = delivery.Verify(s.secret, r.Header, b, time.Now(), 5*time.Minute)
	}
	s.got = append(s.got, received{body: b, header: r.Header.Clone(), verified: err})
	code := 200
	if len(s.statuses) > 0 {
		code, s.statuses = s.statuses[0], s.statuses[1:]
	}
	w.WriteHeader(code)
}

func (s *subscriber) wait(t *testing.T, n int, limit time.Duration) []received {
	t.Helper()
	var out []received
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		s.mu.Lock()
		out = append([]received(nil), s.got...)
		s.mu.Unlock()
		assert.GreaterOrEqual(c, len(out), n, "requests the subscriber got")
	}, limit, 100*time.Millisecond)
	return out
}

func subscribe(t *testing.T, s *subscriber, events ...string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": "e2e", "url": s.url, "events": events})
	r := do(t, "POST", "/v1/webhooks", demo.APIKey.Key, body)
	var w struct{ ID, Secret string }
	r.json(t, &w)
	require.Equal(t, 201, r.Status, "subscribe: %d %s", r.Status, r.Body)
	require.NotEmpty(t, w.Secret, "subscribe")
	s.mu.Lock()
	s.secret = w.Secret
	s.mu.Unlock()
	t.Cleanup(func() { do(t, "DELETE", "/v1/webhooks/"+w.ID, demo.APIKey.Key, nil) })
	// A dispatcher container keeps an organisation's subscriptions for
	// dispatch.HookCacheTTL: an event fanned out within that time of the
	// create may not see the new webhook yet (README, Webhooks). Wait it out,
	// as an integrator's first event would.
	time.Sleep(dispatch.HookCacheTTL + 200*time.Millisecond)
	return w.ID
}

// A customer writes in; the integrator's endpoint gets message.received,
// signed both ways, after failing twice: three attempts in the log.
func TestWebhookDeliveryWithRetries(t *testing.T) {
	sub := newSubscriber(t, 500, 503)
	id := subscribe(t, sub, "message.received")
	_, status, err := st.Sim.Inbound(context.Background(), graphsim.Inbound{From: "5511966660001", Name: "Rita", Text: "webhook e2e"})
	require.NoError(t, err, "inbound: %d %v", status, err)
	require.Equal(t, 200, status, "inbound")
	got := sub.wait(t, 3, 60*time.Second)
	for i, g := range got[:3] {
		require.NoError(t, g.verified, "attempt %d: signature: %v", i+1, g.verified)
		require.Contains(t, string(g.body), "webhook e2e", "attempt %d body %s", i+1, g.body)
		require.Contains(t, string(g.body), `"event":"message.received"`, "attempt %d body %s", i+1, g.body)
		require.Equal(t, got[0].header.Get("webhook-id"), g.header.Get("webhook-id"), "webhook-id changed across attempts")
	}
	var page struct {
		Data []struct {
			Status   string `json:"status"`
			Attempts []struct {
				StatusCode int `json:"status_code"`
			} `json:"attempts"`
		} `json:"data"`
	}
	// Polled until it settles; then checked as a whole.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		r := do(c, "GET", "/v1/webhooks/"+id+"/deliveries", demo.APIKey.Key, nil)
		r.json(c, &page)
		require.Len(c, page.Data, 1, "delivery log: %+v", page)
		assert.Equal(c, "delivered", page.Data[0].Status, "delivery log")
	}, 10*time.Second, 200*time.Millisecond)
	require.Len(t, page.Data, 1, "delivery log: %+v", page)
	require.Equal(t, "delivered", page.Data[0].Status, "delivery log")
	require.Len(t, page.Data[0].Attempts, 3, "delivery log")
	require.Equal(t, 500, page.Data[0].Attempts[0].StatusCode, "delivery log")
	require.Equal(t, 200, page.Data[0].Attempts[2].StatusCode, "delivery log")
}

func TestWebhookGoneAndTest(t *testing.T) {
	sub := newSubscriber(t, 410)
	id := subscribe(t, sub, "*")
	if r := do(t, "POST", "/v1/webhooks/"+id+"/test", demo.APIKey.Key, nil); r.Status != 202 {
		t.Fatalf("test event: %d %s", r.Status, r.Body)
	}
	got := sub.wait(t, 1, 30*time.Second)
	require.Contains(t, string(got[0].body), `"event":"webhook.test"`, "test event: %s %v", got[0].body, got[0].verified)
	require.NoError(t, got[0].verified, "test event")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		r := do(c, "GET", "/v1/webhooks/"+id, demo.APIKey.Key, nil)
		assert.Contains(c, string(r.Body), `"active":false`, "410 did not disable the webhook")
		assert.Contains(c, string(r.Body), "410", "410 did not disable the webhook")
	}, 10*time.Second, 200*time.Millisecond)
}

func TestWebhookPrivateAddressRefused(t *testing.T) {
	for _, u := range []string{"https://10.0.0.5/h", "https://169.254.169.254/latest/meta-data", "https://[fd00::1]/h"} {
		body, _ := json.Marshal(map[string]any{"url": u, "events": []string{"*"}})
		r := do(t, "POST", "/v1/webhooks", demo.APIKey.Key, body)
		require.Equal(t, 422, r.Status, "%s: %d %s", u, r.Status, r.Body)
		require.Contains(t, string(r.Body), `"field":"url"`, "%s: %d %s", u, r.Status, r.Body)
	}
}

func TestZapierHooks(t *testing.T) {
	sub := newSubscriber(t)
	body, _ := json.Marshal(map[string]any{"hookUrl": sub.url, "event": "contact.created"})
	r := do(t, "POST", "/v1/hooks", demo.APIKey.Key, body)
	var h struct{ ID string }
	r.json(t, &h)
	require.Equal(t, 201, r.Status, "subscribe: %d %s", r.Status, r.Body)
	require.NotEmpty(t, h.ID, "subscribe")
	r = do(t, "GET", "/v1/hooks/samples/contact.created", demo.APIKey.Key, nil)
	var samples []map[string]any
	r.json(t, &samples)
	if r.Status != 200 || len(samples) == 0 || samples[0]["event"] != "contact.created" {
		t.Fatalf("samples: %d %s", r.Status, r.Body)
	}
	r = do(t, "DELETE", "/v1/hooks/"+h.ID, demo.APIKey.Key, nil)
	require.Equal(t, 204, r.Status, "unsubscribe: %d %s", r.Status, r.Body)
}
