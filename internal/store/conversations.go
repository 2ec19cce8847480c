package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
)

// Conversation statuses.
const (
	ConversationOpen     = "open"
	ConversationResolved = "resolved"
)

// Conversation is a thread with one contact, open until resolved.
type Conversation struct {
	ID            string     `json:"id"`
	OrgID         string     `json:"-"`
	ContactID     string     `json:"contact_id"`
	Status        string     `json:"status"`
	MessageCount  int        `json:"message_count"`
	LastInboundAt *time.Time `json:"last_inbound_at"`
	LastMessageAt *time.Time `json:"last_message_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	ResolvedAt    *time.Time `json:"resolved_at,omitempty"`
	Satisfaction  *int       `json:"satisfaction,omitempty"` // 1-5, given when resolved
	Assignee      string     `json:"assignee,omitempty"`
	// Handoff: the conversation was handed to agents; the chatbot stays
	// quiet until it is resolved or handed back.
	Handoff   bool       `json:"handoff"`
	HandoffAt *time.Time `json:"handoff_at,omitempty"`
	// OpenedBy is the message that opened the conversation (an inbound
	// one gets the chatbot's welcome).
	OpenedBy string `json:"-"`
}

type convItem struct {
	key
	GSI1PK        string `dynamodbav:"gsi1pk"`
	GSI1SK        string `dynamodbav:"gsi1sk"`
	Type          string `dynamodbav:"type"`
	ID            string `dynamodbav:"id"`
	OrgID         string `dynamodbav:"org_id"`
	ContactID     string `dynamodbav:"contact_id"`
	Status        string `dynamodbav:"status"`
	MessageCount  int    `dynamodbav:"message_count"`
	LastInboundAt string `dynamodbav:"last_inbound_at,omitempty"`
	LastMessageAt string `dynamodbav:"last_message_at,omitempty"`
	CreatedAt     string `dynamodbav:"created_at"`
	UpdatedAt     string `dynamodbav:"updated_at"`
	ResolvedAt    string `dynamodbav:"resolved_at,omitempty"`
	Satisfaction  int    `dynamodbav:"satisfaction,omitempty"`
	Assignee      string `dynamodbav:"assignee,omitempty"`
	Handoff       bool   `dynamodbav:"handoff,omitempty"`
	HandoffAt     string `dynamodbav:"handoff_at,omitempty"`
	OpenedBy      string `dynamodbav:"opened_by,omitempty"`
}

func (it convItem) model() Conversation {
	c := Conversation{
		ID: it.ID, OrgID: it.OrgID, ContactID: it.ContactID, Status: it.Status, MessageCount: it.MessageCount,
		LastInboundAt: parseTime(it.LastInboundAt), LastMessageAt: parseTime(it.LastMessageAt),
		CreatedAt: mustTime(it.CreatedAt), UpdatedAt: mustTime(it.UpdatedAt), ResolvedAt: parseTime(it.ResolvedAt),
		Assignee: it.Assignee, Handoff: it.Handoff, HandoffAt: parseTime(it.HandoffAt),
		OpenedBy: it.OpenedBy,
	}
	if it.Satisfaction > 0 {
		s := it.Satisfaction
		c.Satisfaction = &s
	}
	return c
}

type openConvItem struct {
	key
	Type           string `dynamodbav:"type"`
	ConversationID string `dynamodbav:"conversation_id"`
	// Outbound messages added to the open conversation since the pointer
	// was put, and the latest one's time: counted here, in the contact's
	// partition, rather than on the conversation in ORG#<org> (every
	// conversation of an organisation shares that key; a message a second
	// per recipient at 1,000 messages a second would put it over a
	// partition's ~1,000 writes a second). Folded into the conversation
	// when it is read, and into its item when the pointer goes (resolve,
	// merge).
	SentCount  int    `dynamodbav:"sent_count,omitempty"`
	LastSentAt string `dynamodbav:"last_sent_at,omitempty"`
	// OptedOutAt mirrors the contact's opt-out (set and emptied in the
	// opt-out's and opt-in's transactions), so a marketing message into
	// the open conversation is refused by this pointer's condition. Every
	// pointer is written with it ("": not opted out); nil is a pointer from
	// before it was kept, which says nothing of the opt-out.
	OptedOutAt *string `dynamodbav:"opted_out_at,omitempty"`
}

// optOutMark is an open pointer's opted_out_at for a contact's opt-out:
// its time, or "" for none (not opted out, or opted in again).
func optOutMark(o *OptOut) string {
	if o == nil {
		return ""
	}
	return timestamp(o.At)
}

// markPointer is the transaction item that sets a contact's open pointer's
// opted_out_at to the contact's opt-out (optOutMark; nil clears it) on
// condition that it is still the one read, or checks that there is still
// none.
func (s *Store) markPointer(org, contactID string, p openConvItem, found bool, optOut *OptOut) types.TransactWriteItem {
	k := key{contactConvsPK(org, contactID), openConvSK()}.av()
	if !found {
		return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String(s.table), Key: k,
			ConditionExpression: aws.String("attribute_not_exists(pk)")}}
	}
	return types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.table), Key: k,
		UpdateExpression: aws.String("SET opted_out_at = :oo"), ConditionExpression: aws.String("conversation_id = :pc"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":oo": str(optOutMark(optOut)), ":pc": str(p.ConversationID)}}}
}

// fold is c with what its open pointer counted (a pointer of another
// conversation, or a conversation not open, counts nothing).
func (p openConvItem) fold(c Conversation) Conversation {
	if p.ConversationID != c.ID || c.Status != ConversationOpen {
		return c
	}
	c.MessageCount += p.SentCount
	if t := parseTime(p.LastSentAt); t != nil {
		if c.LastMessageAt == nil || t.After(*c.LastMessageAt) {
			c.LastMessageAt = t
		}
		if t.After(c.UpdatedAt) {
			c.UpdatedAt = *t
		}
	}
	return c
}

// pointerUnchanged is the condition that an open pointer is still as read
// (p), its counts included; a pointer read as absent is still absent.
func pointerUnchanged(p openConvItem, found bool) (string, map[string]types.AttributeValue) {
	if !found {
		return "attribute_not_exists(pk)", map[string]types.AttributeValue{}
	}
	vals := map[string]types.AttributeValue{":pc": str(p.ConversationID)}
	if p.SentCount == 0 {
		return "conversation_id = :pc AND attribute_not_exists(sent_count)", vals
	}
	vals[":pn"] = num(strconv.Itoa(p.SentCount))
	return "conversation_id = :pc AND sent_count = :pn", vals
}

// foldedCounts are the SET clauses and values that write a pointer's
// counts (p) into its conversation's item (c: the item as read).
func foldedCounts(c Conversation, p openConvItem) (string, map[string]types.AttributeValue) {
	f := p.fold(c)
	vals := map[string]types.AttributeValue{":mc": num(strconv.Itoa(f.MessageCount)), ":mb": num(strconv.Itoa(c.MessageCount))}
	set := ", message_count = :mc"
	if f.LastMessageAt != nil {
		set += ", last_message_at = :lm"
		vals[":lm"] = str(timestamp(*f.LastMessageAt))
	}
	return set, vals
}

func newConvItem(c Conversation) convItem {
	it := convItem{
		key: key{orgPK(c.OrgID), convSK(c.ID)}, GSI1PK: contactConvsPK(c.OrgID, c.ContactID), GSI1SK: convSK(c.ID),
		Type: typeConversation, ID: c.ID, OrgID: c.OrgID, ContactID: c.ContactID, Status: c.Status,
		MessageCount: c.MessageCount, CreatedAt: timestamp(c.CreatedAt), UpdatedAt: timestamp(c.UpdatedAt),
		OpenedBy: c.OpenedBy,
	}
	if c.LastInboundAt != nil {
		it.LastInboundAt = timestamp(*c.LastInboundAt)
	}
	if c.LastMessageAt != nil {
		it.LastMessageAt = timestamp(*c.LastMessageAt)
	}
	return it
}

// Conversation reads one conversation of an organisation.
func (s *Store) Conversation(ctx context.Context, org, convID string) (Conversation, error) {
	c, err := s.conversationItem(ctx, org, convID)
	if err != nil || c.Status != ConversationOpen {
		return c, err
	}
	p, _, err := s.openPointerOf(ctx, org, c.ContactID)
	if err != nil {
		return Conversation{}, err
	}
	return p.fold(c), nil
}

// conversationItem reads a conversation's item as stored (without what its
// open pointer counted).
func (s *Store) conversationItem(ctx context.Context, org, convID string) (Conversation, error) {
	return getModel[convItem](ctx, s, key{orgPK(org), convSK(convID)}, apperr.New(apperr.NotFound, "conversation not found"))
}

// openPointerOf reads a contact's open-conversation pointer.
func (s *Store) openPointerOf(ctx context.Context, org, contactID string) (openConvItem, bool, error) {
	var p openConvItem
	found, err := s.getItem(ctx, key{contactConvsPK(org, contactID), openConvSK()}, &p)
	return p, found, err
}

// foldPage folds into a page's open conversations what their pointers
// counted (one batch read of the pointers).
func (s *Store) foldPage(ctx context.Context, org string, page Page[Conversation]) (Page[Conversation], error) {
	var keys []key
	for _, c := range page.Items {
		// Once each: BatchGetItem refuses a key named twice (two open
		// conversations of one contact, an older inconsistency).
		if k := (key{contactConvsPK(org, c.ContactID), openConvSK()}); c.Status == ConversationOpen && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	ptrs, err := s.batchGet(ctx, keys)
	if err != nil {
		return page, err
	}
	for i, c := range page.Items {
		item, ok := ptrs[key{contactConvsPK(org, c.ContactID), openConvSK()}]
		if !ok {
			continue
		}
		var p openConvItem
		if err := attributevalue.UnmarshalMap(item, &p); err != nil {
			return page, fmt.Errorf("store: decode open conversation: %w", err)
		}
		page.Items[i] = p.fold(c)
	}
	return page, nil
}

// Conversations lists an organisation's conversations, newest first, in
// bounded pages: the organisation's partition (sk CONV#), or one contact's
// through gsi1. A status filter applies within each page (a page may hold
// fewer items; follow next_cursor).
func (s *Store) Conversations(ctx context.Context, org, status, contactID, cursor string, limit int) (Page[Conversation], error) {
	q := keyPrefix("", orgPK(org), convSKPrefix, cursor, limit, false)
	if contactID != "" {
		q = keyPrefix(IndexGSI1, contactConvsPK(org, contactID), convSKPrefix, cursor, limit, false)
	}
	page, err := queryModels(ctx, s, q, func(it convItem) bool { return status == "" || it.Status == status })
	if err != nil {
		return page, err
	}
	return s.foldPage(ctx, org, page)
}

// openPointer claims the contact's open-conversation pointer for convID.
// Resolving a conversation removes the pointer, so its condition decides
// who opens (or reopens) the next one. Every new pointer is put here, and
// carries the contact's opt-out as its caller read it (nil: not opted
// out), so a marketing message into the conversation checks its mark; the
// caller makes its transaction conditional on the contact still being so.
func (s *Store) openPointer(org, contactID, convID string, optOut *OptOut) (types.TransactWriteItem, error) {
	ptr, err := marshal(openConvItem{key: key{contactConvsPK(org, contactID), openConvSK()}, Type: typeOpenConv, ConversationID: convID})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	ptr["opted_out_at"] = str(optOutMark(optOut))
	return s.put(ptr, "attribute_not_exists(pk)"), nil
}

// convMessage is a message joining its contact's conversation.
type convMessage struct {
	org, contactID string
	open           *Conversation // the contact's open conversation; nil opens a new one
	at             time.Time     // the message's time
	inbound        bool          // a customer's message: it moves last_inbound_at
	marketing      bool          // a marketing message: refused if the contact opted out
	optOut         *OptOut       // the contact's opt-out as read: a new pointer carries it
	// For a new conversation: the message that opens it, and (for a
	// business message) the customer's last message time it shows.
	openedBy    string
	lastInbound *time.Time
}

// addToConversation appends to a transaction's items its part of adding a
// message, received or sent, to its contact's conversation, and returns the
// conversation as it will be. The open conversation counts it and moves its last message time
// (conditional on it being still open); without one, a new conversation
// and its open pointer are put.
func (s *Store) addToConversation(items []types.TransactWriteItem, m convMessage, now time.Time) (Conversation, []types.TransactWriteItem, error) {
	at := m.at
	if m.open != nil && !m.inbound {
		// Counted on the contact's open pointer (its condition: the
		// conversation is still the open one), nothing written to ORG#<org>.
		conv := *m.open
		conv.MessageCount++
		conv.LastMessageAt, conv.UpdatedAt = &at, now
		cond := "conversation_id = :c"
		vals := map[string]types.AttributeValue{":at": str(timestamp(at)), ":one": num("1"), ":c": str(conv.ID)}
		if m.marketing {
			cond += " AND (attribute_not_exists(opted_out_at) OR opted_out_at = :e)"
			vals[":e"] = str("")
		}
		return conv, append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(s.table), Key: key{contactConvsPK(m.org, m.contactID), openConvSK()}.av(),
			UpdateExpression:          aws.String("SET last_sent_at = :at ADD sent_count :one"),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeValues: vals,
		}}), nil
	}
	if m.open != nil {
		conv := *m.open
		conv.MessageCount++
		conv.LastMessageAt, conv.UpdatedAt = &at, now
		set := "SET last_message_at = :at, updated_at = :now ADD message_count :one"
		if m.inbound {
			conv.LastInboundAt = &at
			set = "SET last_inbound_at = :at, last_message_at = :at, updated_at = :now ADD message_count :one"
		}
		return conv, append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(s.table), Key: key{orgPK(conv.OrgID), convSK(conv.ID)}.av(),
			UpdateExpression:         aws.String(set),
			ConditionExpression:      aws.String("#st = :open"),
			ExpressionAttributeNames: map[string]string{"#st": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":at": str(timestamp(at)), ":now": str(timestamp(now)), ":one": num("1"), ":open": str(ConversationOpen),
			},
		}}), nil
	}
	conv := Conversation{
		ID: id.New(id.Conversation, now), OrgID: m.org, ContactID: m.contactID, Status: ConversationOpen,
		MessageCount: 1, LastInboundAt: m.lastInbound, LastMessageAt: &at, CreatedAt: now, UpdatedAt: now,
		OpenedBy: m.openedBy,
	}
	if m.inbound {
		conv.LastInboundAt = &at
	}
	cv, err := marshal(newConvItem(conv))
	if err != nil {
		return conv, items, err
	}
	ptr, err := s.openPointer(conv.OrgID, conv.ContactID, conv.ID, m.optOut)
	if err != nil {
		return conv, items, err
	}
	return conv, append(items, s.put(cv, "attribute_not_exists(pk)"), ptr), nil
}

// ResolveConversation closes an open conversation (the contact's next
// message opens a new one): the conversation and the removal of the
// contact's open-conversation pointer in one transaction, with emit's
// events (conversation.resolved) built from the resolved conversation.
func (s *Store) ResolveConversation(ctx context.Context, org, id string, satisfaction int, assignee *string, emit Emit[Conversation]) (Conversation, error) {
	for attempt := 0; attempt < 4; attempt++ {
		c, err := s.conversationItem(ctx, org, id)
		if err != nil {
			return c, err
		}
		if c.Status != ConversationOpen {
			return Conversation{}, apperr.New(apperr.Conflict, "the conversation is not open").WithCode("conversation_not_open")
		}
		ptr, ptrFound, err := s.openPointerOf(ctx, org, c.ContactID)
		if err != nil {
			return Conversation{}, err
		}
		now := mustTime(timestamp(s.now()))
		post := ptr.fold(c)
		post.Status, post.ResolvedAt, post.UpdatedAt = ConversationResolved, &now, now
		if satisfaction > 0 {
			post.Satisfaction = &satisfaction
		}
		if assignee != nil {
			post.Assignee = *assignee
		}
		// The pointer's counts move into the conversation's item, on
		// condition that neither changed since they were read.
		counts, values := foldedCounts(c, ptr)
		set := "SET #st = :resolved, resolved_at = :now, updated_at = :now" + counts
		values[":resolved"], values[":open"], values[":now"] = str(ConversationResolved), str(ConversationOpen), str(timestamp(now))
		if satisfaction > 0 {
			set += ", satisfaction = :sat"
			values[":sat"] = num(strconv.Itoa(satisfaction))
		}
		if assignee != nil {
			set += ", assignee = :as"
			values[":as"] = str(*assignee)
		}
		del := types.Delete{TableName: aws.String(s.table), Key: key{contactConvsPK(org, c.ContactID), openConvSK()}.av()}
		if !ptrFound || ptr.ConversationID == id {
			cond, vals := pointerUnchanged(ptr, ptrFound)
			del.ConditionExpression, del.ExpressionAttributeValues = aws.String(cond), vals
		} else {
			// Another conversation's pointer (an older inconsistency):
			// left alone, as before.
			del.ConditionExpression = aws.String("attribute_not_exists(pk) OR conversation_id = :id")
			del.ExpressionAttributeValues = map[string]types.AttributeValue{":id": str(id)}
		}
		items := []types.TransactWriteItem{
			{Update: &types.Update{
				TableName: aws.String(s.table), Key: key{orgPK(org), convSK(id)}.av(), UpdateExpression: aws.String(set),
				ConditionExpression: aws.String("#st = :open AND message_count = :mb"), ExpressionAttributeNames: map[string]string{"#st": "status"},
				ExpressionAttributeValues: values,
			}},
			{Delete: &del},
			// Its messages' events show it resolved (eventcopy.go).
			s.convEventView(org, id, ConversationResolved, nil, "", now),
		}
		if items, err = emitted(s, items, emit, org, c.ContactID, post); err != nil {
			return Conversation{}, err
		}
		err = s.transact(ctx, "resolve conversation", items, func(failed []bool) error { return errRace })
		if errors.Is(err, errRace) {
			continue // a message or a resolve meanwhile: read again
		}
		if err != nil {
			return Conversation{}, err
		}
		return s.Conversation(ctx, org, id)
	}
	return Conversation{}, apperr.New(apperr.Unavailable, "concurrent updates to this conversation, retry")
}

// ReopenConversation opens a resolved conversation again, unless the
// contact has another open one (Conflict).
func (s *Store) ReopenConversation(ctx context.Context, org, id string, assignee *string) (Conversation, error) {
	c, err := s.Conversation(ctx, org, id)
	if err != nil {
		return c, err
	}
	now := timestamp(s.now())
	set := "SET #st = :open, resolved_at = :none, satisfaction = :zero, updated_at = :now"
	values := map[string]types.AttributeValue{":open": str(ConversationOpen), ":resolved": str(ConversationResolved),
		":none": str(""), ":zero": num("0"), ":now": str(now)}
	if assignee != nil {
		set += ", assignee = :as"
		values[":as"] = str(*assignee)
	}
	// The new pointer carries the contact's opt-out (a marketing message
	// into the conversation checks its mark), on condition that it is
	// still the one read.
	var optOut *OptOut
	var check *types.ConditionCheck
	ct, err := s.Contact(ctx, org, c.ContactID)
	switch {
	case apperr.Is(err, apperr.NotFound): // deleted: no opt-out to carry
	case err != nil:
		return Conversation{}, err
	default:
		optOut = ct.OptOut
		check = &types.ConditionCheck{TableName: aws.String(s.table), Key: key{orgPK(org), contactSK(ct.ID)}.av(),
			ConditionExpression: aws.String(notOptedOut), ExpressionAttributeValues: map[string]types.AttributeValue{":e": str("")}}
		if optOut != nil {
			check.ConditionExpression = aws.String("opted_out_at = :oo")
			check.ExpressionAttributeValues = map[string]types.AttributeValue{":oo": str(optOutMark(optOut))}
		}
	}
	ptr, err := s.openPointer(org, c.ContactID, id, optOut)
	if err != nil {
		return Conversation{}, err
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: aws.String(s.table), Key: key{orgPK(org), convSK(id)}.av(), UpdateExpression: aws.String(set),
			ConditionExpression: aws.String("#st = :resolved"), ExpressionAttributeNames: map[string]string{"#st": "status"},
			ExpressionAttributeValues: values,
		}},
		ptr,
	}
	if check != nil {
		items = append(items, types.TransactWriteItem{ConditionCheck: check})
	}
	// Its messages' events show it open again (eventcopy.go); last, so
	// the failures above keep their indexes.
	items = append(items, s.convEventView(org, id, ConversationOpen, nil, "", mustTime(now)))
	err = s.transact(ctx, "reopen conversation", items, func(failed []bool) error {
		if len(failed) > 2 && failed[2] {
			return apperr.New(apperr.Unavailable, "concurrent updates to this contact, retry")
		}
		if failed[0] {
			return conditionErr(apperr.Conflict, "the conversation is not resolved").WithCode("conversation_not_resolved")
		}
		return conditionErr(apperr.Conflict, "the contact has another open conversation; resolve it first").WithCode("contact_has_open_conversation")
	})
	if err != nil {
		return Conversation{}, err
	}
	return s.Conversation(ctx, org, id)
}

// AssignConversation sets (or clears) who handles a conversation.
func (s *Store) AssignConversation(ctx context.Context, org, id, assignee string) (Conversation, error) {
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{orgPK(org), convSK(id)},
		"SET assignee = :as, updated_at = :now", "attribute_exists(pk)",
		map[string]types.AttributeValue{":as": str(assignee), ":now": str(timestamp(s.now()))}))
	if isConditionFailed(err) {
		return Conversation{}, apperr.New(apperr.NotFound, "conversation not found")
	}
	if err != nil {
		return Conversation{}, unavailable("assign conversation", err)
	}
	return s.Conversation(ctx, org, id)
}

// HandoffConversation hands an open conversation to agents (on) or back to
// the chatbot (off). changed is false when it already was that way, so a
// repeated handoff emits nothing: emit's events (conversation.handoff),
// built from the changed conversation, are written in the same
// transaction, which only commits a change.
func (s *Store) HandoffConversation(ctx context.Context, org, id string, on bool, emit Emit[Conversation]) (c Conversation, changed bool, err error) {
	at := mustTime(timestamp(s.now()))
	now := timestamp(at)
	cond := "attribute_exists(pk) AND handoff = :yes"
	values := map[string]types.AttributeValue{":on": &types.AttributeValueMemberBOOL{Value: on},
		":yes": &types.AttributeValueMemberBOOL{Value: true}, ":at": str(""), ":now": str(now)}
	if on {
		cond = "attribute_exists(pk) AND #st = :open AND (attribute_not_exists(handoff) OR handoff <> :yes)"
		values[":at"], values[":open"] = str(now), str(ConversationOpen)
	}
	in := updateInput(s.table, key{orgPK(org), convSK(id)}, "SET handoff = :on, handoff_at = :at, updated_at = :now", cond, values)
	if on {
		in.ExpressionAttributeNames = map[string]string{"#st": "status"}
	}
	// One transaction with the conversation's event view (its messages'
	// events show the handoff: eventcopy.go) and emit's events.
	err = s.handoffEmitting(ctx, in, org, id, on, at, emit)
	if err != nil && !isConditionFailed(err) && !errors.Is(err, ErrConditionFailed) {
		return Conversation{}, false, err
	}
	c, rerr := s.Conversation(ctx, org, id)
	if rerr != nil {
		return c, false, rerr
	}
	if err != nil { // condition failed: not open, or already so
		if c.Status != ConversationOpen && on {
			return c, false, conditionErr(apperr.Conflict, "the conversation is not open").WithCode("conversation_not_open")
		}
		return c, false, nil
	}
	return c, true, nil
}

// handoffEmitting applies a handoff's update in a transaction with the
// outbox item of emit's events, built from the conversation as the update
// leaves it. A condition that fails answers ErrConditionFailed (nothing
// changed, nothing emitted).
func (s *Store) handoffEmitting(ctx context.Context, in *dynamodb.UpdateItemInput, org, id string, on bool, at time.Time, emit Emit[Conversation]) error {
	items := []types.TransactWriteItem{{Update: &types.Update{TableName: in.TableName, Key: in.Key, UpdateExpression: in.UpdateExpression,
		ConditionExpression: in.ConditionExpression, ExpressionAttributeNames: in.ExpressionAttributeNames,
		ExpressionAttributeValues: in.ExpressionAttributeValues}}, s.convEventView(org, id, "", &on, "", at)}
	if emit != nil {
		c, err := s.Conversation(ctx, org, id)
		if apperr.Is(err, apperr.NotFound) {
			return ErrConditionFailed
		}
		if err != nil {
			return err
		}
		post := c
		post.Handoff, post.HandoffAt, post.UpdatedAt = on, nil, at
		if on {
			post.HandoffAt = &at
		}
		if items, err = emitted(s, items, emit, org, c.ContactID, post); err != nil {
			return err
		}
	}
	return s.transact(ctx, "hand off conversation", items, func([]bool) error { return ErrConditionFailed })
}
