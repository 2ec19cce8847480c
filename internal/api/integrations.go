package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/shopconfig"
)

// IntegrationStore is the part of the store the e-commerce integration
// routes use.
type IntegrationStore = shopconfig.Store

// integrationSecrets is what the integration routes need from the secret
// store: read, write and delete.
type integrationSecrets interface {
	shopconfig.SecretStore
	shopconfig.SecretDeleter
}

// integrationDeps returns the integration routes' collaborators, or 503
// when they are not configured.
func (s *Server) integrationDeps() (integrationSecrets, error) {
	if s.integrations == nil || s.secretWriter == nil {
		return nil, apperr.New(apperr.Unavailable, "integrations are not configured")
	}
	sec, ok := s.secretWriter.(integrationSecrets)
	if !ok {
		return nil, apperr.New(apperr.Unavailable, "integrations are not configured")
	}
	return sec, nil
}

// baseURL is the scheme and host the request came to, for the webhook URL
// to configure on the platform.
func baseURL(r *httpapi.Request) string {
	host := r.Header("host")
	if host == "" && r.Event != nil {
		host = r.Event.RequestContext.DomainName
	}
	if host == "" || strings.ContainsAny(host, "/ \\") {
		return ""
	}
	proto := r.Header("x-forwarded-proto")
	if proto != "http" {
		proto = "https"
	}
	return proto + "://" + host
}

// putIntegration serves PUT /v1/integrations/{shopify,woocommerce}.
func (s *Server) putIntegration(platform string) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		sec, err := s.integrationDeps()
		if err != nil {
			return nil, err
		}
		if err := r.JSONBody(); err != nil {
			return nil, err
		}
		if err := s.checkShopTemplates(ctx, r.OrgID(), platform, r.Body); err != nil {
			return nil, err
		}
		now := s.now()
		st, secret, _, err := shopconfig.Configure(ctx, s.integrations, sec, r.OrgID(), platform, r.Body, now)
		if err != nil {
			return nil, err
		}
		return httpapi.JSON(http.StatusOK, shopconfig.NewView(st, secret, now, baseURL(r)))
	}
}

// getIntegration serves GET /v1/integrations/{shopify,woocommerce}.
func (s *Server) getIntegration(platform string) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		sec, err := s.integrationDeps()
		if err != nil {
			return nil, err
		}
		st, secret, err := shopconfig.Get(ctx, s.integrations, sec, r.OrgID(), platform)
		if err != nil {
			return nil, err
		}
		return httpapi.JSON(http.StatusOK, shopconfig.NewView(st, secret, s.now(), baseURL(r)))
	}
}

// deleteIntegration serves DELETE /v1/integrations/{shopify,woocommerce}.
func (s *Server) deleteIntegration(platform string) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		sec, err := s.integrationDeps()
		if err != nil {
			return nil, err
		}
		if err := shopconfig.Delete(ctx, s.integrations, sec, r.OrgID(), platform); err != nil {
			return nil, err
		}
		return httpapi.NoContent()
	}
}
