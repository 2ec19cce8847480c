package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/msgtemplate"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
)

// TemplateStore keeps the organisation's copy of its templates.
type TemplateStore interface {
	Templates(ctx context.Context, org string, f store.TemplateFilter, cursor string, limit int) (store.Page[store.Template], error)
	TemplatesNamed(ctx context.Context, org, name string) ([]store.Template, error)
	Template(ctx context.Context, org, name, language string) (store.Template, error)
	TemplatesSyncedAt(ctx context.Context, org string) (*time.Time, error)
	RecordCreatedTemplate(ctx context.Context, t store.Template) error
	DeleteTemplates(ctx context.Context, org, name, language string) error
	SyncTemplates(ctx context.Context, org string, list []store.Template) ([]store.TemplateChange, error)
}

var _ TemplateStore = (*store.Store)(nil)

// templateList is GET /v1/templates's answer.
type templateList struct {
	Data       []store.Template `json:"data"`
	NextCursor string           `json:"next_cursor"`
	SyncedAt   *time.Time       `json:"synced_at"`
}

func (s *Server) templateStore() (TemplateStore, error) {
	if s.templates == nil {
		return nil, apperr.New(apperr.Unavailable, "templates are not configured")
	}
	return s.templates, nil
}

// listTemplates answers PyTake's copy of the organisation's templates.
func (s *Server) listTemplates(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	ts, err := s.templateStore()
	if err != nil {
		return nil, err
	}
	limit, err := pageLimit(r)
	if err != nil {
		return nil, err
	}
	f := store.TemplateFilter{Name: r.Query.Get("name"), Language: r.Query.Get("language"),
		Status: strings.ToUpper(r.Query.Get("status")), Category: strings.ToUpper(r.Query.Get("category"))}
	switch {
	case f.Name != "" && !outbound.ValidTemplateName(f.Name):
		return nil, apperr.Field("name", "must be a template name: lowercase letters, digits and underscores")
	case f.Language != "" && !outbound.ValidLanguageCode(f.Language):
		return nil, apperr.Field("language", "must be a language code such as pt_BR, en_US or en")
	case f.Status != "" && !contains(msgtemplate.Statuses, f.Status):
		return nil, apperr.Field("status", "must be one of "+strings.Join(msgtemplate.Statuses, ", "))
	case f.Category != "" && !contains(msgtemplate.Categories(), f.Category):
		return nil, apperr.Field("category", "must be one of "+strings.Join(msgtemplate.Categories(), ", "))
	}
	p, err := ts.Templates(ctx, r.OrgID(), f, r.Query.Get("cursor"), limit)
	if err != nil {
		return nil, err
	}
	at, err := ts.TemplatesSyncedAt(ctx, r.OrgID())
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, templateList{Data: p.Items, NextCursor: p.NextCursor, SyncedAt: at})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// templateName reads the {name} of a template route.
func templateName(r *httpapi.Request) (string, error) {
	name := r.Params["name"]
	if !outbound.ValidTemplateName(name) {
		return "", apperr.New(apperr.NotFound, "no template has this name (names are lowercase letters, digits and underscores)")
	}
	return name, nil
}

// getTemplate answers every language of a template name.
func (s *Server) getTemplate(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	ts, err := s.templateStore()
	if err != nil {
		return nil, err
	}
	name, err := templateName(r)
	if err != nil {
		return nil, err
	}
	list, err := ts.TemplatesNamed(ctx, r.OrgID(), name)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, apperr.Newf(apperr.NotFound, "PyTake's copy has no template %q (POST /v1/templates/sync refreshes it)", name)
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"name": name, "data": list})
}

// metaAccount is the organisation's connection, for calls to Meta: the
// WABA (templates) and the number (media, read receipts) with the token.
func (s *Server) metaAccount(ctx context.Context, org string, needWABA bool) (secrets.WhatsApp, string, error) {
	var c secrets.WhatsApp
	if err := s.secrets.Get(ctx, org, secrets.ProviderWhatsApp, &c); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return c, "", apperr.New(apperr.Conflict, "WhatsApp is not configured for this organization").WithCode("whatsapp_not_configured")
		}
		return c, "", err
	}
	if needWABA && c.WABAID == "" {
		return c, "", apperr.New(apperr.Conflict, "the WhatsApp settings have no waba_id: templates belong to the WhatsApp Business Account; save it with PUT /v1/settings/whatsapp").
			WithCode("whatsapp_not_configured")
	}
	if s.graph == nil {
		return c, "", apperr.New(apperr.Unavailable, "the Graph API is not configured")
	}
	version := c.GraphAPIVersion
	if version == "" {
		version = s.graphVersion
	}
	return c, version, nil
}

// metaRefused turns Meta's refusal of a request into a 422 quoting Meta
// (its 4xx answers: a template Meta's rules refuse, a name taken, ...);
// other failures are 502s.
func metaRefused(err error, what string) error {
	var ge *graph.Error
	if errors.As(err, &ge) && ge.HTTPStatus/100 == 4 && ge.Code != 190 && ge.Code != 4 && ge.Code != 80008 {
		msg := ge.Message
		if ge.ErrorData.Details != "" {
			msg += ": " + ge.ErrorData.Details
		}
		return apperr.Newf(apperr.Unprocessable, "Meta refused the %s (code %d): %s", what, ge.Code, msg).
			WithCode("meta_refused").With("meta_code", ge.Code).With("meta_subcode", ge.ErrorSubcode).WithCause(err)
	}
	if errors.As(err, &ge) {
		return apperr.Newf(apperr.BadGateway, "the WhatsApp Cloud API answered with error %d: %s", ge.Code, ge.Message).
			With("meta_code", ge.Code).WithCause(err)
	}
	return apperr.New(apperr.BadGateway, "the WhatsApp Cloud API could not be reached").WithCause(err)
}

