//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/tenant"
)

func TestHealth(t *testing.T) {
	r := do(t, "GET", "/v1/health", "", nil)
	var body struct{ Status string }
	r.json(t, &body)
	require.Equal(t, 200, r.Status, "health: %d %s", r.Status, r.Body)
	require.Equal(t, "ok", body.Status, "health")
	require.NotEmpty(t, r.Header.Get("X-Request-Id"), "health")
	r = do(t, "HEAD", "/v1/health", "", nil)
	require.Equal(t, 200, r.Status, "HEAD health: %d", r.Status)
}

func TestOrganization(t *testing.T) {
	r := do(t, "GET", "/v1/organization", demo.APIKey.Key, nil)
	var org struct{ ID, Name string }
	r.json(t, &org)
	require.Equal(t, 200, r.Status, "organization: %d %s", r.Status, r.Body)
	require.Equal(t, demo.Organization.ID, org.ID, "organization")
	require.Equal(t, "Demo", org.Name, "organization")
}

func TestAuthFailures(t *testing.T) {
	ctx := context.Background()
	revoked, err := tenant.CreateOrganization(ctx, st.Store(), "Revoked Inc", "test")
	require.NoError(t, err)
	_, err = st.Store().RevokeKey(ctx, revoked.Organization.ID, revoked.APIKey.ID)
	require.NoError(t, err)
	for _, c := range []struct {
		name, header, code string
	}{
		{"missing", "", "unauthorized"},
		{"not bearer", "Basic abc", "unauthorized"},
		{"malformed", "Bearer pytake_live_nope", "unauthorized"},
		{"unknown", "Bearer pytake_live_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "unauthorized"},
		{"revoked", "Bearer " + revoked.APIKey.Key, "api_key_revoked"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h []string
			if c.header != "" {
				h = []string{"Authorization", c.header}
			}
			r := do(t, "GET", "/v1/organization", "", nil, h...)
			require.Equal(t, http.StatusUnauthorized, r.Status, "%d %s", r.Status, r.Body)
			require.Equal(t, c.code, r.errorCode(t), "%d %s", r.Status, r.Body)
			assert.NotEmpty(t, r.Header.Get("WWW-Authenticate"), "401 without WWW-Authenticate")
		})
	}
}

func TestRoutingErrors(t *testing.T) {
	r := do(t, "GET", "/v1/nothing-here", demo.APIKey.Key, nil)
	require.Equal(t, 404, r.Status, "unknown /v1 route: %d %s", r.Status, r.Body)
	require.Equal(t, "route_not_found", r.errorCode(t), "unknown /v1 route")
	r = do(t, "DELETE", "/v1/health", "", nil)
	require.Equal(t, 405, r.Status, "wrong method: %d %s %v", r.Status, r.Body, r.Header)
	require.Equal(t, "method_not_allowed", r.errorCode(t), "wrong method")
	require.NotEmpty(t, r.Header.Get("Allow"), "wrong method")
	// Outside the template's routes the gateway answers, as API Gateway does.
	r = do(t, "GET", "/nope", "", nil)
	require.Equal(t, 404, r.Status, "gateway 404: %d %s", r.Status, r.Body)
	require.Equal(t, `{"message":"Not Found"}`, string(r.Body), "gateway 404")
	r = do(t, "PUT", "/webhooks/whatsapp", "", nil)
	require.Equal(t, 404, r.Status, "PUT webhook: %d %s", r.Status, r.Body)
	r = do(t, "POST", "/v1/health", "", []byte(`{`))
	require.Equal(t, 405, r.Status, "POST health: %d %s", r.Status, r.Body)
}

func TestBodyLimit(t *testing.T) {
	big := make([]byte, 2<<20)
	for i := range big {
		big[i] = 'a'
	}
	r := do(t, "POST", "/v1/organization", demo.APIKey.Key, big)
	if r.Status != http.StatusRequestEntityTooLarge && r.Status != http.StatusMethodNotAllowed {
		t.Fatalf("2 MB body: %d %s", r.Status, r.Body)
	}
	// Over the function's 1 MB (answered by the function) and over Lambda's
	// 6 MB invoke limit (answered by the gateway, the function never sees
	// it): the same 413 and error model, not a 500.
	for _, size := range []int{2 << 20, 7 << 20} {
		body := append([]byte(`{"whatsapp_id":"+5511900000000","name":"`), bytes.Repeat([]byte("a"), size)...)
		body = append(body, `"}`...)
		r := do(t, "POST", "/v1/contacts", demo.APIKey.Key, body)
		var e struct {
			Error struct {
				Code      string `json:"code"`
				RequestID string `json:"request_id"`
			} `json:"error"`
		}
		if err := json.Unmarshal(r.Body, &e); err != nil || r.Status != http.StatusRequestEntityTooLarge ||
			e.Error.Code != "payload_too_large" || e.Error.RequestID == "" {
			t.Fatalf("%d MB contact: %d %.300s", size>>20, r.Status, r.Body)
		}
	}
}
