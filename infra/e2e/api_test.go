//go:build e2e

package e2e

import (
	"context"
	"net/http"
	"testing"

	"github.com/pytake/pytake/internal/tenant"
)

func TestHealth(t *testing.T) {
	r := do(t, "GET", "/v1/health", "", nil)
	var body struct{ Status string }
	r.json(t, &body)
	if r.Status != 200 || body.Status != "ok" || r.Header.Get("X-Request-Id") == "" {
		t.Fatalf("health: %d %s", r.Status, r.Body)
	}
	if r := do(t, "HEAD", "/v1/health", "", nil); r.Status != 200 {
		t.Fatalf("HEAD health: %d", r.Status)
	}
}

func TestOrganization(t *testing.T) {
	r := do(t, "GET", "/v1/organization", demo.APIKey.Key, nil)
	var org struct{ ID, Name string }
	r.json(t, &org)
	if r.Status != 200 || org.ID != demo.Organization.ID || org.Name != "Demo" {
		t.Fatalf("organization: %d %s", r.Status, r.Body)
	}
}

func TestAuthFailures(t *testing.T) {
	ctx := context.Background()
	revoked, err := tenant.CreateOrganization(ctx, st.Store(), "Revoked Inc", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Store().RevokeKey(ctx, revoked.Organization.ID, revoked.APIKey.ID); err != nil {
		t.Fatal(err)
	}
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
			if r.Status != http.StatusUnauthorized || r.errorCode(t) != c.code {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
}

func TestRoutingErrors(t *testing.T) {
	r := do(t, "GET", "/v1/nothing-here", demo.APIKey.Key, nil)
	if r.Status != 404 || r.errorCode(t) != "route_not_found" {
		t.Fatalf("unknown /v1 route: %d %s", r.Status, r.Body)
	}
	r = do(t, "DELETE", "/v1/health", "", nil)
	if r.Status != 405 || r.errorCode(t) != "method_not_allowed" || r.Header.Get("Allow") == "" {
		t.Fatalf("wrong method: %d %s %v", r.Status, r.Body, r.Header)
	}
	// Outside the template's routes the gateway answers, as API Gateway does.
	r = do(t, "GET", "/nope", "", nil)
	if r.Status != 404 || string(r.Body) != `{"message":"Not Found"}` {
		t.Fatalf("gateway 404: %d %s", r.Status, r.Body)
	}
	r = do(t, "PUT", "/webhooks/whatsapp", "", nil)
	if r.Status != 404 {
		t.Fatalf("PUT webhook: %d %s", r.Status, r.Body)
	}
	r = do(t, "POST", "/v1/health", "", []byte(`{`))
	if r.Status != 405 {
		t.Fatalf("POST health: %d %s", r.Status, r.Body)
	}
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
}
