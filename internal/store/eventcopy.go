package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A message's events (message.sent/delivered/read/failed, published for
// each of its statuses) show its contact and conversation. Reading them
// from their items would read ORG#<org>, which all of an organisation's
// contacts and conversations share, three times per message sent; so the
// message keeps a copy (event_contact, event_conversation) written when it
// is accepted, and the rare operations that change what a copy shows
// record it outside ORG#<org>, where the status path reads it in one
// BatchGetItem:
//
//   - resolve, reopen, handoff (and a merge moving or resolving an open
//     conversation) update the conversation's event view,
//     ORG#<org>#CONV#<conv> / EVENTVIEW (status, handoff, contact_id), in
//     the transaction that changes the conversation: it is overlaid on every
//     copy of that conversation, so earlier messages show it as it is now;
//   - a merge puts ORG#<org>#CONTACT#<merged> / MERGED (the survivor's id
//     and event copy) in its transaction: a copy of the merged contact
//     shows the survivor (following a chain of merges, one GetItem a hop:
//     only messages of merged contacts pay for it).
//
// The contact's copy is bounded (maxEventContactBytes): tags and
// attributes (up to ≈ 220 KB at the API's limits) would take a message of
// large content past DynamoDB's 400 KB item limit; over the bound, the copy
// leaves them out and says so (Contact.Partial; the events' contact.partial).

// maxEventContactBytes bounds a contact's event copy (on a message, on a
// merge redirect), as DynamoDB counts item size.
const maxEventContactBytes = 16 << 10

// convEventViewItem is what resolve, reopen, handoff and merges changed of
// a conversation, for its messages' events. Absent fields: not changed
// since the copies were taken.
type convEventViewItem struct {
	key
	Type      string `dynamodbav:"type"`
	Status    string `dynamodbav:"status,omitempty"`
	Handoff   *bool  `dynamodbav:"handoff,omitempty"`
	ContactID string `dynamodbav:"contact_id,omitempty"`
	UpdatedAt string `dynamodbav:"updated_at"`
}

// mergeRedirectItem records, on the merged contact's own partition, the
// contact it was merged into.
type mergeRedirectItem struct {
	key
	Type       string       `dynamodbav:"type"`
	SurvivorID string       `dynamodbav:"survivor_id"`
	Survivor   *contactItem `dynamodbav:"survivor,omitempty"`
	MergedAt   string       `dynamodbav:"merged_at"`
}

// eventCopies are the items of a message's copy of its contact and
// conversation, without their keys (they are attributes of the message).
func eventCopies(c MessageContext) (*contactItem, *convItem) {
	cv := newConvItem(c.Conversation)
	cv.key, cv.GSI1PK, cv.GSI1SK = key{}, "", ""
	ct := eventContactCopy(c.Contact)
	return &ct, &cv
}

// eventContactCopy is a contact's event copy: whole when it takes at most
// maxEventContactBytes, else without its tags and attributes (Partial).
func eventContactCopy(c Contact) contactItem {
	ct := newContactItem(c)
	ct.key = key{}
	if av, err := attributevalue.MarshalMap(ct); err == nil && itemSize(av) <= maxEventContactBytes {
		return ct
	}
	ct.Tags, ct.Attributes, ct.Partial = nil, nil, true
	return ct
}

// itemSize is an item's size as DynamoDB counts it against its 400 KB
// limit: attribute names and values (a number at most 21 bytes; a map or
// list 3 bytes and 1 per element besides its elements).
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + attrSize(v)
	}
	return n
}

func attrSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return 21
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberSS:
		n := 3
		for _, e := range v.Value {
			n += len(e) + 1
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += attrSize(e) + 1
		}
		return n
	case *types.AttributeValueMemberM:
		return 3 + len(v.Value) + itemSize(v.Value)
	}
	return 1 // BOOL, NULL
}

// convEventView is the transaction item that records what a rare
// operation changed of a conversation its messages' events show (status,
// handoff, contact_id; empty or nil: unchanged). It is written in the
// transaction that changes the conversation, so concurrent changes leave it
// in their order.
func (s *Store) convEventView(org, convID, status string, handoff *bool, contactID string, at time.Time) types.TransactWriteItem {
	set := "SET #type = :type, updated_at = :at"
	values := map[string]types.AttributeValue{":type": str(typeConvEventView), ":at": str(timestamp(at))}
	names := map[string]string{"#type": "type"}
	if status != "" {
		set += ", #evst = :evst"
		names["#evst"], values[":evst"] = "status", str(status)
	}
	if handoff != nil {
		set += ", handoff = :evh"
		values[":evh"] = &types.AttributeValueMemberBOOL{Value: *handoff}
	}
	if contactID != "" {
		set += ", contact_id = :evc"
		values[":evc"] = str(contactID)
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(s.table), Key: key{convMsgsPK(org, convID), convEventViewSK()}.av(),
		UpdateExpression: aws.String(set), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}}
}

