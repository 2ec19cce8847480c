package event

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/store"
)

// Kind describes one event name in the catalogue.
type Kind struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Sample      Event  `json:"sample"`
}

// Wildcards a subscription may use besides catalogue names.
const (
	All          = "*"
	AnyWhatsApp  = WhatsAppPrefix + "*"
	sampleOrg    = "org_01JBZ5K7Q3XW8Y2N4M6P9R1T3V"
	sampleAtUnix = 1796040000
)

// Catalogue lists every event PyTake emits, each with a sample payload in
// exactly the live shape.
func Catalogue() []Kind {
	at := time.Unix(sampleAtUnix, 0).UTC()
	contact := store.Contact{ID: "ct_01JBZ5K7Q3XW8Y2N4M6P9R1T3W", WhatsAppID: "5511999999999", ProfileName: "João Silva",
		Tags: []string{"customer"}, Attributes: map[string]any{"plan": "pro"}, CreatedAt: at}
	conv := store.Conversation{ID: "cv_01JBZ5K7Q3XW8Y2N4M6P9R1T3X", Status: store.ConversationOpen, ContactID: contact.ID}
	in := store.Message{ID: "msg_01JBZ5K7Q3XW8Y2N4M6P9R1T3Y", WAMID: "wamid.HBgNNTUxMTk5OTk5OTk5ORUCABIYFjNFQjBDRkE", Direction: store.Inbound,
		Type: "text", Content: json.RawMessage(`{"text":"Olá, preciso de ajuda"}`), Status: store.StatusReceived, Timestamp: at, ConversationID: conv.ID}
	out := store.Message{ID: "msg_01JBZ5K7Q3XW8Y2N4M6P9R1T3Z", WAMID: "wamid.HBgNNTUxMTk5OTk5OTk5ORUCABEYEjQyNTg5QkU1", Direction: store.Outbound,
		Type: "text", Content: json.RawMessage(`{"body":"Olá! Como posso ajudar?"}`), Timestamp: at, ConversationID: conv.ID}
	msg := func(name string, m store.Message, status string) Event {
		m.Status = status
		if status == store.StatusFailed {
			m.Error = &store.MessageError{Code: 131047, Title: "Re-engagement message", Message: "Re-engagement message",
				Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}
		}
		e, _ := MessageEvent(name, sampleOrg, m.ID, at, m, contact, conv)
		return e
	}
	other := func(name string, data any) Event {
		e, _ := New(StableID(sampleOrg, name, "sample"), name, sampleOrg, at, data)
		return e
	}
	crmContact := contact
	crmContact.Attributes = map[string]any{"plan": "pro", "salesforce_lead_id": "00Q000000000000101"}
	failedContact := ViewContact(contact)
	resolved := conv
	resolved.Status = store.ConversationResolved
	handedOff := conv
	handedOff.Handoff = true
	tpl := store.Template{ID: "1234567890123456", Name: "order_confirmation", Language: "pt_BR", Category: "UTILITY", Status: "APPROVED"}
	lowQuality := tpl
	lowQuality.Quality = "YELLOW"
	recategorised := tpl
	recategorised.Category = "MARKETING"
	signalsAt := at
	qualityAcct := store.WhatsAppAccount{PhoneNumberID: "106540352242922", WABAID: "102290129340398",
		Signals: store.WhatsAppSignals{QualityRating: "GREEN", QualityEvent: "UPGRADE", MessagingLimitTier: "TIER_10K", UpdatedAt: &signalsAt}}
	accountAcct := qualityAcct
	accountAcct.Signals.AccountEvent = "ACCOUNT_VIOLATION"
	return []Kind{
		{MessageReceived, "A customer sent a message (any type; content is typed, raw JSON kept).", msg(MessageReceived, in, store.StatusReceived)},
		{MessageSent, "Meta sent one of our messages.", msg(MessageSent, out, store.StatusSent)},
		{MessageDelivered, "One of our messages reached the customer's phone.", msg(MessageDelivered, out, store.StatusDelivered)},
		{MessageRead, "The customer read one of our messages.", msg(MessageRead, out, store.StatusRead)},
		{MessageFailed, "One of our messages failed for good (Meta's code and details in message.error).", msg(MessageFailed, out, store.StatusFailed)},
		{ContactCreated, "A contact was created (first message from a new number, or through the API).",
			other(ContactCreated, map[string]any{"contact": ViewContact(contact)})},
		{ContactUpdated, "A contact's name, tags or attributes changed.", other(ContactUpdated, map[string]any{"contact": ViewContact(contact)})},
		{ContactMerged, "Two contacts were one person (Meta's wa_id in a send answer or a webhook showed it: a Brazilian number with and without its ninth digit, a BSUID and a phone): merged into the older one, contact (tags and attributes joined, conversations and messages kept). merged_contact_id now answers with the surviving contact.",
			mergedSample(contact, at)},
		{ContactOptedOut, "A contact opted out of marketing messages: it wrote one of the organisation's opt-out keywords (reason keyword, with the keyword and its message), or Meta refused a message with 131050, the user stopped marketing messages (reason meta_131050). Campaigns skip it and marketing templates to it are refused until POST /v1/contacts/{id}/opt-in records a new consent.",
			optOutSample(contact, in.ID, at)},
		{ConversationCreated, "A conversation was opened.",
			other(ConversationCreated, map[string]any{"conversation": ViewConversation(conv), "contact": ViewContact(contact)})},
		{ConversationResolved, "A conversation was resolved.",
			other(ConversationResolved, map[string]any{"conversation": ViewConversation(resolved), "contact": ViewContact(contact),
				"resolution_time": 5400, "satisfaction": 5})},
		{ConversationHandoff, "The chatbot handed a conversation to agents (a handoff rule matched); it stays quiet until the conversation is resolved or handed back.",
			other(ConversationHandoff, map[string]any{"conversation": ViewConversation(handedOff), "contact": ViewContact(contact), "by": "chatbot",
				"chatbot_id": "bot_01JBZ5K7Q3XW8Y2N4M6P9R1T40", "rule_id": "r3", "message_id": in.ID})},
		{OrderCreated, "A Shopify (orders/create) or WooCommerce (first status seen) order reached PyTake: the order, the customer's contact (null without a usable phone), and the notification sent for it.",
			other(OrderCreated, orderSample(contact, "", "orders/create"))},
		{OrderUpdated, "A Shopify order was fulfilled or cancelled, or a WooCommerce order changed status (previous_status), with the notification sent for it.",
			other(OrderUpdated, orderSample(contact, "processing", "order.updated"))},
		{CRMContactSynced, "The CRM sync linked a contact: a HubSpot contact became (or updated) a PyTake contact, or a Salesforce Lead, HubSpot contact, note or Task was created for one.",
			other(CRMContactSynced, CRMSyncedData{CRM: "salesforce", Direction: "outbound", Object: "lead", CRMID: "00Q000000000000101",
				Contact: ViewContact(crmContact)})},
		{CRMSyncFailed, "The CRM sync gave up on a contact's work: the CRM refused it (its error code and message; also in the contact's attributes.salesforce_error for Leads), the credentials were refused (the integration is marked unhealthy), or a HubSpot contact had no usable phone. Rate limits and 5xx are retried, not reported.",
			other(CRMSyncFailed, CRMFailedData{CRM: "salesforce", Object: "lead", Code: "DUPLICATES_DETECTED", Message: "Use one of these records?",
				Contact: &failedContact})},
		{TemplateStatusUpdated, "A message template's status changed (Meta's message_template_status_update webhook, or a sync that found it changed): PENDING, APPROVED, REJECTED (with the reason), PAUSED, DISABLED, DELETED, ...",
			other(TemplateStatusUpdated, TemplateStatusData(tpl, "PENDING", "NONE", "webhook"))},
		{TemplateQualityUpdated, "A template's quality score changed (message_template_quality_update): GREEN, YELLOW, RED or UNKNOWN.",
			other(TemplateQualityUpdated, map[string]any{"template": ViewTemplate(lowQuality), "previous_quality_score": "GREEN", "new_quality_score": "YELLOW"})},
		{TemplateCategoryUpdated, "Meta changed (or will change) a template's category (template_category_update).",
			other(TemplateCategoryUpdated, map[string]any{"template": ViewTemplate(recategorised), "previous_category": "UTILITY", "new_category": "MARKETING"})},
		{WhatsAppQualityUpdated, "The number's quality or messaging limit changed (phone_number_quality_update); signals is what GET /v1/settings/whatsapp shows now.",
			other(WhatsAppQualityUpdated, WhatsAppSignalData(qualityAcct, "UPGRADE",
				json.RawMessage(`{"display_phone_number":"15550783881","event":"UPGRADE","current_limit":"TIER_10K","max_daily_conversations_per_business":"TIER_10K"}`)))},
		{WhatsAppAccountUpdated, "Meta changed something about the WhatsApp Business Account (account_update: ACCOUNT_VIOLATION, DISABLED_UPDATE, ...).",
			other(WhatsAppAccountUpdated, WhatsAppSignalData(accountAcct, "ACCOUNT_VIOLATION",
				json.RawMessage(`{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}`)))},
		{CampaignStarted, "A campaign started sending (at its send_at, or at once): its audience is expanded in pages and each recipient's template accepted once; counts so far.",
			campaignSample(CampaignStarted, at)},
		{CampaignCompleted, "A campaign's whole audience was handled: every recipient's message accepted (its delivery goes on: GET /v1/campaigns/{id} has the live counts) or skipped with a reason (opted_out, missing_value, contact_deleted, no_whatsapp_id, refused, invalid_parameter, unconfirmed).",
			campaignSample(CampaignCompleted, at)},
		{WebhookTest, "Sent by POST /v1/webhooks/{id}/test.", other(WebhookTest, map[string]any{"message": "This is a test event from PyTake."})},
		{AnyWhatsApp, "Other Meta webhook fields (template status and quality, account alerts, errors), as whatsapp.<field> with Meta's raw value.",
			other(WhatsAppPrefix+"message_template_status_update", map[string]any{"field": "message_template_status_update",
				"value": json.RawMessage(`{"event":"APPROVED","message_template_id":12345678,"message_template_name":"order_update","message_template_language":"pt_BR"}`)})},
	}
}

