package api

import (
	"context"
	"strconv"
	"strings"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/chatbot"
	"github.com/pytake/pytake/internal/msgtemplate"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/shopconfig"
)

// sampleRecipient stands in for the customer when a saved setting's
// template message is built to be checked.
const sampleRecipient = "5511999999999"

// checkSavedTemplate checks a template message a setting will send (a
// chatbot reply, a shop notification) against the organisation's copy of
// its templates, as a send would be (nothing while the copy was never
// synced); the error's fields are under field.
func (s *Server) checkSavedTemplate(ctx context.Context, org string, req outbound.Request, field string) error {
	if s.templates == nil || !req.IsTemplate() {
		return nil
	}
	err := msgtemplate.CheckSend(ctx, s.templates, org, req.Content)
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.Unprocessable {
		return err
	}
	out := *e
	out.Details = make([]apperr.Detail, len(e.Details))
	for i, d := range e.Details {
		out.Details[i] = apperr.Detail{Field: field + "." + d.Field, Issue: d.Issue}
	}
	if len(out.Details) > 0 {
		out.Message = out.Details[0].Field + ": " + out.Details[0].Issue
	}
	return &out
}

// checkChatbotTemplates checks every template reply of a bot.
func (s *Server) checkChatbotTemplates(ctx context.Context, org string, b chatbot.Bot) error {
	check := func(r *chatbot.Reply, field string) error {
		if r == nil || r.Type != chatbot.ReplyTemplate {
			return nil
		}
		req, err := r.Request(sampleRecipient)
		if err != nil {
			return err
		}
		return s.checkSavedTemplate(ctx, org, req, field)
	}
	for i, rule := range b.Rules {
		if err := check(rule.Reply, "rules["+strconv.Itoa(i)+"].reply"); err != nil {
			return err
		}
	}
	return check(b.Fallback, "fallback")
}

// checkShopTemplates checks the template of every trigger that sends one.
func (s *Server) checkShopTemplates(ctx context.Context, org, platform string, body []byte) error {
	settings, _, err := shopconfig.Parse(platform, body)
	if err != nil {
		return err // Configure answers it
	}
	group := "topics."
	if platform == shopconfig.WooCommerce {
		group = "statuses."
	}
	for key, t := range settings.Config.Triggers {
		if !t.Sends() || t.Message.Type != "template" || t.Message.Template == nil {
			continue
		}
		tpl := t.Message.Template
		params := make([]string, len(tpl.Parameters))
		for i, p := range tpl.Parameters {
			if params[i] = strings.TrimSpace(p); params[i] == "" {
				params[i] = "-"
			}
		}
		req, err := outbound.BodyTemplate(sampleRecipient, tpl.Name, tpl.Language.Code, params)
		if err != nil {
			return err
		}
		if err := s.checkSavedTemplate(ctx, org, req, group+key+".message"); err != nil {
			return err
		}
	}
	return nil
}
