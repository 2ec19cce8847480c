package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/store"
)

// A merge gives the survivor the merged contact's opt-out: a marketing
// message queued into the survivor's open conversation before the merge
// must see it before it is sent (ContactOptOut), and a new one be refused
// on the pointer's condition — whichever open pointer the survivor keeps.
func TestRev2MergeMarksSurvivorPointer(t *testing.T) {
	for _, survivorOpen := range []bool{true, false} {
		s, c, _ := newStore(t)
		ctx := context.Background()
		org, older := openConversation(t, s, "5511900000040")
		if !survivorOpen {
			_, err := s.ResolveConversation(ctx, org.ID, older.Conversation.ID, 0, nil, nil)
			require.NoError(t, err)
		}
		c.Add(time.Minute)
		newer, err := s.AcceptOutbound(ctx, template(org.ID, "5511900000041"))
		require.NoError(t, err)
		_, _, err = s.OptOutContact(ctx, org.ID, newer.Contact.ID, store.OptOut{Reason: store.OptOutKeyword, Detail: "PARAR"})
		require.NoError(t, err)
		m, err := s.MergeContacts(ctx, org.ID, older.Contact.ID, newer.Contact.ID, "")
		require.NoError(t, err)
		require.NotNil(t, m.Survivor.OptOut, "the survivor takes the opt-out")
		open := older.Conversation.ID
		if !survivorOpen {
			open = newer.Conversation.ID
		}
		oo, err := s.ContactOptOut(ctx, org.ID, older.Contact.ID, open)
		require.NoError(t, err)
		require.NotNil(t, oo, "survivor had an open conversation: %v", survivorOpen)
	}
}

// Reopening a conversation puts its pointer again: for a contact that
// opted out meanwhile it must carry the mark, or a marketing message
// queued into that conversation (a scheduled one) passes the sender's
// opt-out check.
func TestRev2ReopenMarksPointer(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	org, r := openConversation(t, s, "5511900000042")
	_, err := s.ResolveConversation(ctx, org.ID, r.Conversation.ID, 0, nil, nil)
	require.NoError(t, err)
	_, _, err = s.OptOutContact(ctx, org.ID, r.Contact.ID, store.OptOut{Reason: store.OptOutKeyword, Detail: "PARAR"})
	require.NoError(t, err)
	_, err = s.ReopenConversation(ctx, org.ID, r.Conversation.ID, nil)
	require.NoError(t, err)
	oo, err := s.ContactOptOut(ctx, org.ID, r.Contact.ID, r.Conversation.ID)
	require.NoError(t, err)
	require.NotNil(t, oo, "opted out before the reopen")
}

// A conversation opened after the contact opted out (the customer writes
// again) gets a pointer that carries the opt-out: a bulk or marketing
// message into it must not pass the sender's opt-out check.
func TestRev2NewConversationPointerCarriesOptOut(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, err := s.CreateOrganization(ctx, "A")
	require.NoError(t, err)
	first, err := s.RecordInbound(ctx, text(org.ID, "wamid.r1", "5511900000043", "Ana", c.Now()))
	require.NoError(t, err)
	_, _, err = s.OptOutContact(ctx, org.ID, first.Contact.ID, store.OptOut{Reason: store.OptOutKeyword, Detail: "PARAR"})
	require.NoError(t, err)
	_, err = s.ResolveConversation(ctx, org.ID, first.Conversation.ID, 0, nil, nil)
	require.NoError(t, err)
	c.Add(time.Minute)
	again, err := s.RecordInbound(ctx, text(org.ID, "wamid.r2", "5511900000043", "Ana", c.Now()))
	require.NoError(t, err)
	require.True(t, again.ConversationCreated)
	oo, err := s.ContactOptOut(ctx, org.ID, first.Contact.ID, again.Conversation.ID)
	require.NoError(t, err)
	require.NotNil(t, oo, "opened by an inbound message after the opt-out")

	_, err = s.ResolveConversation(ctx, org.ID, again.Conversation.ID, 0, nil, nil)
	require.NoError(t, err)
	out, err := s.AcceptOutbound(ctx, template(org.ID, "5511900000043"))
	require.NoError(t, err)
	oo, err = s.ContactOptOut(ctx, org.ID, first.Contact.ID, out.Conversation.ID)
	require.NoError(t, err)
	require.NotNil(t, oo, "opened by a (non-marketing) outbound message after the opt-out")
}