// Known says whether a subscription filter names events PyTake emits.
func Known(filter string) bool {
	if filter == All || filter == AnyWhatsApp {
		return true
	}
	if strings.HasPrefix(filter, WhatsAppPrefix) && len(filter) > len(WhatsAppPrefix) {
		return true
	}
	for _, k := range Catalogue() {
		if k.Name == filter {
			return true
		}
	}
	return false
}

// Matches says whether an event name passes a subscription's filters.
func Matches(filters []string, name string) bool {
	for _, f := range filters {
		switch {
		case f == All, f == name:
			return true
		case f == AnyWhatsApp && strings.HasPrefix(name, WhatsAppPrefix):
			return true
		}
	}
	return false
}

func campaignSample(name string, at time.Time) Event {
	c := store.Campaign{ID: "cmp_01JBZ5K7Q3XW8Y2N4M6P9R1T42", OrgID: sampleOrg, Name: "Black Friday VIP", Status: store.CampaignRunning,
		Template: json.RawMessage(`{"name":"promo_vip","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"{{contact.first_name}}","default":"cliente"}]}]}`),
		Tags:     []string{"vip"}, SendAt: at, Recipients: 3, CreatedAt: at, StartedAt: &at}
	n := store.CampaignCounts{Recipients: 3, Skipped: map[string]int{}}
	if name == CampaignCompleted {
		c.Status, c.CompletedAt = store.CampaignCompleted, &at
		n.Queued, n.Sent, n.Skipped["opted_out"] = 0, 2, 1
	}
	e, _ := CampaignEvent(name, at, c, n)
	return e
}

func optOutSample(c store.Contact, msgID string, at time.Time) Event {
	c.OptOut = &store.OptOut{At: at, Reason: store.OptOutKeyword, Detail: "PARAR", MessageID: msgID}
	e, _ := OptedOutEvent(sampleOrg, at, c)
	return e
}

func mergedSample(c store.Contact, at time.Time) Event {
	c.Tags = []string{"customer", "vip"}
	e, _ := MergedEvent(sampleOrg, at, store.Merge{Survivor: c, MergedID: "ct_01JBZ5K7Q3XW8Y2N4M6P9R1T41", At: at})
	return e
}