// createTemplate checks a template against Meta's rules, creates it at
// Meta and records Meta's answer (its id and status, PENDING) in the copy.
func (s *Server) createTemplate(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	ts, err := s.templateStore()
	if err != nil {
		return nil, err
	}
	if err := r.JSONBody(); err != nil {
		return nil, err
	}
	def, body, err := msgtemplate.ParseCreate(r.Body)
	if err != nil {
		return nil, err
	}
	c, version, err := s.metaAccount(ctx, r.OrgID(), true)
	if err != nil {
		return nil, err
	}
	created, err := s.graph.CreateTemplate(ctx, version, c.WABAID, c.AccessToken, body)
	if err != nil {
		return nil, metaRefused(err, "template")
	}
	t := store.Template{OrgID: r.OrgID(), ID: created.ID, Name: def.Name, Language: def.Language, Category: def.Category,
		Status: strings.ToUpper(created.Status), ParameterFormat: def.ParameterFormat, UpdatedAt: s.now()}
	if created.Category != "" {
		t.Category = strings.ToUpper(created.Category)
	}
	if t.Status == "" {
		t.Status = msgtemplate.StatusPending
	}
	if t.Components, err = componentsJSON(def); err != nil {
		return nil, err
	}
	if err := ts.RecordCreatedTemplate(ctx, t); err != nil {
		// Meta has it; the next sync records it.
		r.Logger().WarnContext(ctx, "template created at Meta but not recorded; the next sync records it", "template_id", t.ID, "error", err.Error())
	}
	resp, err := httpapi.JSON(http.StatusCreated, t)
	if err == nil {
		resp.Headers["Location"] = "/v1/templates/" + t.Name
	}
	return resp, err
}

// deleteTemplate deletes a template name at Meta (every language, or the
// one ?language= names, by its id in the copy) and from the copy.
func (s *Server) deleteTemplate(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	ts, err := s.templateStore()
	if err != nil {
		return nil, err
	}
	name, err := templateName(r)
	if err != nil {
		return nil, err
	}
	lang := r.Query.Get("language")
	if lang != "" && !outbound.ValidLanguageCode(lang) {
		return nil, apperr.Field("language", "must be a language code such as pt_BR, en_US or en")
	}
	list, err := ts.TemplatesNamed(ctx, r.OrgID(), name)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, apperr.Newf(apperr.NotFound, "PyTake's copy has no template %q (POST /v1/templates/sync refreshes it)", name)
	}
	hsmID := ""
	if lang != "" {
		for _, t := range list {
			if t.Language == lang {
				hsmID = t.ID
			}
		}
		if hsmID == "" {
			return nil, apperr.Newf(apperr.NotFound, "PyTake's copy has no %s translation of %q (POST /v1/templates/sync refreshes it)", lang, name)
		}
	}
	c, version, err := s.metaAccount(ctx, r.OrgID(), true)
	if err != nil {
		return nil, err
	}
	if err := s.graph.DeleteTemplate(ctx, version, c.WABAID, c.AccessToken, name, hsmID); err != nil {
		return nil, metaRefused(err, "deletion")
	}
	if err := ts.DeleteTemplates(ctx, r.OrgID(), name, lang); err != nil {
		return nil, err
	}
	return httpapi.NoContent()
}

// syncTemplates pulls every template of the WABA from Meta into the copy.
func (s *Server) syncTemplates(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	ts, err := s.templateStore()
	if err != nil {
		return nil, err
	}
	c, version, err := s.metaAccount(ctx, r.OrgID(), true)
	if err != nil {
		return nil, err
	}
	if s.events == nil {
		return nil, apperr.New(apperr.Unavailable, "events are not configured")
	}
	now := s.now()
	res, err := msgtemplate.Sync(ctx, s.graph, ts, s.events, msgtemplate.Account{OrgID: r.OrgID(), WABAID: c.WABAID, Version: version, Token: c.AccessToken}, now)
	var ge *graph.Error
	switch {
	case errors.As(err, &ge):
		return nil, metaRefused(err, "template list")
	case err != nil && !apperrKnown(err):
		return nil, apperr.New(apperr.BadGateway, "Meta's template list could not be read").WithCause(err)
	case err != nil:
		return nil, err
	}
	changes := make([]map[string]any, 0, len(res.Changes))
	for _, ch := range res.Changes {
		changes = append(changes, map[string]any{"name": ch.Template.Name, "language": ch.Template.Language,
			"status": ch.Template.Status, "previous_status": ch.PreviousStatus, "removed": ch.Removed})
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"synced_at": now.UTC(), "count": res.Count, "changes": changes})
}

// apperrKnown reports whether err is one of PyTake's classified errors.
func apperrKnown(err error) bool {
	_, ok := apperr.As(err)
	return ok
}

// componentsJSON is a definition's components as stored.
func componentsJSON(d msgtemplate.Definition) ([]byte, error) {
	b, err := json.Marshal(d.Components)
	if err != nil {
		return nil, fmt.Errorf("api: encode template components: %w", err)
	}
	return b, nil
}
