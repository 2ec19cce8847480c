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
//   - anything else (the table unavailable) is transient: the caller fails
//     and its input is retried.
//
// The outbound job is an outbox item of the accepting transaction (see
// store/outbox.go): a message stored is a message queued, by the outbox
// relay, whatever happens to the caller after the commit. Accepting never
// calls the outbound queue, so it never fails after storing a message.
package accept

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/msgtemplate"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/store"
)

// Store is what accepting needs from the store.
type Store interface {
	AcceptOutbound(ctx context.Context, m store.OutboundMessage) (store.OutboundResult, error)
	RequeueOutbound(ctx context.Context, org string, msg store.Message, idemKey string) error
}

var _ Store = (*store.Store)(nil)

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
	// Bulk routes the message to the bulk lane (campaigns); transactional traffic is never queued behind it.
	Bulk bool
	// Marketing: refused to a contact that opted out of marketing messages
	// whatever the template's category (campaigns), checked in the
	// transaction that accepts it.
	Marketing bool
	// Campaign: the campaign this message is a recipient's of (stored with
	// it: the sender counts the recipient skipped when the contact opts out
	// after it was queued).
	Campaign string
	// SendAt, when set, schedules the message (bounded by CheckSendAt):
	// stored scheduled, released by the sweep when its time comes
	// (Release), cancellable until then (store.CancelScheduled).
	SendAt time.Time
}

// Accepter accepts messages.
type Accepter struct {
	store     Store
	templates msgtemplate.Copy // nil: template messages are not checked
}

// New returns an Accepter. When the store also keeps the organisations'
// templates (msgtemplate.Copy, as store.Store does), template messages are
// checked against the organisation's copy before they are accepted (see
// msgtemplate.CheckSend), for every caller alike: the API answers the 422,
// the chatbot and the shops drop the message and say why.
func New(s Store) *Accepter {
	a := &Accepter{store: s}
	if c, ok := s.(msgtemplate.Copy); ok {
		a.templates = c
	}
	return a
}

// WithTemplates checks template messages against c instead of the store
// (a cache of it: the API's); nothing when template messages are not
// checked (the store keeps no copy).
func (a *Accepter) WithTemplates(c msgtemplate.Copy) *Accepter {
	if a.templates != nil && c != nil {
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

// Accept stores m as a queued message, its outbound job in the same
// transaction. A replayed idempotency key answers the message accepted
// first (queued again only if it was accepted before outbox items existed
// and never reached the queue).
func (a *Accepter) Accept(ctx context.Context, m Message) (store.OutboundResult, error) {
	req := m.Request
	if m.Test && m.IdempotencyKey != "" {
		m.IdempotencyKey = "test:" + m.IdempotencyKey
	}
	marketing := m.Marketing
	if req.IsTemplate() && a.templates != nil {
		t, err := a.checkTemplate(ctx, m)
		if err != nil {
			return store.OutboundResult{}, err
		}
		marketing = marketing || strings.EqualFold(t.Category, "MARKETING")
	}
	om := store.OutboundMessage{
		OrgID: m.OrgID, Type: req.Type, Content: req.Content, ContextWAMID: req.ContextWAMID,
		FreeForm: req.FreeForm(), IdempotencyKey: m.IdempotencyKey, Test: m.Test, Marketing: marketing, Bulk: m.Bulk,
		CampaignID: m.Campaign,
		SendAt:     m.SendAt,
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
	if res.Replayed && !res.Enqueued {
		if err := a.Requeue(ctx, m.OrgID, res.Message, m.IdempotencyKey); err != nil {
			return res, err
		}
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
// The template checked is answered (its category says whether the message
// is marketing, which a contact that opted out is refused).
func (a *Accepter) checkTemplate(ctx context.Context, m Message) (store.Template, error) {
	t, err := msgtemplate.CheckSendTemplate(ctx, a.templates, m.OrgID, m.Request.Content)
	if err == nil || m.IdempotencyKey == "" || !Refused(err) {
		return t, err
	}
	seen, ok := a.store.(idempotencySeen)
	if !ok {
		return t, err
	}
	used, lerr := seen.IdempotencyKeyUsed(ctx, m.OrgID, m.IdempotencyKey)
	if lerr != nil {
		return t, lerr
	}
	if used {
		return t, nil
	}
	return t, err
}

// Requeue queues again, through the outbox, a message accepted under
// idemKey that is not marked queued (store.RequeueOutbound): once, since
// the mark is written with the job.
func (a *Accepter) Requeue(ctx context.Context, org string, msg store.Message, idemKey string) error {
	return a.store.RequeueOutbound(ctx, org, msg, idemKey)
}
