package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
)

// CustomerServiceWindow is how long after a customer's last message any
// message may be sent; after it, only templates.
const CustomerServiceWindow = 24 * time.Hour

// IdempotencyTTL is how long an Idempotency-Key is remembered.
const IdempotencyTTL = 24 * time.Hour

// Sender states of an outbound message.
const (
	SendScheduled = "scheduled" // waiting for send_at; the sender never claims it
	SendCancelled = "cancelled"
	SendQueued    = "queued"
	SendSending   = "sending"
	SendAccepted  = "accepted"
	SendFailed    = "failed"
)

// OutboundMessage is a message an integrator asked to send.
type OutboundMessage struct {
	OrgID        string
	To           Identity // the recipient's phone (WaID) or BSUID (UserID), or
	ContactID    string   // an existing contact
	Type         string
	Content      json.RawMessage // the type's object, in Meta's shape
	ContextWAMID string
	FreeForm     bool // needs the customer-service window (everything but templates)
	// IdempotencyKey, when set, makes the request answer the same message
	// on a retry with the same RequestHash and a Conflict with another.
	IdempotencyKey string
	RequestHash    string
	// Test: accepted with a pytake_test_ key. Stored with the message; the
	// sender never sends a test message to Meta.
	Test bool
	// Marketing: a MARKETING template (as the organisation's synced copy
	// says). A contact that opted out is refused 422 contact_opted_out,
	// checked in the transaction that accepts the message.
	Marketing bool
	// Bulk: a mass send (a campaign); stored with the message, which is
	// queued and paced in the bulk lane.
	Bulk bool
	// CampaignID: the campaign whose recipient this message is; stored
	// with it, so the sender can count the recipient skipped when the
	// contact opted out after the message was queued.
	CampaignID string
	// SendAt, when set, schedules the message: it is stored scheduled,
	// with a schedule item instead of its outbound job, and released
	// (queued) by the sweep when its time comes (schedule.go). The
	// customer-service window is judged then, not now.
	SendAt time.Time
}

// OutboundResult is what accepting an outbound message did.
type OutboundResult struct {
	Message             Message
	Contact             Contact
	ContactCreated      bool
	Conversation        Conversation
	ConversationCreated bool
	// Replayed: the idempotency key was seen with the same request; Message
	// is the one accepted then. Enqueued says whether it reached the queue.
	Replayed bool
	Enqueued bool
}

type idemItem struct {
	key
	Type        string `dynamodbav:"type"`
	RequestHash string `dynamodbav:"request_hash"`
	MessageID   string `dynamodbav:"message_id"`
	Enqueued    bool   `dynamodbav:"enqueued"`
	CreatedAt   string `dynamodbav:"created_at"`
	ExpiresAt   int64  `dynamodbav:"expires_at"`
}

// AcceptOutbound records a message to send: the contact found or created,
// the contact's open conversation joined or a new one opened, the
// customer-service window enforced for free-form messages, the message
// stored as queued, and the idempotency key claimed, all in one
// transaction.
func (s *Store) AcceptOutbound(ctx context.Context, m OutboundMessage) (OutboundResult, error) {
	return retryRaces(func() (OutboundResult, bool, error) { return s.acceptOutbound(ctx, m) })
}

