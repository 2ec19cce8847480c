package graphsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/whatsapp"
)

var (
	acctA = graphsim.Account{PhoneNumberID: "106540352242922", WABAID: "102290129340398", DisplayPhoneNumber: "15550783881",
		VerifiedName: "Loja A", AccessToken: "EAAG-a", AppSecret: "secret-a"}
	acctB = graphsim.Account{PhoneNumberID: "206540352242922", WABAID: "202290129340398", DisplayPhoneNumber: "15550783882",
		VerifiedName: "Loja B", AccessToken: "EAAG-b", AppSecret: "secret-b"}
)

// hook is one webhook the receiver accepted.
type hook struct {
	Raw  []byte
	Body webhookBody
}

type webhookBody struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				MessagingProduct string `json:"messaging_product"`
				Metadata         struct {
					DisplayPhoneNumber string `json:"display_phone_number"`
					PhoneNumberID      string `json:"phone_number_id"`
				} `json:"metadata"`
				Contacts []map[string]any             `json:"contacts"`
				Messages []map[string]json.RawMessage `json:"messages"`
				Statuses []statusBody                 `json:"statuses"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type statusBody struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Timestamp   string `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
	Pricing     *struct {
		Billable     bool   `json:"billable"`
		PricingModel string `json:"pricing_model"`
		Category     string `json:"category"`
		Type         string `json:"type"`
	} `json:"pricing"`
	Conversation json.RawMessage `json:"conversation"`
	Errors       []struct {
		Code      int    `json:"code"`
		Title     string `json:"title"`
		Message   string `json:"message"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"errors"`
}

// receiver is a fake PyTake webhook endpoint: it checks each body's
// signature with the app secret of the phone number the body names.
type receiver struct {
	t       *testing.T
	srv     *httptest.Server
	secrets map[string]string

	mu     sync.Mutex
	hooks  []hook
	bad    []string // signature or shape problems
	failN  int      // answer 500 to the next failN posts
	answer int      // status of accepted posts (default 200)
	delay  time.Duration
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t, secrets: map[string]string{}, answer: http.StatusOK}
	for _, a := range []graphsim.Account{acctA, acctB} {
		rc.secrets[a.PhoneNumberID] = a.AppSecret
	}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	delay := rc.delay
	rc.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var b webhookBody
	if err := json.Unmarshal(raw, &b); err != nil || len(b.Entry) == 0 || len(b.Entry[0].Changes) == 0 {
		rc.bad = append(rc.bad, fmt.Sprintf("bad body %v: %s", err, raw))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		rc.bad = append(rc.bad, "method/content type "+r.Method+" "+r.Header.Get("Content-Type"))
	}
	secret := rc.secrets[b.Entry[0].Changes[0].Value.Metadata.PhoneNumberID]
	if err := whatsapp.VerifySignature(raw, r.Header.Get("X-Hub-Signature-256"), []byte(secret)); err != nil {
		rc.bad = append(rc.bad, "signature: "+err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if rc.failN > 0 {
		rc.failN--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	rc.hooks = append(rc.hooks, hook{Raw: raw, Body: b})
	w.WriteHeader(rc.answer)
}

func (rc *receiver) all() []hook {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	assert.Empty(rc.t, rc.bad, "receiver problems: %v", rc.bad)
	return append([]hook(nil), rc.hooks...)
}

// statuses lists the statuses received for wamid, in arrival order.
func (rc *receiver) statuses(wamid string) []statusBody {
	var out []statusBody
	for _, h := range rc.all() {
		for _, e := range h.Body.Entry {
			for _, c := range e.Changes {
				for _, s := range c.Value.Statuses {
					if s.ID == wamid {
						out = append(out, s)
					}
				}
			}
		}
	}
	return out
}

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

type fixture struct {
	sim *graphsim.Sim
	srv *httptest.Server
	rc  *receiver
}

func newFixture(t *testing.T, mod func(*graphsim.Config)) *fixture {
	t.Helper()
	rc := newReceiver(t)
	cfg := graphsim.Config{
		WebhookURL:  rc.srv.URL + "/webhooks/whatsapp",
		Accounts:    []graphsim.Account{acctA, acctB},
		StatusDelay: 2 * time.Millisecond,
		HTTPClient:  rc.srv.Client(),
	}
	if mod != nil {
		mod(&cfg)
	}
	sim := graphsim.New(cfg)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	return &fixture{sim: sim, srv: srv, rc: rc}
}

// do makes a request and decodes a JSON answer into a generic value.
func (f *fixture) do(t *testing.T, method, path, token, body string) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
	}
	return resp.StatusCode, out, resp.Header
}

func (f *fixture) send(t *testing.T, acct graphsim.Account, body string) (int, map[string]any) {
	t.Helper()
	code, out, _ := f.do(t, http.MethodPost, "/v26.0/"+acct.PhoneNumberID+"/messages", acct.AccessToken, body)
	return code, out
}

func (f *fixture) flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, f.sim.Flush(ctx), "flush")
}

