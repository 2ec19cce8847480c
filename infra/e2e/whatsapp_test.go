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

	"github.com/pytake/pytake/infra/local/stack"
	"github.com/pytake/pytake/internal/whatsapp"
)

func TestWhatsAppVerification(t *testing.T) {
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {stack.DemoVerifyToken}, "hub.challenge": {"1158201444"}}
	r := do(t, "GET", "/webhooks/whatsapp?"+q.Encode(), "", nil)
	if r.Status != 200 || string(r.Body) != "1158201444" {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	q.Set("hub.verify_token", "not-the-token")
	if r := do(t, "GET", "/webhooks/whatsapp?"+q.Encode(), "", nil); r.Status != 403 {
		t.Fatalf("wrong token: %d %s", r.Status, r.Body)
	}
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
	var got []envelope
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		samples, err := st.Store().EventSamples(context.Background(), demo.Organization.ID, name, 100)
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, b := range samples {
			var e envelope
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("event is not JSON: %s", b)
			}
			if strings.Contains(string(e.Data), match) {
				got = append(got, e)
			}
		}
		if len(got) >= want {
			time.Sleep(500 * time.Millisecond) // let a duplicate, if any, land too
			return drainOnce(t, name, match)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return got
}

func drainOnce(t *testing.T, name, match string) []envelope {
	samples, err := st.Store().EventSamples(context.Background(), demo.Organization.ID, name, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []envelope
	for _, b := range samples {
		var e envelope
		_ = json.Unmarshal(b, &e)
		if strings.Contains(string(e.Data), match) {
			got = append(got, e)
		}
	}
	return got
}

func TestWhatsAppInboundMessage(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(root, "internal", "inbound", "testdata", "message_text.json"))
	if err != nil {
		t.Fatal(err)
	}
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
		if r := do(t, "POST", "/webhooks/whatsapp", "", body, "X-Hub-Signature-256", sig); r.Status != 200 {
			t.Fatalf("signed delivery %d: %d %s", i, r.Status, r.Body)
		}
	}
	events := drainEvents(t, "message.received", wamid, 1)
	if len(events) != 1 {
		t.Fatalf("want one message.received event, got %d", len(events))
	}
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
	if err := json.Unmarshal(events[0].Data, &data); err != nil {
		t.Fatal(err)
	}
	if events[0].OrganizationID != demo.Organization.ID || data.Contact.WhatsAppID != "+5511888888888" || data.Contact.Name != "João Silva" || data.Conversation.ID == "" || data.Message.ConversationID != data.Conversation.ID {
		t.Fatalf("event %+v data %s", events[0], events[0].Data)
	}
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
			if m.Content.Text != "Olá, preciso de ajuda" || m.Direction != "inbound" || m.Type != "text" || m.ID != data.Message.ID {
				t.Errorf("stored message %+v", m)
			}
		}
	}
	if r.Status != 200 || found != 1 {
		t.Fatalf("conversation messages (want %s once): %d %s", wamid, r.Status, r.Body)
	}
	if r := do(t, "GET", "/v1/messages/"+data.Message.ID, demo.APIKey.Key, nil); r.Status != 200 || !strings.Contains(string(r.Body), wamid) {
		t.Fatalf("GET message: %d %s", r.Status, r.Body)
	}
	// Another organisation's key cannot see it.
	other := newOrg(t, "Other Co")
	if r := do(t, "GET", "/v1/conversations/"+data.Conversation.ID+"/messages", other.APIKey.Key, nil); r.Status != 404 {
		t.Fatalf("other org reads the conversation: %d %s", r.Status, r.Body)
	}
}

func TestWhatsAppStatusesAndBatch(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(root, "internal", "inbound", "testdata", "batch_mixed.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, "POST", "/webhooks/whatsapp", "", body, "X-Hub-Signature-256", whatsapp.Sign(body, []byte(stack.DemoAppSecret)))
	if r.Status != 200 {
		t.Fatalf("batch: %d %s", r.Status, r.Body)
	}
	// A body whose number nobody owns is acknowledged (Meta would retry a
	// 4xx for days) and recorded.
	unknown, _ := os.ReadFile(filepath.Join(root, "internal", "inbound", "testdata", "unknown_phone.json"))
	if r := do(t, "POST", "/webhooks/whatsapp", "", unknown, "X-Hub-Signature-256", whatsapp.Sign(unknown, []byte("x"))); r.Status != 200 {
		t.Fatalf("unknown number: %d %s", r.Status, r.Body)
	}
}