func (s *Store) acceptOutbound(ctx context.Context, m OutboundMessage) (OutboundResult, bool, error) {
	org := m.OrgID
	if m.IdempotencyKey != "" {
		res, found, err := s.replay(ctx, m)
		if found || err != nil {
			return res, false, err
		}
	}
	now := s.now()
	nowS := timestamp(now)
	var (
		res     OutboundResult
		items   []types.TransactWriteItem
		contact Contact
		found   bool
		missing []identClaim
		err     error
	)
	if m.ContactID != "" {
		contact, err = s.Contact(ctx, org, m.ContactID)
		if apperr.Is(err, apperr.NotFound) {
			return res, false, apperr.New(apperr.NotFound, "no contact "+m.ContactID+" in this organization").
				WithDetails(apperr.Detail{Field: "to", Issue: "contact not found"}).WithCode("contact_not_found")
		}
		if err != nil {
			return res, false, err
		}
		found = true
	} else {
		// Contacts holding other forms of the number (created before they
		// were known to be one) are left to Meta's answer: the sender
		// records the wa_id Meta resolves, which merges them.
		contact, missing, _, found, err = s.resolveContact(ctx, org, m.To)
		if err != nil {
			return res, false, err
		}
	}
	if m.Marketing && found && contact.OptOut != nil {
		return res, false, optedOut(contact)
	}
	recipient := contact.WhatsAppID
	if recipient == "" {
		recipient = contact.UserID
	}
	if !found {
		contact = Contact{
			ID: id.New(id.Contact, now), OrgID: org, WhatsAppID: m.To.WaID, UserID: m.To.UserID,
			Tags: []string{}, Attributes: map[string]any{}, CreatedAt: now, UpdatedAt: now,
		}
		recipient = m.To.WaID
		if recipient == "" {
			recipient = m.To.UserID
		}
	}
	if recipient == "" {
		return res, false, apperr.Field("to", "the contact has neither a WhatsApp number nor a user id")
	}

	conv, convFound, err := s.openConversation(ctx, org, contact.ID, !found)
	if err != nil {
		return res, false, err
	}
	if m.FreeForm && m.SendAt.IsZero() {
		last := conv.LastInboundAt
		if !convFound && found {
			if last, err = s.lastInbound(ctx, org, contact.ID); err != nil {
				return res, false, err
			}
		}
		if last == nil || now.Sub(*last) > CustomerServiceWindow {
			msg := "the customer has never written: only an approved template can start the conversation"
			if last != nil {
				msg = "the customer last wrote at " + last.UTC().Format(time.RFC3339) +
					", more than 24 hours ago: only an approved template can be sent outside the customer service window"
			}
			return res, false, apperr.New(apperr.Unprocessable, msg).WithCode("outside_customer_service_window").
				WithDetails(apperr.Detail{Field: "type", Issue: "free-form messages need a customer message in the last 24 hours; send a template"})
		}
	}

	if !found {
		av, err := marshal(newContactItem(contact))
		if err != nil {
			return res, false, err
		}
		items = append(items, s.put(av, "attribute_not_exists(pk)"))
		res.ContactCreated = true
	} else if !convFound {
		// A new conversation must not open on a contact merged meanwhile;
		// a marketing message not go to one that opted out meanwhile.
		// (Into an open conversation, both are checked on its pointer,
		// outside ORG#<org>: a merge deletes it, an opt-out marks it.)
		// Its pointer carries the opt-out as read: on condition that it
		// still is (a marketing message's is none, checked above).
		check := s.liveContact(org, contact.ID)
		check.ConditionCheck.ConditionExpression, check.ConditionCheck.ExpressionAttributeValues = optOutAsRead(*check.ConditionCheck.ConditionExpression, nil, contact.OptOut)
		items = append(items, check)
	}
	for _, k := range missing {
		w, err := s.claimIdent(k, contact.ID)
		if err != nil {
			return res, false, err
		}
		items = append(items, w)
	}
	cm := convMessage{org: org, contactID: contact.ID, at: now, marketing: m.Marketing, optOut: contact.OptOut}
	switch {
	case convFound:
		cm.open = &conv
	case m.FreeForm || found:
		// Keep the window visible on the new conversation.
		if last, err := s.lastInbound(ctx, org, contact.ID); err == nil {
			cm.lastInbound = last
		}
	}
	if conv, items, err = s.addToConversation(items, cm, now); err != nil {
		return res, false, err
	}
	res.ConversationCreated = !convFound

	msg := Message{
		ID: id.New(id.Message, now), OrgID: org, ConversationID: conv.ID, ContactID: contact.ID, Direction: Outbound,
		Type: m.Type, Content: m.Content, Status: StatusQueued, ContextWAMID: m.ContextWAMID, Timestamp: now,
		CreatedAt: now, To: recipient, Test: m.Test, Bulk: m.Bulk, Marketing: m.Marketing, CampaignID: m.CampaignID,
		Context: &MessageContext{Contact: contact, Conversation: conv},
	}
	if !m.SendAt.IsZero() {
		sendAt := m.SendAt.UTC().Truncate(time.Millisecond)
		msg.Status, msg.SendAt, msg.Marketing = StatusScheduled, &sendAt, m.Marketing
	}
	it := newMsgItem(msg)
	it.SendState = SendQueued
	it.CreatedContact, it.CreatedConversation = res.ContactCreated, res.ConversationCreated
	if msg.SendAt != nil {
		it.SendState = SendScheduled
	}
	mi, err := marshal(it)
	if err != nil {
		return res, false, err
	}
	items = append(items, s.put(mi, "attribute_not_exists(pk)"))
	if msg.SendAt != nil {
		// Scheduled: the sweep finds it by its schedule item and releases
		// it (queued, with its outbound job) when its time comes.
		si, err := marshal(newSchedItem(msg))
		if err != nil {
			return res, false, err
		}
		items = append(items, s.put(si, "attribute_not_exists(pk)"))
	} else if items, err = s.withOutbox(items, Outbox{OrgID: org, ContactID: contact.ID,
		Job: &OutboxJob{OrgID: org, ContactID: contact.ID, MessageID: msg.ID, Bulk: m.Bulk, Test: m.Test}}); err != nil {
		// The outbound job is an outbox item of this transaction: a
		// message accepted is always queued (by the relay), whatever
		// happens to this invocation after the commit.
		return res, false, err
	}
	idemIdx := -1
	if m.IdempotencyKey != "" {
		ii, err := marshal(idemItem{
			key: key{idemPK(org, m.IdempotencyKey), idemSK()}, Type: typeIdempotency, RequestHash: m.RequestHash,
			MessageID: msg.ID, Enqueued: true, CreatedAt: nowS, ExpiresAt: now.Add(IdempotencyTTL).Unix(),
		})
		if err != nil {
			return res, false, err
		}
		idemIdx = len(items)
		items = append(items, s.put(ii, "attribute_not_exists(pk) OR expires_at < :now"))
		items[idemIdx].Put.ExpressionAttributeValues = map[string]types.AttributeValue{":now": num(strconv.FormatInt(now.Unix(), 10))}
	}
	replay := false
	err = s.transact(ctx, "accept outbound message", items, func(failed []bool) error {
		if idemIdx >= 0 && failed[idemIdx] {
			replay = true
			return nil
		}
		return errRace
	})
	switch {
	case replay:
		r, found, err := s.replay(ctx, m)
		if !found && err == nil {
			return r, true, errRace
		}
		return r, false, err
	case errors.Is(err, errRace):
		return res, true, err
	case err != nil:
		return res, false, err
	}
	res.Message, res.Contact, res.Conversation = msg, contact, conv
	return res, false, nil
}

