package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
)

// Message directions.
const (
	Inbound  = "inbound"
	Outbound = "outbound"
)

// Message statuses, in the order they move. Failed is terminal and set
// apart: a late delivered never erases it, and it erases nothing.
const (
	StatusReceived  = "received"  // inbound messages
	StatusScheduled = "scheduled" // outbound, waiting for its send_at (schedule.go)
	StatusQueued    = "queued"
	StatusAccepted  = "accepted"
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusPlayed    = "played"
	StatusFailed    = "failed"
	// StatusCancelled: a scheduled message cancelled before its time;
	// terminal like failed.
	StatusCancelled = "cancelled"
)

// StatusRank orders statuses; a status only replaces a lower-ranked one.
func StatusRank(s string) int {
	switch s {
	case StatusQueued:
		return 1
	case StatusAccepted:
		return 2
	case StatusSent:
		return 3
	case StatusDelivered:
		return 4
	case StatusRead:
		return 5
	case StatusPlayed:
		return 6
	case StatusFailed, StatusCancelled:
		return 100
	}
	return 0
}

// MessageError is Meta's error for a failed message.
type MessageError struct {
	Code    int    `json:"code"`
	Title   string `json:"title,omitempty"`
	Message string `json:"message,omitempty"`
	Details string `json:"details,omitempty"`
}

// StatusEntry is one status as it arrived (the timeline).
type StatusEntry struct {
	Status     string          `json:"status"`
	Timestamp  time.Time       `json:"timestamp"`
	ReceivedAt time.Time       `json:"received_at"`
	Errors     json.RawMessage `json:"errors,omitempty"`
	Pricing    json.RawMessage `json:"pricing,omitempty"`
	// Test: made up by the sender for a test message, not sent by Meta.
	Test bool `json:"test,omitempty"`
}

// Message is one WhatsApp message, in or out.
type Message struct {
	ID              string          `json:"id"`
	OrgID           string          `json:"-"`
	ConversationID  string          `json:"conversation_id"`
	ContactID       string          `json:"contact_id"`
	Direction       string          `json:"direction"`
	WAMID           string          `json:"wamid,omitempty"`
	Type            string          `json:"type"`
	Content         json.RawMessage `json:"content"`
	Raw             json.RawMessage `json:"raw,omitempty"`
	Status          string          `json:"status"`
	ContextWAMID    string          `json:"context_wamid,omitempty"`
	Timestamp       time.Time       `json:"timestamp"`
	CreatedAt       time.Time       `json:"created_at"`
	SentAt          *time.Time      `json:"sent_at,omitempty"`
	DeliveredAt     *time.Time      `json:"delivered_at,omitempty"`
	ReadAt          *time.Time      `json:"read_at,omitempty"`
	FailedAt        *time.Time      `json:"failed_at,omitempty"`
	Error           *MessageError   `json:"error,omitempty"`
	PricingCategory string          `json:"pricing_category,omitempty"`
	Billable        *bool           `json:"billable,omitempty"`
	Timeline        []StatusEntry   `json:"timeline,omitempty"`
	// Outbound only.
	To         string     `json:"to,omitempty"`
	Attempts   int        `json:"attempts,omitempty"`
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
	LastError  string     `json:"last_error,omitempty"`
	// SendAt: a scheduled message's time (POST /v1/messages send_at);
	// CancelledAt: when it was cancelled before it.
	SendAt      *time.Time `json:"send_at,omitempty"`
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
	// Test: sent with a pytake_test_ key; it never reached Meta.
	Test bool `json:"test,omitempty"`
	// Bulk: sent in the bulk lane (a campaign): its own outbound queue,
	// and it leaves headroom of the number's limit to the transactional
	// lane (internal/sendlimit).
	Bulk bool `json:"-"`
	// Marketing: accepted as a marketing message (a MARKETING template, a
	// campaign's): the sender checks the contact's opt-out again right
	// before sending it, and a scheduled message's release. CampaignID: the campaign it was sent for.
	Marketing  bool   `json:"-"`
	CampaignID string `json:"-"`
	// CreatedContact, CreatedConversation: accepting this outbound message
	// created its contact / opened its conversation; the sender publishes
	// contact.created / conversation.created for it (the job on the
	// outbound queue carries that duty durably).
	CreatedContact      bool `json:"-"`
	CreatedConversation bool `json:"-"`
	// Context: an outbound message's contact and conversation as they
	// were when it was accepted, kept on the message for its events (see
	// EventContext); nil on messages accepted before it was kept.
	Context *MessageContext `json:"-"`
}

// MessageContext is what a message's events show besides the message: its
// contact and its conversation.
type MessageContext struct {
	Contact      Contact
	Conversation Conversation
}

