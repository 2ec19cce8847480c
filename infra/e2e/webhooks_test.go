//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/internal/delivery"
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
	if err != nil {
		t.Fatal(err)
	}
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
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		s.mu.Lock()
		if len(s.got) >= n {
			out := append([]received(nil), s.got...)
			s.mu.Unlock()
			return out
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Fatalf("subscriber got %d requests, want %d", len(s.got), n)
	return nil
}

func subscribe(t *testing.T, s *subscriber, events ...string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": "e2e", "url": s.url, "events": events})
	r := do(t, "POST", "/v1/webhooks", demo.APIKey.Key, body)
	var w struct{ ID, Secret string }
	r.json(t, &w)
	if r.Status != 201 || w.Secret == "" {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	s.mu.Lock()
	s.secret = w.Secret
	s.mu.Unlock()
	t.Cleanup(func() { do(t, "DELETE", "/v1/webhooks/"+w.ID, demo.APIKey.Key, nil) })
	return w.ID
}

// A customer writes in; the integrator's endpoint gets message.received,
// signed both ways, after failing twice: three attempts in the log.
func TestWebhookDeliveryWithRetries(t *testing.T) {
	sub := newSubscriber(t, 500, 503)
	id := subscribe(t, sub, "message.received")
	if _, status, err := st.Sim.Inbound(context.Background(), graphsim.Inbound{From: "5511966660001", Name: "Rita", Text: "webhook e2e"}); err != nil || status != 200 {
		t.Fatalf("inbound: %d %v", status, err)
	}
	got := sub.wait(t, 3, 60*time.Second)
	for i, g := range got[:3] {
		if g.verified != nil {
			t.Fatalf("attempt %d: signature: %v", i+1, g.verified)
		}
		if !strings.Contains(string(g.body), "webhook e2e") || !strings.Contains(string(g.body), `"event":"message.received"`) {
			t.Fatalf("attempt %d body %s", i+1, g.body)
		}
		if g.header.Get("webhook-id") != got[0].header.Get("webhook-id") {
			t.Fatal("webhook-id changed across attempts")
		}
	}
	var page struct {
		Data []struct {
			Status   string `json:"status"`
			Attempts []struct {
				StatusCode int `json:"status_code"`
			} `json:"attempts"`
		} `json:"data"`
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		r := do(t, "GET", "/v1/webhooks/"+id+"/deliveries", demo.APIKey.Key, nil)
		r.json(t, &page)
		if len(page.Data) == 1 && page.Data[0].Status == "delivered" {
			break
		}
	}
	if len(page.Data) != 1 || page.Data[0].Status != "delivered" || len(page.Data[0].Attempts) != 3 ||
		page.Data[0].Attempts[0].StatusCode != 500 || page.Data[0].Attempts[2].StatusCode != 200 {
		t.Fatalf("delivery log: %+v", page)
	}
}

func TestWebhookGoneAndTest(t *testing.T) {
	sub := newSubscriber(t, 410)
	id := subscribe(t, sub, "*")
	if r := do(t, "POST", "/v1/webhooks/"+id+"/test", demo.APIKey.Key, nil); r.Status != 202 {
		t.Fatalf("test event: %d %s", r.Status, r.Body)
	}
	got := sub.wait(t, 1, 30*time.Second)
	if !strings.Contains(string(got[0].body), `"event":"webhook.test"`) || got[0].verified != nil {
		t.Fatalf("test event: %s %v", got[0].body, got[0].verified)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		r := do(t, "GET", "/v1/webhooks/"+id, demo.APIKey.Key, nil)
		if strings.Contains(string(r.Body), `"active":false`) && strings.Contains(string(r.Body), "410") {
			return
		}
	}
	t.Fatal("410 did not disable the webhook")
}

func TestWebhookPrivateAddressRefused(t *testing.T) {
	for _, u := range []string{"https://10.0.0.5/h", "https://169.254.169.254/latest/meta-data", "https://[fd00::1]/h"} {
		body, _ := json.Marshal(map[string]any{"url": u, "events": []string{"*"}})
		if r := do(t, "POST", "/v1/webhooks", demo.APIKey.Key, body); r.Status != 422 || !strings.Contains(string(r.Body), `"field":"url"`) {
			t.Fatalf("%s: %d %s", u, r.Status, r.Body)
		}
	}
}

func TestZapierHooks(t *testing.T) {
	sub := newSubscriber(t)
	body, _ := json.Marshal(map[string]any{"hookUrl": sub.url, "event": "contact.created"})
	r := do(t, "POST", "/v1/hooks", demo.APIKey.Key, body)
	var h struct{ ID string }
	r.json(t, &h)
	if r.Status != 201 || h.ID == "" {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	r = do(t, "GET", "/v1/hooks/samples/contact.created", demo.APIKey.Key, nil)
	var samples []map[string]any
	r.json(t, &samples)
	if r.Status != 200 || len(samples) == 0 || samples[0]["event"] != "contact.created" {
		t.Fatalf("samples: %d %s", r.Status, r.Body)
	}
	if r := do(t, "DELETE", "/v1/hooks/"+h.ID, demo.APIKey.Key, nil); r.Status != 204 {
		t.Fatalf("unsubscribe: %d %s", r.Status, r.Body)
	}
}
