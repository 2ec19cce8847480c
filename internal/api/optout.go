package api

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/optout"
	"github.com/pytake/pytake/internal/store"
)

// OptOutStore keeps opt-out settings and contacts' consent (store.Store).
type OptOutStore interface {
	OptOutSettings(ctx context.Context, org string) (store.OptOutSettings, error)
	SetOptOutSettings(ctx context.Context, org string, o store.OptOutSettings) (store.OptOutSettings, error)
	OptInContact(ctx context.Context, org, contactID string, emit store.Emit[store.Contact]) (store.Contact, error)
}

// optOutSettingsView is GET/PUT /v1/settings/opt-out.
type optOutSettingsView struct {
	Keywords     []string   `json:"keywords"`
	Confirmation *string    `json:"confirmation"`
	Default      bool       `json:"default"`
	UpdatedAt    *time.Time `json:"updated_at,omitempty"`
}

func viewOptOutSettings(o store.OptOutSettings) optOutSettingsView {
	v := optOutSettingsView{Keywords: o.Keywords, Confirmation: orNull(o.Confirmation), Default: o.UpdatedAt == nil}
	if v.Keywords == nil {
		v.Keywords = []string{}
	}
	if o.UpdatedAt != nil {
		t := o.UpdatedAt.UTC()
		v.UpdatedAt = &t
	}
	return v
}

func (s *Server) getOptOutSettings(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.optOuts == nil {
		return nil, apperr.New(apperr.Unavailable, "opt-out settings are not configured")
	}
	o, err := s.optOuts.OptOutSettings(ctx, r.OrgID())
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, viewOptOutSettings(o))
}

// putOptOutSettings replaces the organisation's opt-out keywords and
// confirmation reply (optout.ParseSettings).
func (s *Server) putOptOutSettings(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.optOuts == nil {
		return nil, apperr.New(apperr.Unavailable, "opt-out settings are not configured")
	}
	if err := r.JSONBody(); err != nil {
		return nil, err
	}
	in, err := optout.ParseSettings(r.Body)
	if err != nil {
		return nil, err
	}
	saved, err := s.optOuts.SetOptOutSettings(ctx, r.OrgID(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, viewOptOutSettings(saved))
}

// optInContact records a contact's new consent to marketing messages: its
// opt-out, if any, is lifted (contact.updated follows).
func (s *Server) optInContact(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.optOuts == nil {
		return nil, apperr.New(apperr.Unavailable, "contacts are not configured")
	}
	if len(bytes.TrimSpace(r.Body)) > 0 {
		var in struct{}
		if err := r.DecodeJSON(&in); err != nil {
			return nil, err
		}
	}
	c, err := s.optOuts.OptInContact(ctx, r.OrgID(), r.Params["id"], s.contactEmit(event.ContactUpdated))
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, event.ViewContact(c))
}
