// Package botrun runs an organisation's active chatbot on inbound customer
// messages. The dispatcher calls it for every message.received event it
// takes off the events queue, after fanning the event out to webhooks, so
// the WhatsApp webhook answers Meta without waiting for the bot.
//
// One inbound message yields at most one bot reply: the reply is accepted
// with the idempotency key "chatbot:<message id>", so a redelivered event (or
// a message Meta delivered twice) replays the same reply instead of sending
// another. Replies take the normal sending path (stored as queued messages,
// the outbound queue, the sender) and count as messages of the conversation.
package botrun

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/chatbot"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/store"
)

// Store is what the runner reads and writes.
type Store interface {
	ActiveChatbot(ctx context.Context, org string) (store.Chatbot, error)
	Conversation(ctx context.Context, org, id string) (store.Conversation, error)
	HandoffConversation(ctx context.Context, org, id string, on bool, emit store.Emit[store.Conversation]) (store.Conversation, bool, error)
	accept.Store
}

// Runner answers inbound messages with the active chatbot.
type Runner struct {
	accept.Replier // events published: conversation.handoff
	store          Store
}

// New returns a Runner.
func New(s Store, p accept.Publisher, log *slog.Logger, now func() time.Time) *Runner {
	return &Runner{Replier: accept.NewReplier(s, p, log, now), store: s}
}

// Outcome is what the runner did with one event (for logs and tests).
type Outcome struct {
	Reason    string // chatbot.Reason*, or "skipped: <why>"
	RuleID    string
	MessageID string // the bot's reply, if any
	Handoff   bool
}

// React runs the bot for one event. Errors are transient (the event comes
// back); permanent problems (a reply Meta's rules refuse, a conversation
// resolved meanwhile) are logged and dropped.
func (r *Runner) React(ctx context.Context, ev event.Event) (Outcome, error) {
	if ev.Event != event.MessageReceived {
		return Outcome{Reason: "skipped: not message.received"}, nil
	}
	var data event.MessageData
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		return Outcome{Reason: "skipped: data is not a message"}, nil
	}
	org, msg := ev.OrganizationID, data.Message
	if msg.Direction != store.Inbound || data.Conversation.ID == "" || data.Contact.ID == "" {
		return Outcome{Reason: "skipped: not an inbound message"}, nil
	}
	bot, err := r.store.ActiveChatbot(ctx, org)
	if apperr.Is(err, apperr.NotFound) {
		return Outcome{Reason: "skipped: no active chatbot"}, nil
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("botrun: active chatbot: %w", err)
	}
	var def chatbot.Bot
	if err := json.Unmarshal(bot.Definition, &def); err != nil {
		r.Log.ErrorContext(ctx, "stored chatbot does not decode; skipped", "chatbot_id", bot.ID, "error", err.Error())
		return Outcome{Reason: "skipped: chatbot does not decode"}, nil
	}
	def.Active = bot.Active
	conv, err := r.store.Conversation(ctx, org, data.Conversation.ID)
	if err != nil {
		return Outcome{}, fmt.Errorf("botrun: conversation: %w", err)
	}
	if conv.Status != store.ConversationOpen {
		return Outcome{Reason: "skipped: conversation not open"}, nil
	}
	if conv.Handoff {
		return Outcome{Reason: "skipped: handed off to agents"}, nil
	}
	// A conversation this very message opened gets the welcome (a
	// business-initiated one, opened by a template, does not).
	d := chatbot.Decide(def, Inbound(msg), conv.OpenedBy == msg.ID)
	out := Outcome{Reason: d.Reason, RuleID: d.RuleID, Handoff: d.Handoff}
	if d.Reply != nil {
		id, err := r.reply(ctx, org, data.Contact.ID, msg.ID, *d.Reply)
		if err != nil {
			return out, err
		}
		out.MessageID = id
	}
	if d.Handoff {
		if err := r.handoff(ctx, org, bot.ID, d.RuleID, msg.ID, conv, data.Contact); err != nil {
			return out, err
		}
	}
	return out, nil
}

// reply accepts the bot's reply with an idempotency key derived from the
// inbound message and queues it (once). A reply the sending rules or the
// store refuse (outside the window, an event retried a day late; a contact
// deleted meanwhile; the bot edited between two attempts) is dropped.
func (r *Runner) reply(ctx context.Context, org, contactID, inboundID string, rep chatbot.Reply) (string, error) {
	req, err := rep.Request(contactID)
	if err != nil {
		r.Log.ErrorContext(ctx, "chatbot reply refused by the sending rules; skipped", "error", err.Error())
		return "", nil
	}
	// The fingerprint is the reply's body, so a bot edited between two
	// attempts is another request (a Conflict: dropped).
	res, err := r.Accepter.Accept(ctx, accept.Message{OrgID: org, Request: req, IdempotencyKey: "chatbot:" + inboundID, Fingerprint: req.Body()})
	switch {
	case err == nil:
		return res.Message.ID, nil
	case accept.Refused(err):
		r.Log.WarnContext(ctx, "chatbot reply not accepted; skipped", "inbound_message_id", inboundID, "error", err.Error())
		return "", nil
	}
	return "", fmt.Errorf("botrun: reply: %w", err)
}

// handoff publishes conversation.handoff (a stable id: a retry publishes the
// same event, delivered once) and then marks the conversation, so a failure
// in between is retried whole.
func (r *Runner) handoff(ctx context.Context, org, botID, ruleID, inboundID string, conv store.Conversation, contact event.ContactView) error {
	conv.Handoff = true
	ev, err := event.New(event.StableID(org, event.ConversationHandoff, conv.ID, inboundID), event.ConversationHandoff, org, r.Now(),
		map[string]any{"conversation": event.ViewConversation(conv), "contact": contact, "by": "chatbot",
			"chatbot_id": botID, "rule_id": ruleID, "message_id": inboundID})
	if err != nil {
		return fmt.Errorf("botrun: handoff event: %w", err)
	}
	if err := r.Events.Publish(ctx, ev); err != nil {
		return fmt.Errorf("botrun: publish handoff: %w", err)
	}
	if _, _, err := r.store.HandoffConversation(ctx, org, conv.ID, true, nil); err != nil && !apperr.Is(err, apperr.Conflict) {
		return fmt.Errorf("botrun: hand off: %w", err)
	}
	return nil
}

// Inbound is what the bot reads of a stored inbound message: the text (or
// a caption), and what the customer tapped (an interactive button or list
// row, or a template's quick-reply button).
func Inbound(m event.MessageView) chatbot.Inbound {
	in := chatbot.Inbound{Type: m.Type}
	var c struct {
		Text        string `json:"text"`
		Caption     string `json:"caption"`
		Payload     string `json:"payload"`
		ButtonReply *struct {
			ID, Title string
		} `json:"button_reply"`
		ListReply *struct {
			ID, Title string
		} `json:"list_reply"`
	}
	if json.Unmarshal(m.Content, &c) != nil {
		return in
	}
	switch m.Type {
	case "text":
		in.Text = c.Text
	case "interactive":
		if c.ButtonReply != nil {
			in.ReplyID, in.ReplyTitle = c.ButtonReply.ID, c.ButtonReply.Title
		} else if c.ListReply != nil {
			in.ReplyID, in.ReplyTitle = c.ListReply.ID, c.ListReply.Title
		}
	case "button":
		in.ReplyID, in.ReplyTitle = c.Payload, c.Text
	default:
		in.Text = c.Caption
	}
	return in
}
