package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
)

// liveContact is a transaction's check that a contact it writes about
// exists and was not merged meanwhile (MergeContacts): a write that lost
// that race is retried and finds the survivor.
func (s *Store) liveContact(org, contactID string) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:           aws.String(s.table),
		Key:                 key{orgPK(org), contactSK(contactID)}.av(),
		ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(merged_into)"),
	}}
}

// InboundMessage is a customer's message to store.
type InboundMessage struct {
	OrgID        string
	From         Identity
	WAMID        string
	Type         string
	Timestamp    time.Time
	Content      json.RawMessage // PyTake's typed content
	Raw          json.RawMessage // Meta's message object, as received
	ContextWAMID string
	MediaID      string
	MediaMime    string
}

// InboundResult is what storing an inbound message did.
type InboundResult struct {
	// Duplicate: Meta delivered this wamid before; nothing was written.
	Duplicate bool
	// EventsPending: the events of this message were not yet confirmed
	// published (on a duplicate, the earlier attempt failed after storing).
	EventsPending       bool
	Contact             Contact
	ContactCreated      bool
	Conversation        Conversation
	ConversationCreated bool
	Message             Message
	// Merges are the contacts this message showed to be one person (its
	// wa_id and BSUID, or two forms of its number, held by two contacts)
	// and that were merged before it was stored: publish contact.merged.
	Merges []Merge
}

// RecordInbound stores a customer's message exactly once per wamid, finding
// or creating the contact and joining or opening the contact's conversation,
// all in one transaction decided by conditions.
func (s *Store) RecordInbound(ctx context.Context, in InboundMessage) (InboundResult, error) {
	if in.WAMID == "" {
		return InboundResult{}, apperr.Field("id", "message has no wamid")
	}
	if in.From.WaID == "" && in.From.UserID == "" {
		return InboundResult{}, apperr.Field("from", "message has neither a phone number nor a user id")
	}
	var merges []Merge
	res, err := retryRaces(func() (InboundResult, bool, error) { return s.recordInbound(ctx, in, &merges) })
	res.Merges = merges
	return res, err
}

var errRace = errors.New("store: lost a race, retry")

func (s *Store) recordInbound(ctx context.Context, in InboundMessage, merges *[]Merge) (InboundResult, bool, error) {
	now := s.now()
	org := in.OrgID
	res := InboundResult{}

	contact, missing, others, found, err := s.resolveContact(ctx, org, in.From)
	if err != nil {
		return res, false, err
	}
	if len(others) > 0 {
		// Meta says who wrote: the contacts holding its identities are one
		// person. Merge them, then store the message on the survivor.
		merged := false
		for _, o := range others {
			m, err := s.MergeContacts(ctx, org, contact.ID, o, in.From.WaID)
			if err != nil {
				if m.MergedID != "" && !m.AlreadyMerged {
					// Merged, then the conversation move failed: a
					// retry finds the two one, so report it now.
					*merges = append(*merges, m)
				}
				return res, false, err
			}
			if !m.AlreadyMerged {
				*merges = append(*merges, m)
				merged = true
			}
		}
		if merged {
			return res, true, errRace
		}
		// Only stale items of contacts merged into this one: go on.
	}
	var items []types.TransactWriteItem
	nowS := timestamp(now)
	msgID := id.New(id.Message, now)
	contactWritten := false // the transaction checks the contact was not merged
	if !found {
		contact = Contact{
			ID: id.New(id.Contact, now), OrgID: org, WhatsAppID: in.From.WaID, UserID: in.From.UserID,
			ParentUserID: in.From.ParentUserID, ProfileName: in.From.ProfileName, Tags: []string{},
			Attributes: map[string]any{}, CreatedAt: now, UpdatedAt: now,
		}
		av, err := marshal(newContactItem(contact))
		if err != nil {
			return res, false, err
		}
		items = append(items, s.put(av, "attribute_not_exists(pk)"))
		res.ContactCreated = true
	} else if upd, changed := identityUpdate(&contact, in.From); changed {
		contactWritten = true
		contact.UpdatedAt = now
		upd.values[":now"] = str(nowS)
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(s.table), Key: key{orgPK(org), contactSK(contact.ID)}.av(),
			UpdateExpression:          aws.String(upd.expr + ", updated_at = :now"),
			ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(merged_into)"),
			ExpressionAttributeValues: upd.values,
		}})
	}
	for _, k := range missing {
		w, err := s.claimIdent(k, contact.ID)
		if err != nil {
			return res, false, err
		}
		items = append(items, w)
	}

	conv, convFound, err := s.openConversation(ctx, org, contact.ID, !found)
	if err != nil {
		return res, false, err
	}
	res.ConversationCreated = !convFound
	if found && !convFound && !contactWritten {
		// A new conversation must not open on a contact merged meanwhile
		// (its open conversation joined instead moves with it).
		// Its pointer carries the opt-out as read: on condition that it still is.
		check := s.liveContact(org, contact.ID)
		check.ConditionCheck.ConditionExpression, check.ConditionCheck.ExpressionAttributeValues = optOutAsRead(*check.ConditionCheck.ConditionExpression, nil, contact.OptOut)
		items = append(items, check)
	}
	cm := convMessage{org: org, contactID: contact.ID, at: in.Timestamp, inbound: true, openedBy: msgID, optOut: contact.OptOut}
	if convFound {
		cm.open = &conv
	}
	if conv, items, err = s.addToConversation(items, cm, now); err != nil {
		return res, false, err
	}

	msg := Message{
		ID: msgID, OrgID: org, ConversationID: conv.ID, ContactID: contact.ID, Direction: Inbound,
		WAMID: in.WAMID, Type: in.Type, Content: in.Content, Raw: in.Raw, Status: StatusReceived,
		ContextWAMID: in.ContextWAMID, Timestamp: in.Timestamp, CreatedAt: now,
	}
	wamidIdx := len(items)
	wi, err := marshal(wamidItem{
		key: key{wamidPK(org, in.WAMID), wamidSK()}, Type: typeWamid, MessageID: msg.ID,
		ConversationID: conv.ID, ContactID: contact.ID, EventsPending: true, CreatedAt: nowS,
		ContactCreated: res.ContactCreated, ConversationCreated: res.ConversationCreated,
	})
	if err != nil {
		return res, false, err
	}
	mi, err := marshal(newMsgItem(msg))
	if err != nil {
		return res, false, err
	}
	items = append(items, s.put(wi, "attribute_not_exists(pk)"), s.put(mi, "attribute_not_exists(pk)"))
	if in.MediaID != "" {
		md, err := marshal(mediaItem{key: key{mediaPK(org, in.MediaID), mediaSK()}, Type: typeMedia, MessageID: msg.ID, MimeType: in.MediaMime})
		if err != nil {
			return res, false, err
		}
		items = append(items, s.put(md, ""))
	}

	duplicate := false
	err = s.transact(ctx, "record inbound message", items, func(failed []bool) error {
		if failed[wamidIdx] {
			duplicate = true
			return nil
		}
		return errRace
	})
	switch {
	case duplicate:
		r, err := s.duplicateInbound(ctx, org, in.WAMID)
		return r, false, err
	case errors.Is(err, errRace):
		return res, true, err
	case err != nil:
		return res, false, err
	}
	res.Contact, res.Conversation, res.Message, res.EventsPending = contact, conv, msg, true
	return res, false, nil
}

