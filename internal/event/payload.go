package event

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/store"
)

var idEnc = base32.StdEncoding.WithPadding(base32.NoPadding)

// StableID derives an event id from what the event is about, so an event
// published again after a failure carries the same id (receivers dedupe on
// it, and the webhook-id header stays stable).
func StableID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "evt_" + strings.ToLower(idEnc.EncodeToString(sum[:16]))
}

// MessageView is a message as events show it.
type MessageView struct {
	ID             string              `json:"id"`
	WAMID          string              `json:"wamid,omitempty"`
	Direction      string              `json:"direction"`
	Type           string              `json:"type"`
	Content        json.RawMessage     `json:"content"`
	Status         string              `json:"status"`
	Timestamp      time.Time           `json:"timestamp"`
	ContextWAMID   string              `json:"context_wamid,omitempty"`
	Error          *store.MessageError `json:"error,omitempty"`
	ConversationID string              `json:"conversation_id"`
	// Test: a test key's message; its statuses were made up, not sent by
	// Meta.
	Test bool `json:"test,omitempty"`
}

// ContactView is a contact as events show it. whatsapp_id is E.164 with '+'.
type ContactView struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	WhatsAppID string         `json:"whatsapp_id,omitempty"`
	UserID     string         `json:"user_id,omitempty"`
	Email      string         `json:"email,omitempty"`
	Tags       []string       `json:"tags"`
	Attributes map[string]any `json:"attributes"`
	CreatedAt  time.Time      `json:"created_at"`
	// OptedOut: the contact opted out of marketing messages (OptOut says
	// when and why); OptedInAt is its last recorded consent.
	OptedOut  bool        `json:"opted_out"`
	OptOut    *OptOutView `json:"opt_out,omitempty"`
	OptedInAt *time.Time  `json:"opted_in_at,omitempty"`
	// Partial: a message.* status event's contact whose tags and
	// attributes took more than 16 KB: they are left out (empty here);
	// GET /v1/contacts/{id} has them.
	Partial bool `json:"partial,omitempty"`
}

// OptOutView is a contact's opt-out as the API and events show it.
type OptOutView struct {
	At time.Time `json:"at"`
	// Reason is "keyword" (the customer wrote an opt-out keyword) or
	// "meta_131050" (Meta refused a message: the user stopped marketing
	// messages).
	Reason string `json:"reason"`
	// Keyword is the opt-out keyword matched (reason keyword).
	Keyword string `json:"keyword,omitempty"`
	// MessageID is the customer's message (keyword) or the refused
	// message (meta_131050).
	MessageID string `json:"message_id,omitempty"`
}

// ConversationView is a conversation as events show it.
type ConversationView struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	ContactID string `json:"contact_id"`
	Handoff   bool   `json:"handoff,omitempty"` // handed to agents: the chatbot is quiet
}

// MessageData is the data of message.* events: the integrations guide's
// {"message","contact","conversation"}.
type MessageData struct {
	Message      MessageView      `json:"message"`
	Contact      ContactView      `json:"contact"`
	Conversation ConversationView `json:"conversation"`
}

// ViewMessage shows a message.
func ViewMessage(m store.Message) MessageView {
	content := m.Content
	if len(content) == 0 {
		content = json.RawMessage(`{}`)
	}
	return MessageView{
		ID: m.ID, WAMID: m.WAMID, Direction: m.Direction, Type: m.Type, Content: content, Status: m.Status,
		Timestamp: m.Timestamp.UTC(), ContextWAMID: m.ContextWAMID, Error: m.Error, ConversationID: m.ConversationID,
		Test: m.Test,
	}
}

