//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/infra/local/stack"
	"github.com/pytake/pytake/internal/store"
)

// waitMessage polls a message until ok or time runs out.
func waitMessage(t *testing.T, id string, limit time.Duration, ok func(store.Message) bool) store.Message {
	t.Helper()
	var m store.Message
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var err error
		m, err = st.Store().Message(context.Background(), demo.Organization.ID, id)
		require.NoError(c, err, "message %s", id)
		assert.True(c, ok(m), "message %s: %+v", id, m)
	}, limit, 100*time.Millisecond)
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
	require.Equal(t, 200, r.Status, "get settings: %d %s", r.Status, r.Body)
	require.NotContains(t, string(r.Body), stack.DemoAppSecret, "get settings")
	require.NotContains(t, string(r.Body), stack.DemoAccessToken, "get settings")
	r = do(t, "POST", "/v1/settings/whatsapp/test", demo.APIKey.Key, nil)
	require.Equal(t, 200, r.Status, "test settings: %d %s", r.Status, r.Body)
	require.Contains(t, string(r.Body), `"ok":true`, "test settings")
	require.Contains(t, string(r.Body), `"verified_name":"PyTake Demo"`, "test settings")
}

// A customer writes in through the simulator; the reply goes out, the
// simulator reports sent, delivered and read through the signed webhook,
// and the message shows its whole timeline.
func TestReplyReachesRead(t *testing.T) {
	ctx := context.Background()
	_, status, err := st.Sim.Inbound(ctx, graphsim.Inbound{From: "5511955550001", Name: "Maria", Text: "Oi, tudo bem?"})
	require.NoError(t, err, "simulated customer: %d %v", status, err)
	require.Equal(t, 200, status, "simulated customer")
	code, id := send(t, `{"to":"+55 11 95555-0001","text":"Olá Maria! Como posso ajudar?"}`)
	require.Equal(t, 202, code, "send: %d", code)
	m := waitMessage(t, id, 30*time.Second, func(m store.Message) bool { return m.Status == store.StatusRead })
	r := do(t, "GET", "/v1/messages/"+id, demo.APIKey.Key, nil)
	var got store.Message
	r.json(t, &got)
	require.NotEmpty(t, got.WAMID, "GET message: %s", r.Body)
	require.Equal(t, m.WAMID, got.WAMID, "GET message")
	require.NotNil(t, got.SentAt, "GET message")
	require.NotNil(t, got.DeliveredAt, "GET message")
	require.NotNil(t, got.ReadAt, "GET message")
	require.GreaterOrEqual(t, len(got.Timeline), 3, "GET message")
	sent := st.Sim.Sent()
	found := false
	for _, s := range sent {
		if s.WAMID == m.WAMID {
			found = true
			require.Contains(t, string(s.Body), `"body":"Olá Maria! Como posso ajudar?"`, "what Meta got: %s", s.Body)
			require.Equal(t, "5511955550001", s.To, "what Meta got")
		}
	}
	require.True(t, found, "the simulator never got the message")
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
		require.Equal(t, store.StatusRead, m.Status, "retried message: %+v", m)
		require.GreaterOrEqual(t, m.Attempts, 2, "retried message")
	}
	// Outside the window at Meta's end: failed with Meta's code, and a
	// message.failed event.
	st.Sim.Fail(graphsim.Fault{To: "5531900000003", Code: 131047, Count: 1})
	_, c := send(t, tpl("5531900000003"))
	m := waitMessage(t, c, 30*time.Second, func(m store.Message) bool { return m.Status == store.StatusFailed })
	require.NotNil(t, m.Error, "131047: %+v", m)
	require.Equal(t, 131047, m.Error.Code, "131047")
	require.Equal(t, 1, m.Attempts, "131047")
	evs := drainEvents(t, "message.failed", c, 1)
	require.Len(t, evs, 1, "message.failed events: %d", len(evs))
	// An expired token: failed, the connection unhealthy, the next send
	// fails fast without reaching Meta, until the settings are saved.
	st.Sim.Fail(graphsim.Fault{To: "5531900000004", Code: 190, Count: 1})
	_, d := send(t, tpl("5531900000004"))
	m = waitMessage(t, d, 30*time.Second, func(m store.Message) bool { return m.Status == store.StatusFailed })
	require.NotNil(t, m.Error, "190: %+v", m)
	require.Equal(t, 190, m.Error.Code, "190")
	r := do(t, "GET", "/v1/settings/whatsapp", demo.APIKey.Key, nil)
	require.Contains(t, string(r.Body), `"healthy":false`, "settings after 190: %s", r.Body)
	before := len(st.Sim.Sent())
	_, e := send(t, tpl("5531900000005"))
	m = waitMessage(t, e, 30*time.Second, func(m store.Message) bool { return m.Status == store.StatusFailed })
	require.NotNil(t, m.Error, "fail fast: %+v", m)
	require.Equal(t, "whatsapp_connection_unhealthy", m.Error.Title, "fail fast")
	require.Len(t, st.Sim.Sent(), before, "fail fast")
	settings, _ := json.Marshal(demo.WhatsApp)
	r = do(t, "PUT", "/v1/settings/whatsapp", demo.APIKey.Key, settings)
	require.Equal(t, 200, r.Status, "save settings: %d %s", r.Status, r.Body)
	require.Contains(t, string(r.Body), `"healthy":true`, "save settings")
	_, f := send(t, tpl("5531900000005"))
	waitMessage(t, f, 30*time.Second, func(m store.Message) bool { return m.Status == store.StatusRead })
}
