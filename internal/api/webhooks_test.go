package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/delivery"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// jsonSecrets keeps any secret document as JSON, like Secrets Manager.
type jsonSecrets struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (j *jsonSecrets) Get(_ context.Context, org, provider string, v any) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	b, ok := j.m[org+"/"+provider]
	if !ok {
		return apperr.New(apperr.NotFound, "no secret")
	}
	return json.Unmarshal(b, v)
}

func (j *jsonSecrets) Put(_ context.Context, org, provider string, v any) error {
	b, _ := json.Marshal(v)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.m[org+"/"+provider] = b
	return nil
}

func (j *jsonSecrets) Delete(_ context.Context, org, provider string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.m, org+"/"+provider)
	return nil
}

func newWebhookFixture(t *testing.T, insecure bool) (*fixture, *jsonSecrets, string, string, *time.Time) {
	tbl := storetest.New(t)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := store.New(tbl.Client, tbl.Name, clock)
	ctx := context.Background()
	a, _ := st.CreateOrganization(ctx, "A")
	b, _ := st.CreateOrganization(ctx, "B")
	_, ka, _ := st.IssueKey(ctx, a.ID, "a", apikey.Live)
	_, kb, _ := st.IssueKey(ctx, b.ID, "b", apikey.Live)
	sec := &jsonSecrets{m: map[string][]byte{}}
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
	if code != 201 || !strings.HasPrefix(created.Secret, "whsec_") || len(created.Events) != 2 || !created.Active {
		t.Fatalf("create: %d %s", code, body)
	}
	if _, err := delivery.ParseSecret(created.Secret); err != nil {
		t.Fatalf("generated secret: %v", err)
	}
	// The secret is shown once and kept in the secret store only.
	code, body = f.call("GET", "/v1/webhooks/"+created.ID, ka, "")
	if code != 200 || strings.Contains(body, "whsec_") {
		t.Fatalf("get: %d %s", code, body)
	}
	var stored secrets.WebhookSecrets
	if err := sec.Get(context.Background(), "", "", &stored); err == nil {
		t.Fatal("lookup by empty org found a secret")
	}
	code, body = f.call("GET", "/v1/webhooks", ka, "")
	if code != 200 || !strings.Contains(body, created.ID) || strings.Contains(body, "whsec_") {
		t.Fatalf("list: %d %s", code, body)
	}
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
	if _, body := f.call("GET", "/v1/webhooks", kb, ""); strings.Contains(body, created.ID) {
		t.Fatalf("other org lists it: %s", body)
	}
	// PATCH.
	code, body = f.call("PATCH", "/v1/webhooks/"+created.ID, ka, `{"events":["*"],"active":false}`)
	if code != 200 || !strings.Contains(body, `"events":["*"]`) || !strings.Contains(body, `"active":false`) {
		t.Fatalf("patch: %d %s", code, body)
	}
	if code, body := f.call("PATCH", "/v1/webhooks/"+created.ID, ka, `{"secret":"whsec_x"}`); code != 422 {
		t.Fatalf("patch secret: %d %s", code, body)
	}
	// DELETE removes its secret too.
	if code, _ := f.call("DELETE", "/v1/webhooks/"+created.ID, ka, ""); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := f.call("GET", "/v1/webhooks/"+created.ID, ka, ""); code != 404 {
		t.Fatalf("after delete: %d", code)
	}
	if len(sec.m) != 0 {
		t.Fatalf("secrets left: %v", sec.m)
	}
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
		{"bad secret", `{"url":"https://crm.example.com/h","events":["*"],"secret":"hunter2"}`, "secret"},
	} {
		code, body := f.call("POST", "/v1/webhooks", ka, c.body)
		if code != 422 || !strings.Contains(body, `"field":"`+c.field+`"`) {
			t.Errorf("%s: %d %s", c.name, code, body)
		}
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
	if code, body := fl.call("POST", "/v1/webhooks", kl, `{"url":"http://127.0.0.1:9999/hook","events":["*"]}`); code != 201 {
		t.Errorf("local loopback: %d %s", code, body)
	}
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
	if code != 200 || rotated.Secret == created.Secret || !rotated.Until.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("rotate: %d %s", code, body)
	}
	var org struct{ ID string }
	_, ob := f.call("GET", "/v1/organization", ka, "")
	_ = json.Unmarshal([]byte(ob), &org)
	var got secrets.WebhookSecrets
	if err := sec.Get(context.Background(), org.ID, secrets.ProviderWebhook(created.ID), &got); err != nil {
		t.Fatal(err)
	}
	active := got.Active(*now)
	if len(active) != 2 || active[0].Secret != rotated.Secret || active[1].Secret != created.Secret {
		t.Fatalf("both sign for 24 h: %+v", active)
	}
	if later := got.Active(now.Add(25 * time.Hour)); len(later) != 1 || later[0].Secret != rotated.Secret {
		t.Fatalf("after 24 h: %+v", later)
	}
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
	if err := json.Unmarshal([]byte(body), &cat); err != nil || code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	names := map[string]bool{}
	for _, k := range cat.Data {
		names[k.Name] = true
		if k.Sample.ID == "" || k.Sample.Event == "" || len(k.Sample.Data) == 0 {
			t.Errorf("%s: sample %+v", k.Name, k.Sample)
		}
	}
	for _, n := range []string{"message.received", "message.sent", "message.delivered", "message.read", "message.failed",
		"contact.created", "contact.updated", "conversation.created", "conversation.resolved", "webhook.test", "whatsapp.*"} {
		if !names[n] {
			t.Errorf("catalogue lacks %s", n)
		}
	}
	if !strings.Contains(body, `"message":{"id":"msg_`) || !strings.Contains(body, `"whatsapp_id":"+5511999999999"`) {
		t.Errorf("samples are not in the live shape: %.300s", body)
	}
}
