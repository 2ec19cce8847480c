package api_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// TestKeyScopes: keys carry scopes, new keys get every scope but admin
// unless they ask for fewer, the organisation's first key is admin.
func TestKeyScopes(t *testing.T) {
	f := newFixture(t)
	code, body := f.call("GET", "/v1/organization", f.key, "")
	if code != 200 || !strings.Contains(body, `"admin"`) {
		t.Fatalf("the first key is not admin: %d %s", code, body)
	}
	code, body = f.call("POST", "/v1/api-keys", f.key, `{"name":"reader","scopes":["contacts:read"]}`)
	var reader struct {
		Key    string   `json:"key"`
		Scopes []string `json:"scopes"`
	}
	_ = json.Unmarshal([]byte(body), &reader)
	if code != 201 || !slices.Equal(reader.Scopes, []string{"contacts:read"}) {
		t.Fatalf("scoped key: %d %s", code, body)
	}
	if code, body := f.call("GET", "/v1/contacts", reader.Key, ""); code != 200 {
		t.Errorf("contacts:read lists contacts: %d %s", code, body)
	}
	for _, c := range []struct{ method, path, body, scope string }{
		{"POST", "/v1/contacts", `{"whatsapp_id":"+5511999990001"}`, "contacts:write"},
		{"POST", "/v1/messages", `{"to":"+5511999990001","text":"hi"}`, "messages:write"},
		{"GET", "/v1/conversations", "", "messages:read"},
		{"POST", "/v1/webhooks", `{"url":"https://crm.example.com/h","events":["*"]}`, "webhooks:write"},
		{"POST", "/v1/api-keys", `{"name":"escalate","scopes":["admin"]}`, "admin"},
		{"GET", "/v1/settings/whatsapp", "", "admin"},
	} {
		code, body := f.call(c.method, c.path, reader.Key, c.body)
		if code != 403 || !strings.Contains(body, `"code":"insufficient_scope"`) || !strings.Contains(body, c.scope) {
			t.Errorf("contacts:read key on %s %s: %d %s, want 403 insufficient_scope naming %s", c.method, c.path, code, body, c.scope)
		}
	}
	code, body = f.call("POST", "/v1/api-keys", f.key, `{"name":"default"}`)
	var def struct {
		Scopes []string `json:"scopes"`
	}
	_ = json.Unmarshal([]byte(body), &def)
	if code != 201 || slices.Contains(def.Scopes, "admin") || !slices.Equal(def.Scopes, apikey.DefaultScopes()) {
		t.Errorf("a new key without scopes: %d %s, want every scope but admin", code, body)
	}
	for _, bad := range []string{`["contacts:delete"]`, `[]`, `["admin","admin"]`, `"admin"`} {
		code, body := f.call("POST", "/v1/api-keys", f.key, `{"name":"x","scopes":`+bad+`}`)
		if code/100 != 4 || !strings.Contains(body, "scopes") {
			t.Errorf("scopes %s: %d %s", bad, code, body)
		}
	}
}

// TestScopesPerRoute: every route has an entry in the scope table (a route
// added without one fails here), the OpenAPI document states it, a key
// without the scope is refused with 403 insufficient_scope naming it, and
// a test key is refused (403 test_mode_forbidden) exactly where the table
// says test mode cannot go.
func TestScopesPerRoute(t *testing.T) {
	tbl := storetest.New(t)
	now := func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) }
	st := store.New(tbl.Client, tbl.Name, now)
	ctx := context.Background()
	org, _ := st.CreateOrganization(ctx, "A")
	if _, _, err := st.IssueKey(ctx, org.ID, "admin", apikey.Live); err != nil {
		t.Fatal(err)
	}
	f := newFullFixture(t, st, now)
	spec := loadSpec(t)

	without := map[string]string{} // scope → a live key with every other scope
	for _, s := range apikey.Scopes() {
		var others []string
		for _, o := range apikey.Scopes() {
			if o != s && o != apikey.ScopeAdmin {
				others = append(others, o)
			}
		}
		_, plain, err := st.IssueKey(ctx, org.ID, "without "+s, apikey.Live, others...)
		if err != nil {
			t.Fatal(err)
		}
		without[s] = plain
	}
	_, testKey, err := st.IssueKey(ctx, org.ID, "test", apikey.Test, apikey.Scopes()...)
	if err != nil {
		t.Fatal(err)
	}
	fill := func(pattern string) string {
		parts := strings.Split(pattern, "/")
		for i, p := range parts {
			if strings.HasPrefix(p, "{") {
				parts[i] = "x1"
			}
		}
		return strings.Join(parts, "/")
	}
	for _, r := range f.router.Routes() {
		method, pattern, _ := strings.Cut(r, " ")
		t.Run(r, func(t *testing.T) {
			p, ok := api.RoutePolicy(method, pattern)
			if !ok {
				t.Fatalf("route %s has no entry in the scope table", r)
			}
			_, op := spec.operation(method, pattern)
			if op == nil {
				t.Fatalf("no operation in openapi.json")
			}
			documented, _ := op["x-pytake-scopes"].([]any)
			switch {
			case p.Public:
				if _, has := op["x-pytake-scopes"]; has {
					t.Errorf("a public route documents scopes %v", documented)
				}
				return
			case p.Scope == "":
				if len(documented) != 0 || op["x-pytake-scopes"] == nil {
					t.Errorf("x-pytake-scopes = %v, want [] (any key)", op["x-pytake-scopes"])
				}
			default:
				if len(documented) != 1 || documented[0] != p.Scope {
					t.Errorf("x-pytake-scopes = %v, want [%s]", documented, p.Scope)
				}
				code, body := f.call(method, fill(pattern), without[p.Scope], "")
				if code != 403 || !strings.Contains(body, `"code":"insufficient_scope"`) || !strings.Contains(body, p.Scope) {
					t.Errorf("a key without %s: %d %s", p.Scope, code, body)
				}
			}
			code, body := f.call(method, fill(pattern), testKey, "")
			refused := code == 403 && strings.Contains(body, `"code":"test_mode_forbidden"`)
			if p.LiveOnly != "" && (!refused || !strings.Contains(body, p.LiveOnly)) {
				t.Errorf("a test key: %d %s, want 403 test_mode_forbidden naming %q", code, body, p.LiveOnly)
			}
			if p.LiveOnly == "" && code == 403 {
				t.Errorf("a test key is refused: %s", body)
			}
			desc, _ := op["description"].(string)
			if p.LiveOnly != "" && !strings.Contains(desc, "test_mode_forbidden") {
				t.Errorf("the operation's description does not say test keys are refused")
			}
		})
	}
}