func textBody(to, text string) string {
	b, _ := json.Marshal(map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text", "text": map[string]any{"body": text}})
	return string(b)
}

const templateBody = `{"messaging_product":"whatsapp","to":"5511888888888","type":"template","template":{"name":"order_update","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"42"}]}]}}`

func wamidOf(t *testing.T, out map[string]any) string {
	t.Helper()
	msgs, _ := out["messages"].([]any)
	require.Len(t, msgs, 1, "messages: %v", out)
	id, _ := msgs[0].(map[string]any)["id"].(string)
	require.True(t, strings.HasPrefix(id, "wamid."), "wamid %q", id)
	require.GreaterOrEqual(t, len(id), 20, "wamid %q", id)
	return id
}

// metaErr checks a Meta error answer and returns its error object.
func metaErr(t *testing.T, status int, out map[string]any, wantStatus, wantCode int) map[string]any {
	t.Helper()
	e, _ := out["error"].(map[string]any)
	require.Equal(t, wantStatus, status, "want HTTP %d code %d, got %d %v", wantStatus, wantCode, status, out)
	require.NotNil(t, e, "want HTTP %d code %d, got %d %v", wantStatus, wantCode, status, out)
	require.Equal(t, wantCode, int(e["code"].(float64)), "want HTTP %d code %d, got %d %v", wantStatus, wantCode, status, out)
	if e["message"] == "" || e["type"] == "" || e["fbtrace_id"] == "" {
		t.Fatalf("error shape: %v", e)
	}
	return e
}

func TestSendSucceedsWithUniqueWAMIDs(t *testing.T) {
	f := newFixture(t, nil)
	code, out := f.send(t, acctA, textBody("+55 (11) 88888-8888", "Olá"))
	if code != http.StatusOK || out["messaging_product"] != "whatsapp" {
		t.Fatalf("%d %v", code, out)
	}
	c := out["contacts"].([]any)[0].(map[string]any)
	if c["input"] != "+55 (11) 88888-8888" || c["wa_id"] != "5511888888888" {
		t.Fatalf("contacts %v", c)
	}
	first := wamidOf(t, out)
	_, has := out["messages"].([]any)[0].(map[string]any)["message_status"]
	require.False(t, has, "message_status on a text: %v", out)

	code, out = f.send(t, acctA, templateBody)
	if code != http.StatusOK || out["messages"].([]any)[0].(map[string]any)["message_status"] != "accepted" {
		t.Fatalf("template: %d %v", code, out)
	}

	// Concurrent sends from both numbers never share a wamid.
	seen := map[string]bool{first: true, wamidOf(t, out): true}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acct := []graphsim.Account{acctA, acctB}[g%2]
			for i := range 25 {
				code, out := f.send(t, acct, textBody("5511999990000", fmt.Sprint(g, i)))
				if code != http.StatusOK {
					t.Errorf("send: %d %v", code, out)
					return
				}
				id := wamidOf(t, out)
				mu.Lock()
				if seen[id] {
					t.Errorf("duplicate wamid %s", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Len(t, seen, 202, "seen %d, sent %d, stats %+v", len(seen), len(f.sim.Sent()), f.sim.Stats())
	require.Len(t, f.sim.Sent(), 202, "seen %d, sent %d, stats %+v", len(seen), len(f.sim.Sent()), f.sim.Stats())
	require.Equal(t, 202, f.sim.Stats().Accepted, "seen %d, sent %d, stats %+v", len(seen), len(f.sim.Sent()), f.sim.Stats())
}

func TestStatusWebhooksArriveInOrderSigned(t *testing.T) {
	f := newFixture(t, nil)
	_, out := f.send(t, acctA, textBody("5511888888888", "Olá"))
	textID := wamidOf(t, out)
	_, out = f.send(t, acctB, templateBody)
	tmplID := wamidOf(t, out)
	f.flush(t)

	for _, tc := range []struct {
		wamid    string
		acct     graphsim.Account
		category string
	}{{textID, acctA, "service"}, {tmplID, acctB, "utility"}} {
		sts := f.rc.statuses(tc.wamid)
		require.Len(t, sts, 3, "statuses of %s: %+v", tc.wamid, sts)
		require.Equal(t, "sent", sts[0].Status, "statuses of %s: %+v", tc.wamid, sts)
		require.Equal(t, "delivered", sts[1].Status, "statuses of %s: %+v", tc.wamid, sts)
		require.Equal(t, "read", sts[2].Status, "statuses of %s: %+v", tc.wamid, sts)
		for _, s := range sts {
			require.Equal(t, "5511888888888", s.RecipientID, "status %+v", s)
			require.NotEmpty(t, s.Timestamp, "status %+v", s)
			require.Nil(t, s.Conversation, "status %+v", s)
			hasPricing := s.Status != "read"
			require.Equal(t, hasPricing, s.Pricing != nil, "pricing on %s: %+v", s.Status, s.Pricing)
			if s.Pricing != nil && (!s.Pricing.Billable || s.Pricing.PricingModel != "PMP" || s.Pricing.Category != tc.category || s.Pricing.Type != "regular") {
				t.Fatalf("pricing %+v", s.Pricing)
			}
		}
	}
	for _, h := range f.rc.all() {
		e := h.Body.Entry[0]
		v := e.Changes[0].Value
		want := acctA
		if v.Statuses[0].ID == tmplID {
			want = acctB
		}
		require.Equal(t, "whatsapp_business_account", h.Body.Object, "envelope %s", h.Raw)
		require.Equal(t, want.WABAID, e.ID, "envelope %s", h.Raw)
		require.Equal(t, "messages", e.Changes[0].Field, "envelope %s", h.Raw)
		require.Equal(t, "whatsapp", v.MessagingProduct, "envelope %s", h.Raw)
		require.Equal(t, want.PhoneNumberID, v.Metadata.PhoneNumberID, "envelope %s", h.Raw)
		require.Equal(t, want.DisplayPhoneNumber, v.Metadata.DisplayPhoneNumber, "envelope %s", h.Raw)
	}
	st := f.sim.Stats()
	require.Equal(t, 6, st.WebhooksDelivered, "stats %+v", st)
	require.Equal(t, 0, st.WebhooksFailed, "stats %+v", st)
}

func TestStatusWebhookRetried(t *testing.T) {
	f := newFixture(t, func(c *graphsim.Config) { c.StatusDelay = -1 })
	f.rc.mu.Lock()
	f.rc.failN = 2
	f.rc.mu.Unlock()
	_, out := f.send(t, acctA, textBody("5511888888888", "Olá"))
	id := wamidOf(t, out)
	f.flush(t)
	sts := f.rc.statuses(id)
	require.Len(t, sts, 3, "statuses %+v", sts)
	require.Equal(t, "sent", sts[0].Status, "statuses %+v", sts)
	require.Equal(t, "read", sts[2].Status, "statuses %+v", sts)
	st := f.sim.Stats()
	require.Equal(t, 2, st.WebhookRetries, "stats %+v", st)
	require.Equal(t, 3, st.WebhooksDelivered, "stats %+v", st)
	require.Equal(t, 0, st.WebhooksFailed, "stats %+v", st)
}

func TestTokenAndPhoneErrors(t *testing.T) {
	f := newFixture(t, nil)
	body := textBody("5511888888888", "x")
	tests := []struct {
		name, path, token string
		status, code      int
		subcode           float64
	}{
		{"no token", "/v26.0/" + acctA.PhoneNumberID + "/messages", "", 401, 190, 0},
		{"wrong token", "/v26.0/" + acctA.PhoneNumberID + "/messages", "EAAG-nope", 401, 190, 0},
		{"other number's token", "/v26.0/" + acctA.PhoneNumberID + "/messages", acctB.AccessToken, 401, 190, 0},
		{"unknown phone", "/v26.0/999999/messages", acctA.AccessToken, 400, 100, 33},
		{"bad version", "/26.0/" + acctA.PhoneNumberID + "/messages", acctA.AccessToken, 400, 2500, 0},
		{"other version", "/v23.0/" + acctA.PhoneNumberID + "/messages", acctA.AccessToken, 200, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, hdr := f.do(t, http.MethodPost, tt.path, tt.token, body)
			if tt.status == 200 {
				require.Equal(t, 200, code, "%d %v", code, out)
				return
			}
			e := metaErr(t, code, out, tt.status, tt.code)
			if sub, _ := e["error_subcode"].(float64); sub != tt.subcode {
				t.Fatalf("subcode %v", e)
			}
			if tt.code == 190 && (!strings.HasPrefix(e["message"].(string), "Error validating access token") || e["type"] != "OAuthException" || hdr.Get("WWW-Authenticate") == "") {
				t.Fatalf("190: %v %v", e, hdr)
			}
		})
	}
	st := f.sim.Stats()
	require.Equal(t, 3, st.Rejected[190], "stats %+v", st)
	require.Equal(t, 1, st.Rejected[100], "stats %+v", st)
	require.Len(t, f.sim.Sent(), 1, "stats %+v", st)
}

func TestSendValidation(t *testing.T) {
	f := newFixture(t, nil)
	buttons := func(n int) string {
		var bs []string
		for i := range n {
			bs = append(bs, fmt.Sprintf(`{"type":"reply","reply":{"id":"b%d","title":"B%d"}}`, i, i))
		}
		return `{"messaging_product":"whatsapp","to":"5511888888888","type":"interactive","interactive":{"type":"button","body":{"text":"Escolha"},"action":{"buttons":[` + strings.Join(bs, ",") + `]}}}`
	}
	tests := []struct {
		name, body, mention string
	}{
		{"not json", `{"messaging_product":`, "JSON object"},
		{"no product", `{"to":"5511888888888","type":"text","text":{"body":"x"}}`, "messaging_product"},
		{"wrong product", `{"messaging_product":"instagram","to":"5511888888888","type":"text","text":{"body":"x"}}`, "messaging_product"},
		{"no to", `{"messaging_product":"whatsapp","type":"text","text":{"body":"x"}}`, "to"},
		{"no type", `{"messaging_product":"whatsapp","to":"5511888888888","text":{"body":"x"}}`, "type"},
		{"unknown type", `{"messaging_product":"whatsapp","to":"5511888888888","type":"fax","fax":{}}`, `"fax"`},
		{"no text object", `{"messaging_product":"whatsapp","to":"5511888888888","type":"text"}`, "parameter text"},
		{"empty body", `{"messaging_product":"whatsapp","to":"5511888888888","type":"text","text":{"body":""}}`, "text['body']"},
		{"long body", textBody("5511888888888", strings.Repeat("é", 4097)), "4096"},
		{"image without id", `{"messaging_product":"whatsapp","to":"5511888888888","type":"image","image":{"caption":"x"}}`, "image"},
		{"four buttons", buttons(4), "between 1 and 3"},
		{"long title", strings.Replace(buttons(1), `"B0"`, `"`+strings.Repeat("x", 21)+`"`, 1), "title"},
		{"template without language", `{"messaging_product":"whatsapp","to":"5511888888888","type":"template","template":{"name":"x"}}`, "language"},
		{"reaction without message", `{"messaging_product":"whatsapp","to":"5511888888888","type":"reaction","reaction":{"emoji":"👍"}}`, "message_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := f.send(t, acctA, tt.body)
			e := metaErr(t, code, out, 400, 100)
			msg := e["message"].(string)
			require.True(t, strings.HasPrefix(msg, "(#100) "), "message %q should name %q", msg, tt.mention)
			require.Contains(t, msg, tt.mention, "message %q should name %q", msg, tt.mention)
		})
	}
	for _, ok := range []string{buttons(3), buttons(1),
		`{"messaging_product":"whatsapp","to":"US.13491208655302741918","type":"image","image":{"id":"media-1","caption":"foto"}}`,
		`{"messaging_product":"whatsapp","to":"5511888888888","type":"location","location":{"latitude":-23.5,"longitude":-46.6}}`,
		`{"messaging_product":"whatsapp","to":"5511888888888","type":"interactive","interactive":{"type":"list","body":{"text":"Menu"},"action":{"button":"Ver","sections":[{"title":"A","rows":[{"id":"r1","title":"Um"}]}]}}}`,
	} {
		code, out := f.send(t, acctA, ok)
		require.Equal(t, 200, code, "%s: %d %v", ok, code, out)
	}
	// Mark as read.
	code, out := f.send(t, acctA, `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.X"}`)
	if code != 200 || out["success"] != true {
		t.Fatalf("mark read: %d %v", code, out)
	}
	require.Len(t, f.sim.Sent(), 5, "sent %d", len(f.sim.Sent()))
}

func TestFaults(t *testing.T) {
	f := newFixture(t, nil)
	post := func(fault string) {
		t.Helper()
		code, out, _ := f.do(t, http.MethodPost, "/_sim/faults", "", fault)
		require.Equal(t, http.StatusCreated, code, "queue fault: %d %v", code, out)
	}
	// Throughput: two failures for number A only.
	post(`{"phone_number_id":"` + acctA.PhoneNumberID + `","code":130429,"http_status":429,"count":2,"details":"slow down"}`)
	if code, _ := f.send(t, acctB, textBody("5511888888888", "b")); code != 200 {
		t.Fatalf("B should not match: %d", code)
	}
	for range 2 {
		code, out := f.send(t, acctA, textBody("5511888888888", "a"))
		e := metaErr(t, code, out, 429, 130429)
		if e["message"] != "(#130429) Rate limit hit" || e["error_data"].(map[string]any)["details"] != "slow down" {
			t.Fatalf("130429: %v", e)
		}
	}
	if code, _ := f.send(t, acctA, textBody("5511888888888", "a")); code != 200 {
		t.Fatalf("fault count not exhausted: %d", code)
	}

	// Matched by recipient; 131047 answers 400 whatever the status asked.
	post(`{"to":"+55 11 77777-7777","code":131047,"http_status":500}`)
	if code, _ := f.send(t, acctA, textBody("5511888888888", "other")); code != 200 {
		t.Fatalf("other recipient: %d", code)
	}
	code, out := f.send(t, acctB, textBody("5511777777777", "late"))
	metaErr(t, code, out, 400, 131047)

	// 190 answers 401; 5xx as asked.
	post(`{"code":190}`)
	code, out = f.send(t, acctA, textBody("5511888888888", "x"))
	metaErr(t, code, out, 401, 190)
	f.sim.Fail(graphsim.Fault{Code: 131000, HTTPStatus: 503})
	code, out = f.send(t, acctA, textBody("5511888888888", "x"))
	metaErr(t, code, out, 503, 131000)

	// Faults queue in order; DELETE clears them.
	post(`{"code":131056,"count":5}`)
	if code, out, _ := f.do(t, http.MethodPost, "/_sim/faults", "", `{"http_status":400}`); code != 400 {
		t.Fatalf("fault without code: %d %v", code, out)
	}
	code, out = f.send(t, acctA, textBody("5511888888888", "x"))
	metaErr(t, code, out, 400, 131056)
	if st := f.sim.Stats(); st.PendingFaults != 4 {
		t.Fatalf("pending %+v", st)
	}
	if code, out, _ := f.do(t, http.MethodDelete, "/_sim/faults", "", ""); code != 200 || out["cleared"] != float64(1) {
		t.Fatalf("clear: %d %v", code, out)
	}
	if code, _ := f.send(t, acctA, textBody("5511888888888", "x")); code != 200 {
		t.Fatalf("after clear: %d", code)
	}
	st := f.sim.Stats()
	require.Equal(t, 2, st.Rejected[130429], "stats %+v", st)
	require.Equal(t, 1, st.Rejected[131047], "stats %+v", st)
	require.Equal(t, 1, st.Rejected[190], "stats %+v", st)
	require.Equal(t, 1, st.Rejected[131000], "stats %+v", st)
	require.Equal(t, 1, st.Rejected[131056], "stats %+v", st)
	require.Equal(t, 4, st.Accepted, "stats %+v", st)
}

func TestAsyncFaultSendsFailedStatus(t *testing.T) {
	f := newFixture(t, nil)
	if code, out, _ := f.do(t, http.MethodPost, "/_sim/faults", "", `{"code":131026,"async":true}`); code != 201 {
		t.Fatalf("%d %v", code, out)
	}
	code, out := f.send(t, acctA, textBody("5511888888888", "x"))
	require.Equal(t, 200, code, "async fault must accept: %d %v", code, out)
	failedID := wamidOf(t, out)
	_, out = f.send(t, acctA, textBody("5511888888888", "y"))
	okID := wamidOf(t, out)
	f.flush(t)
	sts := f.rc.statuses(failedID)
	require.Len(t, sts, 1, "failed statuses %+v", sts)
	require.Equal(t, "failed", sts[0].Status, "failed statuses %+v", sts)
	require.Nil(t, sts[0].Pricing, "failed statuses %+v", sts)
	require.Len(t, sts[0].Errors, 1, "failed statuses %+v", sts)
	e := sts[0].Errors[0]
	require.Equal(t, 131026, e.Code, "error %+v", e)
	require.Equal(t, "Message undeliverable", e.Title, "error %+v", e)
	require.NotEmpty(t, e.Message, "error %+v", e)
	require.NotEmpty(t, e.ErrorData.Details, "error %+v", e)
	got := f.rc.statuses(okID)
	require.Len(t, got, 3, "next send statuses %+v", got)
	st := f.sim.Stats()
	require.Equal(t, 1, st.AsyncFailed, "stats %+v", st)
	require.Equal(t, 2, st.Accepted, "stats %+v", st)
}

func TestWebhookGivesUpAfterRetries(t *testing.T) {
	f := newFixture(t, func(c *graphsim.Config) { c.StatusDelay = -1 })
	f.rc.mu.Lock()
	f.rc.failN = 100
	f.rc.mu.Unlock()
	f.sim.Fail(graphsim.Fault{Code: 131026, Async: true})
	f.send(t, acctA, textBody("5511888888888", "x"))
	f.flush(t)
	st := f.sim.Stats()
	require.Equal(t, 1, st.WebhooksFailed, "stats %+v", st)
	require.Equal(t, 3, st.WebhookRetries, "stats %+v", st)
	require.Equal(t, 0, st.WebhooksDelivered, "stats %+v", st)
}

func TestInboundCustomerMessage(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	f := newFixture(t, func(c *graphsim.Config) { c.Now = clk.Now })
	code, out, _ := f.do(t, http.MethodPost, "/_sim/inbound", "",
		`{"phone_number_id":"`+acctB.PhoneNumberID+`","from":"5511999990000","name":"Maria","text":"Olá","user_id":"US.13491208655302741918"}`)
	if code != 200 || out["webhook_status"] != float64(200) {
		t.Fatalf("%d %v", code, out)
	}
	wamid, _ := out["wamid"].(string)
	hooks := f.rc.all()
	require.Len(t, hooks, 1, "hooks %d", len(hooks))
	b := hooks[0].Body
	v := b.Entry[0].Changes[0].Value
	require.Equal(t, "whatsapp_business_account", b.Object, "envelope %s", hooks[0].Raw)
	require.Equal(t, acctB.WABAID, b.Entry[0].ID, "envelope %s", hooks[0].Raw)
	require.Equal(t, "messages", b.Entry[0].Changes[0].Field, "envelope %s", hooks[0].Raw)
	require.Equal(t, acctB.PhoneNumberID, v.Metadata.PhoneNumberID, "envelope %s", hooks[0].Raw)
	require.Equal(t, acctB.DisplayPhoneNumber, v.Metadata.DisplayPhoneNumber, "envelope %s", hooks[0].Raw)
	require.Empty(t, v.Statuses, "envelope %s", hooks[0].Raw)
	if len(v.Contacts) != 1 || v.Contacts[0]["wa_id"] != "5511999990000" || v.Contacts[0]["user_id"] != "US.13491208655302741918" ||
		v.Contacts[0]["profile"].(map[string]any)["name"] != "Maria" {
		t.Fatalf("contacts %v", v.Contacts)
	}
	m := v.Messages[0]
	want := map[string]string{"from": `"5511999990000"`, "id": `"` + wamid + `"`, "timestamp": `"` + strconv.FormatInt(clk.Now().Unix(), 10) + `"`, "type": `"text"`, "text": `{"body":"Olá"}`}
	for k, w := range want {
		require.Equal(t, w, string(m[k]), "message %s = %s, want %s", k, m[k], w)
	}

	// A button reply, through the Go API, answering the receiver's status.
	f.rc.mu.Lock()
	f.rc.answer = http.StatusAccepted
	f.rc.mu.Unlock()
	id, status, err := f.sim.Inbound(context.Background(), graphsim.Inbound{
		PhoneNumberID: acctA.PhoneNumberID, From: "5511999990000", Name: "Maria", ReplyTo: "wamid.OUT1",
		Interactive: json.RawMessage(`{"type":"button_reply","button_reply":{"id":"btn_yes","title":"Sim"}}`),
	})
	require.NoError(t, err, "%s %d %v", id, status, err)
	require.Equal(t, http.StatusAccepted, status, "%s %d %v", id, status, err)
	require.NotEqual(t, wamid, id, "%s %d %v", id, status, err)
	m = f.rc.all()[1].Body.Entry[0].Changes[0].Value.Messages[0]
	require.Equal(t, `"interactive"`, string(m["type"]), "interactive message %v", m)
	require.True(t, bytes.Contains(m["interactive"], []byte(`"btn_yes"`)), "interactive message %v", m)
	require.Equal(t, `{"from":"15550783881","id":"wamid.OUT1"}`, string(m["context"]), "interactive message %v", m)

	// A raw message keeps its own id; a BSUID-only customer has no wa_id.
	_, _, err = f.sim.Inbound(context.Background(), graphsim.Inbound{
		PhoneNumberID: acctA.PhoneNumberID, From: "US.99991208655302741918",
		Message: json.RawMessage(`{"id":"wamid.DUP","type":"image","image":{"id":"media-photo","mime_type":"image/jpeg","sha256":"abc="}}`),
	})
	require.NoError(t, err)
	last := f.rc.all()[2].Body.Entry[0].Changes[0].Value
	if string(last.Messages[0]["id"]) != `"wamid.DUP"` || string(last.Messages[0]["from"]) != `"US.99991208655302741918"` ||
		string(last.Messages[0]["from_user_id"]) != `"US.99991208655302741918"` || last.Contacts[0]["wa_id"] != nil {
		t.Fatalf("bsuid message %s", f.rc.all()[2].Raw)
	}

	// Bad requests.
	for _, bad := range []string{
		`{"phone_number_id":"nope","from":"5511","text":"x"}`,
		`{"phone_number_id":"` + acctA.PhoneNumberID + `","text":"x"}`,
		`{"phone_number_id":"` + acctA.PhoneNumberID + `","from":"5511999990000"}`,
		`{"phone_number_id":"` + acctA.PhoneNumberID + `","from":"5511999990000","text":"x","message":{"type":"text"}}`,
		`{"phone_number_id":"` + acctA.PhoneNumberID + `","from":"5511999990000","message":{"text":{}}}`,
	} {
		if code, out, _ := f.do(t, http.MethodPost, "/_sim/inbound", "", bad); code != 400 {
			t.Fatalf("%s: %d %v", bad, code, out)
		}
	}
}

func TestInboundReportsReceiverStatus(t *testing.T) {
	f := newFixture(t, func(c *graphsim.Config) { c.Accounts = []graphsim.Account{acctA} })
	f.rc.mu.Lock()
	f.rc.secrets[acctA.PhoneNumberID] = "rotated" // PyTake knows another secret: 401
	f.rc.mu.Unlock()
	code, out, _ := f.do(t, http.MethodPost, "/_sim/inbound", "", `{"from":"5511999990000","text":"oi"}`)
	if code != 200 || out["webhook_status"] != float64(401) {
		t.Fatalf("%d %v", code, out)
	}
	f.rc.mu.Lock()
	f.rc.bad = nil
	f.rc.mu.Unlock()
}

func TestMedia(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	f := newFixture(t, func(c *graphsim.Config) { c.Now = clk.Now })
	data := []byte{0xff, 0xd8, 0xff, 0xe0, 1, 2, 3}
	f.sim.AddMedia("1479537139650973", "image/jpeg", data)

	code, info, _ := f.do(t, http.MethodGet, "/v26.0/1479537139650973", acctA.AccessToken, "")
	if code != 200 || info["mime_type"] != "image/jpeg" || info["file_size"] != float64(len(data)) || info["id"] != "1479537139650973" ||
		info["messaging_product"] != "whatsapp" || len(info["sha256"].(string)) != 64 {
		t.Fatalf("%d %v", code, info)
	}
	u := info["url"].(string)
	require.True(t, strings.HasPrefix(u, f.srv.URL+"/_sim/media/1479537139650973?token="), "url %s", u)
	get := func(url, token string) (int, string, []byte) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := f.srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), b
	}
	if code, ctype, b := get(u, acctB.AccessToken); code != 200 || ctype != "image/jpeg" || !bytes.Equal(b, data) {
		t.Fatalf("download: %d %s %v", code, ctype, b)
	}
	code, _, _ = get(u, "")
	require.Equal(t, 401, code, "no token: %d", code)
	code, _, _ = get(u, "EAAG-nope")
	require.Equal(t, 401, code, "wrong token: %d", code)
	code, _, _ = get(u+"x", acctA.AccessToken)
	require.Equal(t, 404, code, "tampered url: %d", code)
	clk.Set(clk.Now().Add(6 * time.Minute))
	code, _, _ = get(u, acctA.AccessToken)
	require.Equal(t, 404, code, "expired url: %d", code)

	// Unknown media: 404 code 100; media- ids are generated; no token: 401.
	code, out, _ := f.do(t, http.MethodGet, "/v26.0/424242", acctA.AccessToken, "")
	metaErr(t, code, out, 404, 100)
	code, out, _ = f.do(t, http.MethodGet, "/v26.0/1479537139650973", "", "")
	metaErr(t, code, out, 401, 190)

	// PyTake's own Graph client reads generated media.
	g := graph.New(f.srv.URL, f.srv.Client())
	m, err := g.MediaInfo(context.Background(), "v25.0", acctA.AccessToken, "media-voice-1")
	require.NoError(t, err, "%+v %v", m, err)
	require.Equal(t, "audio/ogg", m.MimeType, "%+v %v", m, err)
	require.NotEqual(t, int64(0), m.FileSize, "%+v %v", m, err)
	b, ctype, tooLarge, err := g.Download(context.Background(), m.URL, acctA.AccessToken, 1<<20)
	require.NoError(t, err, "%d %s %v %v", len(b), ctype, tooLarge, err)
	require.False(t, tooLarge, "%d %s %v %v", len(b), ctype, tooLarge, err)
	require.Equal(t, "audio/ogg", ctype, "%d %s %v %v", len(b), ctype, tooLarge, err)
	require.Equal(t, m.FileSize, int64(len(b)), "%d %s %v %v", len(b), ctype, tooLarge, err)
	_, err = g.MediaInfo(context.Background(), "v26.0", acctA.AccessToken, "gone")
	var ge *graph.Error
	require.True(t, errors.As(err, &ge), "unknown media: %v", err)
	require.Equal(t, 404, ge.HTTPStatus, "unknown media")
	require.Equal(t, 100, ge.Code, "unknown media")
}

