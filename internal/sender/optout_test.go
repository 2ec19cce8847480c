package sender_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/sender"
	"github.com/pytake/pytake/internal/store"
)

// A campaign's message queued before its contact opted out is not sent:
// the sender reads the contact's opt-out right before the send, fails the
// message with the reason, and counts the campaign's recipient skipped
// (opted_out). A message that is neither bulk nor marketing (a service
// reply, a utility template) still goes to the same contact.
func TestOptOutAfterQueueingIsNotSent(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	tpl := json.RawMessage(`{"name":"promo","language":{"code":"pt_BR"}}`)
	c, err := e.st.CreateCampaign(ctx, store.Campaign{OrgID: e.org, Name: "Promo", Template: tpl, Tags: []string{"vip"},
		Status: store.CampaignRunning, Recipients: 1})
	require.NoError(t, err)
	res, err := e.st.AcceptOutbound(ctx, store.OutboundMessage{OrgID: e.org, To: store.Identity{WaID: "5511900000091"},
		Type: "template", Content: tpl, Bulk: true, Marketing: true, CampaignID: c.ID})
	require.NoError(t, err)
	ct := res.Message.ContactID
	rc, _, err := e.st.ClaimRecipient(ctx, e.org, c.ID, store.Contact{ID: ct})
	require.NoError(t, err)
	rc.Status, rc.MessageID = store.RecipientQueued, res.Message.ID
	require.NoError(t, e.st.RecordRecipient(ctx, rc))
	// A utility message to the same contact, queued too.
	other, err := e.st.AcceptOutbound(ctx, store.OutboundMessage{OrgID: e.org, ContactID: ct,
		Type: "template", Content: json.RawMessage(`{"name":"order_update","language":{"code":"pt_BR"}}`)})
	require.NoError(t, err)

	_, _, err = e.st.OptOutContact(ctx, e.org, ct, store.OptOut{Reason: store.OptOutKeyword, Detail: "PARAR"})
	require.NoError(t, err)

	require.Empty(t, e.handle(t, record(e.org, res.Message), record(e.org, other.Message)))
	require.Len(t, e.graph.sent, 1, "only the utility message reaches Meta")
	require.Contains(t, e.graph.sent[0], "order_update")
	got := e.msg(t, res.Message.ID)
	require.Equal(t, store.StatusFailed, got.Status)
	require.NotNil(t, got.Error)
	require.Equal(t, "contact_opted_out", got.Error.Title)
	require.Contains(t, got.Error.Message, "opted out")
	require.Len(t, e.evs.Named(event.MessageFailed), 1)
	rs, err := e.st.CampaignRecipients(ctx, e.org, c.ID, "", "", 10)
	require.NoError(t, err)
	require.Len(t, rs.Items, 1)
	require.Equal(t, store.RecipientSkipped, rs.Items[0].Status)
	require.Equal(t, "opted_out", rs.Items[0].SkipReason)
	require.Equal(t, store.StatusAccepted, e.msg(t, other.Message.ID).Status)
}

func record(org string, m store.Message) events.SQSMessage {
	body, _ := json.Marshal(sender.Job{OrgID: org, MessageID: m.ID})
	return events.SQSMessage{MessageId: "sqs-" + m.ID, ReceiptHandle: "rh-" + m.ID, Body: string(body),
		Attributes: map[string]string{"MessageGroupId": org + ":" + m.ContactID + ":" + m.ID}}
}
