package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// The forms of one Brazilian mobile are one contact, whichever came first.
func TestPhoneFormsAreOneContact(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	in, err := s.RecordInbound(ctx, text(org.ID, "wamid.f1", "551187654321", "Maria", c.Now()))
	require.NoError(t, err)
	require.True(t, in.ContactCreated)

	// The integrator replies to the nine-digit form: the same contact, in
	// the window its message opened.
	out, err := s.AcceptOutbound(ctx, textOut(org.ID, "5511987654321"))
	require.NoError(t, err)
	assert.False(t, out.ContactCreated)
	assert.Equal(t, in.Contact.ID, out.Contact.ID)
	assert.Equal(t, in.Conversation.ID, out.Conversation.ID)
	assert.Equal(t, "551187654321", out.Message.To, "sent to the wa_id Meta gave")

	for _, form := range []string{"551187654321", "5511987654321"} {
		page, err := s.Contacts(ctx, org.ID, "", form, "", 10)
		require.NoError(t, err)
		require.Len(t, page.Items, 1, "Contacts(whatsapp_id=%s)", form)
		assert.Equal(t, in.Contact.ID, page.Items[0].ID)
	}
	_, err = s.CreateContact(ctx, store.Contact{OrgID: org.ID, WhatsAppID: "5511987654321"}, nil)
	require.True(t, apperr.Is(err, apperr.Conflict), "%v", err)
	ae, ok := apperr.As(err)
	require.True(t, ok)
	assert.Equal(t, "contact_exists", ae.Code)
	assert.Equal(t, in.Contact.ID, ae.Extra["existing_id"])

	// Created first with the nine digits, then Meta's webhook without them.
	ct, err := s.CreateContact(ctx, store.Contact{OrgID: org.ID, WhatsAppID: "5521998765432", Name: "Ana"}, nil)
	require.NoError(t, err)
	in2, err := s.RecordInbound(ctx, text(org.ID, "wamid.f2", "552198765432", "Ana", c.Now()))
	require.NoError(t, err)
	assert.False(t, in2.ContactCreated)
	assert.Equal(t, ct.ID, in2.Contact.ID)
	assert.Equal(t, "552198765432", in2.Contact.WhatsAppID, "Meta's wa_id is recorded")
	got, err := s.Contact(ctx, org.ID, ct.ID)
	require.NoError(t, err)
	assert.Equal(t, "552198765432", got.WhatsAppID)

	// Deleting releases every form.
	require.NoError(t, s.DeleteContact(ctx, org.ID, ct.ID))
	again, err := s.CreateContact(ctx, store.Contact{OrgID: org.ID, WhatsAppID: "552198765432"}, nil)
	require.NoError(t, err)
	assert.NotEqual(t, ct.ID, again.ID)
}

// legacyPair makes two contacts of one number as PyTake stored them before
// its forms were one: each holding only the form it was created with.
func legacyPair(t *testing.T, s *store.Store, c *clock, tbl *storetest.Table, org string) (older, newer store.Contact) {
	t.Helper()
	ctx := context.Background()
	older, err := s.CreateContact(ctx, store.Contact{OrgID: org, WhatsAppID: "5511987654321", Name: "Maria Silva",
		Email: "maria@example.com", Tags: []string{"customer"}, Attributes: map[string]any{"plan": "gold", "city": "SP"}}, nil)
	require.NoError(t, err)
	deleteIdent(t, tbl, org, "5511987654321")
	deleteIdent(t, tbl, org, "551187654321")
	c.Add(time.Second)
	newer, err = s.CreateContact(ctx, store.Contact{OrgID: org, WhatsAppID: "551187654321",
		Tags: []string{"vip", "customer"}, Attributes: map[string]any{"plan": "silver", "source": "shop"}}, nil)
	require.NoError(t, err)
	deleteIdent(t, tbl, org, "5511987654321")
	putIdent(t, tbl, org, "5511987654321", older.ID)
	return older, newer
}

func deleteIdent(t *testing.T, tbl *storetest.Table, org, wa string) {
	t.Helper()
	_, err := tbl.Client.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(tbl.Name),
		Key: mustAV(t, map[string]string{"pk": "ORG#" + org + "#IDENT#WA#" + wa, "sk": "IDENT"})})
	require.NoError(t, err)
}

func putIdent(t *testing.T, tbl *storetest.Table, org, wa, contactID string) {
	t.Helper()
	_, err := tbl.Client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(tbl.Name),
		Item: mustAV(t, map[string]string{"pk": "ORG#" + org + "#IDENT#WA#" + wa, "sk": "IDENT", "type": "identity", "contact_id": contactID})})
	require.NoError(t, err)
}