func TestAnyMediaResolvesNumericIDs(t *testing.T) {
	f := newFixture(t, func(c *graphsim.Config) { c.AnyMedia = true })
	code, out, _ := f.do(t, http.MethodGet, "/v26.0/1479537139650975", acctA.AccessToken, "")
	if code != 200 || out["url"] == nil {
		t.Fatalf("%d %v", code, out)
	}
}

func TestPhoneNumberLookup(t *testing.T) {
	f := newFixture(t, nil)
	code, out, _ := f.do(t, http.MethodGet, "/v26.0/"+acctA.PhoneNumberID+"?fields=verified_name,quality_rating", acctA.AccessToken, "")
	want := map[string]any{"id": acctA.PhoneNumberID, "display_phone_number": acctA.DisplayPhoneNumber, "verified_name": "Loja A",
		"quality_rating": "GREEN", "code_verification_status": "VERIFIED", "platform_type": "CLOUD_API"}
	if code != 200 || out["throughput"].(map[string]any)["level"] != "STANDARD" {
		t.Fatalf("%d %v", code, out)
	}
	for k, v := range want {
		if out[k] != v {
			t.Fatalf("%s = %v, want %v", k, out[k], v)
		}
	}
	code, out, _ = f.do(t, http.MethodGet, "/v26.0/"+acctA.PhoneNumberID, acctB.AccessToken, "")
	metaErr(t, code, out, 401, 190)
	code, out, _ = f.do(t, http.MethodGet, "/v26.0/1234567?fields=verified_name", acctA.AccessToken, "")
	if e := metaErr(t, code, out, 400, 100); e["error_subcode"] != float64(33) {
		t.Fatalf("subcode: %v", e)
	}
}

