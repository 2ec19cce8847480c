// Package optout honours customers' opt-outs of marketing messages.
//
// An organisation has opt-out keywords (store.DefaultOptOutKeywords until it
// sets its own with PUT /v1/settings/opt-out) and an optional confirmation
// reply. The dispatcher runs React on every message.received before the
// chatbot: a customer message that is one of the keywords (the whole
// message, folded as chatbot keywords are: case, accents, punctuation and
// spacing ignored, so "Parar!" and "pârar" match PARAR while "quero
// cancelar meu pedido" does not match CANCELAR) marks the contact opted out
// (store.OptOutContact, with the time, the keyword and the message),
// publishes contact.opted_out and sends the confirmation, and the chatbot
// does not answer that message.
//
// Every step is idempotent, so a redelivered event, or one that failed
// half-way, finishes the job once: the first opt-out is kept, the event's
// id is stable per contact and opt-out, and the confirmation is accepted
// with the idempotency key "optout:<message id>".
package optout

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/botrun"
	"github.com/pytake/pytake/internal/chatbot"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/jsoncheck"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/store"
)

// MaxConfirmation is the longest confirmation reply (a WhatsApp text).
const MaxConfirmation = 4096

// Store is what honouring opt-outs reads and writes.
type Store interface {
	OptOutSettings(ctx context.Context, org string) (store.OptOutSettings, error)
	OptOutContact(ctx context.Context, org, contactID string, o store.OptOut) (store.Contact, bool, error)
	accept.Store
}

// Runner honours opt-out keywords in inbound messages.
type Runner struct {
	accept.Replier // events published: contact.opted_out
	store          Store
}

// New returns a Runner.
func New(s Store, p accept.Publisher, log *slog.Logger, now func() time.Time) *Runner {
	return &Runner{Replier: accept.NewReplier(s, p, log, now), store: s}
}

// Outcome is what React did with one event.
type Outcome struct {
	// OptedOut: the message was an opt-out keyword (the chatbot must not
	// answer it), whether or not the contact had opted out before.
	OptedOut bool
	Keyword  string // the organisation's keyword that matched
	// ReplyID is the confirmation's message id, when one was sent.
	ReplyID string
}

// Match says which of keywords the customer's message is (ok false when
// none): the whole message, folded (chatbot.Fold), equals the folded
// keyword. A template's quick-reply button tapped (type button) matches by
// its title; the organisation's own interactive buttons and list rows do
// not (a bot's "Cancelar" or "Sair" is an answer to the bot, not an
// opt-out).
func Match(in chatbot.Inbound, keywords []string) (string, bool) {
	texts := []string{chatbot.Fold(in.Text)}
	if in.Type == "button" {
		texts = append(texts, chatbot.Fold(in.ReplyTitle))
	}
	for _, kw := range keywords {
		k := chatbot.Fold(kw)
		if k == "" {
			continue
		}
		for _, t := range texts {
			if t == k {
				return kw, true
			}
		}
	}
	return "", false
}

// React handles one event: a message.received whose message is an opt-out
// keyword opts its contact out. Errors are transient (the event comes back).
func (r *Runner) React(ctx context.Context, ev event.Event) (Outcome, error) {
	if ev.Event != event.MessageReceived {
		return Outcome{}, nil
	}
	var data event.MessageData
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		return Outcome{}, nil
	}
	org, msg := ev.OrganizationID, data.Message
	if msg.Direction != store.Inbound || data.Contact.ID == "" || msg.ID == "" {
		return Outcome{}, nil
	}
	settings, err := r.store.OptOutSettings(ctx, org)
	if err != nil {
		return Outcome{}, fmt.Errorf("optout: settings: %w", err)
	}
	kw, ok := Match(botrun.Inbound(msg), settings.Keywords)
	if !ok {
		return Outcome{}, nil
	}
	out := Outcome{OptedOut: true, Keyword: kw}
	c, changed, err := r.store.OptOutContact(ctx, org, data.Contact.ID,
		store.OptOut{At: msg.Timestamp, Reason: store.OptOutKeyword, Detail: kw, MessageID: msg.ID})
	if apperr.Is(err, apperr.NotFound) {
		r.Log.WarnContext(ctx, "opt-out keyword from a contact deleted since; nothing to mark", "message_id", msg.ID)
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("optout: mark contact: %w", err)
	}
	// This message's opt-out (now or on an earlier attempt of this event)
	// is published; a repeat of the keyword by a contact already opted out
	// changes nothing and publishes nothing.
	if changed || (c.OptOut != nil && c.OptOut.MessageID == msg.ID) {
		ev, err := event.OptedOutEvent(org, r.Now(), c)
		if err != nil {
			return out, fmt.Errorf("optout: event: %w", err)
		}
		if err := r.Events.Publish(ctx, ev); err != nil {
			return out, fmt.Errorf("optout: publish: %w", err)
		}
	}
	if settings.Confirmation == "" {
		return out, nil
	}
	req, err := outbound.Text(c.ID, settings.Confirmation)
	if err != nil {
		r.Log.ErrorContext(ctx, "opt-out confirmation refused by the sending rules; skipped", "error", err.Error())
		return out, nil
	}
	res, err := r.Accepter.Accept(ctx, accept.Message{OrgID: org, Request: req, IdempotencyKey: "optout:" + msg.ID, Fingerprint: req.Body()})
	switch {
	case err == nil:
		out.ReplyID = res.Message.ID
	case accept.Refused(err):
		r.Log.WarnContext(ctx, "opt-out confirmation not accepted; skipped", "message_id", msg.ID, "error", err.Error())
	default:
		return out, fmt.Errorf("optout: confirmation: %w", err)
	}
	return out, nil
}

