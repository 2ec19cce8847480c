package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// keyLog is a DB recording the partition key of every item written and
// read.
type keyLog struct {
	store.DB
	mu            sync.Mutex
	writes, reads []string
}

func pkOf(k map[string]types.AttributeValue) string {
	if s, ok := k["pk"].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return "?"
}

func (l *keyLog) w(pk string) { l.mu.Lock(); l.writes = append(l.writes, pk); l.mu.Unlock() }
func (l *keyLog) r(pk string) { l.mu.Lock(); l.reads = append(l.reads, pk); l.mu.Unlock() }

func (l *keyLog) reset() (writes, reads []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	writes, reads, l.writes, l.reads = l.writes, l.reads, nil, nil
	return writes, reads
}

func (l *keyLog) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	l.r(pkOf(in.Key))
	return l.DB.GetItem(ctx, in, o...)
}

func (l *keyLog) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	for _, v := range in.ExpressionAttributeValues {
		if s, ok := v.(*types.AttributeValueMemberS); ok && strings.HasPrefix(s.Value, "ORG#") && aws.ToString(in.IndexName) == "" {
			l.r(s.Value)
			break
		}
	}
	return l.DB.Query(ctx, in, o...)
}

func (l *keyLog) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	for _, ka := range in.RequestItems {
		for _, k := range ka.Keys {
			l.r(pkOf(k))
		}
	}
	return l.DB.BatchGetItem(ctx, in, o...)
}

func (l *keyLog) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	l.w(pkOf(in.Item))
	return l.DB.PutItem(ctx, in, o...)
}

func (l *keyLog) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	l.w(pkOf(in.Key))
	return l.DB.UpdateItem(ctx, in, o...)
}

func (l *keyLog) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		switch {
		case it.Put != nil:
			l.w(pkOf(it.Put.Item))
		case it.Update != nil:
			l.w(pkOf(it.Update.Key))
		case it.Delete != nil:
			l.w(pkOf(it.Delete.Key))
		case it.ConditionCheck != nil:
			l.w(pkOf(it.ConditionCheck.Key)) // billed as a write
		}
	}
	return l.DB.TransactWriteItems(ctx, in, o...)
}

func count(keys []string, pk string) int {
	n := 0
	for _, k := range keys {
		if k == pk {
			n++
		}
	}
	return n
}

// loggedTable is a store whose reads and writes are logged by key.
func loggedTable(t *testing.T) (*store.Store, *keyLog, *clock, *storetest.Table) {
	t.Helper()
	tbl, c := newTable(t)
	log := &keyLog{DB: tbl.Client}
	return store.New(log, tbl.Name, c.Now), log, c, tbl
}

func template(org, to string) store.OutboundMessage {
	return store.OutboundMessage{OrgID: org, To: store.Identity{WaID: to}, Type: "template",
		Content: json.RawMessage(`{"name":"hello","language":{"code":"pt_BR"}}`)}
}

// openConversation creates an organisation and, with a template message
// to waID, its contact and that contact's open conversation.
func openConversation(t *testing.T, s *store.Store, waID string) (store.Organization, store.OutboundResult) {
	t.Helper()
	ctx := context.Background()
	org, err := s.CreateOrganization(ctx, "A")
	require.NoError(t, err)
	r, err := s.AcceptOutbound(ctx, template(org.ID, waID))
	require.NoError(t, err)
	return org, r
}