func mustAV(t *testing.T, m map[string]string) map[string]types.AttributeValue {
	t.Helper()
	av, err := attributevalue.MarshalMap(m)
	require.NoError(t, err)
	return av
}

// Meta's answer to a send names the wa_id: two contacts holding its forms
// are one person and are merged.
func TestRecordWhatsAppIDMergesLegacyDuplicates(t *testing.T) {
	s, c, tbl := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	older, newer := legacyPair(t, s, c, tbl, org.ID)
	c.Add(time.Minute)

	// Each has a conversation, opened by a template sent to the form it
	// holds (an integrator's input merges nothing: Meta's answer will).
	tpl := textOut(org.ID, "5511987654321")
	tpl.FreeForm, tpl.Type = false, "template"
	first, err := s.AcceptOutbound(ctx, tpl)
	require.NoError(t, err)
	require.Equal(t, older.ID, first.Contact.ID)
	tpl.To.WaID = "551187654321"
	in, err := s.AcceptOutbound(ctx, tpl)
	require.NoError(t, err)
	require.Equal(t, newer.ID, in.Contact.ID)

	surv, m, err := s.RecordWhatsAppID(ctx, org.ID, older.ID, "551187654321")
	require.NoError(t, err)
	require.NotNil(t, m, "no merge")
	assert.Equal(t, older.ID, surv.ID, "the older contact survives")
	assert.Equal(t, newer.ID, m.MergedID)
	assert.Equal(t, "551187654321", surv.WhatsAppID, "Meta's wa_id")
	assert.ElementsMatch(t, []string{"customer", "vip"}, surv.Tags)
	assert.Equal(t, map[string]any{"plan": "gold", "city": "SP", "source": "shop"}, surv.Attributes, "joined, the survivor's winning")
	assert.Equal(t, "Maria Silva", surv.Name)
	assert.Equal(t, "maria@example.com", surv.Email)

	// The old id answers the survivor; lists show one contact.
	got, err := s.Contact(ctx, org.ID, newer.ID)
	require.NoError(t, err)
	assert.Equal(t, older.ID, got.ID)
	page, err := s.Contacts(ctx, org.ID, "", "", "", 100)
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, older.ID, page.Items[0].ID)
	for _, form := range []string{"551187654321", "5511987654321"} {
		page, err := s.Contacts(ctx, org.ID, "", form, "", 10)
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		assert.Equal(t, older.ID, page.Items[0].ID, form)
	}

	// Both conversations are the survivor's, with their messages; its open
	// one is the older contact's, and the newer one's was resolved.
	convs, err := s.Conversations(ctx, org.ID, "", older.ID, "", 100)
	require.NoError(t, err)
	require.Len(t, convs.Items, 2)
	moved, err := s.Conversation(ctx, org.ID, in.Conversation.ID)
	require.NoError(t, err)
	assert.Equal(t, older.ID, moved.ContactID)
	assert.Equal(t, store.ConversationResolved, moved.Status)
	msgs, err := s.ConversationMessages(ctx, org.ID, in.Conversation.ID, "", 10)
	require.NoError(t, err)
	assert.Len(t, msgs.Items, 1)
	none, err := s.Conversations(ctx, org.ID, "", newer.ID, "", 100)
	require.NoError(t, err)
	assert.Empty(t, none.Items)

	// The customer writes: the survivor's open conversation, no merge
	// left to do, and a reply to either form goes out.
	again, err := s.RecordInbound(ctx, text(org.ID, "wamid.m2", "551187654321", "Maria", c.Now()))
	require.NoError(t, err)
	assert.Empty(t, again.Merges)
	assert.Equal(t, older.ID, again.Contact.ID)
	assert.Equal(t, first.Conversation.ID, again.Conversation.ID)
	reply, err := s.AcceptOutbound(ctx, textOut(org.ID, "5511987654321"))
	require.NoError(t, err)
	assert.Equal(t, older.ID, reply.Contact.ID)

	// Recording it again, or merging again, changes nothing.
	_, m2, err := s.RecordWhatsAppID(ctx, org.ID, older.ID, "551187654321")
	require.NoError(t, err)
	assert.Nil(t, m2)
	m3, err := s.MergeContacts(ctx, org.ID, newer.ID, older.ID, "")
	require.NoError(t, err)
	assert.True(t, m3.AlreadyMerged)
	assert.Equal(t, newer.ID, m3.MergedID)

	// PATCH and DELETE through the old id act on the survivor.
	got.Tags = append(got.Tags, "patched")
	saved, err := s.SaveContact(ctx, got, nil)
	require.NoError(t, err)
	assert.Equal(t, older.ID, saved.ID)
	require.NoError(t, s.DeleteContact(ctx, org.ID, newer.ID))
	_, err = s.Contact(ctx, org.ID, older.ID)
	assert.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
	_, err = s.Contact(ctx, org.ID, newer.ID)
	assert.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
}