// ParseSettings reads the body of PUT /v1/settings/opt-out:
// {"keywords": [...], "confirmation": "..." or null}. keywords is required
// (an empty list turns keyword opt-outs off; Meta's 131050 still opts
// contacts out); a keyword is at most chatbot.MaxKeyword characters, at
// most chatbot.MaxKeywords of them, none repeated once folded.
func ParseSettings(body []byte) (store.OptOutSettings, error) {
	raw, err := jsoncheck.DecodeBody(body)
	if err != nil {
		return store.OptOutSettings{}, err
	}
	c := jsoncheck.New("opt-out settings")
	o := c.Object("", raw)
	if o == nil {
		return store.OptOutSettings{}, c.Err()
	}
	var s store.OptOutSettings
	if items, ok := o.List("keywords", true); ok {
		if len(items) == 0 {
			s.Keywords = []string{}
		} else {
			s.Keywords = chatbot.ParseKeywords(c, o.At("keywords"), items)
		}
		seen := map[string]int{}
		for i, kw := range s.Keywords {
			f := chatbot.Fold(kw)
			if j, dup := seen[f]; dup && f != "" {
				c.Fail(jsoncheck.Index(o.At("keywords"), i), "is keywords[%d] again (case, accents and punctuation are ignored)", j)
			}
			seen[f] = i
		}
	}
	// null or "" sends no confirmation; newlines are kept (free text).
	s.Confirmation = o.Text("confirmation", false, MaxConfirmation)
	o.Done()
	if err := c.Err(); err != nil {
		return store.OptOutSettings{}, err
	}
	return s, nil
}

// Then runs React and, unless the message was an opt-out keyword, next
// (the chatbot): a customer who writes STOP gets the confirmation, not the
// bot's fallback.
func (r *Runner) Then(next func(ctx context.Context, ev event.Event) error) func(ctx context.Context, ev event.Event) error {
	return func(ctx context.Context, ev event.Event) error {
		out, err := r.React(ctx, ev)
		if err != nil {
			return err
		}
		if out.OptedOut {
			r.Log.InfoContext(ctx, "opt-out keyword", "keyword", out.Keyword, "reply_id", out.ReplyID)
			return nil
		}
		return next(ctx, ev)
	}
}

// CodeMarketingStopped is Meta's error for a marketing message to a user
// who stopped marketing messages from the business.
const CodeMarketingStopped = 131050

// Opter marks contacts opted out (store.Store).
type Opter interface {
	OptOutContact(ctx context.Context, org, contactID string, o store.OptOut) (store.Contact, bool, error)
}

// MetaRefused records what Meta's error e on outbound message m says: with
// 131050 (the user stopped marketing messages) the message's contact is
// opted out of marketing (reason meta_131050, the message's id) and
// contact.opted_out published; any other error does nothing. Idempotent:
// a repeat publishes the same event again (same id) only while the
// contact's opt-out is this message's, so a failed publish is retried by
// calling it again.
func MetaRefused(ctx context.Context, st Opter, p accept.Publisher, now time.Time, m store.Message, e *store.MessageError) error {
	if e == nil || e.Code != CodeMarketingStopped || m.ContactID == "" || m.Test {
		return nil
	}
	c, changed, err := st.OptOutContact(ctx, m.OrgID, m.ContactID,
		store.OptOut{At: now, Reason: store.OptOutMeta, Detail: e.Title, MessageID: m.ID})
	if apperr.Is(err, apperr.NotFound) {
		return nil // the contact was deleted since
	}
	if err != nil {
		return fmt.Errorf("optout: mark contact (131050): %w", err)
	}
	if !changed && (c.OptOut == nil || c.OptOut.MessageID != m.ID) {
		return nil
	}
	ev, err := event.OptedOutEvent(m.OrgID, now, c)
	if err != nil {
		return fmt.Errorf("optout: event: %w", err)
	}
	if err := p.Publish(ctx, ev); err != nil {
		return fmt.Errorf("optout: publish: %w", err)
	}
	return nil
}