// A message to a contact with an open conversation writes nothing to the
// organisation's partition (ORG#<org>, shared by all its contacts and
// conversations): the conversation's count and last message time move on
// the contact's open-conversation pointer. Its statuses' events read their
// contact and conversation from the message's copy. The conversation
// still counts every message, through resolve and reopen.
func TestHotKeysOutboundToOpenConversation(t *testing.T) {
	s, log, _, _ := loggedTable(t)
	ctx := context.Background()
	org, first := openConversation(t, s, "5511900000001")
	tagged := first.Contact
	tagged.Tags = []string{"vip"}
	_, err := s.SaveContact(ctx, tagged, nil)
	require.NoError(t, err)

	log.reset()
	var last store.OutboundResult
	for range 3 {
		last, err = s.AcceptOutbound(ctx, template(org.ID, "5511900000001"))
		require.NoError(t, err)
	}
	writes, _ := log.reset()
	require.Zero(t, count(writes, "ORG#"+org.ID), "writes to ORG#<org> for 3 messages to an open conversation: %v", writes)
	require.Equal(t, first.Conversation.ID, last.Conversation.ID)

	conv, err := s.Conversation(ctx, org.ID, first.Conversation.ID)
	require.NoError(t, err)
	require.Equal(t, 4, conv.MessageCount, "every message counts")
	require.Equal(t, last.Message.Timestamp.UTC(), conv.LastMessageAt.UTC())
	page, err := s.Conversations(ctx, org.ID, "", "", "", 10)
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	require.Equal(t, 4, page.Items[0].MessageCount, "listed")
	page, err = s.Conversations(ctx, org.ID, "", first.Contact.ID, "", 10)
	require.NoError(t, err)
	require.Equal(t, 4, page.Items[0].MessageCount, "listed by contact")

	// The events' context: the copy on the message (the contact as it
	// was accepted, tags included), with nothing read from ORG#<org>.
	m, err := s.Message(ctx, org.ID, last.Message.ID)
	require.NoError(t, err)
	log.reset()
	ct, cv, err := s.EventContext(ctx, m)
	require.NoError(t, err)
	_, reads := log.reset()
	require.Equal(t, []string{"ORG#" + org.ID + "#CONV#" + first.Conversation.ID, "ORG#" + org.ID + "#CONTACT#" + first.Contact.ID}, reads,
		"the event context of a message accepted with its copy: its conversation's event view and its contact's merge redirect, outside ORG#<org>")
	require.Equal(t, []string{"vip"}, ct.Tags)
	require.Equal(t, first.Contact.ID, ct.ID)
	require.Equal(t, store.ConversationOpen, cv.Status)
	require.Equal(t, first.Conversation.ID, cv.ID)

	// Resolved: the count folds into the conversation; reopened and
	// written to again, it goes on counting.
	res, err := s.ResolveConversation(ctx, org.ID, conv.ID, 0, nil, nil)
	require.NoError(t, err)
	require.Equal(t, 4, res.MessageCount, "resolved")
	_, err = s.ReopenConversation(ctx, org.ID, conv.ID, nil)
	require.NoError(t, err)
	_, err = s.AcceptOutbound(ctx, template(org.ID, "5511900000001"))
	require.NoError(t, err)
	conv, err = s.Conversation(ctx, org.ID, conv.ID)
	require.NoError(t, err)
	require.Equal(t, 5, conv.MessageCount, "reopened")
	res, err = s.ResolveConversation(ctx, org.ID, conv.ID, 0, nil, nil)
	require.NoError(t, err)
	require.Equal(t, 5, res.MessageCount, "resolved again")
}

// A message stored before the copy was kept (no event_contact) still gets
// its context, read from the contact and conversation.
func TestHotKeysEventContextOfOlderMessages(t *testing.T) {
	s, _, tbl := newStore(t)
	ctx := context.Background()
	org, r := openConversation(t, s, "5511900000002")
	// The item as it was stored before: without the copy.
	k := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "ORG#" + org.ID + "#MSG#" + r.Message.ID},
		"sk": &types.AttributeValueMemberS{Value: "MSG"},
	}
	out, err := tbl.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl.Name), Key: k})
	require.NoError(t, err)
	require.Contains(t, out.Item, "event_contact")
	delete(out.Item, "event_contact")
	delete(out.Item, "event_conversation")
	_, err = tbl.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tbl.Name), Item: out.Item})
	require.NoError(t, err)
	m, err := s.Message(ctx, org.ID, r.Message.ID)
	require.NoError(t, err)
	require.Nil(t, m.Context)
	ct, cv, err := s.EventContext(ctx, m)
	require.NoError(t, err)
	require.Equal(t, r.Contact.ID, ct.ID)
	require.Equal(t, r.Conversation.ID, cv.ID)
}