// optedOut is the refusal of a marketing message to a contact that opted
// out.
func optedOut(c Contact) error {
	msg := "the contact opted out of marketing messages"
	if c.OptOut != nil {
		msg += " at " + c.OptOut.At.UTC().Format(time.RFC3339) + " (" + c.OptOut.Reason + ")"
	}
	return apperr.New(apperr.Unprocessable, msg+"; service replies in the customer service window still work, and POST /v1/contacts/{id}/opt-in records a new consent").
		WithCode("contact_opted_out").With("contact_id", c.ID).
		WithDetails(apperr.Detail{Field: "to", Issue: "opted out of marketing messages"})
}

// replay answers a request whose idempotency key was seen.
func (s *Store) replay(ctx context.Context, m OutboundMessage) (OutboundResult, bool, error) {
	var it idemItem
	found, err := s.getItem(ctx, key{idemPK(m.OrgID, m.IdempotencyKey), idemSK()}, &it)
	if err != nil || !found || it.ExpiresAt < s.now().Unix() {
		return OutboundResult{}, false, err
	}
	if it.RequestHash != m.RequestHash {
		return OutboundResult{}, true, apperr.New(apperr.Conflict,
			"this Idempotency-Key was used with a different request; use a new key for a new message").
			WithCode("idempotency_key_reused").With("message_id", it.MessageID)
	}
	msg, err := s.Message(ctx, m.OrgID, it.MessageID)
	if err != nil {
		return OutboundResult{}, true, err
	}
	if msg.Test != m.Test {
		// A live request never answers with a test message (which never
		// reaches Meta), nor a test request with a live one.
		return OutboundResult{}, true, apperr.New(apperr.Conflict,
			"this Idempotency-Key was used by a key of the other mode (live or test); use a new key for a new message").
			WithCode("idempotency_key_reused")
	}
	return OutboundResult{Message: msg, Replayed: true, Enqueued: it.Enqueued}, true, nil
}

