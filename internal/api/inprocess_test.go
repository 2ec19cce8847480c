package api_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/store"
)

// TestInProcess: the in-process entry runs the same routes with the same
// policies as the HTTP one, as the key it is given.
func TestInProcess(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ip := f.server.InProcess(api.AllRoutes()...)
	admin, err := f.store.APIKey(ctx, f.org.ID, f.keyID)
	require.NoError(t, err)

	res, err := ip.Do(ctx, admin, http.MethodPost, "/v1/api-keys", nil, map[string]any{"name": "crm", "scopes": []string{"contacts:read"}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
	var created struct {
		store.APIKey
		Key string `json:"key"`
	}
	require.NoError(t, res.Decode(&created))
	crm, err := f.store.APIKey(ctx, f.org.ID, created.ID)
	require.NoError(t, err)

	// Field errors come back with their fields.
	res, err = ip.Do(ctx, admin, http.MethodPost, "/v1/api-keys", nil, map[string]any{"mode": "gold"})
	require.NoError(t, err)
	e := res.Err()
	require.NotNil(t, e)
	assert.Equal(t, apperr.Unprocessable, e.Kind)
	assert.ElementsMatch(t, []string{"name", "mode"}, apperr.Fields(e))

	// The key's scopes hold: contacts:read may not list keys.
	res, err = ip.Do(ctx, crm, http.MethodGet, "/v1/api-keys", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, res.Status)
	assert.Equal(t, "insufficient_scope", res.Err().Code)

	// Another organisation's ids are 404.
	other, err := f.store.CreateOrganization(ctx, "Other")
	require.NoError(t, err)
	theirs, _, err := f.store.IssueKey(ctx, other.ID, "x", apikey.Live)
	require.NoError(t, err)
	res, err = ip.Do(ctx, admin, http.MethodDelete, "/v1/api-keys/"+url.PathEscape(theirs.ID), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, res.Status)

	// A revoked key, or one without its scopes read, does nothing.
	revoked, err := f.store.RevokeKey(ctx, f.org.ID, crm.ID)
	require.NoError(t, err)
	res, err = ip.Do(ctx, revoked, http.MethodGet, "/v1/contacts", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	noScopes := admin
	noScopes.Scopes = nil
	res, err = ip.Do(ctx, noScopes, http.MethodGet, "/v1/api-keys", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	res, err = ip.Do(ctx, store.APIKey{}, http.MethodGet, "/v1/organization", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, res.Status)
}

// TestInProcessRecordsUse: a key used through the dashboard is a key in use:
// its last use is recorded as the HTTP entry records it (a stolen admin
// key signing in to the dashboard leaves the same trace as on /v1).
func TestInProcessRecordsUse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, _, err := f.store.IssueKey(ctx, f.org.ID, "dashboard", apikey.Live, apikey.FirstKeyScopes()...)
	require.NoError(t, err)
	k, err = f.store.APIKey(ctx, f.org.ID, k.ID)
	require.NoError(t, err)
	require.Nil(t, k.LastUsedAt)
	res, err := f.server.InProcess(api.AllRoutes()...).Do(ctx, k, http.MethodGet, "/v1/organization", nil, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.Status, string(res.Body))
	k, err = f.store.APIKey(ctx, f.org.ID, k.ID)
	require.NoError(t, err)
	assert.NotNil(t, k.LastUsedAt, "the use is recorded")
}

// TestInProcessGroups: an in-process entry built from some route groups
// serves their routes, under the same policies, and refuses the others'
// loudly (an error, not a 404 answer a page might show as "not found");
// every group together is the whole of Router.
func TestInProcessGroups(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin, err := f.store.APIKey(ctx, f.org.ID, f.keyID)
	require.NoError(t, err)
	ip := f.server.InProcess(api.KeyRoutes)

	res, err := ip.Do(ctx, admin, http.MethodGet, "/v1/api-keys", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.Status, string(res.Body))
	res, err = ip.Do(ctx, admin, http.MethodGet, "/v1/api-keys/key_nope", nil, nil)
	require.NoError(t, err, "a 404 from the handler is an answer")
	assert.Equal(t, http.StatusNotFound, res.Status)

	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/v1/organization"},
		{http.MethodGet, "/v1/campaigns"},
		{http.MethodPatch, "/v1/api-keys/key_1"}, // a registered path, not that method
	} {
		_, err := ip.Do(ctx, admin, c.method, c.path, nil, nil)
		require.Error(t, err, "%s %s", c.method, c.path)
		assert.Contains(t, err.Error(), "no such route among the groups [api-keys]")
	}

	var all []string
	for _, g := range api.AllRoutes() {
		all = append(all, f.server.InProcess(g).Routes()...)
	}
	assert.ElementsMatch(t, f.router.Routes(), all, "the groups are Router's routes, each once")
}
