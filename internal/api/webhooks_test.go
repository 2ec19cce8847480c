package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/delivery"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

func newWebhookFixture(t *testing.T, insecure bool) (*fixture, *secretstest.Store, string, string, *time.Time) {
	tbl := storetest.New(t)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := store.New(tbl.Client, tbl.Name, clock)
	ctx := context.Background()
	a, _ := st.CreateOrganization(ctx, "A")
	b, _ := st.CreateOrganization(ctx, "B")
	_, ka, _ := st.IssueKey(ctx, a.ID, "a", apikey.Live)
	_, kb, _ := st.IssueKey(ctx, b.ID, "b", apikey.Live)
	sec := secretstest.New()
	srv := api.New(api.Deps{Store: st, Secrets: sec, SecretWriter: sec, Webhooks: st, InsecureWebhooks: insecure,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }})
	return &fixture{t: t, router: srv.Router()}, sec, ka, kb, &now
}

func (f *fixture) call(method, path, key, body string) (int, string) {
	path, query, _ := strings.Cut(path, "?")
	ev := event(method, path, "Bearer "+key, body)
	ev.RawQueryString = query
	resp, _ := f.do(ev)
	return resp.StatusCode, resp.Body
}

func TestWebhookSubscriptions(t *testing.T) {
	f, sec, ka, kb, _ := newWebhookFixture(t, false)
	code, body := f.call("POST", "/v1/webhooks", ka, `{"name":"CRM","url":"https://crm.example.com/hooks/pytake","events":["message.received","contact.created","message.received"]}`)
	var created struct {
		ID     string   `json:"id"`
		Secret string   `json:"secret"`
		Events []string `json:"events"`
		Active bool     `json:"active"`
	}
	_ = json.Unmarshal([]byte(body), &created)
	require.Equal(t, 201, code, "create: %d %s", code, body)
	require.True(t, strings.HasPrefix(created.Secret, "whsec_"), "create")
	require.Len(t, created.Events, 2, "create")
	require.True(t, created.Active, "create")
	if _, err := delivery.ParseSecret(created.Secret); err != nil {
		t.Fatalf("generated secret: %v", err)
	}
	// The secret is shown once and kept in the secret store only.
	code, body = f.call("GET", "/v1/webhooks/"+created.ID, ka, "")
	require.Equal(t, 200, code, "get: %d %s", code, body)
	require.NotContains(t, body, "whsec_", "get")
	var stored secrets.WebhookSecrets
	err := sec.Get(context.Background(), "", "", &stored)
	require.Error(t, err, "lookup by empty org found a secret")
	code, body = f.call("GET", "/v1/webhooks", ka, "")
	require.Equal(t, 200, code, "list: %d %s", code, body)
	require.Contains(t, body, created.ID, "list")
	require.NotContains(t, body, "whsec_", "list")
	// Isolation: another organisation sees nothing and changes nothing.
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/webhooks/" + created.ID, ""},
		{"PATCH", "/v1/webhooks/" + created.ID, `{"active":false}`},
		{"DELETE", "/v1/webhooks/" + created.ID, ""},
		{"POST", "/v1/webhooks/" + created.ID + "/rotate-secret", ""},
	} {
		if code, body := f.call(c.method, c.path, kb, c.body); code != 404 {
			t.Fatalf("other org %s %s: %d %s", c.method, c.path, code, body)
		}
	}
	_, body = f.call("GET", "/v1/webhooks", kb, "")
	require.NotContains(t, body, created.ID, "other org lists it: %s", body)
	// PATCH.
	code, body = f.call("PATCH", "/v1/webhooks/"+created.ID, ka, `{"events":["*"],"active":false}`)
	require.Equal(t, 200, code, "patch: %d %s", code, body)
	require.Contains(t, body, `"events":["*"]`, "patch")
	require.Contains(t, body, `"active":false`, "patch")
	code, body = f.call("PATCH", "/v1/webhooks/"+created.ID, ka, `{"secret":"whsec_x"}`)
	require.Equal(t, 422, code, "patch secret: %d %s", code, body)
	// DELETE removes its secret too.
	code, _ = f.call("DELETE", "/v1/webhooks/"+created.ID, ka, "")
	require.Equal(t, 204, code, "delete: %d", code)
	code, _ = f.call("GET", "/v1/webhooks/"+created.ID, ka, "")
	require.Equal(t, 404, code, "after delete: %d", code)
	require.Equal(t, 0, sec.Len(), "secrets left: %d", sec.Len())
}