// RequeueOutbound queues again, through the outbox, a message accepted
// before its job was an outbox item of the accepting transaction (its
// idempotency key not marked enqueued): the job is written with the mark,
// in one transaction, once. The job is msg's, its lane and mode with it
// (a test key's message is admitted under the test share).
func (s *Store) RequeueOutbound(ctx context.Context, org string, msg Message, idemKey string) error {
	if idemKey == "" {
		return nil
	}
	u := updateInput(s.table, key{idemPK(org, idemKey), idemSK()}, "SET enqueued = :t",
		"attribute_exists(pk) AND message_id = :m AND (attribute_not_exists(enqueued) OR enqueued <> :t)",
		map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}, ":m": str(msg.ID)})
	items := []types.TransactWriteItem{{Update: &types.Update{TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
		ConditionExpression: u.ConditionExpression, ExpressionAttributeValues: u.ExpressionAttributeValues}}}
	items, err := s.withOutbox(items, Outbox{OrgID: org, ContactID: msg.ContactID,
		Job: &OutboxJob{OrgID: org, ContactID: msg.ContactID, MessageID: msg.ID, Bulk: msg.Bulk, Test: msg.Test}})
	if err != nil {
		return err
	}
	return s.transact(ctx, "requeue outbound message", items, func([]bool) error { return nil })
}

// IdempotencyKeyUsed reports whether an idempotency key (as accepted, with
// the test: prefix of test keys) names an accepted message still within
// its 24 hours: a repeat of that request is a replay, whatever has changed
// since.
func (s *Store) IdempotencyKeyUsed(ctx context.Context, org, idemKey string) (bool, error) {
	var it idemItem
	found, err := s.getItem(ctx, key{idemPK(org, idemKey), idemSK()}, &it)
	if err != nil || !found {
		return false, err
	}
	return it.ExpiresAt >= s.now().Unix(), nil
}

// lastInbound is the contact's latest customer message time, from its most
// recent conversation (gsi1, newest first).
func (s *Store) lastInbound(ctx context.Context, org, contactID string) (*time.Time, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(IndexGSI1),
		KeyConditionExpression: aws.String("gsi1pk = :p AND begins_with(gsi1sk, :c)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": str(contactConvsPK(org, contactID)), ":c": str(convSKPrefix),
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(3),
	})
	if err != nil {
		return nil, unavailable("last inbound", err)
	}
	var latest *time.Time
	for _, item := range res.Items {
		var it convItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("store: decode conversation: %w", err)
		}
		if t := parseTime(it.LastInboundAt); t != nil && (latest == nil || t.After(*latest)) {
			latest = t
		}
	}
	return latest, nil
}

// ---------------------------------------------------------------- sender

// Claim is a sender's hold on a message while it sends it.
type Claim struct {
	Message Message
	Token   string
	State   string // the state found when the claim failed
	// UnknownSince: an earlier sender started a POST to Meta then and its
	// outcome was never recorded (it crashed, timed out, or could not
	// write it): Meta may have accepted the message.
	UnknownSince *time.Time
}

// ErrNotClaimable means another sender holds the message or it is done.
var ErrNotClaimable = errors.New("store: message is not claimable")

