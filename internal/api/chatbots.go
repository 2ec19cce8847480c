package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/chatbot"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/store"
)

// ChatbotStore keeps chatbots.
type ChatbotStore interface {
	CreateChatbot(ctx context.Context, c store.Chatbot) (store.Chatbot, error)
	Chatbot(ctx context.Context, org, id string) (store.Chatbot, error)
	Chatbots(ctx context.Context, org, cursor string, limit int) (store.Page[store.Chatbot], error)
	SaveChatbot(ctx context.Context, c store.Chatbot, wasActive bool) (store.Chatbot, error)
	DeleteChatbot(ctx context.Context, org, id string) error
}

// chatbotView is a chatbot as the API shows it.
type chatbotView struct {
	ID string `json:"id"`
	chatbot.Bot
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func viewChatbot(c store.Chatbot) (chatbotView, error) {
	var b chatbot.Bot
	if err := json.Unmarshal(c.Definition, &b); err != nil {
		return chatbotView{}, fmt.Errorf("api: stored chatbot %s: %w", c.ID, err)
	}
	b.Active = c.Active
	if b.Rules == nil {
		b.Rules = []chatbot.Rule{}
	}
	return chatbotView{ID: c.ID, Bot: b, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}, nil
}

func (s *Server) chatbotsReady() error {
	if s.bots == nil {
		return apperr.New(apperr.Unavailable, "chatbots are not configured")
	}
	return nil
}

// createChatbot stores a bot; an active one becomes the organisation's
// chatbot (409 while another is active).
func (s *Server) createChatbot(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := s.chatbotsReady(); err != nil {
		return nil, err
	}
	if err := r.JSONBody(); err != nil {
		return nil, err
	}
	b, err := chatbot.ParseCreate(r.Body)
	if err != nil {
		return nil, err
	}
	if err := s.checkChatbotTemplates(ctx, r.OrgID(), b); err != nil {
		return nil, err
	}
	def, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	c, err := s.bots.CreateChatbot(ctx, store.Chatbot{OrgID: r.OrgID(), Name: b.Name, Active: b.Active, Definition: def})
	if err != nil {
		return nil, err
	}
	v, err := viewChatbot(c)
	if err != nil {
		return nil, err
	}
	resp, err := httpapi.JSON(http.StatusCreated, v)
	if err == nil {
		resp.Headers["Location"] = "/v1/chatbots/" + c.ID
	}
	return resp, err
}

func (s *Server) listChatbots(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := s.chatbotsReady(); err != nil {
		return nil, err
	}
	limit, err := pageLimit(r)
	if err != nil {
		return nil, err
	}
	page, err := s.bots.Chatbots(ctx, r.OrgID(), r.Query.Get("cursor"), limit)
	if err != nil {
		return nil, err
	}
	out := store.Page[chatbotView]{Items: make([]chatbotView, 0, len(page.Items)), NextCursor: page.NextCursor}
	for _, c := range page.Items {
		v, err := viewChatbot(c)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, v)
	}
	return httpapi.JSON(http.StatusOK, out)
}

func (s *Server) getChatbot(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := s.chatbotsReady(); err != nil {
		return nil, err
	}
	c, err := s.bots.Chatbot(ctx, r.OrgID(), r.Params["id"])
	if err != nil {
		return nil, err
	}
	v, err := viewChatbot(c)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, v)
}

// patchChatbot changes any of name, welcome_message, active, rules (the
// list is replaced) and fallback (null removes it).
func (s *Server) patchChatbot(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := s.chatbotsReady(); err != nil {
		return nil, err
	}
	if err := r.JSONBody(); err != nil {
		return nil, err
	}
	cur, err := s.bots.Chatbot(ctx, r.OrgID(), r.Params["id"])
	if err != nil {
		return nil, err
	}
	v, err := viewChatbot(cur)
	if err != nil {
		return nil, err
	}
	b, err := chatbot.ParsePatch(v.Bot, r.Body)
	if err != nil {
		return nil, err
	}
	if err := s.checkChatbotTemplates(ctx, r.OrgID(), b); err != nil {
		return nil, err
	}
	def, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	next := cur
	next.Name, next.Active, next.Definition = b.Name, b.Active, def
	saved, err := s.bots.SaveChatbot(ctx, next, cur.Active)
	if err != nil {
		return nil, err
	}
	if v, err = viewChatbot(saved); err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, v)
}

func (s *Server) deleteChatbot(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := s.chatbotsReady(); err != nil {
		return nil, err
	}
	if err := s.bots.DeleteChatbot(ctx, r.OrgID(), r.Params["id"]); err != nil {
		return nil, err
	}
	return httpapi.NoContent()
}