func TestWebhookValidation(t *testing.T) {
	f, _, ka, _, _ := newWebhookFixture(t, false)
	for _, c := range []struct{ name, body, field string }{
		{"no url", `{"events":["*"]}`, "url"},
		{"http", `{"url":"http://crm.example.com/h","events":["*"]}`, "url"},
		{"loopback", `{"url":"https://127.0.0.1/h","events":["*"]}`, "url"},
		{"metadata", `{"url":"https://169.254.169.254/latest","events":["*"]}`, "url"},
		{"private v6", `{"url":"https://[fd00::1]/h","events":["*"]}`, "url"},
		{"mapped", `{"url":"https://[::ffff:10.0.0.1]/h","events":["*"]}`, "url"},
		{"userinfo", `{"url":"https://u:p@crm.example.com/h","events":["*"]}`, "url"},
		{"no events", `{"url":"https://crm.example.com/h"}`, "events"},
		{"empty events", `{"url":"https://crm.example.com/h","events":[]}`, "events"},
		{"unknown event", `{"url":"https://crm.example.com/h","events":["message.exploded"]}`, "events[0]"},
		{"short secret", `{"url":"https://crm.example.com/h","events":["*"],"secret":"hunt"}`, "secret"},
		{"secret with a space", `{"url":"https://crm.example.com/h","events":["*"],"secret":"hunter 22"}`, "secret"},
	} {
		code, body := f.call("POST", "/v1/webhooks", ka, c.body)
		assert.Equal(t, 422, code, "%s: %d %s", c.name, code, body)
		assert.Contains(t, body, `"field":"`+c.field+`"`, "%s: %d %s", c.name, code, body)
	}
	if code, body := f.call("POST", "/v1/webhooks", ka, `{"url":"https://crm.example.com/h","events":["*"],"bogus":1}`); code/100 != 4 || !strings.Contains(body, "bogus") {
		t.Errorf("unknown field: %d %s", code, body)
	}
	// Given secrets are accepted; whatsapp.<field> filters too.
	secret, _ := delivery.NewSecret()
	if code, body := f.call("POST", "/v1/webhooks", ka, `{"url":"https://crm.example.com/h","events":["whatsapp.*","message.failed"],"secret":"`+secret+`"}`); code != 201 || !strings.Contains(body, secret) {
		t.Errorf("given secret: %d %s", code, body)
	}
	// The local stack may use loopback http URLs.
	fl, _, kl, _, _ := newWebhookFixture(t, true)
	code, body := fl.call("POST", "/v1/webhooks", kl, `{"url":"http://127.0.0.1:9999/hook","events":["*"]}`)
	assert.Equal(t, 201, code, "local loopback: %d %s", code, body)
}

func TestWebhookRotation(t *testing.T) {
	f, sec, ka, _, now := newWebhookFixture(t, false)
	_, body := f.call("POST", "/v1/webhooks", ka, `{"url":"https://crm.example.com/h","events":["*"]}`)
	var created struct{ ID, Secret string }
	_ = json.Unmarshal([]byte(body), &created)
	code, body := f.call("POST", "/v1/webhooks/"+created.ID+"/rotate-secret", ka, "")
	var rotated struct {
		Secret string    `json:"secret"`
		Until  time.Time `json:"previous_secrets_expire_at"`
	}
	_ = json.Unmarshal([]byte(body), &rotated)
	require.Equal(t, 200, code, "rotate: %d %s", code, body)
	require.NotEqual(t, created.Secret, rotated.Secret, "rotate")
	require.True(t, rotated.Until.Equal(now.Add(24*time.Hour)), "rotate")
	var org struct{ ID string }
	_, ob := f.call("GET", "/v1/organization", ka, "")
	_ = json.Unmarshal([]byte(ob), &org)
	var got secrets.WebhookSecrets
	require.NoError(t, sec.Get(context.Background(), org.ID, secrets.ProviderWebhook(created.ID), &got))
	active := got.Active(*now)
	require.Len(t, active, 2, "both sign for 24 h: %+v", active)
	require.Equal(t, rotated.Secret, active[0].Secret, "both sign for 24 h")
	require.Equal(t, created.Secret, active[1].Secret, "both sign for 24 h")
	later := got.Active(now.Add(25 * time.Hour))
	require.Len(t, later, 1, "after 24 h: %+v", later)
	require.Equal(t, rotated.Secret, later[0].Secret, "after 24 h")
}

func TestWebhookEventCatalogue(t *testing.T) {
	f, _, ka, _, _ := newWebhookFixture(t, false)
	code, body := f.call("GET", "/v1/webhooks/events", ka, "")
	var cat struct {
		Data []struct {
			Name   string `json:"name"`
			Sample struct {
				ID    string          `json:"id"`
				Event string          `json:"event"`
				Data  json.RawMessage `json:"data"`
			} `json:"sample"`
		} `json:"data"`
	}
	err := json.Unmarshal([]byte(body), &cat)
	require.NoError(t, err, "%d %s", code, body)
	require.Equal(t, http.StatusOK, code, "%d %s", code, body)
	names := map[string]bool{}
	for _, k := range cat.Data {
		names[k.Name] = true
		assert.NotEmpty(t, k.Sample.ID, "%s: sample %+v", k.Name, k.Sample)
		assert.NotEmpty(t, k.Sample.Event, "%s: sample %+v", k.Name, k.Sample)
		assert.NotEmpty(t, k.Sample.Data, "%s: sample %+v", k.Name, k.Sample)
	}
	for _, n := range []string{"message.received", "message.sent", "message.delivered", "message.read", "message.failed",
		"contact.created", "contact.updated", "conversation.created", "conversation.resolved", "webhook.test", "whatsapp.*"} {
		assert.True(t, names[n], "catalogue lacks %s", n)
	}
	assert.Contains(t, body, `"message":{"id":"msg_`, "samples are not in the live shape: %.300s", body)
	assert.Contains(t, body, `"whatsapp_id":"+5511999999999"`, "samples are not in the live shape")
}
