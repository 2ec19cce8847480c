package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/delivery"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
)

// RotationOverlap is how long a rotated-out secret keeps signing.
const RotationOverlap = 24 * time.Hour

// WebhookStore is the part of the store webhook routes use.
type WebhookStore interface {
	CreateWebhook(ctx context.Context, w store.Webhook) (store.Webhook, error)
	Webhook(ctx context.Context, org, id string) (store.Webhook, error)
	Webhooks(ctx context.Context, org string) ([]store.Webhook, error)
	UpdateWebhook(ctx context.Context, w store.Webhook) (store.Webhook, error)
	DeleteWebhook(ctx context.Context, org, id string) error
	SetWebhookSecretVersion(ctx context.Context, org, id string, version int) error
}

// SecretDeleter removes secrets.
type SecretDeleter interface {
	Delete(ctx context.Context, orgID, provider string) error
}

type webhookInput struct {
	Name   *string   `json:"name"`
	URL    *string   `json:"url"`
	Events *[]string `json:"events"`
	Secret *string   `json:"secret"`
	Active *bool     `json:"active"`
}

// validate checks the fields present; create requires url and events.
func (s *Server) validateWebhook(in webhookInput, create bool) (store.Webhook, error) {
	var w store.Webhook
	var details []apperr.Detail
	bad := func(f, issue string) { details = append(details, apperr.Detail{Field: f, Issue: issue}) }
	if in.Name != nil {
		w.Name = strings.TrimSpace(*in.Name)
		details = append(details, checkName("name", w.Name, 100)...)
	}
	switch {
	case in.URL != nil:
		u, err := delivery.CheckURL(strings.TrimSpace(*in.URL), s.insecureWebhooks)
		if err != nil && s.insecureWebhooks {
			// Local stack: loopback receivers are the point; the
			// dispatcher's client allows loopback there too.
			if lu, lerr := url.Parse(strings.TrimSpace(*in.URL)); lerr == nil && lu.Host != "" && (lu.Scheme == "http" || lu.Scheme == "https") &&
				(lu.Hostname() == "localhost" || strings.HasPrefix(lu.Hostname(), "127.") || lu.Hostname() == "::1") {
				u, err = lu, nil
			}
		}
		if err != nil {
			bad("url", err.Error())
		} else if len(u.String()) > 2048 {
			bad("url", "at most 2048 characters")
		} else {
			w.URL = u.String()
		}
	case create:
		bad("url", "is required")
	}
	switch {
	case in.Events != nil:
		seen := map[string]bool{}
		for i, e := range *in.Events {
			e = strings.TrimSpace(e)
			if !event.Known(e) {
				bad("events["+strconv.Itoa(i)+"]", "unknown event "+strconv.Quote(e)+"; GET /v1/webhooks/events lists them")
				continue
			}
			if !seen[e] {
				seen[e] = true
				w.Events = append(w.Events, e)
			}
		}
		if len(*in.Events) == 0 {
			bad("events", "list at least one event, or \"*\"")
		}
		sort.Strings(w.Events)
	case create:
		bad("events", "is required (event names, or [\"*\"])")
	}
	if in.Secret != nil {
		if issue := secretIssue(*in.Secret); issue != "" {
			bad("secret", issue)
		}
	}
	if len(details) > 0 {
		return w, apperr.New(apperr.Unprocessable, "the webhook is invalid").WithDetails(details...)
	}
	return w, nil
}

// secretIssue says what is wrong with a secret the integrator chose ("" if
// nothing): a whsec_ secret must be canonical, any other 6 to 256 printable
// ASCII characters without spaces.
func secretIssue(secret string) string {
	if _, err := delivery.SigningKey(secret); err != nil {
		if delivery.KeyForm(secret) == delivery.KeyWhsecBase64 {
			return "a secret starting with whsec_ must be whsec_ followed by the standard base64 of 24 to 64 bytes"
		}
		return fmt.Sprintf("must be %d to %d printable ASCII characters without spaces, or whsec_ followed by base64",
			delivery.MinChosenSecretLen, delivery.MaxChosenSecretLen)
	}
	return ""
}

func (s *Server) createWebhook(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.hooks == nil || s.secretWriter == nil {
		return nil, apperr.New(apperr.Unavailable, "webhooks are not configured")
	}
	var in webhookInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	w, err := s.validateWebhook(in, true)
	if err != nil {
		return nil, err
	}
	w.OrgID, w.Active = r.OrgID(), true
	if in.Active != nil {
		w.Active = *in.Active
	}
	secret := ""
	if in.Secret != nil {
		secret = *in.Secret
	} else if secret, err = delivery.NewSecret(); err != nil {
		return nil, err
	}
	w, err = s.hooks.CreateWebhook(ctx, w)
	if err != nil {
		return nil, err
	}
	if err := s.secretWriter.Put(ctx, w.OrgID, secrets.ProviderWebhook(w.ID), secrets.WebhookSecrets{
		Secrets: []secrets.SigningSecret{{Secret: secret, CreatedAt: s.now().UTC()}}, Version: w.SecretVersion,
	}); err != nil {
		_ = s.hooks.DeleteWebhook(ctx, w.OrgID, w.ID) // no subscription without its secret
		return nil, err
	}
	resp, err := httpapi.JSON(http.StatusCreated, struct {
		store.Webhook
		Secret string `json:"secret"`
		// SignatureKey says how the secret keys webhook-signature (Standard
		// Webhooks): the base64 after whsec_, or the string's own bytes.
		SignatureKey string `json:"webhook_signature_key"`
	}{w, secret, delivery.KeyForm(secret)})
	if err == nil {
		resp.Headers["Location"] = "/v1/webhooks/" + w.ID
	}
	return resp, err
}