func TestMessagesListing(t *testing.T) {
	f := newFixture(t, nil)
	f.send(t, acctA, textBody("5511111111111", "a1"))
	f.send(t, acctB, textBody("5511222222222", "b1"))
	f.send(t, acctA, textBody("+55 11 22222-2222", "a2"))
	f.send(t, acctA, templateBody)

	list := func(q string) []graphsim.Sent {
		t.Helper()
		resp, err := f.srv.Client().Get(f.srv.URL + "/_sim/messages" + q)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out []graphsim.Sent
		err = json.NewDecoder(resp.Body).Decode(&out)
		require.NoError(t, err, "%d %v", resp.StatusCode, err)
		require.Equal(t, 200, resp.StatusCode, "%d %v", resp.StatusCode, err)
		return out
	}
	all := list("")
	require.Len(t, all, 4, "all %+v", all)
	require.Equal(t, "5511111111111", all[0].To, "all %+v", all)
	require.Equal(t, "template", all[3].Type, "all %+v", all)
	require.False(t, all[0].At.IsZero(), "all %+v", all)
	byTo := list("?to=5511222222222")
	require.Len(t, byTo, 2, "by to %+v", byTo)
	require.Equal(t, acctB.PhoneNumberID, byTo[0].PhoneNumberID, "by to %+v", byTo)
	require.Equal(t, "+55 11 22222-2222", byTo[1].To, "by to %+v", byTo)
	var body struct {
		Text struct {
			Body string `json:"body"`
		} `json:"text"`
	}
	err := json.Unmarshal(byTo[1].Body, &body)
	require.NoError(t, err, "body %s", byTo[1].Body)
	require.Equal(t, "a2", body.Text.Body, "body %s", byTo[1].Body)
	both := list("?to=5511222222222&phone_number_id=" + acctA.PhoneNumberID)
	require.Len(t, both, 1, "both %+v", both)
	require.Equal(t, both[0].WAMID, byTo[1].WAMID, "both %+v", both)
	none := list("?to=5500000000000")
	require.NotNil(t, none, "none %+v", none)
	require.Empty(t, none, "none %+v", none)
	st := list("?phone_number_id=" + acctA.PhoneNumberID)
	require.Len(t, st, 3, "by phone %+v", st)
}

