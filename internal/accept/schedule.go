package accept

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/msgtemplate"
	"github.com/pytake/pytake/internal/store"
)

// Bounds of a scheduled message's send_at: at least MinLead ahead (a
// deployment may lower it, for its end-to-end tests: SEND_AT_MIN_LEAD_SECONDS),
// at most MaxLead.
const (
	MinLead = time.Minute
	MaxLead = 30 * 24 * time.Hour
)

// CheckSendAt checks send_at against now: a 422 naming send_at when it is
// less than minLead or more than MaxLead ahead.
func CheckSendAt(sendAt, now time.Time, minLead time.Duration) error {
	switch lead := sendAt.Sub(now); {
	case lead < minLead:
		return apperr.Field("send_at", fmt.Sprintf("must be at least %s ahead (it is %s); leave it out to send now",
			minLead, now.UTC().Format(time.RFC3339)))
	case lead > MaxLead:
		return apperr.Field("send_at", "must be at most 30 days ahead")
	}
	return nil
}

// CheckSchedule checks m's send_at, when it has one, against now
// (CheckSendAt). A send_at refused whose idempotency key was already used
// is let through: it is a retry of a message scheduled before (its time
// since come closer), which the store answers as a replay, or a conflict.
func (a *Accepter) CheckSchedule(ctx context.Context, m Message, now time.Time, minLead time.Duration) error {
	if m.SendAt.IsZero() {
		return nil
	}
	err := CheckSendAt(m.SendAt, now, minLead)
	if err == nil || m.IdempotencyKey == "" {
		return err
	}
	seen, ok := a.store.(idempotencySeen)
	if !ok {
		return err
	}
	key := m.IdempotencyKey
	if m.Test {
		key = "test:" + key
	}
	used, lerr := seen.IdempotencyKeyUsed(ctx, m.OrgID, key)
	if lerr != nil {
		return lerr
	}
	if used {
		return nil
	}
	return err
}

// ReleaseStore is what releasing a scheduled message needs of the store
// (store.Store).
type ReleaseStore interface {
	Message(ctx context.Context, org, id string) (store.Message, error)
	Contact(ctx context.Context, org, id string) (store.Contact, error)
	LastInbound(ctx context.Context, org, contactID string) (*time.Time, error)
	ReleaseScheduled(ctx context.Context, m store.Message, marketing bool) (store.Message, error)
	FailScheduled(ctx context.Context, m store.Message, e store.MessageError, emit store.Emit[store.Message]) (store.Message, error)
	DropSchedule(ctx context.Context, d store.Scheduled) error
}

var _ ReleaseStore = (*store.Store)(nil)

// FailedEmit builds message.failed for a scheduled message that could not
// be sent (nil: no event).
type FailedEmit func(ctx context.Context, m store.Message) store.Emit[store.Message]

// Release sends a scheduled message whose time came: the checks that
// depend on the time are made now, as for a message accepted now (its
// contact not deleted meanwhile, the customer-service window for a
// free-form message, the template still approved in the organisation's
// copy, a marketing message's contact not opted out); a message that passes is queued with its outbound job
// (store.ReleaseScheduled), one that does not ends failed with the
// refusal's code as its error title and message.failed. A message no
// longer scheduled (released by another sweep, cancelled) has its
// schedule item dropped. Errors are transient: the next sweep retries.
func (a *Accepter) Release(ctx context.Context, rs ReleaseStore, d store.Scheduled, now time.Time, emit FailedEmit) (store.Message, error) {
	m, err := rs.Message(ctx, d.OrgID, d.MessageID)
	if apperr.Is(err, apperr.NotFound) {
		return m, rs.DropSchedule(ctx, d)
	}
	if err != nil {
		return m, err
	}
	if m.Status != store.StatusScheduled || m.SendAt == nil {
		return m, rs.DropSchedule(ctx, d)
	}
	marketing, refusal, err := a.sendable(ctx, rs, &m, now)
	if err != nil {
		return m, err
	}
	if refusal == nil {
		m, refusal = rs.ReleaseScheduled(ctx, m, marketing)
		if refusal == nil || errors.Is(refusal, store.ErrNotScheduled) {
			return m, nil
		}
		if !Refused(refusal) {
			return m, refusal
		}
	}
	var e *apperr.Error
	if !errors.As(refusal, &e) {
		return m, refusal
	}
	var fe store.Emit[store.Message]
	if emit != nil {
		fe = emit(ctx, m)
	}
	failed, err := rs.FailScheduled(ctx, m, store.MessageError{Title: e.Code, Message: "not sent at its send_at: " + e.Message,
		Details: details(e)}, fe)
	if errors.Is(err, store.ErrNotScheduled) {
		return failed, nil
	}
	return failed, err
}

// sendable makes the checks that depend on the time for m, released now:
// refusal is the error a message accepted now would get.
func (a *Accepter) sendable(ctx context.Context, rs ReleaseStore, m *store.Message, now time.Time) (marketing bool, refusal, err error) {
	marketing = m.Marketing
	c, err := rs.Contact(ctx, m.OrgID, m.ContactID)
	if apperr.Is(err, apperr.NotFound) {
		return marketing, apperr.New(apperr.NotFound, "the contact "+m.ContactID+" was deleted before the message's send_at").
			WithCode("contact_not_found"), nil
	}
	if err != nil {
		return marketing, nil, err
	}
	// A contact merged meanwhile: its survivor (whose opt-out and window
	// count) and its message group.
	m.ContactID = c.ID
	if m.Type == "template" {
		if a.templates != nil {
			t, err := msgtemplate.CheckSendTemplate(ctx, a.templates, m.OrgID, m.Content)
			if Refused(err) {
				return marketing, err, nil
			}
			if err != nil {
				return marketing, nil, err
			}
			marketing = marketing || strings.EqualFold(t.Category, "MARKETING")
		}
		return marketing, nil, nil
	}
	last, err := rs.LastInbound(ctx, m.OrgID, m.ContactID)
	if err != nil {
		return marketing, nil, err
	}
	if last == nil || now.Sub(*last) > store.CustomerServiceWindow {
		msg := "the customer has never written: only an approved template can start the conversation"
		if last != nil {
			msg = "the customer last wrote at " + last.UTC().Format(time.RFC3339) +
				", more than 24 hours before the message's send_at: only an approved template can be sent outside the customer service window"
		}
		return marketing, apperr.New(apperr.Unprocessable, msg).WithCode("outside_customer_service_window"), nil
	}
	return marketing, nil, nil
}

// details joins an error's field details for a failed message's record.
func details(e *apperr.Error) string {
	var parts []string
	for _, d := range e.Details {
		parts = append(parts, d.Field+": "+d.Issue)
	}
	return strings.Join(parts, "; ")
}