// ClaimSend moves a queued message (or one whose previous sender's lease
// expired) to sending. A message already accepted or failed, or held by a
// live sender, answers ErrNotClaimable with the state found.
func (s *Store) ClaimSend(ctx context.Context, org, msgID string, lease time.Duration) (Claim, error) {
	now := s.now()
	token := id.New("clm", now)
	in := updateInput(s.table, key{msgPK(org, msgID), msgSK()},
		"SET send_state = :sending, claim = :c, lease_until = :until ADD attempts :one",
		"attribute_exists(pk) AND (send_state = :queued OR (send_state = :sending AND lease_until < :now))",
		map[string]types.AttributeValue{
			":sending": str(SendSending), ":queued": str(SendQueued), ":c": str(token),
			":until": str(timestamp(now.Add(lease))), ":now": str(timestamp(now)), ":one": num("1"),
		})
	in.ReturnValues = types.ReturnValueAllNew
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	out, err := s.db.UpdateItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if len(ccf.Item) == 0 {
			return Claim{}, apperr.New(apperr.NotFound, "message not found")
		}
		var it msgItem
		_ = attributevalue.UnmarshalMap(ccf.Item, &it)
		return Claim{Message: it.model(), State: it.SendState}, ErrNotClaimable
	}
	if err != nil {
		return Claim{}, unavailable("claim message", err)
	}
	var it msgItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return Claim{}, fmt.Errorf("store: decode message: %w", err)
	}
	return Claim{Message: it.model(), Token: token, State: SendSending, UnknownSince: parseTime(it.AttemptAt)}, nil
}

// FailStranded marks failed a message whose queue message reached the
// dead-letter queue: queued, or held by a sender whose lease expired. A
// message in another state answers ErrNotClaimable with the state found
// (and the message).
func (s *Store) FailStranded(ctx context.Context, org, msgID string, e MessageError) (Claim, error) {
	now := s.now()
	in := updateInput(s.table, key{msgPK(org, msgID), msgSK()},
		"SET send_state = :failed, #st = :failed, status_rank = :r, failed_at = :now, updated_at = :now, claim = :none, "+
			"error_code = :ec, error_title = :et, error_message = :em, error_details = :ed, attempt_at = :none",
		"attribute_exists(pk) AND (send_state = :queued OR (send_state = :sending AND lease_until < :now))",
		map[string]types.AttributeValue{
			":failed": str(SendFailed), ":r": num(strconv.Itoa(StatusRank(StatusFailed))), ":now": str(timestamp(now)), ":none": str(""),
			":ec": num(strconv.Itoa(e.Code)), ":et": str(e.Title), ":em": str(e.Message), ":ed": str(e.Details),
			":queued": str(SendQueued), ":sending": str(SendSending),
		})
	in.ExpressionAttributeNames = map[string]string{"#st": "status"}
	in.ReturnValues = types.ReturnValueAllNew
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	out, err := s.db.UpdateItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if len(ccf.Item) == 0 {
			return Claim{}, apperr.New(apperr.NotFound, "message not found")
		}
		var it msgItem
		_ = attributevalue.UnmarshalMap(ccf.Item, &it)
		return Claim{Message: it.model(), State: it.SendState, UnknownSince: parseTime(it.AttemptAt)}, ErrNotClaimable
	}
	if err != nil {
		return Claim{}, unavailable("fail stranded message", err)
	}
	var it msgItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return Claim{}, fmt.Errorf("store: decode message: %w", err)
	}
	return Claim{Message: it.model(), State: SendFailed}, nil
}

// SendAttempt records, before the POST to Meta, that an attempt of the
// claimed message starts: until its outcome is recorded (SendAccepted,
// SendRetry, SendFailed), a later claim knows Meta may have it.
func (s *Store) SendAttempt(ctx context.Context, c Claim) error {
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{msgPK(c.Message.OrgID, c.Message.ID), msgSK()},
		"SET attempt_at = :now", "send_state = :sending AND claim = :c",
		map[string]types.AttributeValue{":now": str(timestamp(s.now())), ":sending": str(SendSending), ":c": str(c.Token)}))
	if isConditionFailed(err) {
		return fmt.Errorf("store: attempt %s: %w", c.Message.ID, ErrNotClaimable)
	}
	if err != nil {
		return unavailable("record send attempt", err)
	}
	return nil
}

