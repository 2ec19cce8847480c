package store

import (
	"encoding/json"
	"time"
)

type contactItem struct {
	key
	Type         string         `dynamodbav:"type"`
	ID           string         `dynamodbav:"id"`
	OrgID        string         `dynamodbav:"org_id"`
	WhatsAppID   string         `dynamodbav:"wa_id,omitempty"`
	UserID       string         `dynamodbav:"user_id,omitempty"`
	ParentUserID string         `dynamodbav:"parent_user_id,omitempty"`
	Name         string         `dynamodbav:"name,omitempty"`
	ProfileName  string         `dynamodbav:"profile_name,omitempty"`
	Email        string         `dynamodbav:"email,omitempty"`
	Tags         []string       `dynamodbav:"tags,omitempty"`
	Attributes   map[string]any `dynamodbav:"attributes,omitempty"`
	CreatedAt    string         `dynamodbav:"created_at"`
	UpdatedAt    string         `dynamodbav:"updated_at"`
}

func (it contactItem) model() Contact {
	c := Contact{
		ID: it.ID, OrgID: it.OrgID, WhatsAppID: it.WhatsAppID, UserID: it.UserID, ParentUserID: it.ParentUserID,
		Name: it.Name, ProfileName: it.ProfileName, Email: it.Email, Tags: it.Tags, Attributes: it.Attributes,
		CreatedAt: mustTime(it.CreatedAt), UpdatedAt: mustTime(it.UpdatedAt),
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	return c
}

type identItem struct {
	key
	Type      string `dynamodbav:"type"`
	ContactID string `dynamodbav:"contact_id"`
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
	Attempts   int    `dynamodbav:"attempts,omitempty"`
	AcceptedAt string `dynamodbav:"accepted_at,omitempty"`
	LastError  string `dynamodbav:"last_error,omitempty"` // the latest retryable failure
}

func (it msgItem) model() Message {
	m := Message{
		ID: it.ID, OrgID: it.OrgID, ConversationID: it.ConversationID, ContactID: it.ContactID,
		Direction: it.Direction, WAMID: it.WAMID, Type: it.MsgType, Status: it.Status, ContextWAMID: it.ContextWAMID,
		Timestamp: mustTime(it.Timestamp), CreatedAt: mustTime(it.CreatedAt), SentAt: parseTime(it.SentAt),
		DeliveredAt: parseTime(it.DeliveredAt), ReadAt: parseTime(it.ReadAt), FailedAt: parseTime(it.FailedAt),
		PricingCategory: it.PricingCategory, Billable: it.Billable,
		To: it.Recipient, Attempts: it.Attempts, AcceptedAt: parseTime(it.AcceptedAt), LastError: it.LastError,
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

type wamidItem struct {
	key
	Type           string `dynamodbav:"type"`
	MessageID      string `dynamodbav:"message_id"`
	ConversationID string `dynamodbav:"conversation_id"`
	ContactID      string `dynamodbav:"contact_id"`
	EventsPending  bool   `dynamodbav:"events_pending,omitempty"`
	CreatedAt      string `dynamodbav:"created_at"`
}

type statusItem struct {
	key
	Type          string `dynamodbav:"type"`
	Status        string `dynamodbav:"status"`
	Timestamp     string `dynamodbav:"timestamp"`
	ReceivedAt    string `dynamodbav:"received_at"`
	Errors        string `dynamodbav:"errors,omitempty"`
	Pricing       string `dynamodbav:"pricing,omitempty"`
	Raw           string `dynamodbav:"raw,omitempty"`
	EventsPending bool   `dynamodbav:"events_pending,omitempty"`
	ExpiresAt     int64  `dynamodbav:"expires_at,omitempty"`
}

type mediaItem struct {
	key
	Type      string `dynamodbav:"type"`
	MessageID string `dynamodbav:"message_id"`
	MimeType  string `dynamodbav:"mime_type,omitempty"`
}

func mustTime(s string) time.Time {
	if t := parseTime(s); t != nil {
		return *t
	}
	return time.Time{}
}
