package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

type fixture struct {
	t      *testing.T
	store  *store.Store
	router *httpapi.Router
	server *api.Server
	org    store.Organization
	key    string
	keyID  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	tbl := storetest.New(t)
	now := func() time.Time { return time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) }
	st := store.New(tbl.Client, tbl.Name, now)
	ctx := context.Background()
	org, err := st.CreateOrganization(ctx, "Demo")
	require.NoError(t, err)
	k, plain, err := st.IssueKey(ctx, org.ID, "test", apikey.Live)
	require.NoError(t, err)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	sec := secretstest.New()
	// Meta, for the settings sample (events/api/settings-whatsapp-put.json).
	meta := httptest.NewServer(metaStub{
		phones: map[string][]string{"106540352242922": {"EAAG-sample-token-0000"}},
		wabas:  map[string][]string{"102290129340398": {"106540352242922"}},
		tokens: map[string]bool{"EAAG-sample-token-0000": true},
	})
	t.Cleanup(meta.Close)
	srv := api.New(api.Deps{Store: st, Log: log, Now: now, Secrets: sec, SecretWriter: sec, Sending: true,
		Contacts: st, Conversations: st, Chatbots: st, Webhooks: st, Deliveries: st, Events: &eventtest.Recorder{},
		Templates: st, Graph: graph.New(meta.URL, meta.Client()), GraphVersion: "v26.0"})
	return &fixture{t: t, store: st, router: srv.Router(), server: srv, org: org, key: plain, keyID: k.ID}
}

// newFullFixture serves every route over st, with the Deps a deployed API
// has: in-memory secrets, outbox, delivery queue and events, and graphStub
// as Meta.
func newFullFixture(t *testing.T, st *store.Store, now func() time.Time) *fixture {
	t.Helper()
	sec := secretstest.New()
	g := graphStub(t)
	srv := api.New(api.Deps{Store: st, Secrets: sec, SecretWriter: sec, Sending: true, Webhooks: st, Deliveries: st,
		DeliveryQueue: &jobQueue{}, Contacts: st, Conversations: st, Chatbots: st, Events: &eventtest.Recorder{},
		Graph: graph.New(g.URL, g.Client()), GraphVersion: "v26.0", Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now,
		Integrations: st, Templates: st})
	return &fixture{t: t, router: srv.Router()}
}

func event(method, path, authz, body string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{}
	if authz != "" {
		h["authorization"] = authz
	}
	if body != "" {
		h["content-type"] = "application/json"
	}
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: path, Headers: h, Body: body}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.RequestID = "req-test"
	return ev
}

type errBody struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
		Details   []any  `json:"details"`
	} `json:"error"`
}

func (f *fixture) do(ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, map[string]any) {
	f.t.Helper()
	resp, err := f.router.Serve(context.Background(), ev)
	require.NoError(f.t, err)
	var m map[string]any
	if resp.Body != "" {
		var v any
		require.NoError(f.t, json.Unmarshal([]byte(resp.Body), &v), "body is not JSON: %q", resp.Body)
		m, _ = v.(map[string]any)
	}
	require.NotEmpty(f.t, resp.Headers["X-Request-Id"], "no X-Request-Id header")
	checkResponse(f.t, ev, resp)
	return resp, m
}

func TestRoutesAndAuth(t *testing.T) {
	f := newFixture(t)
	malformed := "Bearer pytake_live_abc123"
	unknown, _ := apikey.Generate(apikey.Live)
	tests := []struct {
		name     string
		ev       events.APIGatewayV2HTTPRequest
		status   int
		code     string
		contains string
	}{
		{"health needs no key", event("GET", "/v1/health", "", ""), 200, "", `"status":"ok"`},
		{"organization with key", event("GET", "/v1/organization", "Bearer "+f.key, ""), 200, "", f.org.ID},
		{"scheme is case-insensitive", event("GET", "/v1/organization", "bearer "+f.key, ""), 200, "", f.org.ID},
		{"missing key", event("GET", "/v1/organization", "", ""), 401, "unauthorized", ""},
		{"malformed key", event("GET", "/v1/organization", malformed, ""), 401, "unauthorized", "malformed"},
		{"unknown key", event("GET", "/v1/organization", "Bearer "+unknown.Plaintext, ""), 401, "unauthorized", ""},
		{"basic scheme", event("GET", "/v1/organization", "Basic "+f.key, ""), 401, "unauthorized", ""},
		{"unknown route", event("GET", "/v1/nope", "Bearer "+f.key, ""), 404, "route_not_found", ""},
		{"wrong method", event("DELETE", "/v1/health", "", ""), 405, "method_not_allowed", "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := f.do(tt.ev)
			require.Equal(t, tt.status, resp.StatusCode, "status = %d, want %d; body %s", resp.StatusCode, tt.status, resp.Body)
			if tt.code != "" {
				var eb errBody
				_ = json.Unmarshal([]byte(resp.Body), &eb)
				require.Equal(t, tt.code, eb.Error.Code, "error body = %s", resp.Body)
				require.Equal(t, "req-test", eb.Error.RequestID, "error body")
				require.NotEmpty(t, eb.Error.Message, "error body")
				require.NotNil(t, eb.Error.Details, "error body")
			}
			require.Contains(t, resp.Body, tt.contains, "body %s does not contain %q", resp.Body, tt.contains)
		})
	}
}

