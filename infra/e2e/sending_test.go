//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/infra/local/stack"
	"github.com/pytake/pytake/internal/store"
)

// waitMessage polls a message until ok or time runs out.
func waitMessage(t *testing.T, id string, limit time.Duration, ok func(store.Message) bool) store.Message {
	t.Helper()
	var m store.Message
	var err error
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		m, err = st.Store().Message(context.Background(), demo.Organization.ID, id)
		if err == nil && ok(m) {
			return m
		}
	}
	t.Fatalf("message %s: %+v (%v)", id, m, err)
	return m
}

func send(t *testing.T, body string, headers ...string) (int, string) {
	t.Helper()
	r := do(t, "POST", "/v1/messages", demo.APIKey.Key, []byte(body), headers...)
	var out struct{ ID string }
	_ = json.Unmarshal(r.Body, &out)
	if r.Status == 202 && out.ID == "" {
		t.Fatalf("202 without an id: %s", r.Body)
	}
	return r.Status, out.ID
}

func TestSettingsAgainstSimulator(t *testing.T) {
	r := do(t, "GET", "/v1/settings/whatsapp", demo.APIKey.Key, nil)
	if r.Status != 200 || strings.Contains(string(r.Body), stack.DemoAppSecret) || strings.Contains(string(r.Body), stack.DemoAccessToken) {
		t.Fatalf("get settings: %d %s", r.Status, r.Body)
	}
	r = do(t, "POST", "/v1/settings/whatsapp/test", demo.APIKey.Key, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"ok":true`) || !strings.Contains(string(r.Body), `"verified_name":"PyTake Demo"`) {
		t.Fatalf("test settings: %d %s", r.Status, r.Body)
	}
}

// A customer writes in through the simulator; the reply goes out, the
// simulator reports sent, delivered and read through the signed webhook,
// and the message shows its whole timeline.
func TestReplyReachesRead(t *testing.T) {
	ctx := context.Background()
	if _, status, err := st.Sim.Inbound(ctx, graphsim.Inbound{From: "5511955550001", Name: "Maria", Text: "Oi, tudo bem?"}); err != nil || status != 200 {
		t.Fatalf("simulated customer: %d %v", status, err)
	}
	code, id := send(t, `{"to":"+55 11 95555-0001","text":"Olá Maria! Como posso ajudar?"}`)
	if code != 202 {
		t.Fatalf("send: %d", code)
	}
	m := waitMessage(t, id, 30*time.Second, func(m store.Message) bool { return m.Status == store.StatusRead })
	r := do(t, "GET", "/v1/messages/"+id, demo.APIKey.Key, nil)
	var got store.Message
	r.json(t, &got)
	if got.WAMID == "" || got.WAMID != m.WAMID || got.SentAt == nil || got.DeliveredAt == nil || got.ReadAt == nil || len(got.Timeline) < 3 {
		t.Fatalf("GET message: %s", r.Body)
	}
	sent := st.Sim.Sent()
	found := false
	for _, s := range sent {
		if s.WAMID == m.WAMID {
			found = true
			if !strings.Contains(string(s.Body), `"body":"Olá Maria! Como posso ajudar?"`) || s.To != "5511955550001" {
				t.Fatalf("what Meta got: %s", s.Body)
			}
		}
	}
	if !found {
		t.Fatal("the simulator never got the message")
	}
}

func TestMetaErrors(t *testing.T) {
	tpl := func(to string) string {
		return `{"to":"` + to + `","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`
	}
	// Throughput and server errors are retried until the send goes.
	st.Sim.Fail(graphsim.Fault{To: "5531900000001", Code: 130429, Count: 1})
	st.Sim.Fail(graphsim.Fault{To: "5531900000002", Code: 131000, HTTPStatus: 503, Count: 2})
	_, a := send(t, tpl("5531900000001"))
	_, b := send(t, tpl("5531900000002"))
	for _, id := range []string{a, b} {
		m := waitMessage(t, id, 60*time.Second, func(m store.Message) bool { return m.Status == store.StatusRead || m.Status == store.StatusFailed })
		if m.Status != store.StatusRead || m.Attempts < 2 {
			t.Fatalf("retried message: %+v", m)
		}
	}
	// Outside the window at Meta's end: failed with Meta's code, and a
	// message.failed event.
	st.Sim.Fail(graphsim.Fault{To: "5531900000003", Code: 131047, Count: 1})
	_, c := send(t, tpl("5531900000003"))
	m := waitMessage(t, c, 30*time.Second, func(m store.Message) bool { return m.Status == store.StatusFailed })
	if m.Error == nil || m.Error.Code != 131047 || m.Attempts != 1 {
		t.Fatalf("131047: %+v", m)
	}
	if evs := drainEvents(t, "message.failed", c, 1); len(evs) != 1 {
		t.Fatalf("message.failed events: %d", len(evs))
	}
	// An expired token: failed, the connection unhealthy, the next send
	// fails fast without reaching Meta, until the settings are saved.
	st.Sim.Fail(graphsim.Fault{To: "5531900000004", Code: 190, Count: 1})
	_, d := send(t, tpl("5531900000004"))
	m = waitMessage(t, d, 30*time.Second, func(m store.Message) bool { return m.Status == store.StatusFailed })
	if m.Error == nil || m.Error.Code != 190 {
		t.Fatalf("190: %+v", m)
	}
	r := do(t, "GET", "/v1/settings/whatsapp", demo.APIKey.Key, nil)
	if !strings.Contains(string(r.Body), `"healthy":false`) {
		t.Fatalf("settings after 190: %s", r.Body)
	}
	before := len(st.Sim.Sent())
	_, e := send(t, tpl("5531900000005"))
	m = waitMessage(t, e, 30*time.Second, func(m store.Message) bool { return m.Status == store.StatusFailed })
	if m.Error == nil || m.Error.Title != "whatsapp_connection_unhealthy" || len(st.Sim.Sent()) != before {
		t.Fatalf("fail fast: %+v", m)
	}
	settings, _ := json.Marshal(demo.WhatsApp)
	if r := do(t, "PUT", "/v1/settings/whatsapp", demo.APIKey.Key, settings); r.Status != 200 || !strings.Contains(string(r.Body), `"healthy":true`) {
		t.Fatalf("save settings: %d %s", r.Status, r.Body)
	}
	_, f := send(t, tpl("5531900000005"))
	waitMessage(t, f, 30*time.Second, func(m store.Message) bool { return m.Status == store.StatusRead })
}