func TestMaxPerSecond(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	clk := &clock{t: t0}
	f := newFixture(t, func(c *graphsim.Config) { c.Now = clk.Now; c.StatusDelay = -1 })
	// 0.0 .. 0.8 s: 5 sends; 1.0, 1.05, 1.1: the window 0.2-1.1 s holds 7.
	for _, ms := range []int{0, 200, 400, 600, 800, 1000, 1050, 1100, 3000} {
		clk.Set(t0.Add(time.Duration(ms) * time.Millisecond))
		code, out := f.send(t, acctA, textBody("5511888888888", "x"))
		require.Equal(t, 200, code, "%d %v", code, out)
	}
	f.send(t, acctB, textBody("5511888888888", "x"))
	got := f.sim.MaxPerSecond(acctA.PhoneNumberID)
	require.Equal(t, 7, got, "max per second = %d, want 7", got)
	resp, err := f.srv.Client().Get(f.srv.URL + "/_sim/stats")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st graphsim.Stats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	require.Equal(t, 7, st.MaxPerSecond[acctA.PhoneNumberID], "stats %+v", st)
	require.Equal(t, 1, st.MaxPerSecond[acctB.PhoneNumberID], "stats %+v", st)
	require.Equal(t, 10, st.Accepted, "stats %+v", st)
	require.Equal(t, 0, f.sim.MaxPerSecond("unknown"), "unknown number")
	f.flush(t)
}