// duplicateInbound answers for a wamid already stored.
func (s *Store) duplicateInbound(ctx context.Context, org, wamid string) (InboundResult, error) {
	var wi wamidItem
	found, err := s.getItem(ctx, key{wamidPK(org, wamid), wamidSK()}, &wi)
	if err != nil {
		return InboundResult{}, err
	}
	if !found {
		return InboundResult{}, apperr.New(apperr.Unavailable, "message state is settling, retry")
	}
	res := InboundResult{Duplicate: true, EventsPending: wi.EventsPending,
		ContactCreated: wi.ContactCreated, ConversationCreated: wi.ConversationCreated}
	if !wi.EventsPending {
		return res, nil
	}
	// The first delivery stored the message and has not confirmed its
	// events published (it failed, crashed, or is publishing now): give the
	// caller what it needs to publish them, by the same ids. Events are
	// deduplicated by id downstream, so publishing them twice is harmless,
	// and Meta's duplicate is answered 200 instead of waiting for the first.
	if res.Message, err = s.Message(ctx, org, wi.MessageID); err != nil {
		return res, err
	}
	if res.Contact, err = s.Contact(ctx, org, wi.ContactID); err != nil {
		return res, err
	}
	if res.Conversation, err = s.Conversation(ctx, org, wi.ConversationID); err != nil {
		return res, err
	}
	return res, nil
}

// MarkEventsSent records that the events of an inbound wamid were published.
func (s *Store) MarkEventsSent(ctx context.Context, org, wamid string) error {
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{wamidPK(org, wamid), wamidSK()},
		"SET events_pending = :f", "attribute_exists(pk)",
		map[string]types.AttributeValue{":f": &types.AttributeValueMemberBOOL{Value: false}}))
	if err != nil && !isConditionFailed(err) {
		return unavailable("mark events sent", err)
	}
	return nil
}

