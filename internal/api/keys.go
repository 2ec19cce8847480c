package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/store"
)

// maxKeyNameLen bounds an API key's name.
const maxKeyNameLen = 100

// newKeyView is the answer to POST /v1/api-keys: the key's description plus
// its plaintext, shown this once and never again.
type newKeyView struct {
	store.APIKey
	Key string `json:"key"`
}

// createAPIKey issues a key for the caller's organisation, with the scopes
// asked for or every scope but admin.
func (s *Server) createAPIKey(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Name   *string   `json:"name"`
		Mode   *string   `json:"mode"`
		Scopes *[]string `json:"scopes"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var details []apperr.Detail
	name := ""
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		details = append(details, apperr.Detail{Field: "name", Issue: "is required"})
	} else {
		name = strings.TrimSpace(*in.Name)
		details = append(details, checkName("name", name, maxKeyNameLen)...)
	}
	mode := apikey.Live
	if in.Mode != nil {
		mode = *in.Mode
		if mode != apikey.Live && mode != apikey.Test {
			details = append(details, apperr.Detail{Field: "mode", Issue: "must be live or test"})
		}
	}
	scopes := apikey.DefaultScopes()
	if in.Scopes != nil {
		norm, i, err := apikey.NormalizeScopes(*in.Scopes)
		field := "scopes"
		if i >= 0 {
			field = "scopes[" + strconv.Itoa(i) + "]"
		}
		if err != nil {
			details = append(details, apperr.Detail{Field: field, Issue: err.Error()})
		}
		scopes = norm
	}
	if len(details) > 0 {
		return nil, apperr.New(apperr.Unprocessable, "the api key is invalid").WithDetails(details...)
	}
	k, plain, err := s.store.IssueKey(ctx, r.OrgID(), name, mode, scopes...)
	if err != nil {
		return nil, err
	}
	resp, err := httpapi.JSON(http.StatusCreated, newKeyView{APIKey: k, Key: plain})
	if err == nil {
		resp.Headers["Location"] = "/v1/api-keys/" + k.ID
		resp.Headers["Cache-Control"] = "no-store"
	}
	return resp, err
}

// listAPIKeys pages through the organisation's keys: prefix and last four
// characters only, never the secret or its hash.
func (s *Server) listAPIKeys(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	limit, err := pageLimit(r)
	if err != nil {
		return nil, err
	}
	page, err := s.store.Keys(ctx, r.OrgID(), r.Query.Get("cursor"), limit)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, page)
}

func (s *Server) getAPIKey(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	k, err := s.store.APIKey(ctx, r.OrgID(), r.Params["id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, k)
}

// revokeAPIKey revokes a key at once: the next request made with it is
// refused. A key may revoke itself.
func (s *Server) revokeAPIKey(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	k, err := s.store.RevokeKey(ctx, r.OrgID(), r.Params["id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, k)
}