func TestCloseStopsAndWaitsForBackgroundWebhooks(t *testing.T) {
	f := newFixture(t, func(c *graphsim.Config) { c.StatusDelay = 20 * time.Millisecond })
	f.rc.mu.Lock()
	f.rc.delay = 15 * time.Millisecond
	f.rc.mu.Unlock()
	for range 5 {
		f.send(t, acctA, textBody("5511888888888", "x"))
	}
	time.Sleep(30 * time.Millisecond) // some statuses are in flight
	f.sim.Close()
	delivered := f.sim.Stats().WebhooksDelivered
	require.Less(t, delivered, 15, "Close should stop pending statuses, %d delivered", delivered)
	// Nothing runs any more: Flush returns at once and counts stay put.
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	require.NoError(t, f.sim.Flush(ctx), "flush after close")
	// A send after Close is answered but gets no webhooks.
	code, _ := f.send(t, acctA, textBody("5511888888888", "late"))
	require.Equal(t, 200, code, "send after close: %d", code)
	time.Sleep(100 * time.Millisecond)
	got := f.sim.Stats().WebhooksDelivered
	require.Equal(t, delivered, got, "webhooks after Close: %d, then %d", delivered, got)
	f.sim.Close() // idempotent
}

func TestFlushWaitsForAllStatuses(t *testing.T) {
	f := newFixture(t, func(c *graphsim.Config) { c.StatusDelay = 10 * time.Millisecond })
	var ids []string
	for range 10 {
		_, out := f.send(t, acctB, textBody("5511888888888", "x"))
		ids = append(ids, wamidOf(t, out))
	}
	f.flush(t)
	for _, id := range ids {
		n := len(f.rc.statuses(id))
		require.Equal(t, 3, n, "%s: %d statuses", id, n)
	}
}

