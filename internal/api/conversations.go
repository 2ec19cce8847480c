package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/store"
)

// ConversationStore is the part of the store conversation routes use.
type ConversationStore interface {
	Conversations(ctx context.Context, org, status, contactID, cursor string, limit int) (store.Page[store.Conversation], error)
	Conversation(ctx context.Context, org, id string) (store.Conversation, error)
	ResolveConversation(ctx context.Context, org, id string, satisfaction int, assignee *string, emit store.Emit[store.Conversation]) (store.Conversation, error)
	ReopenConversation(ctx context.Context, org, id string, assignee *string) (store.Conversation, error)
	AssignConversation(ctx context.Context, org, id, assignee string) (store.Conversation, error)
	HandoffConversation(ctx context.Context, org, id string, on bool, emit store.Emit[store.Conversation]) (store.Conversation, bool, error)
	Contact(ctx context.Context, org, id string) (store.Contact, error)
}

func (s *Server) listConversations(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.convs == nil {
		return nil, apperr.New(apperr.Unavailable, "conversations are not configured")
	}
	limit, err := pageLimit(r)
	if err != nil {
		return nil, err
	}
	status := r.Query.Get("status")
	if status != "" && status != store.ConversationOpen && status != store.ConversationResolved {
		return nil, apperr.Field("status", "must be open or resolved")
	}
	page, err := s.convs.Conversations(ctx, r.OrgID(), status, r.Query.Get("contact_id"), r.Query.Get("cursor"), limit)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, page)
}

func (s *Server) getConversation(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.convs == nil {
		return nil, apperr.New(apperr.Unavailable, "conversations are not configured")
	}
	c, err := s.convs.Conversation(ctx, r.OrgID(), r.Params["id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, c)
}

// patchConversation resolves (optionally with satisfaction 1-5), reopens or
// assigns a conversation. Resolving emits conversation.resolved.
func (s *Server) patchConversation(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.convs == nil {
		return nil, apperr.New(apperr.Unavailable, "conversations are not configured")
	}
	var in struct {
		Status       *string `json:"status"`
		Satisfaction *int    `json:"satisfaction"`
		Assignee     *string `json:"assignee"`
		Handoff      *bool   `json:"handoff"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var details []apperr.Detail
	if in.Status != nil && *in.Status != store.ConversationOpen && *in.Status != store.ConversationResolved {
		details = append(details, apperr.Detail{Field: "status", Issue: "must be open or resolved"})
	}
	if in.Satisfaction != nil && (*in.Satisfaction < 1 || *in.Satisfaction > 5) {
		details = append(details, apperr.Detail{Field: "satisfaction", Issue: "must be an integer from 1 to 5"})
	}
	if in.Satisfaction != nil && (in.Status == nil || *in.Status != store.ConversationResolved) {
		details = append(details, apperr.Detail{Field: "satisfaction", Issue: "is given when resolving (status resolved)"})
	}
	if in.Assignee != nil {
		a := strings.TrimSpace(*in.Assignee)
		in.Assignee = &a
		details = append(details, checkName("assignee", a, 256)...)
	}
	if in.Status == nil && in.Assignee == nil && in.Handoff == nil {
		details = append(details, apperr.Detail{Field: "status", Issue: "send status, assignee and/or handoff"})
	}
	if in.Handoff != nil && *in.Handoff && in.Status != nil && *in.Status == store.ConversationResolved {
		details = append(details, apperr.Detail{Field: "handoff", Issue: "a resolved conversation cannot be handed to agents"})
	}
	if len(details) > 0 {
		return nil, apperr.New(apperr.Unprocessable, "the change is invalid").WithDetails(details...)
	}
	org, id := r.OrgID(), r.Params["id"]
	var (
		c   store.Conversation
		err error
	)
	switch {
	case in.Status != nil && *in.Status == store.ConversationResolved:
		sat := 0
		if in.Satisfaction != nil {
			sat = *in.Satisfaction
		}
		if c, err = s.convs.ResolveConversation(ctx, org, id, sat, in.Assignee, s.resolvedEmit(ctx)); err != nil {
			return nil, err
		}
	case in.Status != nil:
		if c, err = s.convs.ReopenConversation(ctx, org, id, in.Assignee); err != nil {
			return nil, err
		}
	case in.Assignee != nil:
		if c, err = s.convs.AssignConversation(ctx, org, id, *in.Assignee); err != nil {
			return nil, err
		}
	}
	if in.Handoff != nil {
		if c, _, err = s.convs.HandoffConversation(ctx, org, id, *in.Handoff, s.handoffEmit(ctx)); err != nil {
			return nil, err
		}
	}
	return httpapi.JSON(http.StatusOK, c)
}

// handoffEmit emits conversation.handoff for a handoff to agents made
// through the API (an agent taking over), in the handoff's transaction;
// the chatbot's own handoffs are emitted by the dispatcher.
func (s *Server) handoffEmit(ctx context.Context) store.Emit[store.Conversation] {
	return func(c store.Conversation) ([]json.RawMessage, error) {
		if !c.Handoff || c.HandoffAt == nil {
			return nil, nil
		}
		ct, err := s.convs.Contact(ctx, c.OrgID, c.ContactID)
		if err != nil {
			return nil, err
		}
		data := map[string]any{"conversation": event.ViewConversation(c), "contact": event.ViewContact(ct), "by": "api"}
		ev, err := event.New(event.StableID(c.OrgID, event.ConversationHandoff, c.ID, c.HandoffAt.String()), event.ConversationHandoff, c.OrgID, s.now(), data)
		if err != nil {
			return nil, err
		}
		return event.Outbox(ev)
	}
}

// resolvedEmit emits conversation.resolved in the resolving transaction.
func (s *Server) resolvedEmit(ctx context.Context) store.Emit[store.Conversation] {
	return func(c store.Conversation) ([]json.RawMessage, error) {
		ct, err := s.convs.Contact(ctx, c.OrgID, c.ContactID)
		if err != nil {
			return nil, err
		}
		data := map[string]any{
			"conversation": event.ViewConversation(c), "contact": event.ViewContact(ct),
			"resolution_time": int64(c.ResolvedAt.Sub(c.CreatedAt).Seconds()), "satisfaction": c.Satisfaction,
		}
		ev, err := event.New(event.StableID(c.OrgID, event.ConversationResolved, c.ID, c.ResolvedAt.String()), event.ConversationResolved, c.OrgID, s.now(), data)
		if err != nil {
			return nil, err
		}
		return event.Outbox(ev)
	}
}