// CallbackPrefix prefixes the message id the sender puts in
// biz_opaque_callback_data, which Meta echoes in status webhooks.
const CallbackPrefix = "pytake:"

// adoptWAMID records the wamid a status names for a message whose last
// attempt's outcome is unknown, when the status carries the message's id
// in biz_opaque_callback_data: Meta accepted it.
func (s *Store) adoptWAMID(ctx context.Context, org, callback, wamid string) (wamidItem, bool, error) {
	msgID, ok := strings.CutPrefix(callback, CallbackPrefix)
	if !ok || !id.Valid(id.Message, msgID) {
		return wamidItem{}, false, nil
	}
	m, err := s.Message(ctx, org, msgID)
	if apperr.Is(err, apperr.NotFound) {
		return wamidItem{}, false, nil
	}
	if err != nil {
		return wamidItem{}, false, err
	}
	now := timestamp(s.now())
	wi := wamidItem{key: key{wamidPK(org, wamid), wamidSK()}, Type: typeWamid, MessageID: m.ID,
		ConversationID: m.ConversationID, ContactID: m.ContactID, CreatedAt: now}
	av, err := marshal(wi)
	if err != nil {
		return wamidItem{}, false, err
	}
	adopted := true
	err = s.transact(ctx, "reconcile send", []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: aws.String(s.table), Key: key{msgPK(org, m.ID), msgSK()}.av(),
			UpdateExpression: aws.String("SET send_state = :acc, #st = :accepted, status_rank = :r, wamid = :w, accepted_at = :now, " +
				"updated_at = :now, claim = :none, attempt_at = :none"),
			ConditionExpression: aws.String("attribute_exists(attempt_at) AND attempt_at <> :none AND (send_state = :sending OR send_state = :queued) AND " +
				"attribute_not_exists(wamid) AND status_rank < :r"),
			ExpressionAttributeNames: map[string]string{"#st": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":acc": str(SendAccepted), ":accepted": str(StatusAccepted), ":r": num(strconv.Itoa(StatusRank(StatusAccepted))),
				":w": str(wamid), ":now": str(now), ":none": str(""), ":sending": str(SendSending), ":queued": str(SendQueued),
			},
		}},
		s.put(av, "attribute_not_exists(pk)"),
	}, func([]bool) error {
		adopted = false
		return nil
	})
	if err != nil || !adopted {
		return wamidItem{}, false, err
	}
	return wi, true, nil
}

// StatusesPendingEvents lists the statuses of a message whose events were
// not confirmed published.
func (s *Store) StatusesPendingEvents(ctx context.Context, org, msgID string) ([]string, error) {
	items, err := s.statusItems(ctx, msgPK(org, msgID), "pending status events")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, st := range items {
		if st.EventsPending {
			out = append(out, st.Status)
		}
	}
	return out, nil
}

// statusItems reads, strongly consistent, the status items of one
// partition (a message's, or a wamid's before its message had it).
func (s *Store) statusItems(ctx context.Context, pk, what string) ([]statusItem, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :s)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":s": str(statusSKPrefix),
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, unavailable(what, err)
	}
	out := make([]statusItem, 0, len(res.Items))
	for _, item := range res.Items {
		var st statusItem
		if err := attributevalue.UnmarshalMap(item, &st); err != nil {
			return nil, fmt.Errorf("store: decode status: %w", err)
		}
		out = append(out, st)
	}
	return out, nil
}

