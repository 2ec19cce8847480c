package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/store"
)

// loggedStore is a store whose reads and writes are logged by key, with
// an organisation.
func loggedStore(t *testing.T) (*store.Store, *keyLog, *clock, store.Organization) {
	t.Helper()
	s, log, c, _ := loggedTable(t)
	org, err := s.CreateOrganization(context.Background(), "A")
	require.NoError(t, err)
	return s, log, c, org
}

// eventContextOf is what a status of message id publishes: the message as
// the status path reads it, then its event context, with the partition
// keys it read.
func eventContextOf(t *testing.T, s *store.Store, log *keyLog, org, id string) (store.Contact, store.Conversation, []string) {
	t.Helper()
	ctx := context.Background()
	m, err := s.Message(ctx, org, id)
	require.NoError(t, err)
	log.reset()
	ct, cv, err := s.EventContext(ctx, m)
	require.NoError(t, err)
	_, reads := log.reset()
	return ct, cv, reads
}

// Fault a: after a merge, every message of the merged contact (not only
// the one whose send caused it) publishes the survivor's id, and its
// conversation (moved to the survivor) names the survivor; a chain of
// merges is followed. Nothing of ORG#<org> is read.
func TestEventCopyFollowsMerges(t *testing.T) {
	s, log, c, org := loggedStore(t)
	ctx := context.Background()
	oldest, err := s.AcceptOutbound(ctx, template(org.ID, "5511900000050"))
	require.NoError(t, err)
	_, err = s.ResolveConversation(ctx, org.ID, oldest.Conversation.ID, 0, nil, nil)
	require.NoError(t, err)
	c.Add(time.Minute)
	middle, err := s.AcceptOutbound(ctx, template(org.ID, "5511900000051"))
	require.NoError(t, err)
	c.Add(time.Minute)
	newest, err := s.AcceptOutbound(ctx, template(org.ID, "5511900000052"))
	require.NoError(t, err)
	other, err := s.AcceptOutbound(ctx, template(org.ID, "5511900000052")) // another message of the same contact
	require.NoError(t, err)

	// newest into middle: both of newest's messages show middle.
	m1, err := s.MergeContacts(ctx, org.ID, middle.Contact.ID, newest.Contact.ID, "")
	require.NoError(t, err)
	require.Equal(t, middle.Contact.ID, m1.Survivor.ID)
	for _, id := range []string{newest.Message.ID, other.Message.ID} {
		ct, cv, reads := eventContextOf(t, s, log, org.ID, id)
		require.Equal(t, middle.Contact.ID, ct.ID, "message %s after one merge", id)
		require.Equal(t, middle.Contact.ID, cv.ContactID, "its conversation moved to the survivor")
		require.Equal(t, newest.Conversation.ID, cv.ID)
		require.Zero(t, count(reads, "ORG#"+org.ID), "reads: %v", reads)
	}

	// middle into oldest: newest's messages follow the chain.
	m2, err := s.MergeContacts(ctx, org.ID, oldest.Contact.ID, middle.Contact.ID, "")
	require.NoError(t, err)
	require.Equal(t, oldest.Contact.ID, m2.Survivor.ID)
	for _, id := range []string{newest.Message.ID, other.Message.ID, middle.Message.ID} {
		ct, cv, reads := eventContextOf(t, s, log, org.ID, id)
		require.Equal(t, oldest.Contact.ID, ct.ID, "message %s after two merges", id)
		require.Equal(t, "5511900000050", ct.WhatsAppID, "the survivor as merged")
		require.Equal(t, oldest.Contact.ID, cv.ContactID)
		require.Zero(t, count(reads, "ORG#"+org.ID), "reads: %v", reads)
	}
	// The survivor's own message is unchanged.
	ct, _, _ := eventContextOf(t, s, log, org.ID, oldest.Message.ID)
	require.Equal(t, oldest.Contact.ID, ct.ID)
}