func (s *Server) listWebhooks(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.hooks == nil {
		return nil, apperr.New(apperr.Unavailable, "webhooks are not configured")
	}
	if r.Query.Get("cursor") != "" {
		// The list is one page (at most MaxWebhooks): no cursor is ever
		// handed out, so any cursor comes from another list.
		return nil, apperr.Field("cursor", "is not a cursor of this list (webhooks are listed in one page)").WithCode("invalid_cursor")
	}
	hooks, err := s.hooks.Webhooks(ctx, r.OrgID())
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, store.Page[store.Webhook]{Items: hooks})
}

func (s *Server) getWebhook(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.hooks == nil {
		return nil, apperr.New(apperr.Unavailable, "webhooks are not configured")
	}
	w, err := s.hooks.Webhook(ctx, r.OrgID(), r.Params["id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, w)
}

func (s *Server) patchWebhook(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.hooks == nil {
		return nil, apperr.New(apperr.Unavailable, "webhooks are not configured")
	}
	var in webhookInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.Secret != nil {
		return nil, apperr.Field("secret", "cannot be changed here; use POST /v1/webhooks/{id}/rotate-secret")
	}
	patch, err := s.validateWebhook(in, false)
	if err != nil {
		return nil, err
	}
	w, err := s.hooks.Webhook(ctx, r.OrgID(), r.Params["id"])
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		w.Name = patch.Name
	}
	if in.URL != nil {
		w.URL = patch.URL
	}
	if in.Events != nil {
		w.Events = patch.Events
	}
	if in.Active != nil {
		w.Active = *in.Active
	}
	w, err = s.hooks.UpdateWebhook(ctx, w)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, w)
}

func (s *Server) deleteWebhook(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.hooks == nil {
		return nil, apperr.New(apperr.Unavailable, "webhooks are not configured")
	}
	org, id := r.OrgID(), r.Params["id"]
	if err := s.hooks.DeleteWebhook(ctx, org, id); err != nil {
		return nil, err
	}
	if d, ok := s.secretWriter.(SecretDeleter); ok {
		if err := d.Delete(ctx, org, secrets.ProviderWebhook(id)); err != nil {
			r.Logger().WarnContext(ctx, "webhook deleted, its secret not yet", "webhook_id", id, "error", err.Error())
		}
	}
	return httpapi.NoContent()
}

// rotateWebhookSecret makes a new signing secret (or takes the one given);
// the previous ones keep signing (more webhook-signature entries) for
// RotationOverlap, and X-PyTake-Signature stays on the oldest of them until
// it expires. The webhook item's secret version is bumped after the secret
// is written, so dispatchers re-read it on their next delivery.
func (s *Server) rotateWebhookSecret(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.hooks == nil || s.secretWriter == nil {
		return nil, apperr.New(apperr.Unavailable, "webhooks are not configured")
	}
	var in struct {
		Secret *string `json:"secret"`
	}
	if len(strings.TrimSpace(string(r.Body))) > 0 {
		if err := r.DecodeJSON(&in); err != nil {
			return nil, err
		}
	}
	if in.Secret != nil {
		if issue := secretIssue(*in.Secret); issue != "" {
			return nil, apperr.Field("secret", issue)
		}
	}
	org, id := r.OrgID(), r.Params["id"]
	hook, err := s.hooks.Webhook(ctx, org, id)
	if err != nil {
		return nil, err
	}
	var cur secrets.WebhookSecrets
	if err := s.secrets.Get(ctx, org, secrets.ProviderWebhook(id), &cur); err != nil && !apperr.Is(err, apperr.NotFound) {
		return nil, err
	}
	now := s.now().UTC()
	secret := ""
	if in.Secret != nil {
		secret = *in.Secret
	} else if secret, err = delivery.NewSecret(); err != nil {
		return nil, err
	}
	version := max(hook.SecretVersion, cur.Version) + 1
	until := now.Add(RotationOverlap)
	next := secrets.WebhookSecrets{Secrets: []secrets.SigningSecret{{Secret: secret, CreatedAt: now}}, Version: version}
	for _, old := range cur.Active(now) {
		if old.Secret == secret {
			return nil, apperr.Field("secret", "is the current secret; choose another")
		}
		if old.ExpiresAt == nil || old.ExpiresAt.After(until) {
			old.ExpiresAt = &until
		}
		next.Secrets = append(next.Secrets, old)
	}
	if err := s.secretWriter.Put(ctx, org, secrets.ProviderWebhook(id), next); err != nil {
		return nil, err
	}
	if err := s.hooks.SetWebhookSecretVersion(ctx, org, id, version); err != nil {
		return nil, err
	}
	switchAt := now
	if len(next.Secrets) > 1 {
		switchAt = until
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"id": id, "secret": secret, "previous_secrets_expire_at": until,
		"x_pytake_signature_switches_at": switchAt, "webhook_signature_key": delivery.KeyForm(secret)})
}

func (s *Server) webhookEvents(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return httpapi.JSON(http.StatusOK, map[string]any{"data": event.Catalogue()})
}