func TestUnknownPaths(t *testing.T) {
	f := newFixture(t, nil)
	code, out, _ := f.do(t, http.MethodGet, "/v26.0/a/b/c", acctA.AccessToken, "")
	metaErr(t, code, out, 400, 2500)
	code, _, _ = f.do(t, http.MethodGet, "/_sim/nothing/here", "", "")
	require.Equal(t, 404, code, "%d", code)
	code, _, _ = f.do(t, http.MethodPost, "/_sim/reset", "", "")
	require.Equal(t, 200, code, "reset %d", code)
}

// PyTake's own Graph client works against the simulator.
func TestGraphClientCompatibility(t *testing.T) {
	f := newFixture(t, nil)
	g := graph.New(f.srv.URL, f.srv.Client())
	ctx := context.Background()
	res, err := g.SendMessage(ctx, "v26.0", acctA.PhoneNumberID, acctA.AccessToken, []byte(templateBody))
	require.NoError(t, err, "%+v %v", res, err)
	require.True(t, strings.HasPrefix(res.WAMID, "wamid."), "%+v %v", res, err)
	require.Equal(t, "accepted", res.MessageStatus, "%+v %v", res, err)
	require.Equal(t, "5511888888888", res.WaID, "%+v %v", res, err)
	f.sim.Fail(graphsim.Fault{Code: 130429, HTTPStatus: 429, RetryAfter: 2})
	_, err = g.SendMessage(ctx, "v26.0", acctA.PhoneNumberID, acctA.AccessToken, []byte(textBody("5511888888888", "x")))
	var ge *graph.Error
	require.True(t, errors.As(err, &ge), "%+v", err)
	require.Equal(t, 130429, ge.Code, "%+v", err)
	require.Equal(t, 429, ge.HTTPStatus, "%+v", err)
	require.Equal(t, 2*time.Second, ge.RetryAfter, "%+v", err)
	require.NotEmpty(t, ge.ErrorData.Details, "%+v", err)
	p, err := g.GetPhoneNumber(ctx, "v26.0", acctB.PhoneNumberID, acctB.AccessToken)
	require.NoError(t, err, "%+v %v", p, err)
	require.Equal(t, acctB.PhoneNumberID, p.ID, "%+v %v", p, err)
	require.Equal(t, "Loja B", p.VerifiedName, "%+v %v", p, err)
	require.Equal(t, "GREEN", p.QualityRating, "%+v %v", p, err)
	_, err = g.GetPhoneNumber(ctx, "v26.0", "000", acctB.AccessToken)
	require.True(t, errors.As(err, &ge), "%+v", err)
	require.Equal(t, 400, ge.HTTPStatus, "%+v", err)
	require.Equal(t, 100, ge.Code, "%+v", err)
	require.Equal(t, 33, ge.ErrorSubcode, "%+v", err)
	f.flush(t)
}

