package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/store"
)

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

// sendResponse is the 202 answer of POST /v1/messages.
type sendResponse struct {
	ID             string    `json:"id"`
	Status         string    `json:"status"`
	To             string    `json:"to"`
	Type           string    `json:"type"`
	ContactID      string    `json:"contact_id"`
	ConversationID string    `json:"conversation_id"`
	CreatedAt      time.Time `json:"created_at"`
	// SendAt: a scheduled message's time (status scheduled).
	SendAt *time.Time `json:"send_at,omitempty"`
}

// sendMessage accepts a message to send: validated against Meta's limits,
// then accepted as every message is (package accept: refused outside the
// customer-service window unless it is a template, stored as queued with
// its outbound job as an outbox item); the relay and the sender do the rest.
func (s *Server) sendMessage(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.accept == nil {
		return nil, apperr.New(apperr.Unavailable, "sending is not configured")
	}
	if err := r.JSONBody(); err != nil {
		return nil, err
	}
	req, err := outbound.Parse(r.Body)
	if err != nil {
		return nil, err
	}
	if req.NeedsCountry() {
		// Written without '+': read with the organisation's default
		// country, or refused (422 missing_country_code), never guessed.
		def, err := s.defaultCountry(ctx, r.OrgID(), req.ToInput)
		if err != nil {
			return nil, err
		}
		if err := req.ResolveTo(def); err != nil {
			return nil, err
		}
	}
	idemKey := strings.TrimSpace(r.Header("idempotency-key"))
	if len(idemKey) > maxIdempotencyKey {
		return nil, apperr.New(apperr.Invalid, "Idempotency-Key is longer than 255 characters").
			WithDetails(apperr.Detail{Field: "Idempotency-Key", Issue: "at most 255 characters"})
	}
	msg := accept.Message{OrgID: r.OrgID(), Request: req, IdempotencyKey: idemKey, Fingerprint: req.Fingerprint(),
		// A test key's message is a test message: the sender answers it as
		// Meta would without calling Meta. The flag comes from the key
		// alone and is stored with the message.
		Test: caller(r).Mode == apikey.Test, SendAt: req.SendAt}
	// send_at: between the minimum lead (a minute) and 30 days ahead; a
	// retry of a message scheduled before is answered as a replay.
	if err := s.accept.CheckSchedule(ctx, msg, s.now(), s.sendAtMinLead); err != nil {
		return nil, err
	}
	res, err := s.accept.Accept(ctx, msg)
	if err != nil {
		return nil, err
	}
	resp, err := httpapi.JSON(http.StatusAccepted, sendResponse{
		ID: res.Message.ID, Status: res.Message.Status, To: res.Message.To, Type: res.Message.Type,
		ContactID: res.Message.ContactID, ConversationID: res.Message.ConversationID, CreatedAt: res.Message.CreatedAt,
		SendAt: res.Message.SendAt,
	})
	if err == nil && res.Replayed {
		resp.Headers["Idempotent-Replayed"] = "true"
	}
	if err == nil {
		resp.Headers["Location"] = "/v1/messages/" + res.Message.ID
	}
	return resp, err
}

// ScheduleStore cancels scheduled messages (store.Store).
type ScheduleStore interface {
	CancelScheduled(ctx context.Context, org, msgID string) (store.Message, error)
}

// cancelMessage is DELETE /v1/messages/{id}: a scheduled message is
// cancelled before its send_at (200 with the message, status cancelled);
// one already queued, sent, failed or cancelled is a 409
// message_not_scheduled naming its status. A test key cancels its test
// messages only.
func (s *Server) cancelMessage(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.schedules == nil {
		return nil, apperr.New(apperr.Unavailable, "scheduling is not configured")
	}
	if caller(r).Mode == apikey.Test {
		m, err := s.store.Message(ctx, r.OrgID(), r.Params["id"])
		if err != nil {
			return nil, err
		}
		if !m.Test {
			return nil, apperr.New(apperr.Forbidden, "test keys cannot cancel a live message: use a live key").WithCode("test_mode_forbidden")
		}
	}
	m, err := s.schedules.CancelScheduled(ctx, r.OrgID(), r.Params["id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, m)
}
