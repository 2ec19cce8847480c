package store

import (
	"encoding/json"
	"time"
)

// Contact is a person an organisation talks to. Identity is the WhatsApp
// phone (wa_id) and/or the business-scoped user id (BSUID); neither alone is
// the key.
type Contact struct {
	ID           string         `json:"id"`
	OrgID        string         `json:"-"`
	WhatsAppID   string         `json:"whatsapp_id,omitempty"` // digits with country code, no '+'
	UserID       string         `json:"user_id,omitempty"`     // BSUID
	ParentUserID string         `json:"parent_user_id,omitempty"`
	Name         string         `json:"name,omitempty"`
	ProfileName  string         `json:"profile_name,omitempty"`
	Email        string         `json:"email,omitempty"`
	Tags         []string       `json:"tags"`
	Attributes   map[string]any `json:"attributes"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
}

// DisplayName is the name to show: the one set by the organisation, else
// the WhatsApp profile name.
func (c Contact) DisplayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.ProfileName
}

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

// Message directions.
const (
	Inbound  = "inbound"
	Outbound = "outbound"
)

// Message statuses, in the order they move. Failed is terminal and set
// apart: a late delivered never erases it, and it erases nothing.
const (
	StatusReceived  = "received" // inbound messages
	StatusQueued    = "queued"
	StatusAccepted  = "accepted"
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusPlayed    = "played"
	StatusFailed    = "failed"
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
	case StatusFailed:
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
}
