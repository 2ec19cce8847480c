package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

type memSecrets struct {
	mu sync.Mutex
	m  map[string]secrets.WhatsApp
}

func (s *memSecrets) Get(_ context.Context, org, _ string, v any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[org]
	if !ok {
		return apperr.New(apperr.NotFound, "no secret")
	}
	*(v.(*secrets.WhatsApp)) = c
	return nil
}

func (s *memSecrets) Put(_ context.Context, org, _ string, v any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[org] = v.(secrets.WhatsApp)
	return nil
}

type outbox struct {
	mu   sync.Mutex
	jobs []string
	fail bool
}

func (o *outbox) Enqueue(_ context.Context, org, contactID, msgID string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail {
		return apperr.New(apperr.Unavailable, "queue down")
	}
	o.jobs = append(o.jobs, org+"/"+contactID+"/"+msgID)
	return nil
}

type sendFixture struct {
	*fixture
	st     *store.Store
	box    *outbox
	sec    *memSecrets
	now    time.Time
	org    store.Organization
	key    string
	other  string
	graphN int
}

func newSendFixture(t *testing.T) *sendFixture {
	tbl := storetest.New(t)
	f := &sendFixture{box: &outbox{}, sec: &memSecrets{m: map[string]secrets.WhatsApp{}}, now: time.Now().UTC()}
	f.st = store.New(tbl.Client, tbl.Name, func() time.Time { return f.now })
	ctx := context.Background()
	f.org, _ = f.st.CreateOrganization(ctx, "A")
	b, _ := f.st.CreateOrganization(ctx, "B")
	_, f.key, _ = f.st.IssueKey(ctx, f.org.ID, "a", apikey.Live)
	_, f.other, _ = f.st.IssueKey(ctx, b.ID, "b", apikey.Live)
	g := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.graphN++
		if r.Header.Get("Authorization") != "Bearer EAAG-good-token-1234" {
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"Ax"}}`)
			return
		}
		_, _ = io.WriteString(w, `{"id":"106540352242922","display_phone_number":"+55 11 5555-0000","verified_name":"Loja Demo","quality_rating":"GREEN"}`)
	}))
	t.Cleanup(g.Close)
	srv := api.New(api.Deps{Store: f.st, Secrets: f.sec, SecretWriter: f.sec, Outbox: f.box, Graph: graph.New(g.URL, g.Client()),
		GraphVersion: "v26.0", Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return f.now }})
	f.fixture = &fixture{t: t, router: srv.Router()}
	return f
}

func (f *sendFixture) call(method, path, key, body string, headers ...string) (int, string, map[string]string) {
	ev := event(method, path, "Bearer "+key, body)
	for i := 0; i+1 < len(headers); i += 2 {
		ev.Headers[strings.ToLower(headers[i])] = headers[i+1]
	}
	resp, _ := f.do(ev)
	return resp.StatusCode, resp.Body, resp.Headers
}

const whatsappSettings = `{"phone_number_id":"106540352242922","access_token":"EAAG-good-token-1234","app_secret":"app-secret-123","verify_token":"verify-token-123","waba_id":"102290129340398"}`

func TestWhatsAppSettings(t *testing.T) {
	f := newSendFixture(t)
	if code, body, _ := f.call("GET", "/v1/settings/whatsapp", f.key, ""); code != 404 || !strings.Contains(body, "whatsapp_not_configured") {
		t.Fatalf("before: %d %s", code, body)
	}
	code, body, _ := f.call("PUT", "/v1/settings/whatsapp", f.key, whatsappSettings)
	if code != 200 || strings.Contains(body, "EAAG-good") || strings.Contains(body, "app-secret-123") || strings.Contains(body, "verify-token-123") ||
		!strings.Contains(body, `"access_token":"********1234"`) || !strings.Contains(body, `"graph_api_version":"v26.0"`) {
		t.Fatalf("put: %d %s", code, body)
	}
	code, body, _ = f.call("GET", "/v1/settings/whatsapp", f.key, "")
	if code != 200 || strings.Contains(body, "app-secret-123") || !strings.Contains(body, `"healthy":true`) {
		t.Fatalf("get: %d %s", code, body)
	}
	// Bad input names every field.
	code, body, _ = f.call("PUT", "/v1/settings/whatsapp", f.key, `{"phone_number_id":"abc","access_token":"","app_secret":"x","verify_token":"y","graph_api_version":"26"}`)
	for _, field := range []string{"phone_number_id", "access_token", "app_secret", "verify_token", "graph_api_version"} {
		if code != 422 || !strings.Contains(body, `"field":"`+field+`"`) {
			t.Fatalf("invalid (%s): %d %s", field, code, body)
		}
	}
	if code, body, _ := f.call("PUT", "/v1/settings/whatsapp", f.key, `{"phone_number_id":"1","bogus":1}`); code != 422 && code != 400 || !strings.Contains(body, "bogus") {
		t.Fatalf("unknown field: %d %s", code, body)
	}
	// Another organisation cannot take the number.
	if code, body, _ := f.call("PUT", "/v1/settings/whatsapp", f.other, strings.Replace(whatsappSettings, "verify-token-123", "another-token-9", 1)); code != 409 || !strings.Contains(body, "phone_number_taken") {
		t.Fatalf("other org: %d %s", code, body)
	}
	// The test endpoint answers what Meta says.
	code, body, _ = f.call("POST", "/v1/settings/whatsapp/test", f.key, "")
	if code != 200 || !strings.Contains(body, `"ok":true`) || !strings.Contains(body, `"verified_name":"Loja Demo"`) || !strings.Contains(body, `"quality_rating":"GREEN"`) {
		t.Fatalf("test ok: %d %s", code, body)
	}
	f.sec.m[f.org.ID] = secrets.WhatsApp{PhoneNumberID: "106540352242922", AccessToken: "expired"}
	code, body, _ = f.call("POST", "/v1/settings/whatsapp/test", f.key, "")
	if code != 200 || !strings.Contains(body, `"ok":false`) || !strings.Contains(body, `"code":190`) {
		t.Fatalf("test 190: %d %s", code, body)
	}
	if _, body, _ := f.call("GET", "/v1/settings/whatsapp", f.key, ""); !strings.Contains(body, `"healthy":false`) {
		t.Fatalf("190 did not mark the connection unhealthy: %s", body)
	}
	// Saving the settings again makes it healthy.
	f.call("PUT", "/v1/settings/whatsapp", f.key, whatsappSettings)
	if _, body, _ := f.call("GET", "/v1/settings/whatsapp", f.key, ""); !strings.Contains(body, `"healthy":true`) {
		t.Fatalf("after saving: %s", body)
	}
}

func TestSendMessage(t *testing.T) {
	f := newSendFixture(t)
	ctx := context.Background()
	// The customer wrote an hour ago.
	if _, err := f.st.RecordInbound(ctx, store.InboundMessage{OrgID: f.org.ID, From: store.Identity{WaID: "5511999999999", ProfileName: "Ana"},
		WAMID: "wamid.in", Type: "text", Timestamp: f.now.Add(-time.Hour), Content: json.RawMessage(`{"text":"oi"}`), Raw: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	type sent struct {
		ID, Status, To, Type, ContactID, ConversationID string
	}
	read := func(body string) sent {
		var s struct {
			ID             string `json:"id"`
			Status         string `json:"status"`
			To             string `json:"to"`
			Type           string `json:"type"`
			ContactID      string `json:"contact_id"`
			ConversationID string `json:"conversation_id"`
		}
		_ = json.Unmarshal([]byte(body), &s)
		return sent{s.ID, s.Status, s.To, s.Type, s.ContactID, s.ConversationID}
	}
	for _, c := range []struct{ name, body string }{
		{"guide: text", `{"messaging_product":"whatsapp","to":"5511999999999","type":"text","text":{"body":"Olá! Como posso ajudar?"}}`},
		{"guide: image", `{"messaging_product":"whatsapp","to":"5511999999999","type":"image","image":{"link":"https://example.com/image.jpg","caption":"Confira nossa promoção!"}}`},
		{"guide: sdk shorthand", `{"to":"+5511999999999","text":"Olá!"}`},
		{"guide: woocommerce", `{"to":"+55 (11) 99999-9999","type":"text","text":{"body":"Seu pedido #1001 foi concluído!"}}`},
	} {
		code, body, h := f.call("POST", "/v1/messages", f.key, c.body)
		s := read(body)
		if code != 202 || s.Status != "queued" || s.To != "5511999999999" || s.ID == "" || h["Location"] != "/v1/messages/"+s.ID {
			t.Fatalf("%s: %d %s", c.name, code, body)
		}
	}
	if len(f.box.jobs) != 4 {
		t.Fatalf("enqueued %d", len(f.box.jobs))
	}
	// A template to someone who never wrote opens a conversation.
	code, body, _ := f.call("POST", "/v1/messages", f.key, `{"to":"5511888888888","type":"template","template":{"name":"order_confirmation","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":1001},{"type":"text","text":"150.00"}]}]}}`)
	if code != 202 || read(body).Status != "queued" {
		t.Fatalf("template: %d %s", code, body)
	}
	tid := read(body).ID
	m, _ := f.st.Message(ctx, f.org.ID, tid)
	if !strings.Contains(string(m.Content), `"text":"1001"`) {
		t.Fatalf("template parameters stored %s", m.Content)
	}
	// Free text to them is refused: outside the window.
	code, body, _ = f.call("POST", "/v1/messages", f.key, `{"to":"5511888888888","text":"oi"}`)
	if code != 422 || !strings.Contains(body, "outside_customer_service_window") {
		t.Fatalf("outside window: %d %s", code, body)
	}
	// 25 hours later the first customer's window is closed too.
	f.now = f.now.Add(25 * time.Hour)
	if code, body, _ := f.call("POST", "/v1/messages", f.key, `{"to":"5511999999999","text":"oi"}`); code != 422 || !strings.Contains(body, "outside_customer_service_window") {
		t.Fatalf("closed window: %d %s", code, body)
	}
	// Validation names the field.
	code, body, _ = f.call("POST", "/v1/messages", f.key, `{"to":"5511999999999","type":"interactive","interactive":{"type":"button","body":{"text":"Escolha"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"um"}},{"type":"reply","reply":{"id":"b","title":"dois"}},{"type":"reply","reply":{"id":"c","title":"três"}},{"type":"reply","reply":{"id":"d","title":"quatro"}}]}}}`)
	if code != 422 || !strings.Contains(body, "interactive.action.buttons") {
		t.Fatalf("4 buttons: %d %s", code, body)
	}
	if code, body, _ := f.call("POST", "/v1/messages", f.key, `{"to":"abc","text":"x"}`); code != 422 || !strings.Contains(body, `"field":"to"`) {
		t.Fatalf("bad to: %d %s", code, body)
	}
	if code, _, _ := f.call("POST", "/v1/messages", f.key, `not json`); code != 400 {
		t.Fatalf("not json: %d", code)
	}
	// Another organisation's contact id is unknown here.
	cm, _ := f.st.Message(ctx, f.org.ID, tid)
	if code, body, _ := f.call("POST", "/v1/messages", f.other, `{"to":"`+cm.ContactID+`","type":"template","template":{"name":"x","language":{"code":"pt_BR"}}}`); code != 404 {
		t.Fatalf("other org's contact: %d %s", code, body)
	}
	if code, body, _ := f.call("POST", "/v1/messages", f.key, `{"to":"`+cm.ContactID+`","type":"template","template":{"name":"x","language":{"code":"pt_BR"}}}`); code != 202 {
		t.Fatalf("own contact id: %d %s", code, body)
	}
}

func TestSendIdempotency(t *testing.T) {
	f := newSendFixture(t)
	body := `{"to":"5511777777777","type":"template","template":{"name":"hello","language":{"code":"pt_BR"}}}`
	code, first, _ := f.call("POST", "/v1/messages", f.key, body, "Idempotency-Key", "order-42")
	if code != 202 {
		t.Fatalf("first: %d %s", code, first)
	}
	code, again, h := f.call("POST", "/v1/messages", f.key, body, "Idempotency-Key", "order-42")
	var a, b struct{ ID string }
	_ = json.Unmarshal([]byte(first), &a)
	_ = json.Unmarshal([]byte(again), &b)
	if code != 202 || a.ID != b.ID || h["Idempotent-Replayed"] != "true" || len(f.box.jobs) != 1 {
		t.Fatalf("replay: %d %s %v, %d enqueued", code, again, h, len(f.box.jobs))
	}
	code, other, _ := f.call("POST", "/v1/messages", f.key, strings.Replace(body, "hello", "bye", 1), "Idempotency-Key", "order-42")
	if code != 409 || !strings.Contains(other, "idempotency_key_reused") {
		t.Fatalf("other body: %d %s", code, other)
	}
	// A queue failure: 503, and with the same key the retry enqueues it.
	f.box.fail = true
	if code, _, _ := f.call("POST", "/v1/messages", f.key, body, "Idempotency-Key", "order-43"); code != 503 {
		t.Fatalf("queue down: %d", code)
	}
	f.box.fail = false
	if code, _, _ := f.call("POST", "/v1/messages", f.key, body, "Idempotency-Key", "order-43"); code != 202 || len(f.box.jobs) != 2 {
		t.Fatalf("retry after queue failure: %d, %d enqueued", code, len(f.box.jobs))
	}
	// Without a key, the message that never reached the queue is failed.
	f.box.fail = true
	if code, _, _ := f.call("POST", "/v1/messages", f.key, body); code != 503 {
		t.Fatalf("queue down, no key: %d", code)
	}
}