// A pointer written before pointers were marked (no opted_out_at at all)
// says nothing of the opt-out: a contact that opted out then, with that
// pointer still open, must not pass the sender's opt-out check.
func TestRev2PointerFromBeforeTheMark(t *testing.T) {
	tbl, c := newTable(t)
	s := store.New(tbl.Client, tbl.Name, c.Now)
	ctx := context.Background()
	org, r := openConversation(t, s, "5511900000044")
	_, _, err := s.OptOutContact(ctx, org.ID, r.Contact.ID, store.OptOut{Reason: store.OptOutKeyword, Detail: "PARAR"})
	require.NoError(t, err)
	// As it was written before this change (and left by the opt-out then).
	_, err = tbl.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tbl.Name), Item: map[string]types.AttributeValue{
		"pk":              &types.AttributeValueMemberS{Value: "ORG#" + org.ID + "#CONTACT#" + r.Contact.ID},
		"sk":              &types.AttributeValueMemberS{Value: "OPENCONV"},
		"type":            &types.AttributeValueMemberS{Value: "open_conversation"},
		"conversation_id": &types.AttributeValueMemberS{Value: r.Conversation.ID}}})
	require.NoError(t, err)
	oo, err := s.ContactOptOut(ctx, org.ID, r.Contact.ID, r.Conversation.ID)
	require.NoError(t, err)
	require.NotNil(t, oo, "a pointer from before the mark")
}

// Deleting a contact deletes its open pointer: the outbound messages it
// counted move into the conversation, which stays for history.
func TestRev2DeleteContactKeepsCounts(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	org, r := openConversation(t, s, "5511900000045")
	for range 2 {
		_, err := s.AcceptOutbound(ctx, template(org.ID, "5511900000045"))
		require.NoError(t, err)
	}
	require.NoError(t, s.DeleteContact(ctx, org.ID, r.Contact.ID))
	conv, err := s.Conversation(ctx, org.ID, r.Conversation.ID)
	require.NoError(t, err)
	require.Equal(t, 3, conv.MessageCount)
	require.NotNil(t, conv.LastMessageAt)
}

// Two open conversations of one contact (an older inconsistency the store
// tolerates elsewhere) on one page: the list reads their pointer once
// (BatchGetItem refuses a request that names a key twice).
func TestRev2ListTwoOpenOfOneContact(t *testing.T) {
	tbl, c := newTable(t)
	s := store.New(noDuplicateKeys{tbl.Client}, tbl.Name, c.Now)
	ctx := context.Background()
	org, r := openConversation(t, s, "5511900000046")
	out, err := tbl.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl.Name), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "ORG#" + org.ID},
		"sk": &types.AttributeValueMemberS{Value: "CONV#" + r.Conversation.ID}}})
	require.NoError(t, err)
	other := out.Item
	other["sk"] = &types.AttributeValueMemberS{Value: "CONV#" + r.Conversation.ID + "x"}
	other["id"] = &types.AttributeValueMemberS{Value: r.Conversation.ID + "x"}
	_, err = tbl.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tbl.Name), Item: other})
	require.NoError(t, err)
	page, err := s.Conversations(ctx, org.ID, "", "", "", 50)
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
}

// noDuplicateKeys refuses a BatchGetItem naming a key twice, as DynamoDB
// does ("Provided list of item keys contains duplicates"); the local
// table does not.
type noDuplicateKeys struct{ store.DB }

func (d noDuplicateKeys) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	for _, ka := range in.RequestItems {
		seen := map[string]bool{}
		for _, k := range ka.Keys {
			id := pkOf(k) + "|" + k["sk"].(*types.AttributeValueMemberS).Value
			if seen[id] {
				return nil, errors.New("ValidationException: Provided list of item keys contains duplicates")
			}
			seen[id] = true
		}
	}
	return d.DB.BatchGetItem(ctx, in, o...)
}
