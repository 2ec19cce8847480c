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

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

type outbox struct {
	mu   sync.Mutex
	jobs []string
	fail bool
}

func (o *outbox) Enqueue(_ context.Context, org, contactID, msgID string, _ bool) error {
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
	sec    *secretstest.Store
	now    time.Time
	org    store.Organization
	key    string
	other  string
	graphN int
}

func newSendFixture(t *testing.T) *sendFixture {
	tbl := storetest.New(t)
	f := &sendFixture{box: &outbox{}, sec: secretstest.New(), now: time.Now().UTC()}
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
		if strings.HasSuffix(r.URL.Path, "/102290129340398/phone_numbers") {
			_, _ = io.WriteString(w, `{"data":[{"id":"106540352242922","display_phone_number":"+55 11 5555-0000","verified_name":"Loja Demo","quality_rating":"GREEN"}],"paging":{"cursors":{"before":"QVFI","after":"QVFI"}}}`)
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
	require.Equal(t, 200, code, "put: %d %s", code, body)
	require.NotContains(t, body, "EAAG-good", "put")
	require.NotContains(t, body, "app-secret-123", "put")
	require.NotContains(t, body, "verify-token-123", "put")
	require.Contains(t, body, `"access_token":"********1234"`, "put")
	require.Contains(t, body, `"graph_api_version":"v26.0"`, "put")
	code, body, _ = f.call("GET", "/v1/settings/whatsapp", f.key, "")
	require.Equal(t, 200, code, "get: %d %s", code, body)
	require.NotContains(t, body, "app-secret-123", "get")
	require.Contains(t, body, `"healthy":true`, "get")
	// Bad input names every field.
	code, body, _ = f.call("PUT", "/v1/settings/whatsapp", f.key, `{"phone_number_id":"abc","access_token":"","app_secret":"x","verify_token":"y","graph_api_version":"26"}`)
	for _, field := range []string{"phone_number_id", "access_token", "app_secret", "verify_token", "graph_api_version"} {
		require.Equal(t, 422, code, "invalid (%s): %d %s", field, code, body)
		require.Contains(t, body, `"field":"`+field+`"`, "invalid (%s): %d %s", field, code, body)
	}
	if code, body, _ := f.call("PUT", "/v1/settings/whatsapp", f.key, `{"phone_number_id":"1","bogus":1}`); code != 422 && code != 400 || !strings.Contains(body, "bogus") {
		t.Fatalf("unknown field: %d %s", code, body)
	}
	// Another organisation cannot take the number.
	code, body, _ = f.call("PUT", "/v1/settings/whatsapp", f.other, strings.Replace(whatsappSettings, "verify-token-123", "another-token-9", 1))
	require.Equal(t, 409, code, "other org: %d %s", code, body)
	require.Contains(t, body, "already_connected", "other org")
	require.NotContains(t, body, "phone_number_id", "other org: the conflict names no field")
	// The test endpoint answers what Meta says.
	code, body, _ = f.call("POST", "/v1/settings/whatsapp/test", f.key, "")
	require.Equal(t, 200, code, "test ok: %d %s", code, body)
	require.Contains(t, body, `"ok":true`, "test ok")
	require.Contains(t, body, `"verified_name":"Loja Demo"`, "test ok")
	require.Contains(t, body, `"quality_rating":"GREEN"`, "test ok")
	f.sec.Set(f.org.ID, secrets.ProviderWhatsApp, secrets.WhatsApp{PhoneNumberID: "106540352242922", AccessToken: "expired"})
	code, body, _ = f.call("POST", "/v1/settings/whatsapp/test", f.key, "")
	require.Equal(t, 200, code, "test 190: %d %s", code, body)
	require.Contains(t, body, `"ok":false`, "test 190")
	require.Contains(t, body, `"code":190`, "test 190")
	_, body, _ = f.call("GET", "/v1/settings/whatsapp", f.key, "")
	require.Contains(t, body, `"healthy":false`, "190 did not mark the connection unhealthy: %s", body)
	// Saving the settings again makes it healthy.
	f.call("PUT", "/v1/settings/whatsapp", f.key, whatsappSettings)
	_, body, _ = f.call("GET", "/v1/settings/whatsapp", f.key, "")
	require.Contains(t, body, `"healthy":true`, "after saving: %s", body)
}

func TestSendMessage(t *testing.T) {
	f := newSendFixture(t)
	ctx := context.Background()
	// The customer wrote an hour ago.
	_, err := f.st.RecordInbound(ctx, store.InboundMessage{OrgID: f.org.ID, From: store.Identity{WaID: "5511999999999", ProfileName: "Ana"},
		WAMID: "wamid.in", Type: "text", Timestamp: f.now.Add(-time.Hour), Content: json.RawMessage(`{"text":"oi"}`), Raw: json.RawMessage(`{}`)})
	require.NoError(t, err)
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
		require.Equal(t, 202, code, "%s: %d %s", c.name, code, body)
		require.Equal(t, "queued", s.Status, "%s: %d %s", c.name, code, body)
		require.Equal(t, "5511999999999", s.To, "%s: %d %s", c.name, code, body)
		require.NotEmpty(t, s.ID, "%s: %d %s", c.name, code, body)
		require.Equal(t, "/v1/messages/"+s.ID, h["Location"], "%s: %d %s", c.name, code, body)
	}
	require.Len(t, f.box.jobs, 4, "enqueued %d", len(f.box.jobs))
	// A template to someone who never wrote opens a conversation.
	code, body, _ := f.call("POST", "/v1/messages", f.key, `{"to":"5511888888888","type":"template","template":{"name":"order_confirmation","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":1001},{"type":"text","text":"150.00"}]}]}}`)
	require.Equal(t, 202, code, "template: %d %s", code, body)
	require.Equal(t, "queued", read(body).Status, "template")
	tid := read(body).ID
	m, _ := f.st.Message(ctx, f.org.ID, tid)
	require.Contains(t, string(m.Content), `"text":"1001"`, "template parameters stored %s", m.Content)
	// Free text to them is refused: outside the window.
	code, body, _ = f.call("POST", "/v1/messages", f.key, `{"to":"5511888888888","text":"oi"}`)
	require.Equal(t, 422, code, "outside window: %d %s", code, body)
	require.Contains(t, body, "outside_customer_service_window", "outside window")
	// 25 hours later the first customer's window is closed too.
	f.now = f.now.Add(25 * time.Hour)
	if code, body, _ := f.call("POST", "/v1/messages", f.key, `{"to":"5511999999999","text":"oi"}`); code != 422 || !strings.Contains(body, "outside_customer_service_window") {
		t.Fatalf("closed window: %d %s", code, body)
	}
	// Validation names the field.
	code, body, _ = f.call("POST", "/v1/messages", f.key, `{"to":"5511999999999","type":"interactive","interactive":{"type":"button","body":{"text":"Escolha"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"um"}},{"type":"reply","reply":{"id":"b","title":"dois"}},{"type":"reply","reply":{"id":"c","title":"três"}},{"type":"reply","reply":{"id":"d","title":"quatro"}}]}}}`)
	require.Equal(t, 422, code, "4 buttons: %d %s", code, body)
	require.Contains(t, body, "interactive.action.buttons", "4 buttons")
	if code, body, _ := f.call("POST", "/v1/messages", f.key, `{"to":"abc","text":"x"}`); code != 422 || !strings.Contains(body, `"field":"to"`) {
		t.Fatalf("bad to: %d %s", code, body)
	}
	code, _, _ = f.call("POST", "/v1/messages", f.key, `not json`)
	require.Equal(t, 400, code, "not json: %d", code)
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
	require.Equal(t, 202, code, "first: %d %s", code, first)
	code, again, h := f.call("POST", "/v1/messages", f.key, body, "Idempotency-Key", "order-42")
	var a, b struct{ ID string }
	_ = json.Unmarshal([]byte(first), &a)
	_ = json.Unmarshal([]byte(again), &b)
	require.Equal(t, 202, code, "replay: %d %s %v, %d enqueued", code, again, h, len(f.box.jobs))
	require.Equal(t, b.ID, a.ID, "replay")
	require.Equal(t, "true", h["Idempotent-Replayed"], "replay")
	require.Len(t, f.box.jobs, 1, "replay")
	code, other, _ := f.call("POST", "/v1/messages", f.key, strings.Replace(body, "hello", "bye", 1), "Idempotency-Key", "order-42")
	require.Equal(t, 409, code, "other body: %d %s", code, other)
	require.Contains(t, other, "idempotency_key_reused", "other body")
	// A queue failure: 503, and with the same key the retry enqueues it.
	f.box.fail = true
	code, _, _ = f.call("POST", "/v1/messages", f.key, body, "Idempotency-Key", "order-43")
	require.Equal(t, 503, code, "queue down: %d", code)
	f.box.fail = false
	code, _, _ = f.call("POST", "/v1/messages", f.key, body, "Idempotency-Key", "order-43")
	require.Equal(t, 202, code, "retry after queue failure: %d, %d enqueued", code, len(f.box.jobs))
	require.Len(t, f.box.jobs, 2, "retry after queue failure")
	// Without a key, the message that never reached the queue is failed.
	f.box.fail = true
	code, _, _ = f.call("POST", "/v1/messages", f.key, body)
	require.Equal(t, 503, code, "queue down, no key: %d", code)
}

