package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/tenant"
)

// whatsappView is the WhatsApp settings as the API shows them: secrets
// never, the access token only as a hint.
type whatsappView struct {
	PhoneNumberID   string     `json:"phone_number_id"`
	WABAID          string     `json:"waba_id,omitempty"`
	GraphAPIVersion string     `json:"graph_api_version"`
	AccessToken     string     `json:"access_token"`
	AppSecret       string     `json:"app_secret"`
	VerifyToken     string     `json:"verify_token"`
	Healthy         bool       `json:"healthy"`
	UnhealthyReason string     `json:"unhealthy_reason,omitempty"`
	UnhealthySince  *time.Time `json:"unhealthy_since,omitempty"`
	UpdatedAt       time.Time  `json:"updated_at"`
	// Signals are what Meta's account webhooks last said (quality,
	// messaging limit, throughput, account events).
	Signals store.WhatsAppSignals `json:"signals"`
}

// mask shows the last four characters of a secret, at most.
func mask(s string) string {
	if len(s) < 12 {
		return "********"
	}
	return "********" + s[len(s)-4:]
}

func (s *Server) viewWhatsApp(a store.WhatsAppAccount, c secrets.WhatsApp) whatsappView {
	v := whatsappView{
		PhoneNumberID: a.PhoneNumberID, WABAID: a.WABAID, GraphAPIVersion: a.GraphAPIVersion,
		AccessToken: mask(c.AccessToken), AppSecret: "********", VerifyToken: "********",
		Healthy: a.Healthy, UnhealthyReason: a.UnhealthyReason, UnhealthySince: a.UnhealthySince, UpdatedAt: a.UpdatedAt,
		Signals: a.Signals,
	}
	if v.GraphAPIVersion == "" {
		v.GraphAPIVersion = s.graphVersion
	}
	return v
}

func (s *Server) putWhatsApp(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.secretWriter == nil {
		return nil, apperr.New(apperr.Unavailable, "settings are read-only here")
	}
	var c secrets.WhatsApp
	if err := r.DecodeJSON(&c); err != nil {
		return nil, err
	}
	if err := tenant.ValidateWhatsApp(c); err != nil {
		return nil, err
	}
	if s.graph == nil {
		return nil, apperr.New(apperr.Unavailable, "the Graph API is not configured; the number cannot be confirmed")
	}
	// Meta confirms the number is these credentials' before it is claimed.
	num, err := tenant.ProveWhatsApp(ctx, s.graph, s.graphVersion, c)
	if err != nil {
		return nil, err
	}
	acct, err := tenant.ConfigureWhatsApp(ctx, s.store, s.secretWriter, r.OrgID(), c, num.DisplayPhoneNumber)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, s.viewWhatsApp(acct, c))
}

func (s *Server) getWhatsApp(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	acct, err := s.store.WhatsAppAccount(ctx, r.OrgID())
	if err != nil {
		return nil, err
	}
	var c secrets.WhatsApp
	if err := s.secrets.Get(ctx, r.OrgID(), secrets.ProviderWhatsApp, &c); err != nil && !apperr.Is(err, apperr.NotFound) {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, s.viewWhatsApp(acct, c))
}

// testWhatsApp asks Meta for the number with the stored credentials and
// answers what Meta said: the number's name and quality, or Meta's error.
func (s *Server) testWhatsApp(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	acct, err := s.store.WhatsAppAccount(ctx, r.OrgID())
	if err != nil {
		return nil, err
	}
	var c secrets.WhatsApp
	if err := s.secrets.Get(ctx, r.OrgID(), secrets.ProviderWhatsApp, &c); err != nil {
		return nil, err
	}
	version := acct.GraphAPIVersion
	if version == "" {
		version = s.graphVersion
	}
	p, err := s.graph.GetPhoneNumber(ctx, version, acct.PhoneNumberID, c.AccessToken)
	var ge *graph.Error
	switch {
	case errors.As(err, &ge):
		if ge.Code == 190 {
			if uerr := s.store.MarkWhatsAppUnhealthy(ctx, r.OrgID(), "Meta error 190: "+ge.Message); uerr != nil {
				r.Logger().WarnContext(ctx, "could not mark the connection unhealthy", "error", uerr.Error())
			}
		}
		return httpapi.JSON(http.StatusOK, map[string]any{
			"ok": false, "phone_number_id": acct.PhoneNumberID,
			"error": map[string]any{"code": ge.Code, "subcode": ge.ErrorSubcode, "type": ge.Type, "message": ge.Message,
				"details": ge.ErrorData.Details, "http_status": ge.HTTPStatus, "fbtrace_id": ge.FBTraceID},
		})
	case err != nil:
		return nil, apperr.New(apperr.BadGateway, "the Graph API could not be reached").WithCode("graph_unreachable").WithCause(err)
	}
	return httpapi.JSON(http.StatusOK, map[string]any{
		"ok": true, "phone_number_id": acct.PhoneNumberID,
		"display_phone_number": p.DisplayPhoneNumber, "verified_name": p.VerifiedName, "quality_rating": p.QualityRating,
	})
}
