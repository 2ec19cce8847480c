package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

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
}

// sendMessage accepts a message to send: validated against Meta's limits,
// refused outside the customer-service window unless it is a template,
// stored as queued and put on the outbound queue; the sender does the rest.
func (s *Server) sendMessage(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.outbox == nil {
		return nil, apperr.New(apperr.Unavailable, "sending is not configured")
	}
	if err := r.JSONBody(); err != nil {
		return nil, err
	}
	req, err := outbound.Parse(r.Body)
	if err != nil {
		return nil, err
	}
	idemKey := strings.TrimSpace(r.Header("idempotency-key"))
	if len(idemKey) > maxIdempotencyKey {
		return nil, apperr.New(apperr.Invalid, "Idempotency-Key is longer than 255 characters").
			WithDetails(apperr.Detail{Field: "Idempotency-Key", Issue: "at most 255 characters"})
	}
	org := r.OrgID()
	m := store.OutboundMessage{
		OrgID: org, Type: req.Type, Content: req.Content, ContextWAMID: req.ContextWAMID,
		FreeForm: req.FreeForm(), IdempotencyKey: idemKey,
	}
	if idemKey != "" {
		sum := sha256.Sum256(r.Body)
		m.RequestHash = hex.EncodeToString(sum[:])
	}
	switch req.ToKind {
	case outbound.ToContact:
		m.ContactID = req.To
	case outbound.ToBSUID:
		m.To = store.Identity{UserID: req.To}
	default:
		m.To = store.Identity{WaID: req.To}
	}
	res, err := s.store.AcceptOutbound(ctx, m)
	if err != nil {
		return nil, err
	}
	if !res.Replayed || !res.Enqueued {
		if err := s.outbox.Enqueue(ctx, org, res.Message.ContactID, res.Message.ID); err != nil {
			if idemKey == "" {
				s.abandon(ctx, r, res.Message)
			}
			return nil, err
		}
		if err := s.store.MarkEnqueued(ctx, org, idemKey); err != nil {
			r.Logger().Warn("could not record the enqueue; a replay would enqueue again (deduplicated)", "error", err.Error())
		}
	}
	resp, err := httpapi.JSON(http.StatusAccepted, sendResponse{
		ID: res.Message.ID, Status: res.Message.Status, To: res.Message.To, Type: res.Message.Type,
		ContactID: res.Message.ContactID, ConversationID: res.Message.ConversationID, CreatedAt: res.Message.CreatedAt,
	})
	if err == nil && res.Replayed {
		resp.Headers["Idempotent-Replayed"] = "true"
	}
	if err == nil {
		resp.Headers["Location"] = "/v1/messages/" + res.Message.ID
	}
	return resp, err
}

// abandon marks a message that never reached the queue failed, so it does
// not sit queued forever (the caller got a 5xx and will send again).
func (s *Server) abandon(ctx context.Context, r *httpapi.Request, m store.Message) {
	c, err := s.store.ClaimSend(ctx, m.OrgID, m.ID, time.Minute)
	if err == nil {
		_, err = s.store.SendFailed(ctx, c, store.MessageError{Title: "enqueue_failed", Message: "the outbound queue was unavailable; the request was answered 503"})
	}
	if err != nil {
		r.Logger().Error("message left queued after an enqueue failure", "message_id", m.ID, "error", err.Error())
	}
}
