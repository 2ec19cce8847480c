package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	pytakeevent "github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// simFixture serves the API with the WhatsApp simulator as Meta.
type simFixture struct {
	*fixture
	sim    *graphsim.Sim
	st     *store.Store
	org    string
	key    string
	events *eventtest.Recorder
	outbox *outbox
}

const (
	simPhone = "106540352242922"
	simWABA  = "102290129340398"
	simToken = "EAAG-sim-token-0001"
)

func newSimFixture(t *testing.T) *simFixture {
	t.Helper()
	tbl := storetest.New(t)
	now := func() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) }
	stream := storetest.NewStream(tbl.Client)
	st := store.New(stream, tbl.Name, now)
	ctx := context.Background()
	org, err := st.CreateOrganization(ctx, "Sim")
	require.NoError(t, err)
	_, key, err := st.IssueKey(ctx, org.ID, "admin", apikey.Live, apikey.ScopeAdmin)
	require.NoError(t, err)
	sim := graphsim.New(graphsim.Config{Accounts: []graphsim.Account{{PhoneNumberID: simPhone, WABAID: simWABA,
		DisplayPhoneNumber: "15550783881", VerifiedName: "Sim", AccessToken: simToken, AppSecret: "s"}}})
	t.Cleanup(sim.Close)
	hs := httptest.NewServer(sim)
	t.Cleanup(hs.Close)
	sec := secretstest.New()
	sec.Set(org.ID, secrets.ProviderWhatsApp, secrets.WhatsApp{PhoneNumberID: simPhone, WABAID: simWABA, AccessToken: simToken,
		AppSecret: "s", VerifyToken: "v"})
	rec := &eventtest.Recorder{}
	out := &outbox{stream: stream}
	srv := api.New(api.Deps{Store: st, Secrets: sec, SecretWriter: sec, Sending: true, Contacts: st, Conversations: st, Templates: st, Events: rec,
		Chatbots: st, Integrations: st,
		Graph: graph.New(hs.URL, hs.Client()), GraphVersion: "v26.0", Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now})
	return &simFixture{fixture: &fixture{t: t, router: srv.Router()}, sim: sim, st: st, org: org.ID, key: key, events: rec, outbox: out}
}

const orderTemplate = `{"name":"order_confirmation","language":"pt_BR","category":"UTILITY","components":[
 {"type":"BODY","text":"Olá! Seu pedido {{1}} de {{2}} foi confirmado.","example":{"body_text":[["1001","R$ 150,00"]]}}]}`

func TestTemplateLifeCycleAgainstSimulator(t *testing.T) {
	f := newSimFixture(t)
	code, body := f.call("GET", "/v1/templates", f.key, "")
	require.Equal(t, 200, code, body)
	require.Contains(t, body, `"synced_at":null`)

	// Meta's rules are checked before Meta is called.
	code, body = f.call("POST", "/v1/templates", f.key, strings.Replace(orderTemplate, `[["1001","R$ 150,00"]]`, `[["1001"]]`, 1))
	require.Equal(t, 422, code, body)
	require.Contains(t, body, `"field":"components[0].example.body_text"`)
	require.Empty(t, f.sim.Templates(simWABA), "a refused template never reaches Meta")

	code, body = f.call("POST", "/v1/templates", f.key, orderTemplate)
	require.Equal(t, 201, code, body)
	var created store.Template
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	require.Equal(t, "PENDING", created.Status)
	require.NotEmpty(t, created.ID)
	at := f.sim.Templates(simWABA)
	require.Len(t, at, 1)
	require.Equal(t, created.ID, at[0].ID)
	// Meta refuses the same name and language twice: a 422 quoting Meta.
	code, body = f.call("POST", "/v1/templates", f.key, orderTemplate)
	require.Equal(t, 422, code, body)
	require.Contains(t, body, `"code":"meta_refused"`)

	// Meta approves it; more templates than one page of Meta's list.
	for i := range 120 {
		f.sim.AddTemplate(graphsim.Template{WABAID: simWABA, Name: "bulk_" + string(rune('a'+i/26)) + string(rune('a'+i%26)), Language: "en",
			Category: "MARKETING", Status: "APPROVED", Components: json.RawMessage(`[{"type":"BODY","text":"Hi"}]`)})
	}
	approve(t, f.sim, created.ID)
	code, body = f.call("POST", "/v1/templates/sync", f.key, "")
	require.Equal(t, 200, code, body)
	require.Contains(t, body, `"count":121`)
	evs := f.events.Named(pytakeevent.TemplateStatusUpdated)
	require.Len(t, evs, 121, "one event per status that changed (the new ones included)")
	code, body = f.call("GET", "/v1/templates/order_confirmation", f.key, "")
	require.Equal(t, 200, code, body)
	require.Contains(t, body, `"status":"APPROVED"`)
	code, body = f.call("GET", "/v1/templates?category=marketing&limit=100", f.key, "")
	require.Equal(t, 200, code, body)
	require.Contains(t, body, `"next_cursor":"`)
	require.NotContains(t, body, "order_confirmation")
	code, body = f.call("GET", "/v1/templates?status=nope", f.key, "")
	require.Equal(t, 422, code, body)

	// Sends are checked against the copy before they are accepted.
	send := func(params string) (int, string) {
		return f.call("POST", "/v1/messages", f.key, `{"to":"+5511999999999","type":"template","template":{"name":"order_confirmation",
			"language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[`+params+`]}]}}`)
	}
	code, body = send(`{"type":"text","text":"1001"}`)
	require.Equal(t, 422, code, body)
	require.Contains(t, body, `"code":"template_parameter_mismatch"`)
	require.Contains(t, body, "the body expects 2 parameters, not 1")
	require.Empty(t, f.outbox.jobs(), "nothing queued")
	code, body = send(`{"type":"text","text":"1001"},{"type":"text","text":"R$ 150,00"}`)
	require.Equal(t, 202, code, body)
	code, body = f.call("POST", "/v1/messages", f.key, `{"to":"+5511999999999","type":"template","template":{"name":"nope","language":{"code":"pt_BR"}}}`)
	require.Equal(t, 422, code, body)
	require.Contains(t, body, `"code":"template_not_found"`)

	// Deleting one language, then the name is gone at Meta and here.
	code, body = f.call("DELETE", "/v1/templates/order_confirmation?language=en_US", f.key, "")
	require.Equal(t, 404, code, body)
	code, body = f.call("DELETE", "/v1/templates/order_confirmation?language=pt_BR", f.key, "")
	require.Equal(t, 204, code, body)
	for _, tpl := range f.sim.Templates(simWABA) {
		require.NotEqual(t, "order_confirmation", tpl.Name)
	}
	code, _ = f.call("GET", "/v1/templates/order_confirmation", f.key, "")
	require.Equal(t, 404, code)
}