// mergeRedirect is the transaction item recording that merged was merged
// into survivor.
func (s *Store) mergeRedirect(org, merged string, survivor Contact, at time.Time) (types.TransactWriteItem, error) {
	cp := eventContactCopy(survivor)
	av, err := marshal(mergeRedirectItem{key: key{contactConvsPK(org, merged), mergedSK()}, Type: typeMergeRedirect,
		SurvivorID: survivor.ID, Survivor: &cp, MergedAt: timestamp(at)})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: av}}, nil
}

// EventContext is the contact and conversation m's events show. For a
// message accepted with its copy: the copy, with what rare operations
// changed since (the conversation's event view; the survivor of merges of
// its contact), read in one BatchGetItem of two keys outside ORG#<org>
// (the hottest key at a number's 1,000 messages a second), and a GetItem a
// hop for a chain of merges. For a message accepted before the copy was
// kept, the contact and conversation as they are now.
func (s *Store) EventContext(ctx context.Context, m Message) (Contact, Conversation, error) {
	if m.Context == nil {
		ct, err := s.Contact(ctx, m.OrgID, m.ContactID)
		if err != nil {
			return Contact{}, Conversation{}, err
		}
		cv, err := s.Conversation(ctx, m.OrgID, m.ConversationID)
		if err != nil {
			return Contact{}, Conversation{}, err
		}
		return ct, cv, nil
	}
	ct, cv := m.Context.Contact, m.Context.Conversation
	viewKey, redirectKey := key{convMsgsPK(m.OrgID, cv.ID), convEventViewSK()}, key{contactConvsPK(m.OrgID, ct.ID), mergedSK()}
	got, err := s.batchGetRead(ctx, []key{viewKey, redirectKey}, false)
	if err != nil {
		return Contact{}, Conversation{}, err
	}
	if av, ok := got[viewKey]; ok {
		var v convEventViewItem
		if err := attributevalue.UnmarshalMap(av, &v); err != nil {
			return Contact{}, Conversation{}, fmt.Errorf("store: decode conversation event view: %w", err)
		}
		if v.Status != "" {
			cv.Status = v.Status
		}
		if v.Handoff != nil {
			cv.Handoff = *v.Handoff
		}
		if v.ContactID != "" {
			cv.ContactID = v.ContactID
		}
	}
	merged := []string{ct.ID}
	var r mergeRedirectItem
	found := false
	if av, ok := got[redirectKey]; ok {
		if err := attributevalue.UnmarshalMap(av, &r); err != nil {
			return Contact{}, Conversation{}, fmt.Errorf("store: decode merge redirect: %w", err)
		}
		found = true
	}
	for hop := 0; found && hop < maxMergeHops; hop++ {
		if r.Survivor != nil {
			ct = r.Survivor.model()
		}
		ct.ID, ct.OrgID = r.SurvivorID, m.OrgID
		merged = append(merged, r.SurvivorID)
		next := mergeRedirectItem{}
		if found, err = s.getItem(ctx, key{contactConvsPK(m.OrgID, r.SurvivorID), mergedSK()}, &next); err != nil {
			return Contact{}, Conversation{}, err
		}
		r = next
	}
	if slices.Contains(merged[:len(merged)-1], cv.ContactID) {
		// Moved to the survivor with the merged contact's other
		// conversations (moveConversations).
		cv.ContactID = ct.ID
	}
	return ct, cv, nil
}

// RefreshEventContext copies a message's contact and conversation as they
// are now onto it.
func (s *Store) RefreshEventContext(ctx context.Context, org, msgID, contactID, convID string) error {
	ct, err := s.Contact(ctx, org, contactID)
	if err != nil {
		return err
	}
	cv, err := s.Conversation(ctx, org, convID)
	if err != nil {
		return err
	}
	ci, vi := eventCopies(MessageContext{Contact: ct, Conversation: cv})
	a, err := attributevalue.Marshal(ci)
	if err != nil {
		return fmt.Errorf("store: marshal event contact: %w", err)
	}
	b, err := attributevalue.Marshal(vi)
	if err != nil {
		return fmt.Errorf("store: marshal event conversation: %w", err)
	}
	_, err = s.db.UpdateItem(ctx, updateInput(s.table, key{msgPK(org, msgID), msgSK()},
		"SET event_contact = :c, event_conversation = :v", "attribute_exists(pk)",
		map[string]types.AttributeValue{":c": a, ":v": b}))
	if err != nil && !isConditionFailed(err) {
		return unavailable("refresh event context", err)
	}
	return nil
}
