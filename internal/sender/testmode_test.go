package sender_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pytake/pytake/internal/sender"
	"github.com/pytake/pytake/internal/store"
)

// TestTestMessagesNeverReachTheGraphAPI: a test message is answered in
// process, needs no WhatsApp connection, and its statuses say they are
// test statuses; a live message of the same organisation still goes out.
func TestTestMessagesNeverReachTheGraphAPI(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	noWA, _ := e.st.CreateOrganization(ctx, "No WhatsApp")
	for _, org := range []string{e.org, noWA.ID} {
		res, err := e.st.AcceptOutbound(ctx, store.OutboundMessage{
			OrgID: org, To: store.Identity{WaID: "5511900000009"}, Type: "template", Test: true,
			Content: json.RawMessage(`{"name":"hello_world","language":{"code":"en_US"}}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(sender.Job{OrgID: org, MessageID: res.Message.ID})
		if f := e.handle(t, events.SQSMessage{MessageId: "t-" + org, Body: string(body)}); len(f) != 0 {
			t.Fatalf("failures %v", f)
		}
		m, err := e.st.Message(ctx, org, res.Message.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != store.StatusRead || !m.Test || !strings.HasPrefix(m.WAMID, "wamid.TEST") || len(m.Timeline) != 3 {
			t.Fatalf("test message of %s: %+v", org, m)
		}
		for _, s := range m.Timeline {
			if !s.Test {
				t.Errorf("status %s not marked test", s.Status)
			}
		}
	}
	if len(e.graph.sent) != 0 {
		t.Fatalf("the Graph API got %d test messages", len(e.graph.sent))
	}
	_, rec := e.queueMsg(t, "5511900000001")
	if f := e.handle(t, rec); len(f) != 0 || len(e.graph.sent) != 1 {
		t.Fatalf("the live message: failures %v, %d sends", f, len(e.graph.sent))
	}
}