// A merge keeps the counts of the merged contact's open conversation:
// whether it moves to the survivor (open) or is resolved, its item holds
// every message.
func TestHotKeysMergeKeepsCounts(t *testing.T) {
	for _, survivorOpen := range []bool{false, true} {
		s, c, _ := newStore(t)
		ctx := context.Background()
		org, older := openConversation(t, s, "5511900000010")
		if !survivorOpen {
			_, err := s.ResolveConversation(ctx, org.ID, older.Conversation.ID, 0, nil, nil)
			require.NoError(t, err)
		}
		c.Add(time.Minute)
		newer, err := s.AcceptOutbound(ctx, template(org.ID, "5511900000011"))
		require.NoError(t, err)
		for range 2 {
			_, err = s.AcceptOutbound(ctx, template(org.ID, "5511900000011"))
			require.NoError(t, err)
		}
		m, err := s.MergeContacts(ctx, org.ID, older.Contact.ID, newer.Contact.ID, "")
		require.NoError(t, err)
		require.Equal(t, older.Contact.ID, m.Survivor.ID)
		conv, err := s.Conversation(ctx, org.ID, newer.Conversation.ID)
		require.NoError(t, err)
		require.Equal(t, 3, conv.MessageCount, "survivor had an open conversation: %v", survivorOpen)
		require.Equal(t, older.Contact.ID, conv.ContactID)
		if survivorOpen {
			require.Equal(t, store.ConversationResolved, conv.Status)
			continue
		}
		require.Equal(t, store.ConversationOpen, conv.Status)
		_, err = s.AcceptOutbound(ctx, template(org.ID, "5511900000010"))
		require.NoError(t, err)
		conv, err = s.Conversation(ctx, org.ID, newer.Conversation.ID)
		require.NoError(t, err)
		require.Equal(t, 4, conv.MessageCount, "a message to the survivor after the merge")
	}
}

// A marketing message to a contact with an open conversation writes
// nothing to ORG#<org> either: that the contact has not opted out
// meanwhile is checked on its open pointer, which an opt-out marks (and
// an opt-in clears) in the same transaction as the contact.
func TestHotKeysMarketingToOpenConversation(t *testing.T) {
	s, log, _, tbl := loggedTable(t)
	ctx := context.Background()
	org, first := openConversation(t, s, "5511900000020")
	mkt := store.OutboundMessage{OrgID: org.ID, ContactID: first.Contact.ID, Type: "template", Marketing: true,
		Content: json.RawMessage(`{"name":"promo","language":{"code":"pt_BR"}}`)}
	log.reset()
	_, err := s.AcceptOutbound(ctx, mkt)
	require.NoError(t, err)
	writes, _ := log.reset()
	require.Zero(t, count(writes, "ORG#"+org.ID), "a marketing message to an open conversation: %v", writes)

	pointer := func() map[string]types.AttributeValue {
		out, err := tbl.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl.Name), Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "ORG#" + org.ID + "#CONTACT#" + first.Contact.ID},
			"sk": &types.AttributeValueMemberS{Value: "OPENCONV"}}})
		require.NoError(t, err)
		return out.Item
	}
	_, changed, err := s.OptOutContact(ctx, org.ID, first.Contact.ID, store.OptOut{Reason: store.OptOutKeyword, Detail: "PARAR"})
	require.NoError(t, err)
	require.True(t, changed)
	v, ok := pointer()["opted_out_at"].(*types.AttributeValueMemberS)
	require.True(t, ok, "the opt-out marks the open pointer")
	require.NotEmpty(t, v.Value)
	_, err = s.AcceptOutbound(ctx, mkt)
	require.Error(t, err, "opted out")
	conv, err := s.Conversation(ctx, org.ID, first.Conversation.ID)
	require.NoError(t, err)
	require.Equal(t, 2, conv.MessageCount, "the pointer's counts survive its marking")

	_, err = s.OptInContact(ctx, org.ID, first.Contact.ID, nil)
	require.NoError(t, err)
	v, _ = pointer()["opted_out_at"].(*types.AttributeValueMemberS)
	require.True(t, v == nil || v.Value == "", "the opt-in clears the mark")
	_, err = s.AcceptOutbound(ctx, mkt)
	require.NoError(t, err, "opted in again")
}

// RefreshEventContext (the sender calls it after a merge) copies the
// contact and conversation as they are now onto the message.
func TestHotKeysRefreshEventContext(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	org, r := openConversation(t, s, "5511900000030")
	edited := r.Contact
	edited.Name = "Ana"
	_, err := s.SaveContact(ctx, edited, nil)
	require.NoError(t, err)
	m, err := s.Message(ctx, org.ID, r.Message.ID)
	require.NoError(t, err)
	ct, _, err := s.EventContext(ctx, m)
	require.NoError(t, err)
	require.Empty(t, ct.Name, "the copy is the contact as accepted")
	require.NoError(t, s.RefreshEventContext(ctx, org.ID, r.Message.ID, r.Contact.ID, r.Conversation.ID))
	m, err = s.Message(ctx, org.ID, r.Message.ID)
	require.NoError(t, err)
	ct, cv, err := s.EventContext(ctx, m)
	require.NoError(t, err)
	require.Equal(t, "Ana", ct.Name)
	require.Equal(t, r.Conversation.ID, cv.ID)
}
