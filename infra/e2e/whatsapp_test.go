//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/stack"
	"github.com/pytake/pytake/internal/whatsapp"
)

func TestWhatsAppVerification(t *testing.T) {
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {stack.DemoVerifyToken}, "hub.challenge": {"1158201444"}}
	r := do(t, "GET", "/webhooks/whatsapp?"+q.Encode(), "", nil)
	require.Equal(t, 200, r.Status, "verify: %d %s", r.Status, r.Body)
	require.Equal(t, "1158201444", string(r.Body), "verify")
	q.Set("hub.verify_token", "not-the-token")
	r = do(t, "GET", "/webhooks/whatsapp?"+q.Encode(), "", nil)
	require.Equal(t, 403, r.Status, "wrong token: %d %s", r.Status, r.Body)
}

type envelope struct {
	ID             string          `json:"id"`
	Event          string          `json:"event"`
	OrganizationID string          `json:"organization_id"`
	Data           json.RawMessage `json:"data"`
}

// drainEvents waits until at least want events named name and containing
// match have gone through the dispatcher (which keeps each emitted event's
// exact bytes as a sample), then returns them all: a duplicate emission
// would show as a second sample with its own id.
func drainEvents(t *testing.T, name, match string, want int) []envelope {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		samples, err := st.Store().EventSamples(context.Background(), demo.Organization.ID, name, 100)
		require.NoError(c, err)
		n := 0
		for _, b := range samples {
			var e envelope
			require.NoError(c, json.Unmarshal(b, &e), "event is not JSON: %s", b)
			if strings.Contains(string(e.Data), match) {
				n++
			}
		}
		assert.GreaterOrEqual(c, n, want, "%s events with %q", name, match)
	}, 90*time.Second, 200*time.Millisecond)
	time.Sleep(500 * time.Millisecond) // let a duplicate, if any, land too
	return drainOnce(t, name, match)
}

func drainOnce(t *testing.T, name, match string) []envelope {
	samples, err := st.Store().EventSamples(context.Background(), demo.Organization.ID, name, 100)
	require.NoError(t, err)
	var got []envelope
	seen := map[string]bool{}
	for _, b := range samples {
		var e envelope
		_ = json.Unmarshal(b, &e)
		// An event republished by its id (a duplicate from Meta that
		// found it unconfirmed) is one event: integrators dedupe on id.
		if strings.Contains(string(e.Data), match) && !seen[e.ID] {
			seen[e.ID] = true
			got = append(got, e)
		}
	}
	return got
}

func TestWhatsAppInboundMessage(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(root, "internal", "inbound", "testdata", "message_text.json"))
	require.NoError(t, err)
	// A fresh wamid so reruns against one stack stay independent.
	wamid := "wamid.e2e" + time.Now().Format("150405.000000")
	body = []byte(strings.Replace(string(body), "wamid.HBgN1", wamid, 1))

	// Unsigned and wrongly signed bodies are refused and nothing is stored.
	if r := do(t, "POST", "/webhooks/whatsapp", "", body); r.Status != 401 {
		t.Fatalf("unsigned: %d %s", r.Status, r.Body)
	}
	bad := whatsapp.Sign(body, []byte("some-other-secret"))
	if r := do(t, "POST", "/webhooks/whatsapp", "", body, "X-Hub-Signature-256", bad); r.Status != 401 {
		t.Fatalf("bad signature: %d %s", r.Status, r.Body)
	}

	sig := whatsapp.Sign(body, []byte(stack.DemoAppSecret))
	for i := 0; i < 2; i++ { // Meta retries: the second delivery changes nothing
		r := do(t, "POST", "/webhooks/whatsapp", "", body, "X-Hub-Signature-256", sig)
		require.Equal(t, 200, r.Status, "signed delivery %d: %d %s", i, r.Status, r.Body)
	}
	events := drainEvents(t, "message.received", wamid, 1)
	require.Len(t, events, 1, "want one message.received event, got %d", len(events))
	var data struct {
		Message struct {
			ID             string `json:"id"`
			ConversationID string `json:"conversation_id"`
		} `json:"message"`
		Contact struct {
			Name       string `json:"name"`
			WhatsAppID string `json:"whatsapp_id"`
		} `json:"contact"`
		Conversation struct{ ID string } `json:"conversation"`
	}
	require.NoError(t, json.Unmarshal(events[0].Data, &data))
	require.Equal(t, demo.Organization.ID, events[0].OrganizationID, "event %+v data %s", events[0], events[0].Data)
	require.Equal(t, "+5511888888888", data.Contact.WhatsAppID, "event %+v data %s", events[0], events[0].Data)
	require.Equal(t, "João Silva", data.Contact.Name, "event %+v data %s", events[0], events[0].Data)
	require.NotEmpty(t, data.Conversation.ID, "event %+v data %s", events[0], events[0].Data)
	require.Equal(t, data.Conversation.ID, data.Message.ConversationID, "event %+v data %s", events[0], events[0].Data)
	r := do(t, "GET", "/v1/conversations/"+data.Conversation.ID+"/messages", demo.APIKey.Key, nil)
	var page struct {
		Data []struct {
			ID, WAMID, Type, Direction string
			Content                    struct{ Text string } `json:"content"`
		} `json:"data"`
	}
	r.json(t, &page)
	found := 0
	for _, m := range page.Data {
		if m.WAMID == wamid {
			found++
			assert.Equal(t, "Olá, preciso de ajuda", m.Content.Text, "stored message %+v", m)
			assert.Equal(t, "inbound", m.Direction, "stored message %+v", m)
			assert.Equal(t, "text", m.Type, "stored message %+v", m)
			assert.Equal(t, data.Message.ID, m.ID, "stored message %+v", m)
		}
	}
	require.Equal(t, 200, r.Status, "conversation messages (want %s once): %d %s", wamid, r.Status, r.Body)
	require.Equal(t, 1, found, "conversation messages (want %s once): %d %s", wamid, r.Status, r.Body)
	r = do(t, "GET", "/v1/messages/"+data.Message.ID, demo.APIKey.Key, nil)
	require.Equal(t, 200, r.Status, "GET message: %d %s", r.Status, r.Body)
	require.Contains(t, string(r.Body), wamid, "GET message")
	// Another organisation's key cannot see it.
	other := newOrg(t, "Other Co")
	r = do(t, "GET", "/v1/conversations/"+data.Conversation.ID+"/messages", other.APIKey.Key, nil)
	require.Equal(t, 404, r.Status, "other org reads the conversation: %d %s", r.Status, r.Body)
}

func TestWhatsAppStatusesAndBatch(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(root, "internal", "inbound", "testdata", "batch_mixed.json"))
	require.NoError(t, err)
	r := do(t, "POST", "/webhooks/whatsapp", "", body, "X-Hub-Signature-256", whatsapp.Sign(body, []byte(stack.DemoAppSecret)))
	require.Equal(t, 200, r.Status, "batch: %d %s", r.Status, r.Body)
	// A body whose number nobody owns is acknowledged (Meta would retry a
	// 4xx for days) and recorded.
	unknown, _ := os.ReadFile(filepath.Join(root, "internal", "inbound", "testdata", "unknown_phone.json"))
	r = do(t, "POST", "/webhooks/whatsapp", "", unknown, "X-Hub-Signature-256", whatsapp.Sign(unknown, []byte("x")))
	require.Equal(t, 200, r.Status, "unknown number: %d %s", r.Status, r.Body)
}
