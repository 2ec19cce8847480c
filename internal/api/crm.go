package api

import (
	"context"
	"net/http"

	"github.com/pytake/pytake/internal/crmconfig"
	"github.com/pytake/pytake/internal/httpapi"
)

// putCRM serves PUT /v1/integrations/{hubspot,salesforce}.
func (s *Server) putCRM(platform string) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		sec, err := s.integrationDeps()
		if err != nil {
			return nil, err
		}
		if err := r.JSONBody(); err != nil {
			return nil, err
		}
		// Only the local stack may point Salesforce at an http loopback simulator.
		st, secret, err := crmconfig.Configure(ctx, s.integrations, sec, r.OrgID(), platform, r.Body, s.insecureWebhooks)
		if err != nil {
			return nil, err
		}
		return httpapi.JSON(http.StatusOK, crmconfig.NewView(st, secret, baseURL(r)))
	}
}

// getCRM serves GET /v1/integrations/{hubspot,salesforce}: the settings,
// credentials masked, and the integration's health.
func (s *Server) getCRM(platform string) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		sec, err := s.integrationDeps()
		if err != nil {
			return nil, err
		}
		st, secret, err := crmconfig.Get(ctx, s.integrations, sec, r.OrgID(), platform)
		if err != nil {
			return nil, err
		}
		return httpapi.JSON(http.StatusOK, crmconfig.NewView(st, secret, baseURL(r)))
	}
}

// deleteCRM serves DELETE /v1/integrations/{hubspot,salesforce}.
func (s *Server) deleteCRM(platform string) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		sec, err := s.integrationDeps()
		if err != nil {
			return nil, err
		}
		if err := crmconfig.Delete(ctx, s.integrations, sec, r.OrgID(), platform); err != nil {
			return nil, err
		}
		return httpapi.NoContent()
	}
}