type msgItem struct {
	key
	GSI1PK          string `dynamodbav:"gsi1pk"`
	GSI1SK          string `dynamodbav:"gsi1sk"`
	Type            string `dynamodbav:"type"`
	ID              string `dynamodbav:"id"`
	OrgID           string `dynamodbav:"org_id"`
	ConversationID  string `dynamodbav:"conversation_id"`
	ContactID       string `dynamodbav:"contact_id"`
	Direction       string `dynamodbav:"direction"`
	WAMID           string `dynamodbav:"wamid,omitempty"`
	MsgType         string `dynamodbav:"msg_type"`
	Content         string `dynamodbav:"content"`
	Raw             string `dynamodbav:"raw,omitempty"`
	Status          string `dynamodbav:"status"`
	StatusRank      int    `dynamodbav:"status_rank"`
	ContextWAMID    string `dynamodbav:"context_wamid,omitempty"`
	Timestamp       string `dynamodbav:"timestamp"`
	CreatedAt       string `dynamodbav:"created_at"`
	SentAt          string `dynamodbav:"sent_at,omitempty"`
	DeliveredAt     string `dynamodbav:"delivered_at,omitempty"`
	ReadAt          string `dynamodbav:"read_at,omitempty"`
	FailedAt        string `dynamodbav:"failed_at,omitempty"`
	ErrorCode       int    `dynamodbav:"error_code,omitempty"`
	ErrorTitle      string `dynamodbav:"error_title,omitempty"`
	ErrorMessage    string `dynamodbav:"error_message,omitempty"`
	ErrorDetails    string `dynamodbav:"error_details,omitempty"`
	PricingCategory string `dynamodbav:"pricing_category,omitempty"`
	Billable        *bool  `dynamodbav:"billable,omitempty"`
	// Outbound only: the sender's state machine.
	Recipient  string `dynamodbav:"recipient,omitempty"`  // wa_id or BSUID the message goes to
	SendState  string `dynamodbav:"send_state,omitempty"` // queued, sending, accepted, failed
	Claim      string `dynamodbav:"claim,omitempty"`      // the current sender's claim token
	LeaseUntil string `dynamodbav:"lease_until,omitempty"`
	// AttemptAt: a POST to Meta started then and its outcome is not
	// recorded (set before the POST, removed with the outcome).
	AttemptAt  string `dynamodbav:"attempt_at,omitempty"`
	Attempts   int    `dynamodbav:"attempts,omitempty"`
	AcceptedAt string `dynamodbav:"accepted_at,omitempty"`
	LastError  string `dynamodbav:"last_error,omitempty"` // the latest retryable failure
	Test       bool   `dynamodbav:"test,omitempty"`       // a test key's message: never sent to Meta
	Bulk       bool   `dynamodbav:"bulk,omitempty"`       // the bulk lane's
	// Marketing: checked again before it is sent (opt-out) and when a
	// scheduled message is released; CampaignID: the campaign whose
	// recipient it is. A scheduled message: its time, when it was cancelled.
	Marketing   bool   `dynamodbav:"marketing,omitempty"`
	CampaignID  string `dynamodbav:"campaign_id,omitempty"`
	SendAt      string `dynamodbav:"send_at,omitempty"`
	CancelledAt string `dynamodbav:"cancelled_at,omitempty"`
	// Accepting it created the contact / opened the conversation.
	CreatedContact      bool `dynamodbav:"created_contact,omitempty"`
	CreatedConversation bool `dynamodbav:"created_conversation,omitempty"`
	// The copy of the contact and conversation its events show (Context).
	EventContact      *contactItem `dynamodbav:"event_contact,omitempty"`
	EventConversation *convItem    `dynamodbav:"event_conversation,omitempty"`
}

func (it msgItem) model() Message {
	m := Message{
		ID: it.ID, OrgID: it.OrgID, ConversationID: it.ConversationID, ContactID: it.ContactID,
		Direction: it.Direction, WAMID: it.WAMID, Type: it.MsgType, Status: it.Status, ContextWAMID: it.ContextWAMID,
		Timestamp: mustTime(it.Timestamp), CreatedAt: mustTime(it.CreatedAt), SentAt: parseTime(it.SentAt),
		DeliveredAt: parseTime(it.DeliveredAt), ReadAt: parseTime(it.ReadAt), FailedAt: parseTime(it.FailedAt),
		PricingCategory: it.PricingCategory, Billable: it.Billable,
		To: it.Recipient, Attempts: it.Attempts, AcceptedAt: parseTime(it.AcceptedAt), LastError: it.LastError,
		Test: it.Test, Bulk: it.Bulk, CreatedContact: it.CreatedContact, CreatedConversation: it.CreatedConversation,
		Marketing: it.Marketing, CampaignID: it.CampaignID,
		SendAt: parseTime(it.SendAt), CancelledAt: parseTime(it.CancelledAt),
	}
	if it.EventContact != nil && it.EventConversation != nil {
		m.Context = &MessageContext{Contact: it.EventContact.model(), Conversation: it.EventConversation.model()}
	}
	if it.Content != "" {
		m.Content = json.RawMessage(it.Content)
	}
	if it.Raw != "" {
		m.Raw = json.RawMessage(it.Raw)
	}
	if it.ErrorCode != 0 || it.ErrorTitle != "" {
		m.Error = &MessageError{Code: it.ErrorCode, Title: it.ErrorTitle, Message: it.ErrorMessage, Details: it.ErrorDetails}
	}
	return m
}