func TestRevokedKeyIsRefused(t *testing.T) {
	f := newFixture(t)
	_, err := f.store.RevokeKey(context.Background(), f.org.ID, f.keyID)
	require.NoError(t, err)
	resp, m := f.do(event("GET", "/v1/organization", "Bearer "+f.key, ""))
	if resp.StatusCode != http.StatusUnauthorized || m["error"].(map[string]any)["code"] != "api_key_revoked" {
		t.Fatalf("revoked key: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestBase64BodyAndBodyLimit(t *testing.T) {
	f := newFixture(t)
	ev := event("GET", "/v1/health", "", "")
	ev.Body = base64.StdEncoding.EncodeToString([]byte(`{}`))
	ev.IsBase64Encoded = true
	if resp, _ := f.do(ev); resp.StatusCode != 200 {
		t.Fatalf("base64 body: %d", resp.StatusCode)
	}
	ev.Body = "%%%"
	if resp, _ := f.do(ev); resp.StatusCode != 400 {
		t.Fatalf("bad base64: %d", resp.StatusCode)
	}
	big := event("GET", "/v1/health", "", strings.Repeat("x", httpapi.DefaultMaxBody+1))
	resp, _ := f.do(big)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "big body: %d", resp.StatusCode)
}

// TestEventSamples feeds every sample in events/api to the function's router,
// so the samples for `sam local invoke` stay valid. The samples carry a
// placeholder key; the test swaps in a key it issued.
func TestEventSamples(t *testing.T) {
	f := newFixture(t)
	want := map[string]int{"health.json": 200, "organization.json": 200, "organization-no-key.json": 401,
		"messages-send.json": 202, "contacts-create.json": 201, "contacts-list.json": 200, "conversations-list.json": 200,
		"webhooks-create.json": 201, "webhooks-events.json": 200, "settings-whatsapp-put.json": 200,
		"api-keys-create.json": 201, "api-keys-list.json": 200, "openapi-document.json": 200,
		"chatbots-create.json": 201, "chatbots-list.json": 200, "templates-list.json": 200}
	files, err := filepath.Glob("../../events/api/*.json")
	require.NoError(t, err, "no samples: %v", err)
	require.NotEmpty(t, files, "no samples")
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			status, ok := want[name]
			require.True(t, ok, "sample %s has no expected status in this test", name)
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			var ev events.APIGatewayV2HTTPRequest
			require.NoError(t, json.Unmarshal(raw, &ev))
			if a := ev.Headers["authorization"]; a != "" {
				ev.Headers["authorization"] = "Bearer " + f.key
			}
			resp, _ := f.do(ev)
			require.Equal(t, status, resp.StatusCode, "status = %d, want %d: %s", resp.StatusCode, status, resp.Body)
		})
	}
}

// TestJSONBodyRules: every route with a body refuses other content types
// (415) and a JSON null (400), naming the problem.
func TestJSONBodyRules(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/messages", `{"to":"+5511999999999","text":"oi"}`},
		{"POST", "/v1/contacts", `{"whatsapp_id":"+5511999999999"}`},
		{"POST", "/v1/chatbots", `{"name":"x"}`},
		{"POST", "/v1/api-keys", `{"name":"x"}`},
	} {
		ev := event(c.method, c.path, "Bearer "+f.key, c.body)
		ev.Headers["content-type"] = "text/plain"
		if resp, _ := f.do(ev); resp.StatusCode != 415 || !strings.Contains(resp.Body, "application/json") {
			t.Errorf("%s %s as text/plain: %d %s", c.method, c.path, resp.StatusCode, resp.Body)
		}
		resp, _ := f.do(event(c.method, c.path, "Bearer "+f.key, "null"))
		assert.Equal(t, 4, resp.StatusCode/100, "%s %s null: %d %s", c.method, c.path, resp.StatusCode, resp.Body)
	}
}