// Fault b: after a resolve, a reopen or a handoff, statuses of the
// conversation's earlier messages show it as it is, not as it was when
// they were accepted; nothing of ORG#<org> is read.
func TestEventCopyFollowsConversation(t *testing.T) {
	s, log, c, org := loggedStore(t)
	ctx := context.Background()
	r, err := s.AcceptOutbound(ctx, template(org.ID, "5511900000060"))
	require.NoError(t, err)

	check := func(what, status string, handoff bool) {
		t.Helper()
		_, cv, reads := eventContextOf(t, s, log, org.ID, r.Message.ID)
		require.Equal(t, r.Conversation.ID, cv.ID, what)
		require.Equal(t, status, cv.Status, what)
		require.Equal(t, handoff, cv.Handoff, what)
		require.Equal(t, r.Contact.ID, cv.ContactID, what)
		require.Zero(t, count(reads, "ORG#"+org.ID), "%s: reads %v", what, reads)
	}
	check("accepted", store.ConversationOpen, false)
	_, changed, err := s.HandoffConversation(ctx, org.ID, r.Conversation.ID, true, nil)
	require.NoError(t, err)
	require.True(t, changed)
	check("handed off", store.ConversationOpen, true)
	c.Add(time.Second)
	_, err = s.ResolveConversation(ctx, org.ID, r.Conversation.ID, 0, nil, nil)
	require.NoError(t, err)
	check("resolved", store.ConversationResolved, true)
	c.Add(time.Second)
	_, err = s.ReopenConversation(ctx, org.ID, r.Conversation.ID, nil)
	require.NoError(t, err)
	check("reopened", store.ConversationOpen, true)
	c.Add(time.Second)
	_, _, err = s.HandoffConversation(ctx, org.ID, r.Conversation.ID, false, func(store.Conversation) ([]json.RawMessage, error) { return nil, nil })
	require.NoError(t, err)
	check("handed back", store.ConversationOpen, false)
}

// Fault c: a message with the largest content PyTake stores (180 KB) to a
// contact with the most tags and attributes the API takes (50 of each, at
// their longest, in 4-byte characters) stays under DynamoDB's 400 KB item
// limit, with room for its statuses' fields: the copy leaves the tags and
// attributes out (its events say so with contact.partial).
func TestEventCopyBoundedSize(t *testing.T) {
	tbl, c := newTable(t)
	s := store.New(tbl.Client, tbl.Name, c.Now)
	ctx := context.Background()
	org, err := s.CreateOrganization(ctx, "A")
	require.NoError(t, err)
	wide := strings.Repeat("\U0001D11E", 1) // 4 bytes in UTF-8
	ct, err := s.CreateContact(ctx, store.Contact{OrgID: org.ID, WhatsAppID: "5511900000070", Name: strings.Repeat(wide, 256)}, nil)
	require.NoError(t, err)
	ct.Tags, ct.Attributes = nil, map[string]any{}
	for i := range 50 {
		ct.Tags = append(ct.Tags, fmt.Sprintf("%02d", i)+strings.Repeat(wide, 62))
		ct.Attributes[fmt.Sprintf("%02d", i)+strings.Repeat(wide, 62)] = strings.Repeat(wide, 1024)
	}
	_, err = s.SaveContact(ctx, ct, nil)
	require.NoError(t, err)

	body := strings.Repeat("x", 180<<10)
	msg := store.OutboundMessage{OrgID: org.ID, ContactID: ct.ID, Type: "template",
		Content: json.RawMessage(`{"name":"hello","language":{"code":"pt_BR"},"pad":"` + body + `"}`)}
	r, err := s.AcceptOutbound(ctx, msg)
	require.NoError(t, err)
	out, err := tbl.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl.Name), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "ORG#" + org.ID + "#MSG#" + r.Message.ID},
		"sk": &types.AttributeValueMemberS{Value: "MSG"}}})
	require.NoError(t, err)
	size := store.ItemSize(out.Item)
	// A failed status adds Meta's error (title, message, details: a few
	// KB) and the timestamps; 360 KB leaves it room.
	require.Less(t, size, 360<<10, "the message item with its copy: %d bytes", size)
	require.Contains(t, out.Item, "event_contact")

	m, err := s.Message(ctx, org.ID, r.Message.ID)
	require.NoError(t, err)
	got, _, err := s.EventContext(ctx, m)
	require.NoError(t, err)
	require.Equal(t, ct.ID, got.ID)
	require.Equal(t, "5511900000070", got.WhatsAppID)
	require.True(t, got.Partial, "the copy left the tags and attributes out")
	require.Empty(t, got.Attributes)

	// A contact whose tags and attributes are small keeps them whole.
	small, err := s.AcceptOutbound(ctx, template(org.ID, "5511900000071"))
	require.NoError(t, err)
	m, err = s.Message(ctx, org.ID, small.Message.ID)
	require.NoError(t, err)
	got, _, err = s.EventContext(ctx, m)
	require.NoError(t, err)
	require.False(t, got.Partial)
}
