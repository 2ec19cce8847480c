package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	pevent "github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/sender"
)

// newKey creates a key through the API and returns its id and plaintext.
func newKey(t *testing.T, call func(method, path, key, body string) (int, string), admin, body string) (string, string) {
	t.Helper()
	code, resp := call("POST", "/v1/api-keys", admin, body)
	var k struct{ ID, Key string }
	_ = json.Unmarshal([]byte(resp), &k)
	if code != 201 || k.Key == "" {
		t.Fatalf("create key %s: %d %s", body, code, resp)
	}
	return k.ID, k.Key
}

// TestTestKeysHaveNoLivePowers: a pytake_test_ key changes no key, setting
// or integration, and its messages never reach the Graph API: the sender
// answers them as Meta would and marks them as test messages.
func TestTestKeysHaveNoLivePowers(t *testing.T) {
	f := newSendFixture(t)
	call := func(method, path, key, body string) (int, string) {
		code, resp, _ := f.call(method, path, key, body)
		return code, resp
	}
	liveID, _ := newKey(t, call, f.key, `{"name":"live"}`)
	_, test := newKey(t, call, f.key, `{"name":"sandbox","mode":"test"}`)
	if code, body := call("PUT", "/v1/settings/whatsapp", f.key, whatsappSettings); code != 200 {
		t.Fatalf("settings: %d %s", code, body)
	}
	for _, c := range []struct{ method, path, body, why string }{
		{"POST", "/v1/api-keys", `{"name":"escalate","mode":"live"}`, "API keys"},
		{"DELETE", "/v1/api-keys/" + liveID, "", "API keys"},
		{"PUT", "/v1/settings/whatsapp", whatsappSettings, "settings"},
		{"POST", "/v1/settings/whatsapp/test", "", "Meta"},
		{"PUT", "/v1/integrations/shopify", `{"shop_domain":"a.myshopify.com","webhook_secret":"shopify-secret-0001"}`, "integrations"},
		{"DELETE", "/v1/integrations/woocommerce", "", "integrations"},
		{"POST", "/v1/chatbots", `{"name":"bot"}`, "chatbots"},
		{"GET", "/v1/media/1479537139650973", "", "Meta"},
	} {
		code, body := call(c.method, c.path, test, c.body)
		if code != 403 || !strings.Contains(body, `"code":"test_mode_forbidden"`) || !strings.Contains(body, c.why) {
			t.Errorf("test key %s %s: %d %s, want 403 test_mode_forbidden naming %s", c.method, c.path, code, body, c.why)
		}
	}
	if code, body := call("GET", "/v1/api-keys/"+liveID, f.key, ""); code != 200 || strings.Contains(body, "revoked_at") {
		t.Fatalf("the live key after the test key's attempts: %d %s", code, body)
	}

	// A test message: validated and stored like any other...
	if code, body := call("POST", "/v1/messages", test, `{"to":"+5511999990001","text":"Olá!"}`); code != 422 || !strings.Contains(body, "outside_customer_service_window") {
		t.Fatalf("free-form text outside the window: %d %s", code, body)
	}
	code, body := call("POST", "/v1/messages", test, `{"to":"+5511999990001","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`)
	var accepted struct{ ID string }
	_ = json.Unmarshal([]byte(body), &accepted)
	if code != 202 {
		t.Fatalf("test send: %d %s", code, body)
	}
	// ...and the sender never calls Meta for it.
	g := &countingGraph{}
	evs := &eventtest.Recorder{}
	snd := sender.New(sender.Deps{Store: f.st, Secrets: f.sec, Graph: g, Events: evs, GraphVersion: "v26.0",
		RatePerSecond: 1000, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return f.now },
		Sleep: func(context.Context, time.Duration) error { return nil }})
	var recs []events.SQSMessage
	for _, j := range f.box.jobs() {
		parts := strings.Split(j, "/")
		b, _ := json.Marshal(sender.Job{OrgID: parts[0], MessageID: parts[2]})
		recs = append(recs, events.SQSMessage{MessageId: parts[2], Body: string(b)})
	}
	if resp, err := snd.Handle(context.Background(), events.SQSEvent{Records: recs}); err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("sender: %v %+v", err, resp)
	}
	if g.n != 0 {
		t.Fatalf("a test message reached the Graph API (%d sends)", g.n)
	}
	code, body = call("GET", "/v1/messages/"+accepted.ID, test, "")
	var m struct {
		Status   string `json:"status"`
		WAMID    string `json:"wamid"`
		Test     bool   `json:"test"`
		Timeline []struct {
			Status string `json:"status"`
			Test   bool   `json:"test"`
		} `json:"timeline"`
	}
	_ = json.Unmarshal([]byte(body), &m)
	if code != 200 || m.Status != "read" || !strings.HasPrefix(m.WAMID, "wamid.") || !m.Test || len(m.Timeline) != 3 {
		t.Fatalf("the test message after the sender: %d %s", code, body)
	}
	for _, e := range m.Timeline {
		if !e.Test {
			t.Errorf("status %s is not marked as a test status: %s", e.Status, body)
		}
	}
	names := map[string]bool{}
	for _, ev := range evs.All() {
		names[ev.Event] = true
		if !strings.Contains(string(ev.Data), `"test":true`) {
			t.Errorf("%s does not say it is a test: %s", ev.Event, ev.Data)
		}
	}
	for _, n := range []string{pevent.MessageSent, pevent.MessageDelivered, pevent.MessageRead} {
		if !names[n] {
			t.Errorf("no %s event for the test message: %v", n, names)
		}
	}
}

type countingGraph struct {
	mu sync.Mutex
	n  int
}

func (g *countingGraph) SendMessage(context.Context, string, string, string, []byte) (graph.SendResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return graph.SendResult{WAMID: "wamid.LIVE"}, nil
}