// SendAccepted records Meta's wamid for a claimed message, with the wamid
// lookup the status webhooks use, and returns statuses that arrived for the
// wamid before it was known (to apply now).
func (s *Store) SendAccepted(ctx context.Context, c Claim, wamid string) ([]StatusUpdate, error) {
	m := c.Message
	now := timestamp(s.now())
	wi, err := marshal(wamidItem{
		key: key{wamidPK(m.OrgID, wamid), wamidSK()}, Type: typeWamid, MessageID: m.ID,
		ConversationID: m.ConversationID, ContactID: m.ContactID, CreatedAt: now,
	})
	if err != nil {
		return nil, err
	}
	err = s.transact(ctx, "accept send", []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: aws.String(s.table), Key: key{msgPK(m.OrgID, m.ID), msgSK()}.av(),
			UpdateExpression: aws.String("SET send_state = :acc, #st = :accepted, status_rank = :r, wamid = :w, accepted_at = :now, " +
				"updated_at = :now, claim = :none, attempt_at = :none"),
			ConditionExpression:      aws.String("send_state = :sending AND claim = :c"),
			ExpressionAttributeNames: map[string]string{"#st": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":acc": str(SendAccepted), ":accepted": str(StatusAccepted), ":r": num(strconv.Itoa(StatusRank(StatusAccepted))),
				":w": str(wamid), ":now": str(now), ":none": str(""), ":sending": str(SendSending), ":c": str(c.Token),
			},
		}},
		s.put(wi, "attribute_not_exists(pk)"),
	}, func([]bool) error {
		return fmt.Errorf("store: accept send of %s: %w", m.ID, ErrNotClaimable)
	})
	if err != nil {
		return nil, err
	}
	return s.EarlyStatuses(ctx, m.OrgID, wamid)
}

// EarlyStatuses lists the statuses recorded for a wamid before its message
// had it (applying them again is harmless: each (wamid, status) applies
// once).
func (s *Store) EarlyStatuses(ctx context.Context, org, wamid string) ([]StatusUpdate, error) {
	items, err := s.statusItems(ctx, wamidPK(org, wamid), "early statuses")
	if err != nil {
		return nil, err
	}
	var out []StatusUpdate
	for _, st := range items {
		u := StatusUpdate{OrgID: org, WAMID: wamid, Status: st.Status, Raw: json.RawMessage(st.Raw)}
		if t := parseTime(st.Timestamp); t != nil {
			u.Timestamp = *t
		}
		if st.Errors != "" {
			u.Errors = json.RawMessage(st.Errors)
			var errs []struct {
				Code      int    `json:"code"`
				Title     string `json:"title"`
				Message   string `json:"message"`
				ErrorData struct {
					Details string `json:"details"`
				} `json:"error_data"`
			}
			if json.Unmarshal(u.Errors, &errs) == nil && len(errs) > 0 {
				u.Error = &MessageError{Code: errs[0].Code, Title: errs[0].Title, Message: errs[0].Message, Details: errs[0].ErrorData.Details}
			}
		}
		if st.Pricing != "" {
			u.Pricing = json.RawMessage(st.Pricing)
			var p struct {
				Category string `json:"category"`
				Billable *bool  `json:"billable"`
			}
			if json.Unmarshal(u.Pricing, &p) == nil {
				u.PricingCategory, u.Billable = p.Category, p.Billable
			}
		}
		out = append(out, u)
	}
	return out, nil
}

// SendRetry returns a claimed message to the queue after a retryable
// failure.
func (s *Store) SendRetry(ctx context.Context, c Claim, reason string) error {
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{msgPK(c.Message.OrgID, c.Message.ID), msgSK()},
		"SET send_state = :queued, claim = :none, last_error = :e, updated_at = :now, attempt_at = :none", "send_state = :sending AND claim = :c",
		map[string]types.AttributeValue{
			":queued": str(SendQueued), ":none": str(""), ":e": str(reason), ":now": str(timestamp(s.now())),
			":sending": str(SendSending), ":c": str(c.Token),
		}))
	if isConditionFailed(err) {
		return fmt.Errorf("store: retry %s: %w", c.Message.ID, ErrNotClaimable)
	}
	if err != nil {
		return unavailable("retry send", err)
	}
	return nil
}