// approve sets a simulator template's status as Meta's review would.
func approve(t *testing.T, sim *graphsim.Sim, id string) {
	t.Helper()
	require.True(t, sim.SetTemplateStatus(id, "APPROVED"), "no template %s at the simulator", id)
}

func TestMediaUploadAgainstSimulator(t *testing.T) {
	f := newSimFixture(t)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)
	raw := func(ctype, body, query string) (int, string) {
		ev := event("POST", "/v1/media", "Bearer "+f.key, body)
		ev.Headers["content-type"] = ctype
		ev.RawQueryString = query
		resp, _ := f.do(ev)
		return resp.StatusCode, resp.Body
	}
	code, body := raw("image/png", string(png), "")
	require.Equal(t, 201, code, body)
	var up struct{ ID, Type string }
	require.NoError(t, json.Unmarshal([]byte(body), &up))
	require.Equal(t, "image", up.Type)
	// The simulator has the bytes under the id.
	info, err := graph.New(f.simURL(t), http.DefaultClient).MediaInfo(context.Background(), "v26.0", simToken, up.ID)
	require.NoError(t, err)
	require.Equal(t, "image/png", info.MimeType)

	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="../../etc/nota.pdf"`)
	h.Set("Content-Type", "application/pdf")
	w, _ := mw.CreatePart(h)
	_, _ = w.Write([]byte("%PDF-1.4\n%%EOF"))
	require.NoError(t, mw.Close())
	code, body = raw(mw.FormDataContentType(), form.String(), "")
	require.Equal(t, 201, code, body)
	require.Contains(t, body, `"filename":"nota.pdf"`)
	require.Contains(t, body, `"type":"document"`)

	cases := []struct {
		name, ctype, body string
		status            int
		has               string
	}{
		{"unknown type", "application/x-msdownload", "MZ", 415, "does not take"},
		{"a jpeg that is not", "image/jpeg", "hello", 422, "is not a image/jpeg file"},
		{"empty", "text/plain", "", 422, "is empty"},
		{"sticker too big", "image/webp", "RIFF\x00\x00\x00\x00WEBPVP8 " + strings.Repeat("x", 500<<10), 413, "media_too_large"},
		{"no content type", "", "x", 415, "Content-Type"},
		{"multipart without a file", "multipart/form-data; boundary=x", "--x--\r\n", 422, "file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := raw(c.ctype, c.body, "")
			require.Equal(t, c.status, code, body)
			require.Contains(t, body, c.has)
		})
	}
	require.Equal(t, 0, f.sim.Stats().Rejected[100], "nothing refused reached Meta")
}

func (f *simFixture) simURL(t *testing.T) string {
	hs := httptest.NewServer(f.sim)
	t.Cleanup(hs.Close)
	return hs.URL
}

func TestReadReceiptAgainstSimulator(t *testing.T) {
	f := newSimFixture(t)
	ctx := context.Background()
	in, err := f.st.RecordInbound(ctx, store.InboundMessage{OrgID: f.org, From: store.Identity{WaID: "5511988887777"}, WAMID: "wamid.IN1", Type: "text",
		Timestamp: time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC), Content: json.RawMessage(`{"text":"oi"}`), Raw: json.RawMessage(`{"id":"wamid.IN1"}`)})
	require.NoError(t, err)
	code, body := f.call("POST", "/v1/messages/"+in.Message.ID+"/read", f.key, `{"typing":true}`)
	require.Equal(t, 200, code, body)
	reads := f.sim.Reads()
	require.Len(t, reads, 1)
	require.Equal(t, graphsim.Read{PhoneNumberID: simPhone, WAMID: "wamid.IN1", Typing: true, At: reads[0].At}, reads[0])
	code, body = f.call("POST", "/v1/messages/"+in.Message.ID+"/read", f.key, "")
	require.Equal(t, 200, code, body)
	require.False(t, f.sim.Reads()[1].Typing)
	code, body = f.call("POST", "/v1/messages/"+in.Message.ID+"/read", f.key, `{"typing":"yes"}`)
	require.Equal(t, 422, code, body)
	code, _ = f.call("POST", "/v1/messages/msg_nope/read", f.key, "")
	require.Equal(t, 404, code)
	// A message PyTake sent cannot be marked read.
	code, body = f.call("POST", "/v1/messages", f.key, `{"to":"+5511988887777","text":"olá"}`)
	require.Equal(t, 202, code, body)
	var sent struct{ ID string }
	_ = json.Unmarshal([]byte(body), &sent)
	code, body = f.call("POST", "/v1/messages/"+sent.ID+"/read", f.key, "")
	require.Equal(t, 422, code, body)
	require.Len(t, f.sim.Reads(), 2)
}

// Chatbot rules and shop settings that name a template are checked when
// saved, once the copy is synced.
func TestSavedTemplatesAreChecked(t *testing.T) {
	f := newSimFixture(t)
	bot := `{"name":"Bot","rules":[{"match":{"any":true},"reply":{"type":"template","template":{"name":"order_confirmation","language":{"code":"pt_BR"}}}}]}`
	shopify := `{"shop_domain":"loja.myshopify.com","webhook_secret":"shpss_0123456789abcdef"}`
	// Never synced: saved as they are.
	code, body := f.call("POST", "/v1/chatbots", f.key, bot)
	require.Equal(t, 201, code, body)
	var created struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	f.sim.AddTemplate(graphsim.Template{WABAID: simWABA, Name: "order_confirmation", Language: "pt_BR", Category: "UTILITY", Status: "APPROVED",
		Components: json.RawMessage(`[{"type":"BODY","text":"Pedido {{1}} de {{2}} confirmado."}]`)})
	code, body = f.call("POST", "/v1/templates/sync", f.key, "")
	require.Equal(t, 200, code, body)

	code, body = f.call("PATCH", "/v1/chatbots/"+created.ID, f.key, `{"name":"Bot 2"}`)
	require.Equal(t, 422, code, body)
	require.Contains(t, body, `"field":"rules[0].reply.template.components"`)
	require.Contains(t, body, `"code":"template_parameter_mismatch"`)
	code, body = f.call("PATCH", "/v1/chatbots/"+created.ID, f.key, `{"fallback":{"type":"template","template":{"name":"nope","language":{"code":"pt_BR"}}},
	  "rules":[{"match":{"any":true},"reply":{"type":"template","template":{"name":"order_confirmation","language":{"code":"pt_BR"},
	  "components":[{"type":"body","parameters":[{"type":"text","text":"1"},{"type":"text","text":"2"}]}]}}}]}`)
	require.Equal(t, 422, code, body)
	require.Contains(t, body, `"field":"fallback.template.name"`)
	require.Contains(t, body, `"code":"template_not_found"`)

	// Shopify's default orders/create sends order_confirmation with two
	// parameters: it fits; one parameter does not.
	code, body = f.call("PUT", "/v1/integrations/shopify", f.key, shopify)
	require.Equal(t, 200, code, body)
	code, body = f.call("PUT", "/v1/integrations/shopify", f.key, `{"shop_domain":"loja.myshopify.com","topics":{"orders/create":{"enabled":true,"message":{"type":"template",
	  "template":{"name":"order_confirmation","language":{"code":"pt_BR"},"parameters":["{{order_number}}"]}}}}}`)
	require.Equal(t, 422, code, body)
	require.Contains(t, body, `"field":"topics.orders/create.message.template.components[0].parameters"`)
	code, body = f.call("PUT", "/v1/integrations/woocommerce", f.key, `{"site_url":"https://loja.example.com","webhook_secret":"woo_secret_0123456789",
	  "statuses":{"completed":{"enabled":true,"message":{"type":"template","template":{"name":"order_confirmation","language":{"code":"en_US"},"parameters":["a","b"]}}}}}`)
	require.Equal(t, 422, code, body)
	require.Contains(t, body, `"field":"statuses.completed.message.template.name"`)
}