// resolveContact finds the contact of an identity (BSUID first, then the
// phone in the form given, then its other forms: phone.Variants) and lists
// the identity items still to write. others lists further contacts holding
// one of those identities: contacts created before their identities were
// known to be one person (the caller decides whether to merge them).
func (s *Store) resolveContact(ctx context.Context, org string, who Identity) (c Contact, missing []identClaim, others []string, found bool, err error) {
	var keys []key
	if who.UserID != "" {
		keys = append(keys, key{identBSUIDPK(org, who.UserID), identSK()})
	}
	keys = append(keys, phoneKeys(org, who.WaID)...)
	held, err := s.identityHolders(ctx, keys)
	if err != nil {
		return c, nil, nil, false, err
	}
	// The holders in the order of the keys; one whose contact is gone (a
	// merge's survivor deleted after it took the merged contact's
	// identities) left a dangling item: the key is claimed over it.
	var holders []string
	for _, k := range keys {
		if h, ok := held[k]; ok && !slices.Contains(holders, h) {
			holders = append(holders, h)
		}
	}
	var live []string
	gone := map[string]bool{}
	for _, h := range holders {
		hc, err := s.Contact(ctx, org, h)
		if apperr.Is(err, apperr.NotFound) {
			gone[h] = true
			continue
		}
		if err != nil {
			return c, nil, nil, false, err
		}
		if len(live) == 0 {
			c = hc
		}
		live = append(live, h)
	}
	for _, k := range keys {
		if h, ok := held[k]; !ok || gone[h] {
			missing = append(missing, identClaim{k: k, was: held[k]})
		}
	}
	if len(live) == 0 {
		return Contact{}, missing, nil, false, nil
	}
	others = live[1:]
	// A holder merged into c (an identity item left pointing at it) is c.
	others = slices.DeleteFunc(others, func(o string) bool { return o == c.ID })
	return c, missing, others, true, nil
}

// identClaim is an identity item to write for a contact: free, or held
// by was, a contact that is gone.
type identClaim struct {
	k   key
	was string
}

// claimIdent is the transaction action writing c for contactID, on
// condition the item is still free, or still the gone contact's.
func (s *Store) claimIdent(c identClaim, contactID string) (types.TransactWriteItem, error) {
	av, err := marshal(identItem{key: c.k, Type: typeIdentity, ContactID: contactID})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	if c.was == "" {
		return s.put(av, "attribute_not_exists(pk)"), nil
	}
	w := s.put(av, "contact_id = :was")
	w.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":was": str(c.was)}
	return w, nil
}

type update struct {
	expr   string
	values map[string]types.AttributeValue
}

// identityUpdate brings a stored contact up to date with what Meta reports.
func identityUpdate(c *Contact, who Identity) (update, bool) {
	u := update{values: map[string]types.AttributeValue{}}
	set := func(attr, v string, field *string) {
		if v == "" || v == *field {
			return
		}
		*field = v
		if u.expr == "" {
			u.expr = "SET "
		} else {
			u.expr += ", "
		}
		u.expr += attr + " = :" + attr
		u.values[":"+attr] = str(v)
	}
	set("profile_name", who.ProfileName, &c.ProfileName)
	set("wa_id", who.WaID, &c.WhatsAppID)
	set("user_id", who.UserID, &c.UserID)
	set("parent_user_id", who.ParentUserID, &c.ParentUserID)
	return u, u.expr != ""
}

// openConversation returns the contact's open conversation, if any.
func (s *Store) openConversation(ctx context.Context, org, contactID string, newContact bool) (Conversation, bool, error) {
	if newContact {
		return Conversation{}, false, nil
	}
	ptr, found, err := s.openPointerOf(ctx, org, contactID)
	if err != nil || !found {
		return Conversation{}, false, err
	}
	c, err := s.conversationItem(ctx, org, ptr.ConversationID)
	if err != nil {
		return Conversation{}, false, err
	}
	return ptr.fold(c), c.Status == ConversationOpen, nil
}

func (s *Store) batchGet(ctx context.Context, keys []key) (map[key]map[string]types.AttributeValue, error) {
	return s.batchGetRead(ctx, keys, true)
}

// batchGetRead is batchGet, strongly consistent or not.
func (s *Store) batchGetRead(ctx context.Context, keys []key, consistent bool) (map[key]map[string]types.AttributeValue, error) {
	out := map[key]map[string]types.AttributeValue{}
	if len(keys) == 0 {
		return out, nil
	}
	req := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		req[i] = k.av()
	}
	pending := map[string]types.KeysAndAttributes{s.table: {Keys: req, ConsistentRead: aws.Bool(consistent)}}
	for attempt := 0; len(pending) > 0 && attempt < 5; attempt++ {
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
		if err != nil {
			return nil, unavailable("batch get", err)
		}
		for _, item := range res.Responses[s.table] {
			var k key
			if err := attributevalue.UnmarshalMap(item, &k); err != nil {
				return nil, fmt.Errorf("store: decode key: %w", err)
			}
			out[k] = item
		}
		pending = res.UnprocessedKeys
	}
	if len(pending) > 0 {
		return nil, apperr.New(apperr.Unavailable, "the data store is throttling, retry")
	}
	return out, nil
}