// A contact known by BSUID only and one known by phone: Meta's webhook
// names both identities for one person, and they are merged before the
// message is stored.
func TestInboundMergesBSUIDAndPhoneContacts(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	byUser := store.OutboundMessage{OrgID: org.ID, To: store.Identity{UserID: "BR.13491208655302741918"}, Type: "template",
		Content: []byte(`{"name":"hello"}`)}
	a, err := s.AcceptOutbound(ctx, byUser)
	require.NoError(t, err)
	c.Add(time.Second)
	b, err := s.CreateContact(ctx, store.Contact{OrgID: org.ID, WhatsAppID: "5511987654321", Tags: []string{"lead"}}, nil)
	require.NoError(t, err)

	msg := text(org.ID, "wamid.u1", "551187654321", "Maria", c.Now())
	msg.From.UserID = "BR.13491208655302741918"
	res, err := s.RecordInbound(ctx, msg)
	require.NoError(t, err)
	require.Len(t, res.Merges, 1)
	assert.Equal(t, a.Contact.ID, res.Merges[0].Survivor.ID, "the older contact survives")
	assert.Equal(t, b.ID, res.Merges[0].MergedID)
	assert.Equal(t, a.Contact.ID, res.Contact.ID)
	assert.Equal(t, "551187654321", res.Contact.WhatsAppID)
	assert.Equal(t, "BR.13491208655302741918", res.Contact.UserID)
	assert.Equal(t, []string{"lead"}, res.Contact.Tags)
	assert.Equal(t, a.Conversation.ID, res.Conversation.ID, "the survivor's open conversation")

	// Redelivered by Meta: a duplicate, no second merge.
	require.NoError(t, s.MarkEventsSent(ctx, org.ID, "wamid.u1"))
	dup, err := s.RecordInbound(ctx, msg)
	require.NoError(t, err)
	assert.True(t, dup.Duplicate)
	assert.Empty(t, dup.Merges)
}

// Concurrent merges of the same pair (two senders learning the same wa_id,
// a retry) merge once and lose nothing.
func TestConcurrentMergesMergeOnce(t *testing.T) {
	s, c, tbl := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	older, newer := legacyPair(t, s, c, tbl, org.ID)
	c.Add(time.Minute)
	const n = 6
	var wg sync.WaitGroup
	results := make([]store.Merge, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, b := older.ID, newer.ID
			if i%2 == 1 {
				a, b = b, a
			}
			results[i], errs[i] = s.MergeContacts(ctx, org.ID, a, b, "551187654321")
		}()
	}
	wg.Wait()
	merged := 0
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, older.ID, results[i].Survivor.ID)
		if !results[i].AlreadyMerged {
			merged++
		}
	}
	assert.Equal(t, 1, merged, "merged %d times", merged)
	got, err := s.Contact(ctx, org.ID, older.ID)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"customer", "vip"}, got.Tags)
	assert.Equal(t, "551187654321", got.WhatsAppID)
}