// SendRelease returns a claimed message to the queue without its claim
// counting as an attempt: nothing was sent (paced for its recipient, no
// send token of its number, too little time left). Its attempts are the
// POSTs and failures that reached Meta or the store, not postponements,
// so pacing never makes Meta's first retryable error the last attempt.
func (s *Store) SendRelease(ctx context.Context, c Claim, reason string) error {
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{msgPK(c.Message.OrgID, c.Message.ID), msgSK()},
		"SET send_state = :queued, claim = :none, last_error = :e, updated_at = :now, attempt_at = :none ADD attempts :minus",
		"send_state = :sending AND claim = :c AND attempts > :zero",
		map[string]types.AttributeValue{
			":queued": str(SendQueued), ":none": str(""), ":e": str(reason), ":now": str(timestamp(s.now())),
			":sending": str(SendSending), ":c": str(c.Token), ":minus": num("-1"), ":zero": num("0"),
		}))
	if isConditionFailed(err) {
		return fmt.Errorf("store: release %s: %w", c.Message.ID, ErrNotClaimable)
	}
	if err != nil {
		return unavailable("release send", err)
	}
	return nil
}

// SendFailed marks a claimed message failed for good with the error.
func (s *Store) SendFailed(ctx context.Context, c Claim, e MessageError) (Message, error) {
	now := timestamp(s.now())
	in := updateInput(s.table, key{msgPK(c.Message.OrgID, c.Message.ID), msgSK()},
		"SET send_state = :failed, #st = :failed, status_rank = :r, failed_at = :now, updated_at = :now, claim = :none, "+
			"error_code = :ec, error_title = :et, error_message = :em, error_details = :ed, attempt_at = :none",
		"send_state = :sending AND claim = :c",
		map[string]types.AttributeValue{
			":failed": str(SendFailed), ":r": num(strconv.Itoa(StatusRank(StatusFailed))), ":now": str(now), ":none": str(""),
			":ec": num(strconv.Itoa(e.Code)), ":et": str(e.Title), ":em": str(e.Message), ":ed": str(e.Details),
			":sending": str(SendSending), ":c": str(c.Token),
		})
	in.ExpressionAttributeNames = map[string]string{"#st": "status"}
	in.ReturnValues = types.ReturnValueAllNew
	out, err := s.db.UpdateItem(ctx, in)
	if isConditionFailed(err) {
		return Message{}, fmt.Errorf("store: fail %s: %w", c.Message.ID, ErrNotClaimable)
	}
	if err != nil {
		return Message{}, unavailable("fail send", err)
	}
	var it msgItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return Message{}, fmt.Errorf("store: decode message: %w", err)
	}
	return it.model(), nil
}

// LeaseSendTokens leases up to want of the send tokens of a phone number's
// second: the counter item of (number, second) is raised by what is
// granted, never over ceiling, so the cap holds across any number of
// concurrent senders (see internal/sendlimit). It answers how many it
// granted, 0 when the counter is at ceiling. One write when want fits;
// when it does not, the failed write returns the counter and one more
// write takes what is left.
func (s *Store) LeaseSendTokens(ctx context.Context, phoneNumberID string, second int64, want, ceiling int) (int, error) {
	// Never more than the whole second: the condition lets the second's
	// first write through whatever it adds.
	want = min(want, ceiling)
	for attempt := 0; attempt < 3 && want > 0; attempt++ {
		in := updateInput(s.table, key{ratePK(phoneNumberID, second), rateSK()},
			"SET expires_at = :ttl, #t = :type ADD n :want", "attribute_not_exists(n) OR n <= :room",
			map[string]types.AttributeValue{
				":ttl": num(strconv.FormatInt(second+120, 10)), ":want": num(strconv.Itoa(want)),
				":room": num(strconv.Itoa(ceiling - want)), ":type": str(typeRate),
			})
		in.ExpressionAttributeNames = map[string]string{"#t": attrType}
		in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
		_, err := s.db.UpdateItem(ctx, in)
		if err == nil {
			return want, nil
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return 0, unavailable("lease send tokens", err)
		}
		// Take what is left, as the failed write saw it (or half, when
		// it did not say).
		next := want / 2
		if v, ok := ccf.Item["n"].(*types.AttributeValueMemberN); ok {
			if n, perr := strconv.Atoi(v.Value); perr == nil {
				next = min(want-1, ceiling-n)
			}
		}
		want = next
	}
	return 0, nil
}