// ViewContact shows a contact.
func ViewContact(c store.Contact) ContactView {
	v := ContactView{
		ID: c.ID, Name: c.DisplayName(), UserID: c.UserID, Email: c.Email, Tags: c.Tags,
		Attributes: c.Attributes, CreatedAt: c.CreatedAt.UTC(), Partial: c.Partial,
	}
	if c.WhatsAppID != "" {
		v.WhatsAppID = "+" + c.WhatsAppID
	}
	if o := c.OptOut; o != nil {
		v.OptedOut = true
		v.OptOut = &OptOutView{At: o.At.UTC(), Reason: o.Reason, MessageID: o.MessageID}
		if o.Reason == store.OptOutKeyword {
			v.OptOut.Keyword = o.Detail
		}
	}
	if c.OptedInAt != nil {
		t := c.OptedInAt.UTC()
		v.OptedInAt = &t
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	if v.Attributes == nil {
		v.Attributes = map[string]any{}
	}
	return v
}

// ViewConversation shows a conversation.
func ViewConversation(c store.Conversation) ConversationView {
	return ConversationView{ID: c.ID, Status: c.Status, ContactID: c.ContactID, Handoff: c.Handoff}
}

// MessageEvent builds a message.* event whose stable id is derived from the
// organisation, the event name and subject (a wamid, or our message id), so
// a retried publication has the same id.
func MessageEvent(name, org, subject string, at time.Time, m store.Message, c store.Contact, cv store.Conversation) (Event, error) {
	return New(StableID(org, name, subject), name, org, at, MessageData{
		Message: ViewMessage(m), Contact: ViewContact(c), Conversation: ViewConversation(cv),
	})
}

// MergedData is contact.merged's data: the surviving contact as it is after
// the merge, and the id of the contact merged into it (which the API now
// answers with the survivor).
type MergedData struct {
	Contact         ContactView `json:"contact"`
	SurvivingID     string      `json:"surviving_contact_id"`
	MergedContactID string      `json:"merged_contact_id"`
	WhatsAppID      string      `json:"whatsapp_id,omitempty"` // the wa_id Meta reported, with '+'
}

// MergedEvent builds contact.merged; its id is derived from the merged
// contact (merged once), so a republication has the same id.
func MergedEvent(org string, at time.Time, m store.Merge) (Event, error) {
	d := MergedData{Contact: ViewContact(m.Survivor), SurvivingID: m.Survivor.ID, MergedContactID: m.MergedID}
	if m.Survivor.WhatsAppID != "" {
		d.WhatsAppID = "+" + m.Survivor.WhatsAppID
	}
	return New(StableID(org, ContactMerged, m.MergedID), ContactMerged, org, at, d)
}

// OptedOutEvent is contact.opted_out for contact c (its OptOut set): the
// contact, and its opt-out. The id is stable per contact and opt-out, so a
// retry publishes the same event.
func OptedOutEvent(org string, at time.Time, c store.Contact) (Event, error) {
	v := ViewContact(c)
	subject := c.ID
	if c.OptOut != nil {
		subject += "#" + c.OptOut.At.UTC().Format(time.RFC3339Nano)
	}
	return New(StableID(org, ContactOptedOut, subject), ContactOptedOut, org, at, map[string]any{"contact": v, "opt_out": v.OptOut})
}

// CampaignAudience is who a campaign is for.
type CampaignAudience struct {
	Tags       []string `json:"tags"`
	ContactIDs []string `json:"contact_ids"`
}

// CampaignView is a campaign as the API and events show it.
type CampaignView struct {
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	Status      string               `json:"status"`
	Template    json.RawMessage      `json:"template"`
	Audience    CampaignAudience     `json:"audience"`
	SendAt      time.Time            `json:"send_at"`
	Counts      store.CampaignCounts `json:"counts"`
	Test        bool                 `json:"test,omitempty"`
	CreatedAt   time.Time            `json:"created_at"`
	StartedAt   *time.Time           `json:"started_at,omitempty"`
	CompletedAt *time.Time           `json:"completed_at,omitempty"`
}

// ViewCampaign shows a campaign with its counts.
func ViewCampaign(c store.Campaign, n store.CampaignCounts) CampaignView {
	v := CampaignView{ID: c.ID, Name: c.Name, Status: c.Status, Template: c.Template, SendAt: c.SendAt.UTC(), Counts: n,
		Test: c.Test, CreatedAt: c.CreatedAt.UTC(), StartedAt: utcPtr(c.StartedAt), CompletedAt: utcPtr(c.CompletedAt),
		Audience: CampaignAudience{Tags: c.Tags, ContactIDs: c.ContactIDs}}
	if v.Audience.Tags == nil {
		v.Audience.Tags = []string{}
	}
	if v.Audience.ContactIDs == nil {
		v.Audience.ContactIDs = []string{}
	}
	if len(v.Template) == 0 {
		v.Template = json.RawMessage(`{}`)
	}
	if v.Counts.Skipped == nil {
		v.Counts.Skipped = map[string]int{}
	}
	return v
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// CampaignEvent is campaign.started or campaign.completed; its id is stable
// per campaign and name, so a retry publishes the same event.
func CampaignEvent(name string, at time.Time, c store.Campaign, n store.CampaignCounts) (Event, error) {
	return New(StableID(c.OrgID, name, c.ID), name, c.OrgID, at, map[string]any{"campaign": ViewCampaign(c, n)})
}