// A tag added to the merged contact while the merge read it is not lost:
// the merge's condition fails and it reads again.
func TestMergeKeepsAConcurrentEdit(t *testing.T) {
	s, c, tbl := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	older, newer := legacyPair(t, s, c, tbl, org.ID)
	c.Add(time.Minute)
	var wg sync.WaitGroup
	wg.Add(2)
	var editErr, mergeErr error
	go func() {
		defer wg.Done()
		for attempt := 0; attempt < 10; attempt++ {
			cur, err := s.Contact(ctx, org.ID, newer.ID)
			if err != nil {
				editErr = err
				return
			}
			cur.Tags = append(cur.Tags, "edited")
			if _, editErr = s.SaveContact(ctx, cur, nil); editErr == nil || !apperr.Is(editErr, apperr.Conflict) {
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		_, mergeErr = s.MergeContacts(ctx, org.ID, older.ID, newer.ID, "")
	}()
	wg.Wait()
	require.NoError(t, mergeErr)
	require.NoError(t, editErr)
	got, err := s.Contact(ctx, org.ID, older.ID)
	require.NoError(t, err)
	assert.Contains(t, got.Tags, "edited", "the concurrent edit was lost: %v", got.Tags)
}

// Meta's webhook for one form of a number whose forms two contacts hold
// shows they are one: merged before the message is stored.
func TestInboundMergesLegacyDuplicates(t *testing.T) {
	s, c, tbl := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	older, newer := legacyPair(t, s, c, tbl, org.ID)
	res, err := s.RecordInbound(ctx, text(org.ID, "wamid.l1", "551187654321", "Maria", c.Now()))
	require.NoError(t, err)
	require.Len(t, res.Merges, 1)
	assert.Equal(t, older.ID, res.Merges[0].Survivor.ID)
	assert.Equal(t, newer.ID, res.Merges[0].MergedID)
	assert.Equal(t, older.ID, res.Contact.ID)
	assert.Equal(t, "551187654321", res.Contact.WhatsAppID)
}

// An identity item still pointing at a merged contact (as items of
// contacts from before a merge may) is the survivor's: a message from it
// is stored on the survivor, with no merge loop.
func TestStaleIdentityOfAMergedContact(t *testing.T) {
	s, c, tbl := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	older, newer := legacyPair(t, s, c, tbl, org.ID)
	_, err := s.MergeContacts(ctx, org.ID, older.ID, newer.ID, "")
	require.NoError(t, err)
	putIdent(t, tbl, org.ID, "551187654321", newer.ID) // left pointing at the merged contact

	res, err := s.RecordInbound(ctx, text(org.ID, "wamid.s1", "551187654321", "Maria", c.Now()))
	require.NoError(t, err)
	assert.Empty(t, res.Merges)
	assert.Equal(t, older.ID, res.Contact.ID)
	out, err := s.AcceptOutbound(ctx, textOut(org.ID, "551187654321"))
	require.NoError(t, err)
	assert.Equal(t, older.ID, out.Contact.ID)
	_, m, err := s.RecordWhatsAppID(ctx, org.ID, older.ID, "551187654321")
	require.NoError(t, err)
	assert.Nil(t, m)
	page, err := s.Contacts(ctx, org.ID, "", "551187654321", "", 10)
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, older.ID, page.Items[0].ID)
}

// Deleting a survivor releases the identities it took over from the
// contacts merged into it (here a number that is no form of its own): the
// number writing again, or created from the API, is a new contact, not an
// error naming the deleted one.
func TestDeleteSurvivorReleasesMergedIdentities(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	a, err := s.CreateContact(ctx, store.Contact{OrgID: org.ID, WhatsAppID: "14155550100"}, nil)
	require.NoError(t, err)
	c.Add(time.Second)
	b, err := s.CreateContact(ctx, store.Contact{OrgID: org.ID, WhatsAppID: "14155550199"}, nil)
	require.NoError(t, err)
	m, err := s.MergeContacts(ctx, org.ID, a.ID, b.ID, "")
	require.NoError(t, err)
	require.Equal(t, a.ID, m.Survivor.ID)
	require.NoError(t, s.DeleteContact(ctx, org.ID, a.ID))

	in, err := s.RecordInbound(ctx, text(org.ID, "wamid.d1", "14155550199", "Bo", c.Now()))
	require.NoError(t, err)
	assert.True(t, in.ContactCreated)
	require.NoError(t, s.DeleteContact(ctx, org.ID, in.Contact.ID))
	_, err = s.CreateContact(ctx, store.Contact{OrgID: org.ID, WhatsAppID: "14155550199"}, nil)
	require.NoError(t, err)
}

// The same, created from the API: the number is free, not a conflict
// naming the deleted contact.
func TestCreateContactOverDeletedSurvivorsIdentity(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	a, err := s.CreateContact(ctx, store.Contact{OrgID: org.ID, WhatsAppID: "14155550100"}, nil)
	require.NoError(t, err)
	c.Add(time.Second)
	b, err := s.CreateContact(ctx, store.Contact{OrgID: org.ID, WhatsAppID: "14155550199"}, nil)
	require.NoError(t, err)
	_, err = s.MergeContacts(ctx, org.ID, a.ID, b.ID, "")
	require.NoError(t, err)
	require.NoError(t, s.DeleteContact(ctx, org.ID, a.ID))

	got, err := s.CreateContact(ctx, store.Contact{OrgID: org.ID, WhatsAppID: "14155550199"}, nil)
	require.NoError(t, err)
	page, err := s.Contacts(ctx, org.ID, "", "14155550199", "", 10)
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, got.ID, page.Items[0].ID)
}