// A send to another form of a number that has a WhatsApp account is
// answered with the account's wa_id, as Meta does (Brazil's ninth digit
// here); a number with no account answers as sent.
func TestSendAnswersTheRegisteredWaID(t *testing.T) {
	f := newFixture(t, nil)
	code, out, _ := f.do(t, http.MethodPost, "/_sim/inbound", "",
		`{"phone_number_id":"`+acctA.PhoneNumberID+`","from":"551187654321","name":"Maria","text":"Oi"}`)
	require.Equal(t, 200, code, "%v", out)
	for _, to := range []string{"+55 11 98765-4321", "5511987654321", "551187654321"} {
		code, out := f.send(t, acctA, textBody(to, "Olá"))
		require.Equal(t, http.StatusOK, code, "%v", out)
		c := out["contacts"].([]any)[0].(map[string]any)
		assert.Equal(t, to, c["input"])
		assert.Equal(t, "551187654321", c["wa_id"], "to %s", to)
	}
	code, out = f.send(t, acctA, textBody("+55 21 98765-4321", "Olá"))
	require.Equal(t, http.StatusOK, code, "%v", out)
	assert.Equal(t, "5521987654321", out["contacts"].([]any)[0].(map[string]any)["wa_id"])
	f.sim.Reset() // accounts are Meta's users: a reset keeps them
	_, out = f.send(t, acctA, textBody("5511987654321", "Olá"))
	assert.Equal(t, "551187654321", out["contacts"].([]any)[0].(map[string]any)["wa_id"])
}