// The Idempotency-Key's request is the same whatever form the number is
// written in (phone.Canonical): a retry through another system's copy of
// it replays.
func TestSendIdempotencyAcrossNumberForms(t *testing.T) {
	f := newSendFixture(t)
	// Another form of the same number, written otherwise, is the same request.
	code, first, _ := f.call("POST", "/v1/messages", f.key, `{"to":"5511987654321","type":"template","template":{"name":"hello","language":{"code":"pt_BR"}}}`, "Idempotency-Key", "order-44")
	require.Equal(t, 202, code, "first: %d %s", code, first)
	code, again, h := f.call("POST", "/v1/messages", f.key, `{"type":"template", "to":"+55 (11) 8765-4321","template":{"name":"hello","language":{"code":"pt_BR"}}}`, "Idempotency-Key", "order-44")
	require.Equal(t, 202, code, "another form: %d %s", code, again)
	var a, b struct{ ID string }
	_ = json.Unmarshal([]byte(first), &a)
	_ = json.Unmarshal([]byte(again), &b)
	require.Equal(t, a.ID, b.ID, "another form of the number replays")
	require.Equal(t, "true", h["Idempotent-Replayed"])
	code, other, _ := f.call("POST", "/v1/messages", f.key, `{"to":"+55 21 98765-4321","type":"template","template":{"name":"hello","language":{"code":"pt_BR"}}}`, "Idempotency-Key", "order-44")
	require.Equal(t, 409, code, "another number: %d %s", code, other)
}
