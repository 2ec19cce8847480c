package inbound_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/id"
	"github.com/pytake/pytake/internal/store"
)

// sentWithCopy stores an outbound message to waID as the sender leaves it
// sent (wamid recorded), with the copy of its contact and conversation
// accepting it keeps for its events.
func sentWithCopy(t *testing.T, f *fixture, waID, wamid string) store.OutboundResult {
	t.Helper()
	ctx := context.Background()
	r, err := f.store.AcceptOutbound(ctx, store.OutboundMessage{OrgID: f.org, To: store.Identity{WaID: waID},
		Type: "template", Content: json.RawMessage(`{"name":"hello","language":{"code":"pt_BR"}}`)})
	require.NoError(t, err)
	m := store.Message{ID: id.New(id.Message, f.now), OrgID: f.org, ConversationID: r.Conversation.ID, ContactID: r.Contact.ID,
		Direction: store.Outbound, WAMID: wamid, Type: "template", Content: r.Message.Content, Status: store.StatusAccepted,
		Timestamp: f.now, CreatedAt: f.now, Context: &store.MessageContext{Contact: r.Contact, Conversation: r.Conversation}}
	require.NoError(t, f.store.InsertMessage(ctx, m))
	r.Message = m
	return r
}

func statusBody(wamid, status, recipient string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"` + wabaID + `","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":"` + phoneID + `"},"statuses":[{"id":"` + wamid + `","status":"` + status + `","timestamp":"1796040000","recipient_id":"` + recipient + `"}]}}]}]}`)
}

// lastData is the data of the latest event of a name about a wamid.
func lastData(t *testing.T, f *fixture, name, wamid string) event.MessageData {
	t.Helper()
	var out *event.MessageData
	for _, e := range f.pub.Named(name) {
		var d event.MessageData
		require.NoError(t, json.Unmarshal(e.Data, &d))
		if d.Message.WAMID == wamid {
			out = &d
		}
	}
	require.NotNil(t, out, "no %s for %s", name, wamid)
	return *out
}

// Fault a: statuses of every message of a merged contact, not only the
// one whose send caused the merge, publish the surviving contact.
func TestStatusEventsAfterMergeShowSurvivor(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	one := sentWithCopy(t, f, "5511900000081", "wamid.M1")
	two := sentWithCopy(t, f, "5511900000082", "wamid.M2")
	three := sentWithCopy(t, f, "5511900000082", "wamid.M3")
	merge, err := f.store.MergeContacts(ctx, f.org, one.Contact.ID, two.Contact.ID, "")
	require.NoError(t, err)
	require.Equal(t, two.Contact.ID, three.Contact.ID)
	byWamid := map[string]store.OutboundResult{"wamid.M1": one, "wamid.M2": two, "wamid.M3": three}
	for wamid := range byWamid {
		resp := f.postSigned(statusBody(wamid, "delivered", "5511900000082"))
		require.Equal(t, 200, resp.StatusCode, resp.Body)
		d := lastData(t, f, event.MessageDelivered, wamid)
		require.Equal(t, merge.Survivor.ID, d.Contact.ID, "%s: the surviving contact", wamid)
		require.Equal(t, merge.Survivor.ID, d.Conversation.ContactID, "%s: its conversation moved to the survivor", wamid)
	}
}

// Fault b: a status after the conversation was resolved shows it
// resolved, and after it was reopened, open.
func TestStatusEventsAfterResolveShowConversationNow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := sentWithCopy(t, f, "5511900000083", "wamid.R1")
	_, err := f.store.ResolveConversation(ctx, f.org, r.Conversation.ID, 0, nil, nil)
	require.NoError(t, err)
	resp := f.postSigned(statusBody("wamid.R1", "delivered", "5511900000083"))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	require.Equal(t, store.ConversationResolved, lastData(t, f, event.MessageDelivered, "wamid.R1").Conversation.Status)

	_, err = f.store.ReopenConversation(ctx, f.org, r.Conversation.ID, nil)
	require.NoError(t, err)
	resp = f.postSigned(statusBody("wamid.R1", "read", "5511900000083"))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	require.Equal(t, store.ConversationOpen, lastData(t, f, event.MessageRead, "wamid.R1").Conversation.Status)
}