// failGSI1Query fails the first gsi1 query of one partition (a network
// error in the middle of a merge's conversation move).
type failGSI1Query struct {
	store.DB
	pk     string
	failed bool
}

func (d *failGSI1Query) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if v, ok := in.ExpressionAttributeValues[":p"].(*types.AttributeValueMemberS); ok && !d.failed &&
		aws.ToString(in.IndexName) == store.IndexGSI1 && v.Value == d.pk {
		d.failed = true
		return nil, errors.New("connection reset")
	}
	return d.DB.Query(ctx, in, opts...)
}

// A merge whose transaction committed but whose conversation move then
// failed is still reported (contact.merged is published with the error):
// the retry finds the contacts one already and reports nothing.
func TestInboundReportsAMergeWhoseMoveFailed(t *testing.T) {
	s0, c, tbl := newStore(t)
	ctx := context.Background()
	org, _ := s0.CreateOrganization(ctx, "A")
	older, newer := legacyPair(t, s0, c, tbl, org.ID)
	s := store.New(&failGSI1Query{DB: tbl.Client, pk: "ORG#" + org.ID + "#CONTACT#" + newer.ID}, tbl.Name, c.Now)

	res, err := s.RecordInbound(ctx, text(org.ID, "wamid.mf", "551187654321", "Maria", c.Now()))
	require.Error(t, err)
	require.Len(t, res.Merges, 1, "the committed merge is reported")
	assert.Equal(t, older.ID, res.Merges[0].Survivor.ID)
	assert.Equal(t, newer.ID, res.Merges[0].MergedID)

	again, err := s.RecordInbound(ctx, text(org.ID, "wamid.mf", "551187654321", "Maria", c.Now()))
	require.NoError(t, err)
	assert.Equal(t, older.ID, again.Contact.ID)
}

// The same for the wa_id a send answer names: the merge is returned with
// the error, for the sender to publish contact.merged.
func TestRecordWhatsAppIDReportsAMergeWhoseMoveFailed(t *testing.T) {
	s0, c, tbl := newStore(t)
	ctx := context.Background()
	org, _ := s0.CreateOrganization(ctx, "A")
	older, newer := legacyPair(t, s0, c, tbl, org.ID)
	s := store.New(&failGSI1Query{DB: tbl.Client, pk: "ORG#" + org.ID + "#CONTACT#" + newer.ID}, tbl.Name, c.Now)

	_, m, err := s.RecordWhatsAppID(ctx, org.ID, older.ID, "551187654321")
	require.Error(t, err)
	require.NotNil(t, m, "the committed merge is returned")
	assert.Equal(t, older.ID, m.Survivor.ID)
	assert.Equal(t, newer.ID, m.MergedID)
}

// One organisation's identities and merges never reach another's: the
// same person's forms in two organisations stay two contacts, and a merge
// naming another organisation's contact is not found.
func TestMergesStayInTheirOrganization(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	orgA, _ := s.CreateOrganization(ctx, "A")
	orgB, _ := s.CreateOrganization(ctx, "B")
	a, err := s.CreateContact(ctx, store.Contact{OrgID: orgA.ID, WhatsAppID: "5511987654321"}, nil)
	require.NoError(t, err)
	b, err := s.CreateContact(ctx, store.Contact{OrgID: orgB.ID, WhatsAppID: "551187654321", Tags: []string{"b"}}, nil)
	require.NoError(t, err)

	got, m, err := s.RecordWhatsAppID(ctx, orgA.ID, a.ID, "551187654321")
	require.NoError(t, err)
	assert.Nil(t, m)
	assert.Equal(t, a.ID, got.ID)
	_, err = s.MergeContacts(ctx, orgA.ID, a.ID, b.ID, "")
	require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)

	in, err := s.RecordInbound(ctx, text(orgB.ID, "wamid.o1", "5511987654321", "Maria", time.Now()))
	require.NoError(t, err)
	assert.Equal(t, b.ID, in.Contact.ID)
	assert.Empty(t, in.Merges)
	gotB, err := s.Contact(ctx, orgB.ID, b.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"b"}, gotB.Tags)
	_, err = s.Contact(ctx, orgA.ID, b.ID)
	require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
}
