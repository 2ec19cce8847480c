// Package accept is the one way a message to send enters PyTake, for the
// REST API (POST /v1/messages), the chatbot's replies and the shops' order
// notifications alike: the request, built by outbound.Parse or outbound's
// constructors, is stored as a queued message (store.AcceptOutbound: the
// contact found or created, the conversation joined or opened, the
// customer-service window enforced, the idempotency key claimed) and put on
// the outbound queue for the sender.
//
// One error policy for every caller:
//   - a request that cannot be accepted as it is (Refused: invalid,
//     unprocessable such as outside the customer-service window, an unknown
//     contact, an idempotency key reused with another request) comes back
//     as the store's apperr error; the API answers it, the chatbot and the
//     shops drop the message and say why;
//   - anything else (the table or the queue unavailable) is transient: the
//     caller fails and its input is retried. A message accepted but not
//     queued comes back with the error: with an idempotency key it stays
//     queued and the retry, replaying the key, queues it; without one
//     nothing could, so it is marked failed (enqueue_failed).
package accept

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/msgtemplate"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/store"
)

// Store is what accepting needs from the store.
type Store interface {
	AcceptOutbound(ctx context.Context, m store.OutboundMessage) (store.OutboundResult, error)
	MarkEnqueued(ctx context.Context, org, idemKey string) error
	ClaimSend(ctx context.Context, org, msgID string, lease time.Duration) (store.Claim, error)
	SendFailed(ctx context.Context, c store.Claim, e store.MessageError) (store.Message, error)
}

var _ Store = (*store.Store)(nil)

// Queue puts accepted messages on the outbound queue (sender.Enqueuer).
type Queue interface {
	Enqueue(ctx context.Context, org, contactID, messageID string, bulk bool) error
}

// Message is a request to accept for an organisation.
type Message struct {
	OrgID   string
	Request outbound.Request
	// IdempotencyKey, when set, makes a repeat answer the message accepted
	// first, when its Fingerprint is the same, and a Conflict otherwise.
	IdempotencyKey string
	// Fingerprint is what makes two requests with one key the same request
	// (it is hashed): the bytes of an API request, a built request's Body.
	Fingerprint []byte
	// Test: sent with a pytake_test_ key (the API sets it from the key; the
	// chatbot and the shops never do). The message is stored as a test
	// message, which the sender never sends to Meta; test and live keys
	// have separate idempotency keys.
	Test bool
	// Bulk: a mass send (a campaign sets it): queued on the bulk outbound
	// queue and paced behind transactional messages of the same number.
	Bulk bool
}

// Accepter accepts messages and queues them.
type Accepter struct {
	store     Store
	queue     Queue
	log       *slog.Logger
	templates msgtemplate.Copy // nil: template messages are not checked
}

// New returns an Accepter. When the store also keeps the organisations'
// templates (msgtemplate.Copy, as store.Store does), template messages are
// checked against the organisation's copy before they are accepted (see
// msgtemplate.CheckSend), for every caller alike: the API answers the 422,
// the chatbot and the shops drop the message and say why.
func New(s Store, q Queue, log *slog.Logger) *Accepter {
	a := &Accepter{store: s, queue: q, log: log}
	if c, ok := s.(msgtemplate.Copy); ok {
		a.templates = c
	}
	return a
}

// Refused reports whether err says the request cannot be accepted as it
// is (see the package doc); other errors are transient.
func Refused(err error) bool {
	switch apperr.KindOf(err) {
	case apperr.Invalid, apperr.Unprocessable, apperr.NotFound, apperr.Conflict:
		return true
	}
	return false
}

// Accept stores m as a queued message and queues it, once: a replayed
// idempotency key whose message reached the queue is not queued again.
// When queueing fails, the result holds the accepted message with the
// error (see the package doc).
func (a *Accepter) Accept(ctx context.Context, m Message) (store.OutboundResult, error) {
	req := m.Request
	if m.Test && m.IdempotencyKey != "" {
		m.IdempotencyKey = "test:" + m.IdempotencyKey
	}
	if req.IsTemplate() && a.templates != nil {
		if err := a.checkTemplate(ctx, m); err != nil {
			return store.OutboundResult{}, err
		}
	}
	om := store.OutboundMessage{
		OrgID: m.OrgID, Type: req.Type, Content: req.Content, ContextWAMID: req.ContextWAMID,
		FreeForm: req.FreeForm(), IdempotencyKey: m.IdempotencyKey, Test: m.Test, Bulk: m.Bulk,
	}
	if m.IdempotencyKey != "" {
		sum := sha256.Sum256(m.Fingerprint)
		om.RequestHash = hex.EncodeToString(sum[:])
	}
	switch req.ToKind {
	case outbound.ToContact:
		om.ContactID = req.To
	case outbound.ToBSUID:
		om.To = store.Identity{UserID: req.To}
	default:
		om.To = store.Identity{WaID: req.To}
	}
	res, err := a.store.AcceptOutbound(ctx, om)
	if err != nil {
		return res, err
	}
	if res.Replayed && res.Enqueued {
		return res, nil
	}
	if err := a.Enqueue(ctx, m.OrgID, res.Message, m.IdempotencyKey); err != nil {
		if m.IdempotencyKey == "" {
			a.abandon(ctx, res.Message)
		}
		return res, err
	}
	return res, nil
}

// idempotencySeen tells whether an idempotency key was used (store.Store).
type idempotencySeen interface {
	IdempotencyKeyUsed(ctx context.Context, org, idemKey string) (bool, error)
}

// checkTemplate checks a template message against the organisation's copy
// of its templates. A refused request whose idempotency key was already
// used is let through: it is a retry of a message accepted before (its
// template since paused, say), which the store answers as a replay (or a
// conflict), never a new message.
func (a *Accepter) checkTemplate(ctx context.Context, m Message) error {
	err := msgtemplate.CheckSend(ctx, a.templates, m.OrgID, m.Request.Content)
	if err == nil || m.IdempotencyKey == "" || !Refused(err) {
		return err
	}
	seen, ok := a.store.(idempotencySeen)
	if !ok {
		return err
	}
	used, lerr := seen.IdempotencyKeyUsed(ctx, m.OrgID, m.IdempotencyKey)
	if lerr != nil {
		return lerr
	}
	if used {
		return nil
	}
	return err
}

// Enqueue queues an accepted message and records, for its idempotency key,
// that it reached the queue (a failure to record is logged: a replay would
// enqueue again, and the queue drops the repeat).
func (a *Accepter) Enqueue(ctx context.Context, org string, msg store.Message, idemKey string) error {
	if err := a.queue.Enqueue(ctx, org, msg.ContactID, msg.ID, msg.Bulk); err != nil {
		return err
	}
	if err := a.store.MarkEnqueued(ctx, org, idemKey); err != nil {
		a.log.WarnContext(ctx, "could not record the enqueue; a replay would enqueue again (deduplicated)",
			"message_id", msg.ID, "error", err.Error())
	}
	return nil
}

// abandon marks a message that never reached the queue failed, so it does
// not sit queued forever (the caller got an error and will send again).
func (a *Accepter) abandon(ctx context.Context, m store.Message) {
	c, err := a.store.ClaimSend(ctx, m.OrgID, m.ID, time.Minute)
	if err == nil {
		_, err = a.store.SendFailed(ctx, c, store.MessageError{Title: "enqueue_failed", Message: "the outbound queue was unavailable; the request was answered 503"})
	}
	if err != nil {
		a.log.ErrorContext(ctx, "message left queued after an enqueue failure", "message_id", m.ID, "error", err.Error())
	}
}
