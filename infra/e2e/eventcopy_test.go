//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/infra/local/stack"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/whatsapp"
)

// A status that arrives after its conversation was resolved (PATCH) shows
// the conversation resolved in its event, and the contact it was sent to:
// the message's copy with the conversation's event view overlaid, read by
// the webhook function from the local stack's DynamoDB.
func TestStatusEventAfterResolveShowsResolved(t *testing.T) {
	ctx := context.Background()
	const from = "5511966660007"
	_, status, err := st.Sim.Inbound(ctx, graphsim.Inbound{From: from, Name: "Lia", Text: "event copy e2e"})
	require.NoError(t, err, "inbound: %d %v", status, err)
	require.Equal(t, 200, status, "inbound")
	code, id := send(t, `{"to":"+`+from+`","text":"Olá Lia"}`)
	require.Equal(t, 202, code, "send: %d", code)
	m := waitMessage(t, id, 30*time.Second, func(m store.Message) bool { return m.Status == store.StatusRead })

	sub := newSubscriber(t)
	subscribe(t, sub, "message.failed")
	r := do(t, "PATCH", "/v1/conversations/"+m.ConversationID, demo.APIKey.Key, []byte(`{"status":"resolved"}`))
	require.Equal(t, 200, r.Status, "resolve: %d %s", r.Status, r.Body)

	// Meta reports a failure of the message after the resolve.
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[{"id":"` +
		m.WAMID + `","status":"failed","timestamp":"` + strconv.FormatInt(time.Now().Unix(), 10) + `","recipient_id":"` + from + `","errors":[{"code":131026,"title":"Message undeliverable"}]}]}}]}]}`)
	r = do(t, "POST", "/webhooks/whatsapp", "", body, "X-Hub-Signature-256", whatsapp.Sign(body, []byte(stack.DemoAppSecret)))
	require.Equal(t, 200, r.Status, "status: %d %s", r.Status, r.Body)

	got := sub.wait(t, 1, 60*time.Second)
	var ev struct {
		Event string `json:"event"`
		Data  struct {
			Contact      struct{ ID string }         `json:"contact"`
			Conversation struct{ ID, Status string } `json:"conversation"`
			Message      struct{ ID string }         `json:"message"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(got[0].body, &ev), "%s", got[0].body)
	require.Equal(t, "message.failed", ev.Event)
	require.Equal(t, id, ev.Data.Message.ID)
	require.Equal(t, m.ContactID, ev.Data.Contact.ID)
	require.Equal(t, m.ConversationID, ev.Data.Conversation.ID)
	require.Equal(t, store.ConversationResolved, ev.Data.Conversation.Status, "the conversation as it is, resolved: %s", got[0].body)
}
