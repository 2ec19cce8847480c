//go:build e2e

package e2e

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScheduledMessages: a message scheduled with send_at is scheduled,
// then, after its time, sent to the simulator by the scheduled sweep (the
// local stack runs the campaign runner's schedule every 2 s); another,
// cancelled while scheduled, is never sent.
func TestScheduledMessages(t *testing.T) {
	org, acct, _ := connectedOrg(t, "Scheduled Co", 5)
	key := org.APIKey.Key
	// The customer writes: free-form messages may go (judged again at send_at).
	const wa = "5511955550018"
	customerWrites(t, acct, wa)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		r := do(c, "GET", "/v1/contacts?whatsapp_id="+url.QueryEscape("+"+wa), key, nil)
		assert.Contains(c, string(r.Body), `"whatsapp_id"`)
	}, 30*time.Second, 100*time.Millisecond)

	schedule := func(text string, in time.Duration) (id string, at time.Time) {
		t.Helper()
		at = time.Now().Add(in).UTC().Truncate(time.Second)
		r := do(t, "POST", "/v1/messages", key, []byte(fmt.Sprintf(`{"to":"+%s","text":%q,"send_at":%q}`, wa, text, at.Format(time.RFC3339))))
		require.Equal(t, 202, r.Status, "schedule: %s", r.Body)
		var res struct{ ID, Status string }
		r.json(t, &res)
		require.Equal(t, "scheduled", res.Status, "schedule: %s", r.Body)
		return res.ID, at
	}
	texts := func() []string {
		var out []string
		for _, s := range st.Sim.Sent() {
			if s.PhoneNumberID == acct.PhoneNumberID && s.To == wa {
				out = append(out, string(s.Body))
			}
		}
		return out
	}
	sent, at := schedule("Lembrete agendado", 5*time.Second)
	cancelled, _ := schedule("Este foi cancelado", 5*time.Second)

	r := do(t, "GET", "/v1/messages/"+sent, key, nil)
	require.Equal(t, 200, r.Status, "get: %s", r.Body)
	require.Contains(t, string(r.Body), `"status":"scheduled"`)
	require.Contains(t, string(r.Body), `"send_at":"`+at.Format(time.RFC3339)+`"`)
	r = do(t, "DELETE", "/v1/messages/"+cancelled, key, nil)
	require.Equal(t, 200, r.Status, "cancel: %s", r.Body)
	require.Contains(t, string(r.Body), `"status":"cancelled"`)
	require.Empty(t, texts(), "sent before its time")

	// Sent after its time, within the sweep's period (and the pipeline's
	// seconds): never before.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, texts(), 1, "the scheduled message at the simulator")
	}, 30*time.Second, 200*time.Millisecond)
	for _, s := range st.Sim.Sent() {
		if s.PhoneNumberID == acct.PhoneNumberID && s.To == wa {
			require.False(t, s.At.Before(at), "sent at %s, before its send_at %s", s.At, at)
		}
	}
	require.Contains(t, texts()[0], "Lembrete agendado")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		r := do(c, "GET", "/v1/messages/"+sent, key, nil)
		assert.NotContains(c, string(r.Body), `"status":"scheduled"`)
		assert.NotContains(c, string(r.Body), `"status":"queued"`)
	}, 30*time.Second, 200*time.Millisecond)

	// The cancelled one: two more sweeps, still never sent, still cancelled;
	// and the sent one cannot be cancelled.
	time.Sleep(4 * time.Second)
	require.Len(t, texts(), 1)
	require.False(t, strings.Contains(strings.Join(texts(), ""), "cancelado"), "the cancelled message was sent")
	r = do(t, "GET", "/v1/messages/"+cancelled, key, nil)
	require.Contains(t, string(r.Body), `"status":"cancelled"`)
	r = do(t, "DELETE", "/v1/messages/"+sent, key, nil)
	require.Equal(t, 409, r.Status, "cancel a sent message: %s", r.Body)
	require.Contains(t, string(r.Body), `"code":"message_not_scheduled"`)
}