func newMsgItem(m Message) msgItem {
	it := msgItem{
		key: key{msgPK(m.OrgID, m.ID), msgSK()}, GSI1PK: convMsgsPK(m.OrgID, m.ConversationID), GSI1SK: msgGSISK(m.ID),
		Type: typeMessage, ID: m.ID, OrgID: m.OrgID, ConversationID: m.ConversationID, ContactID: m.ContactID,
		Direction: m.Direction, WAMID: m.WAMID, MsgType: m.Type, Content: string(m.Content), Raw: string(m.Raw),
		Status: m.Status, StatusRank: StatusRank(m.Status), ContextWAMID: m.ContextWAMID,
		Timestamp: timestamp(m.Timestamp), CreatedAt: timestamp(m.CreatedAt), Recipient: m.To, Test: m.Test, Bulk: m.Bulk,
		Marketing: m.Marketing, CampaignID: m.CampaignID,
	}
	if m.SendAt != nil {
		it.SendAt = timestamp(*m.SendAt)
	}
	if m.Context != nil {
		it.EventContact, it.EventConversation = eventCopies(*m.Context)
	}
	return it
}

type wamidItem struct {
	key
	Type           string `dynamodbav:"type"`
	MessageID      string `dynamodbav:"message_id"`
	ConversationID string `dynamodbav:"conversation_id"`
	ContactID      string `dynamodbav:"contact_id"`
	EventsPending  bool   `dynamodbav:"events_pending,omitempty"`
	// What storing the inbound message created, so a redelivery that
	// publishes its events again publishes all of them.
	ContactCreated      bool   `dynamodbav:"contact_created,omitempty"`
	ConversationCreated bool   `dynamodbav:"conversation_created,omitempty"`
	CreatedAt           string `dynamodbav:"created_at"`
}

type mediaItem struct {
	key
	Type      string `dynamodbav:"type"`
	MessageID string `dynamodbav:"message_id"`
	MimeType  string `dynamodbav:"mime_type,omitempty"`
}

// Message reads one message of an organisation with its status timeline.
func (s *Store) Message(ctx context.Context, org, msgID string) (Message, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(msgPK(org, msgID))},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return Message{}, unavailable("get message", err)
	}
	var m Message
	found := false
	for _, item := range res.Items {
		var k struct {
			SK string `dynamodbav:"sk"`
		}
		_ = attributevalue.UnmarshalMap(item, &k)
		switch {
		case k.SK == msgSK():
			var it msgItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return Message{}, fmt.Errorf("store: decode message: %w", err)
			}
			m, found = it.model(), true
		default:
			var st statusItem
			if err := attributevalue.UnmarshalMap(item, &st); err != nil {
				return Message{}, fmt.Errorf("store: decode status: %w", err)
			}
			m.Timeline = append(m.Timeline, st.entry())
		}
	}
	if !found {
		return Message{}, apperr.New(apperr.NotFound, "message not found")
	}
	sortTimeline(m.Timeline)
	return m, nil
}

// ConversationMessages lists a conversation's messages, oldest first.
func (s *Store) ConversationMessages(ctx context.Context, org, convID, cursor string, limit int) (Page[Message], error) {
	if _, err := s.Conversation(ctx, org, convID); err != nil {
		return Page[Message]{}, err
	}
	return queryModels[msgItem](ctx, s, keyPrefix(IndexGSI1, convMsgsPK(org, convID), "", cursor, limit, true), nil)
}

// InsertMessage stores a message we created (an outbound one, say), with
// its wamid lookup item when it has a wamid.
func (s *Store) InsertMessage(ctx context.Context, m Message) error {
	mi, err := marshal(newMsgItem(m))
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{s.put(mi, "attribute_not_exists(pk)")}
	if m.WAMID != "" {
		wi, err := marshal(wamidItem{
			key: key{wamidPK(m.OrgID, m.WAMID), wamidSK()}, Type: typeWamid, MessageID: m.ID,
			ConversationID: m.ConversationID, ContactID: m.ContactID, CreatedAt: timestamp(s.now()),
		})
		if err != nil {
			return err
		}
		items = append(items, s.put(wi, "attribute_not_exists(pk)"))
	}
	return s.transact(ctx, "insert message", items, func([]bool) error {
		return conditionErr(apperr.Conflict, "message already exists")
	})
}

// MediaOwner answers the message that carried a media id in the
// organisation; NotFound for media the organisation never received.
func (s *Store) MediaOwner(ctx context.Context, org, mediaID string) (string, string, error) {
	var it mediaItem
	found, err := s.getItem(ctx, key{mediaPK(org, mediaID), mediaSK()}, &it)
	if err != nil {
		return "", "", err
	}
	if !found {
		return "", "", apperr.New(apperr.NotFound, "media not found")
	}
	return it.MessageID, it.MimeType, nil
}
