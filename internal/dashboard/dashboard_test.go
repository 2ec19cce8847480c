package dashboard_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/dashboard"
	"github.com/pytake/pytake/internal/dispatch"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/ratelimit"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
	"github.com/pytake/pytake/internal/whatsapp"
)

// Meta's side: the simulator's account, as the local stack has it.
const (
	phoneID     = "106540352242922"
	wabaID      = "102290129340398"
	accessToken = "EAAG-dashboard-test-token"
	appSecret   = "dashboard-app-secret"
)

type jobs struct {
	mu   sync.Mutex
	jobs []dispatch.Job
}

func (q *jobs) Enqueue(_ context.Context, j ...dispatch.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = append(q.jobs, j...)
	return nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	t      *testing.T
	st     *store.Store
	sec    *secretstest.SecretsManager
	secs   *secrets.Store
	dash   *dashboard.Server
	clock  *clock
	events *eventtest.Recorder
	org    store.Organization
	key    string // the organisation's admin key
	keyID  string
	api    dashboard.API // the API in process, with Meta's simulator
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	tbl := storetest.New(t)
	rec := &eventtest.Recorder{}
	stream := storetest.NewStream(tbl.Client)
	stream.Relay = rec.Outbox
	st := store.New(stream, tbl.Name, c.now)
	ctx := context.Background()
	org, err := st.CreateOrganization(ctx, "Loja Demo")
	require.NoError(t, err)
	k, plain, err := st.IssueKey(ctx, org.ID, "admin", apikey.Live, apikey.FirstKeyScopes()...)
	require.NoError(t, err)
	sim := graphsim.New(graphsim.Config{Accounts: []graphsim.Account{{PhoneNumberID: phoneID, WABAID: wabaID,
		DisplayPhoneNumber: "15550783881", VerifiedName: "PyTake Demo", AccessToken: accessToken, AppSecret: appSecret}}})
	meta := httptest.NewServer(sim)
	t.Cleanup(meta.Close)
	sm := secretstest.NewSecretsManager()
	secs := secrets.New(sm, "pytake/test/", 0, c.now)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := api.New(api.Deps{Store: st, Secrets: secs, SecretWriter: secs, Sending: true, Webhooks: st, Deliveries: st,
		DeliveryQueue: &jobs{}, Contacts: st, Conversations: st, Chatbots: st, Events: rec, Integrations: st,
		InsecureWebhooks: true, Graph: graph.New(meta.URL, meta.Client()), GraphVersion: "v26.0", Log: log, Now: c.now,
		Limiter: ratelimit.New(st, c.now)})
	d, err := dashboard.New(dashboard.Deps{API: srv.InProcess(dashboard.APIRoutes...), Keys: st, Accounts: st, Secrets: secs, Limiter: ratelimit.New(st, c.now),
		SessionKeyLoader: dashboard.SessionKeyFrom(sm, dashboard.SessionKeyName("pytake/test/")), Log: log, Now: c.now})
	require.NoError(t, err)
	return &fixture{t: t, st: st, sec: sm, secs: secs, dash: d, clock: c, events: rec, org: org, key: plain, keyID: k.ID,
		api: srv.InProcess(dashboard.APIRoutes...)}
}

// client is a browser: it keeps cookies and reads forms' CSRF tokens.
type client struct {
	f       *fixture
	cookies map[string]string
	ip      string
	headers map[string]string // sent with every request
}

func (f *fixture) client() *client {
	return &client{f: f, cookies: map[string]string{}, ip: "203.0.113.7"}
}

type page struct {
	Status  int
	Body    string
	Headers map[string]string
	Cookies []string
}

func (c *client) do(method, path string, form url.Values) page {
	c.f.t.Helper()
	u, err := url.Parse(path)
	require.NoError(c.f.t, err)
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: u.Path, RawQueryString: u.RawQuery,
		Headers: map[string]string{"host": "pytake.test", "x-forwarded-proto": "https"}}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.SourceIP = c.ip
	for k, v := range c.headers {
		ev.Headers[k] = v
	}
	for k, v := range c.cookies {
		ev.Cookies = append(ev.Cookies, k+"="+v)
	}
	if form != nil {
		ev.Body = form.Encode()
		ev.Headers["content-type"] = "application/x-www-form-urlencoded"
	}
	resp, err := c.f.dash.Serve(context.Background(), ev)
	require.NoError(c.f.t, err)
	for _, sc := range resp.Cookies {
		hc, err := http.ParseSetCookie(sc)
		require.NoError(c.f.t, err)
		if hc.MaxAge < 0 {
			delete(c.cookies, hc.Name)
		} else {
			c.cookies[hc.Name] = hc.Value
		}
	}
	return page{Status: resp.StatusCode, Body: resp.Body, Headers: resp.Headers, Cookies: resp.Cookies}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(p.Body)
	require.NotNil(t, m, "no CSRF token on the page: %s", p.Body)
	return html.UnescapeString(m[1])
}

// signIn signs in with key through the sign-in form.
func (c *client) signIn(key string) page {
	c.f.t.Helper()
	login := c.do(http.MethodGet, "/dashboard/login", nil)
	require.Equal(c.f.t, http.StatusOK, login.Status)
	return c.do(http.MethodPost, "/dashboard/login", url.Values{"csrf": {login.csrf(c.f.t)}, "key": {key}})
}

func (c *client) signedIn() *client {
	c.f.t.Helper()
	p := c.signIn(c.f.key)
	require.Equal(c.f.t, http.StatusSeeOther, p.Status, p.Body)
	return c
}

// post fetches the form's page for its token, then posts the form.
func (c *client) post(from, to string, form url.Values) page {
	c.f.t.Helper()
	p := c.do(http.MethodGet, from, nil)
	require.Equal(c.f.t, http.StatusOK, p.Status, p.Body)
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", p.csrf(c.f.t))
	return c.do(http.MethodPost, to, form)
}

// fieldError is the error shown next to a field (the element whose id is
// <name>-error, which the input names in aria-describedby).
func fieldError(body, name string) string {
	re := regexp.MustCompile(`(?s)id="` + regexp.QuoteMeta(name) + `-error">(.*?)</p>`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], ""))
}

func TestSignIn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, notAdmin, err := f.st.IssueKey(ctx, f.org.ID, "worker", apikey.Live, apikey.DefaultScopes()...)
	require.NoError(t, err)
	_, testKey, err := f.st.IssueKey(ctx, f.org.ID, "sandbox", apikey.Test, apikey.FirstKeyScopes()...)
	require.NoError(t, err)
	revoked, revokedPlain, err := f.st.IssueKey(ctx, f.org.ID, "old", apikey.Live, apikey.FirstKeyScopes()...)
	require.NoError(t, err)
	_, err = f.st.RevokeKey(ctx, f.org.ID, revoked.ID)
	require.NoError(t, err)
	unknown, err := apikey.Generate(apikey.Live)
	require.NoError(t, err)

	for _, tc := range []struct {
		name, key string
		status    int
		says      string
	}{
		{"malformed", "pytake_live_nope", http.StatusUnauthorized, "Esta chave não é válida."},
		{"unknown", unknown.Plaintext, http.StatusUnauthorized, "Esta chave não é válida."},
		{"revoked", revokedPlain, http.StatusForbidden, "Esta chave foi revogada."},
		{"without admin", notAdmin, http.StatusForbidden, "escopo admin"},
		{"test key", testKey, http.StatusForbidden, "Chaves de teste"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := f.client()
			c.ip = "198.51.100." + fmt.Sprint(len(tc.name)) // its own sign-in bucket
			p := c.signIn(tc.key)
			assert.Equal(t, tc.status, p.Status)
			assert.Contains(t, fieldError(p.Body, "key"), tc.says, "the key field's error")
			assert.Contains(t, p.Body, `aria-invalid="true" aria-describedby="key-error"`)
			assert.Empty(t, c.cookies[sessionCookie], "no session for a refused key")
		})
	}

	t.Run("admin key", func(t *testing.T) {
		c := f.client()
		p := c.signIn(f.key)
		require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
		assert.Equal(t, "/dashboard/settings/whatsapp", p.Headers["Location"])
		var session string
		for _, sc := range p.Cookies {
			if strings.HasPrefix(sc, sessionCookie+"=") {
				session = sc
			}
		}
		require.NotEmpty(t, session)
		for _, attr := range []string{"HttpOnly", "Secure", "SameSite=Strict", "Path=/;", "Max-Age=28800"} {
			assert.Contains(t, session, attr)
		}
		assert.NotContains(t, session, f.key[len("pytake_live_"):], "the key is not in the cookie")
		home := c.do(http.MethodGet, "/dashboard/settings/whatsapp", nil)
		assert.Equal(t, http.StatusOK, home.Status)
		assert.Contains(t, home.Body, "Loja Demo")
	})

	t.Run("no session", func(t *testing.T) {
		for _, path := range []string{"/dashboard/settings/whatsapp", "/dashboard/webhooks", "/dashboard/keys",
			"/dashboard/conversations", "/dashboard/contacts", "/dashboard/webhooks/wh_x", "/dashboard/conversations/cv_x"} {
			p := f.client().do(http.MethodGet, path, nil)
			assert.Equal(t, http.StatusSeeOther, p.Status, path)
			assert.Equal(t, "/dashboard/login", p.Headers["Location"], path)
		}
	})

	t.Run("forged session", func(t *testing.T) {
		c := f.client().signedIn()
		v := c.cookies[sessionCookie]
		c.cookies[sessionCookie] = v[:len(v)-2] + "AA"
		p := c.do(http.MethodGet, "/dashboard/keys", nil)
		assert.Equal(t, http.StatusSeeOther, p.Status)
		assert.Equal(t, "/dashboard/login?m=expired", p.Headers["Location"])
	})

	// A sibling subdomain may set an unprefixed cookie for the whole
	// domain (Domain=<parent>), with a longer path so the browser sends it
	// first: had the session cookie no __Host- prefix, the attacker's own
	// valid session, planted so, would put the victim in the attacker's
	// organisation (entering its WhatsApp credentials there).
	t.Run("session planted by a sibling subdomain", func(t *testing.T) {
		attacker := f.client().signedIn()
		var planted string
		for k, v := range attacker.cookies {
			if strings.HasSuffix(k, "pytake_session") {
				planted = v
			}
		}
		require.NotEmpty(t, planted)
		victim := f.client()
		victim.cookies["pytake_session"] = planted
		p := victim.do(http.MethodGet, "/dashboard/keys", nil)
		assert.Equal(t, http.StatusSeeOther, p.Status, "a planted session was honoured")
	})

	t.Run("sign-in form without its token", func(t *testing.T) {
		c := f.client()
		c.do(http.MethodGet, "/dashboard/login", nil)
		p := c.do(http.MethodPost, "/dashboard/login", url.Values{"key": {f.key}})
		assert.Equal(t, http.StatusForbidden, p.Status)
		assert.Empty(t, c.cookies[sessionCookie])
		// A token from another browser's form does not do either.
		other := f.client().do(http.MethodGet, "/dashboard/login", nil)
		p = c.do(http.MethodPost, "/dashboard/login", url.Values{"key": {f.key}, "csrf": {other.csrf(t)}})
		assert.Equal(t, http.StatusForbidden, p.Status)
	})
}

func TestSignInRateLimited(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	for i := 0; i < 5; i++ {
		assert.Equal(t, http.StatusUnauthorized, c.signIn("pytake_live_wrong").Status, "attempt %d", i+1)
	}
	p := c.signIn(f.key)
	assert.Equal(t, http.StatusTooManyRequests, p.Status, "the sixth attempt in the same second, even with the right key")
	assert.NotEmpty(t, p.Headers["Retry-After"])
	assert.Contains(t, fieldError(p.Body, "key"), "Muitas tentativas")
	other := f.client()
	other.ip = "192.0.2.1"
	assert.Equal(t, http.StatusSeeOther, other.signIn(f.key).Status, "another address has its own bucket")
	f.clock.add(2 * time.Second)
	assert.Equal(t, http.StatusSeeOther, c.signIn(f.key).Status, "a token came back")

	// The address is API Gateway's (the TCP peer's), never a header the
	// client writes: a new X-Forwarded-For (or X-Real-IP) on every attempt
	// is still the same bucket.
	spoof := f.client()
	spoof.ip = "198.51.100.9"
	for i := 0; i < 6; i++ {
		spoof.headers = map[string]string{"x-forwarded-for": fmt.Sprintf("10.0.0.%d", i), "x-real-ip": fmt.Sprintf("10.0.1.%d", i)}
		want := http.StatusUnauthorized
		if i == 5 {
			want = http.StatusTooManyRequests
		}
		assert.Equal(t, want, spoof.signIn("pytake_live_wrong").Status, "attempt %d with X-Forwarded-For %d", i+1, i)
	}

	// An IPv6 client holds a /64 (its host part is its own to choose): one
	// bucket for the /64, not one per address.
	for i := 0; i < 6; i++ {
		v6 := f.client()
		v6.ip = fmt.Sprintf("2001:db8:1:2::%x", i+1)
		want := http.StatusUnauthorized
		if i == 5 {
			want = http.StatusTooManyRequests
		}
		assert.Equal(t, want, v6.signIn("pytake_live_wrong").Status, "attempt %d from %s", i+1, v6.ip)
	}
	next := f.client()
	next.ip = "2001:db8:1:3::1"
	assert.Equal(t, http.StatusUnauthorized, next.signIn("pytake_live_wrong").Status, "another /64 has its own bucket")
}

func TestSessionExpiry(t *testing.T) {
	f := newFixture(t)
	c := f.client().signedIn()
	f.clock.add(dashboard.SessionTTL - time.Minute)
	assert.Equal(t, http.StatusOK, c.do(http.MethodGet, "/dashboard/keys", nil).Status)
	tok := c.do(http.MethodGet, "/dashboard/keys", nil).csrf(t)
	f.clock.add(2 * time.Minute)
	p := c.do(http.MethodGet, "/dashboard/keys", nil)
	assert.Equal(t, http.StatusSeeOther, p.Status)
	assert.Equal(t, "/dashboard/login?m=expired", p.Headers["Location"])
	assert.Empty(t, c.cookies[sessionCookie], "the expired cookie is deleted")
	login := c.do(http.MethodGet, "/dashboard/login?m=expired", nil)
	assert.Contains(t, login.Body, "Sua sessão terminou")
	// A form of the expired session does nothing either.
	c2 := f.client()
	c2.cookies = map[string]string{}
	p = c2.do(http.MethodPost, "/dashboard/keys", url.Values{"csrf": {tok}, "name": {"late"}, "mode": {"live"}})
	assert.Equal(t, http.StatusSeeOther, p.Status)
	keys, err := f.st.Keys(context.Background(), f.org.ID, "", 100)
	require.NoError(t, err)
	assert.Len(t, keys.Items, 1, "no key was created")
}

func TestRevokedKeyEndsSession(t *testing.T) {
	f := newFixture(t)
	c := f.client().signedIn()
	_, err := f.st.RevokeKey(context.Background(), f.org.ID, f.keyID)
	require.NoError(t, err)
	p := c.do(http.MethodGet, "/dashboard/webhooks", nil)
	assert.Equal(t, http.StatusSeeOther, p.Status)
	assert.Equal(t, "/dashboard/login?m=revoked", p.Headers["Location"])
}

// TestCSRF: every form of every page refuses a post without the session's
// token, or with another session's, and changes nothing.
func TestCSRF(t *testing.T) {
	f := newFixture(t)
	c := f.client().signedIn()
	other := f.client().signedIn()
	otherToken := other.do(http.MethodGet, "/dashboard/keys", nil).csrf(t)
	hook := createHook(t, c, "https://hooks.example.com/pytake")
	forms := []string{"/dashboard/logout", "/dashboard/settings/whatsapp", "/dashboard/settings/whatsapp/test",
		"/dashboard/webhooks", "/dashboard/webhooks/" + hook + "/test", "/dashboard/webhooks/" + hook + "/rotate",
		"/dashboard/webhooks/" + hook + "/delete", "/dashboard/webhooks/" + hook + "/deliveries/dl_x/retry",
		"/dashboard/keys", "/dashboard/keys/" + f.keyID + "/revoke", "/dashboard/conversations/cv_x/resolve"}
	for _, path := range forms {
		for name, tok := range map[string]string{"none": "", "another session's": otherToken, "garbage": "x"} {
			form := url.Values{"name": {"n"}, "url": {"https://a.example.com"}, "events": {"*"}, "mode": {"live"}}
			if tok != "" {
				form.Set("csrf", tok)
			}
			p := c.do(http.MethodPost, path, form)
			assert.Equal(t, http.StatusForbidden, p.Status, "%s with %s token", path, name)
			assert.Contains(t, p.Body, "Formulário expirado", path)
		}
	}
	// Nothing changed: the key is not revoked, the webhook still there,
	// still one webhook, the session still works.
	k, err := f.st.APIKey(context.Background(), f.org.ID, f.keyID)
	require.NoError(t, err)
	assert.Nil(t, k.RevokedAt)
	hooks, err := f.st.Webhooks(context.Background(), f.org.ID)
	require.NoError(t, err)
	assert.Len(t, hooks, 1)
	assert.Equal(t, http.StatusOK, c.do(http.MethodGet, "/dashboard/keys", nil).Status)
}

// TestCrossSitePosts: a form posted from another site (or a sibling
// subdomain) is refused even with a valid token and cookie, for sign-in too
// (a login CSRF would sign the victim in to the attacker's organisation).
func TestCrossSitePosts(t *testing.T) {
	f := newFixture(t)
	c := f.client().signedIn()
	for name, h := range map[string]map[string]string{
		"sec-fetch-site cross-site": {"sec-fetch-site": "cross-site"},
		"sec-fetch-site same-site":  {"sec-fetch-site": "same-site"},
		"foreign origin":            {"origin": "https://evil.example"},
		"null origin":               {"origin": "null"},
	} {
		t.Run(name, func(t *testing.T) {
			tok := c.do(http.MethodGet, "/dashboard/keys", nil).csrf(t)
			c.headers = h
			defer func() { c.headers = nil }()
			p := c.do(http.MethodPost, "/dashboard/keys", url.Values{"csrf": {tok}, "name": {"x"}, "mode": {"live"}})
			assert.Equal(t, http.StatusForbidden, p.Status)

			l := f.client()
			login := l.do(http.MethodGet, "/dashboard/login", nil)
			l.headers = h
			p = l.do(http.MethodPost, "/dashboard/login", url.Values{"csrf": {login.csrf(t)}, "key": {f.key}})
			assert.Equal(t, http.StatusForbidden, p.Status)
			assert.Empty(t, l.cookies[sessionCookie])
		})
	}
	keys, err := f.st.Keys(context.Background(), f.org.ID, "", 100)
	require.NoError(t, err)
	assert.Len(t, keys.Items, 1, "no key was created")
	// The browser's own posts carry these headers too, and pass.
	c.headers = map[string]string{"sec-fetch-site": "same-origin", "origin": "https://pytake.test"}
	p := c.post("/dashboard/keys", "/dashboard/keys", url.Values{"name": {"ok"}, "mode": {"live"}})
	assert.Equal(t, http.StatusCreated, p.Status)
	c.headers = map[string]string{"origin": "https://pytake.test"}
	p = c.post("/dashboard/keys", "/dashboard/keys", url.Values{"name": {"ok2"}, "mode": {"live"}})
	assert.Equal(t, http.StatusCreated, p.Status)
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	c := f.client().signedIn()
	for _, path := range []string{"/dashboard/login", "/dashboard/settings/whatsapp", "/dashboard/nope", "/dashboard/static/app.css"} {
		p := c.do(http.MethodGet, path, nil)
		csp := p.Headers["Content-Security-Policy"]
		assert.Contains(t, csp, "script-src 'self'", path)
		assert.NotContains(t, csp, "unsafe-inline", path)
		assert.Contains(t, csp, "frame-ancestors 'none'", path)
		assert.Equal(t, "nosniff", p.Headers["X-Content-Type-Options"], path)
	}
	// No inline script or style, no handler attributes, on any page.
	for _, path := range []string{"/dashboard/login", "/dashboard/settings/whatsapp", "/dashboard/webhooks", "/dashboard/keys",
		"/dashboard/conversations", "/dashboard/contacts"} {
		body := c.do(http.MethodGet, path, nil).Body
		for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
			assert.Contains(t, m, `src="/dashboard/static/`, path)
		}
		assert.NotRegexp(t, `(?i)<style|\son[a-z]+=|style=`, body, path)
	}
}

func TestLanguageSwitch(t *testing.T) {
	f := newFixture(t)
	c := f.client().signedIn()
	p := c.do(http.MethodGet, "/dashboard/webhooks", nil)
	assert.Contains(t, p.Body, `<html lang="pt-BR">`)
	assert.Contains(t, p.Body, "Criar webhook")
	sw := c.do(http.MethodGet, "/dashboard/lang?to=en&back=/dashboard/webhooks", nil)
	assert.Equal(t, "/dashboard/webhooks", sw.Headers["Location"])
	p = c.do(http.MethodGet, "/dashboard/webhooks", nil)
	assert.Contains(t, p.Body, `<html lang="en">`)
	assert.Contains(t, p.Body, "Create webhook")
	// Only dashboard paths: no open redirect.
	for _, back := range []string{"https://evil.example", "//evil.example", "/v1/api-keys", "/dashboard\\@evil"} {
		sw = c.do(http.MethodGet, "/dashboard/lang?to=en&back="+url.QueryEscape(back), nil)
		assert.Equal(t, "/dashboard", sw.Headers["Location"], back)
	}
}

// TestWhatsAppSettings saves the settings (Meta, the simulator, confirms
// the number), shows secrets masked only, keeps a secret left empty, runs
// the connection test, and puts the API's field errors next to the fields.
func TestWhatsAppSettings(t *testing.T) {
	f := newFixture(t)
	c := f.client().signedIn()
	const page = "/dashboard/settings/whatsapp"

	p := c.post(page, page, url.Values{"phone_number_id": {""}, "access_token": {""}, "app_secret": {"x"}, "verify_token": {"v"}})
	assert.Equal(t, http.StatusUnprocessableEntity, p.Status)
	assert.Contains(t, fieldError(p.Body, "phone_number_id"), "phone_number_id")
	assert.Contains(t, fieldError(p.Body, "access_token"), "access_token")
	assert.Contains(t, p.Body, `id="phone_number_id" name="phone_number_id" type="text" value="" autocomplete="off" spellcheck="false"`)

	p = c.post(page, page+"/test", nil)
	assert.Equal(t, http.StatusConflict, p.Status)
	assert.Contains(t, p.Body, "Salve as configurações antes de testar.")

	p = c.post(page, page, url.Values{"phone_number_id": {phoneID}, "waba_id": {wabaID}, "access_token": {"EAAG-wrong-token-1234"},
		"app_secret": {appSecret}, "verify_token": {"meu-token-de-verificacao"}})
	assert.Equal(t, http.StatusUnprocessableEntity, p.Status, "Meta does not confirm the number for a wrong token")
	assert.Contains(t, p.Body, `role="alert"`)

	p = c.post(page, page, url.Values{"phone_number_id": {phoneID}, "waba_id": {wabaID}, "access_token": {accessToken},
		"app_secret": {appSecret}, "verify_token": {"meu-token-de-verificacao"}})
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	assert.Contains(t, p.Body, "Salvo.")
	assert.Contains(t, p.Body, "Saudável")
	for _, secret := range []string{accessToken, appSecret, "meu-token-de-verificacao"} {
		assert.NotContains(t, p.Body, secret, "a saved secret is never shown")
	}
	assert.Contains(t, p.Body, "********oken", "the token's hint, masked as the API masks it")
	assert.Contains(t, p.Body, "https://pytake.test/webhooks/whatsapp", "the callback URL to paste into Meta's console")
	assert.Contains(t, html.UnescapeString(p.Body), "a Meta ainda não chamou com este token")
	// Meta's handshake with the token (internal/inbound records it): shown.
	require.NoError(t, f.st.MarkWhatsAppVerified(context.Background(), f.org.ID, whatsapp.HashVerifyToken("outro-token")))
	assert.Contains(t, html.UnescapeString(c.do(http.MethodGet, page, nil).Body), "a Meta ainda não chamou com este token",
		"a handshake with a token not saved says nothing of the saved one")
	require.NoError(t, f.st.MarkWhatsAppVerified(context.Background(), f.org.ID, whatsapp.HashVerifyToken("meu-token-de-verificacao")))
	p = c.do(http.MethodGet, page, nil)
	assert.Contains(t, p.Body, "a Meta verificou a URL com este token em 2026-12-01 12:00:00 UTC")

	// Saved again with the secrets left empty: they are kept.
	p = c.post(page, page, url.Values{"phone_number_id": {phoneID}, "waba_id": {wabaID}, "graph_api_version": {"v26.0"}})
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	var saved secrets.WhatsApp
	require.NoError(t, f.secs.Get(context.Background(), f.org.ID, secrets.ProviderWhatsApp, &saved))
	assert.Equal(t, accessToken, saved.AccessToken)
	assert.Equal(t, "meu-token-de-verificacao", saved.VerifyToken)

	// A field in error keeps its hint (saved as ..., leave empty to keep)
	// described to screen readers, next to the error.
	p = c.post(page, page, url.Values{"phone_number_id": {phoneID}, "app_secret": {"short"}})
	require.Equal(t, http.StatusUnprocessableEntity, p.Status, p.Body)
	assert.NotEmpty(t, fieldError(p.Body, "app_secret"))
	assert.Regexp(t, `id="app_secret"[^>]*aria-describedby="app_secret-error app_secret-hint"`, p.Body)
	assert.Contains(t, p.Body, `id="app_secret-hint"`)

	p = c.post(page, page+"/test", nil)
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	assert.Contains(t, p.Body, "Conexão OK")
	assert.Contains(t, p.Body, "PyTake Demo")
	assert.Contains(t, p.Body, "15550783881")
	assert.Contains(t, p.Body, "GREEN")
}

// TestWhatsAppTestShowsMetasError: a token Meta no longer accepts shows
// Meta's error in words, and the connection as unhealthy.
func TestWhatsAppTestShowsMetasError(t *testing.T) {
	f := newFixture(t)
	c := f.client().signedIn()
	const page = "/dashboard/settings/whatsapp"
	p := c.post(page, page, url.Values{"phone_number_id": {phoneID}, "waba_id": {wabaID}, "access_token": {accessToken},
		"app_secret": {appSecret}, "verify_token": {"vt-123456"}})
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	// The token is changed behind PyTake's back (as when it is revoked at Meta).
	require.NoError(t, f.secs.Put(context.Background(), f.org.ID, secrets.ProviderWhatsApp, secrets.WhatsApp{PhoneNumberID: phoneID,
		WABAID: wabaID, AccessToken: "EAAG-revoked-at-meta", AppSecret: appSecret, VerifyToken: "vt-123456"}))
	p = c.post(page, page+"/test", nil)
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	assert.Contains(t, p.Body, "Falha na conexão")
	assert.Contains(t, p.Body, "code 190")
	assert.Contains(t, p.Body, "Com problema", "unhealthy, in words")
}

func createHook(t *testing.T, c *client, u string) string {
	t.Helper()
	p := c.post("/dashboard/webhooks", "/dashboard/webhooks", url.Values{"name": {"CRM"}, "url": {u},
		"events": {"message.received", "conversation.resolved"}, "secret": {"abc123"}})
	require.Equal(t, http.StatusCreated, p.Status, p.Body)
	m := regexp.MustCompile(`href="/dashboard/webhooks/(wh_[^"]+)"`).FindStringSubmatch(p.Body)
	require.NotNil(t, m)
	return m[1]
}

func TestWebhooks(t *testing.T) {
	f := newFixture(t)
	c := f.client().signedIn()
	ctx := context.Background()

	// Field errors next to their fields: a bad URL, no event, a short secret.
	p := c.post("/dashboard/webhooks", "/dashboard/webhooks", url.Values{"name": {"CRM"}, "url": {"ftp://x"}, "secret": {"abc"}})
	assert.Equal(t, http.StatusUnprocessableEntity, p.Status)
	assert.Contains(t, fieldError(p.Body, "url"), "url")
	assert.Contains(t, fieldError(p.Body, "events"), "events")
	assert.Contains(t, fieldError(p.Body, "secret"), "6 to 256")
	assert.Contains(t, p.Body, `value="CRM"`, "what was typed stays")

	// The guide's values: the secret abc123 is the one deliveries are signed with.
	p = c.post("/dashboard/webhooks", "/dashboard/webhooks", url.Values{"name": {"CRM"}, "url": {"http://127.0.0.1:4000/pytake"},
		"events": {"message.received", "conversation.resolved"}, "secret": {"abc123"}})
	require.Equal(t, http.StatusCreated, p.Status, p.Body)
	assert.Contains(t, p.Body, `<code id="secret-once">abc123</code>`, "shown once")
	hooks, err := f.st.Webhooks(ctx, f.org.ID)
	require.NoError(t, err)
	require.Len(t, hooks, 1)
	h := hooks[0]
	assert.Equal(t, []string{"conversation.resolved", "message.received"}, h.Events)
	var ws secrets.WebhookSecrets
	require.NoError(t, f.secs.Get(ctx, f.org.ID, secrets.ProviderWebhook(h.ID), &ws))
	assert.Equal(t, "abc123", ws.Secrets[0].Secret)
	p = c.do(http.MethodGet, "/dashboard/webhooks", nil)
	assert.NotContains(t, p.Body, "secret-once", "never shown again")
	assert.NotContains(t, p.Body, "<code>abc123", "never shown again")

	// Send a test: its delivery is in the log, with a resend button.
	detail := "/dashboard/webhooks/" + h.ID
	p = c.post(detail, detail+"/test", nil)
	require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
	p = c.do(http.MethodGet, p.Headers["Location"], nil)
	assert.Contains(t, p.Body, "Evento de teste enviado")
	assert.Contains(t, p.Body, "webhook.test")
	m := regexp.MustCompile(`/deliveries/([^/"]+)/retry`).FindStringSubmatch(p.Body)
	require.NotNil(t, m, "a resend button")
	p = c.post(detail, detail+"/deliveries/"+m[1]+"/retry", nil)
	require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
	assert.Contains(t, c.do(http.MethodGet, p.Headers["Location"], nil).Body, "Reenvio agendado.")

	// Rotate: a secret of one's own, checked as the API checks it.
	p = c.post(detail, detail+"/rotate", url.Values{"secret": {"a b"}})
	assert.Equal(t, http.StatusUnprocessableEntity, p.Status)
	assert.NotEmpty(t, fieldError(p.Body, "secret"))
	p = c.post(detail, detail+"/rotate", nil)
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	assert.Regexp(t, `<code id="secret-once">whsec_[A-Za-z0-9+/=]+</code>`, html.UnescapeString(p.Body))
	assert.Contains(t, p.Body, "back=%2fdashboard%2fwebhooks%2f"+h.ID+`"`, "the language switch returns to the webhook's page")

	// Delete.
	p = c.post(detail, detail+"/delete", nil)
	require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
	assert.Contains(t, c.do(http.MethodGet, p.Headers["Location"], nil).Body, "Webhook excluído.")
	assert.Equal(t, http.StatusNotFound, c.do(http.MethodGet, detail, nil).Status)
}

func TestAPIKeys(t *testing.T) {
	f := newFixture(t)
	c := f.client().signedIn()
	p := c.post("/dashboard/keys", "/dashboard/keys", url.Values{"name": {""}, "mode": {"gold"}, "scopes": {"messages:read", "nope"}})
	assert.Equal(t, http.StatusUnprocessableEntity, p.Status)
	assert.Contains(t, fieldError(p.Body, "name"), "required")
	assert.Contains(t, fieldError(p.Body, "mode"), "live or test")
	assert.Contains(t, fieldError(p.Body, "scopes"), "scopes[1]")

	p = c.post("/dashboard/keys", "/dashboard/keys", url.Values{"name": {"CRM"}, "mode": {"live"}, "scopes": {"messages:read", "contacts:read"}})
	require.Equal(t, http.StatusCreated, p.Status, p.Body)
	m := regexp.MustCompile(`<code id="secret-once">(pytake_live_[^<]+)</code>`).FindStringSubmatch(p.Body)
	require.NotNil(t, m, "the new key, shown once")
	hash, _, err := apikey.Parse(m[1])
	require.NoError(t, err)
	k, err := f.st.KeyByHash(context.Background(), hash)
	require.NoError(t, err)
	assert.Equal(t, []string{"contacts:read", "messages:read"}, k.Scopes)
	assert.NotContains(t, c.do(http.MethodGet, "/dashboard/keys", nil).Body, m[1], "never shown again")

	p = c.post("/dashboard/keys", "/dashboard/keys/"+k.ID+"/revoke", nil)
	require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
	p = c.do(http.MethodGet, p.Headers["Location"], nil)
	assert.Contains(t, p.Body, "Chave revogada.")
	k, err = f.st.APIKey(context.Background(), f.org.ID, k.ID)
	require.NoError(t, err)
	assert.NotNil(t, k.RevokedAt)
}

// inbound stores a customer's message as the WhatsApp webhook does.
func inbound(t *testing.T, f *fixture, org, from, wamid, text string) store.InboundResult {
	t.Helper()
	content, _ := json.Marshal(map[string]string{"text": text})
	res, err := f.st.RecordInbound(context.Background(), store.InboundMessage{OrgID: org, From: store.Identity{WaID: from, ProfileName: "Maria"},
		WAMID: wamid, Type: "text", Timestamp: f.clock.now(), Content: content})
	require.NoError(t, err)
	return res
}

func TestConversationsAndContacts(t *testing.T) {
	f := newFixture(t)
	c := f.client().signedIn()
	res := inbound(t, f, f.org.ID, "5511999999999", "wamid.A1", "Oi! Vocês entregam em Campinas?")
	conv := res.Conversation.ID

	p := c.do(http.MethodGet, "/dashboard/conversations", nil)
	require.Equal(t, http.StatusOK, p.Status)
	assert.Contains(t, p.Body, conv)
	assert.Contains(t, p.Body, `aria-current="page">Abertas`)

	detail := "/dashboard/conversations/" + conv
	p = c.do(http.MethodGet, detail, nil)
	assert.Contains(t, p.Body, "Oi! Vocês entregam em Campinas?")
	assert.Contains(t, html.UnescapeString(p.Body), "+5511999999999")
	assert.Contains(t, p.Body, "recebida", "the direction in words")

	p = c.post(detail, detail+"/resolve", url.Values{"satisfaction": {"9"}})
	assert.Equal(t, http.StatusUnprocessableEntity, p.Status)
	assert.Contains(t, fieldError(p.Body, "satisfaction"), "1 to 5")

	p = c.post(detail, detail+"/resolve", url.Values{"satisfaction": {"5"}})
	require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
	p = c.do(http.MethodGet, p.Headers["Location"], nil)
	assert.Contains(t, p.Body, "Conversa resolvida.")
	got, err := f.st.Conversation(context.Background(), f.org.ID, conv)
	require.NoError(t, err)
	assert.Equal(t, store.ConversationResolved, got.Status)
	require.NotNil(t, got.Satisfaction)
	assert.Equal(t, 5, *got.Satisfaction)
	assert.NotEmpty(t, f.events.Named("conversation.resolved"), "resolving through the dashboard emits the API's event")
	assert.Contains(t, c.do(http.MethodGet, "/dashboard/conversations?status=resolved", nil).Body, conv)
	assert.NotContains(t, c.do(http.MethodGet, "/dashboard/conversations?status=open", nil).Body, conv)

	// Contacts, with tags and attributes, filtered by tag.
	_, err = f.st.CreateContact(context.Background(), store.Contact{OrgID: f.org.ID, WhatsAppID: "5511988887777", Name: "João",
		Tags: []string{"vip"}, Attributes: map[string]any{"plan": "pro"}}, nil)
	require.NoError(t, err)
	p = c.do(http.MethodGet, "/dashboard/contacts", nil)
	assert.Contains(t, p.Body, "Maria")
	assert.Contains(t, p.Body, "João")
	p = c.do(http.MethodGet, "/dashboard/contacts?tag=vip", nil)
	assert.Contains(t, p.Body, "João")
	assert.Contains(t, p.Body, "<code>plan</code>: pro")
	assert.NotContains(t, p.Body, "Maria")
}

// TestTenantIsolation: another organisation's ids answer 404 on every page
// and form that takes an id, and change nothing.
func TestTenantIsolation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other, err := f.st.CreateOrganization(ctx, "Outra Loja")
	require.NoError(t, err)
	_, otherPlain, err := f.st.IssueKey(ctx, other.ID, "admin", apikey.Live, apikey.FirstKeyScopes()...)
	require.NoError(t, err)
	otherKey, _, err := f.st.IssueKey(ctx, other.ID, "crm", apikey.Live)
	require.NoError(t, err)
	theirs := &fixture{t: t, st: f.st, dash: f.dash, clock: f.clock, key: otherPlain}
	tc := theirs.client().signedIn()
	hook := createHook(t, tc, "https://hooks.example.com/outra")
	res := inbound(t, f, other.ID, "5511977776666", "wamid.B1", "Olá")
	conv := res.Conversation.ID
	tc.post("/dashboard/webhooks/"+hook, "/dashboard/webhooks/"+hook+"/test", nil)
	dl, err := f.st.Deliveries(ctx, other.ID, hook, "", 10)
	require.NoError(t, err)
	require.Len(t, dl.Items, 1)

	c := f.client().signedIn()
	for _, path := range []string{"/dashboard/webhooks/" + hook, "/dashboard/conversations/" + conv} {
		p := c.do(http.MethodGet, path, nil)
		assert.Equal(t, http.StatusNotFound, p.Status, path)
		assert.Contains(t, p.Body, "Não encontrado", path)
	}
	tok := c.do(http.MethodGet, "/dashboard/keys", nil).csrf(t)
	for _, path := range []string{"/dashboard/webhooks/" + hook + "/test", "/dashboard/webhooks/" + hook + "/rotate",
		"/dashboard/webhooks/" + hook + "/delete", "/dashboard/webhooks/" + hook + "/deliveries/" + dl.Items[0].ID + "/retry",
		"/dashboard/keys/" + otherKey.ID + "/revoke", "/dashboard/conversations/" + conv + "/resolve"} {
		p := c.do(http.MethodPost, path, url.Values{"csrf": {tok}})
		assert.Equal(t, http.StatusNotFound, p.Status, path)
	}
	_, err = f.st.Webhook(ctx, other.ID, hook)
	assert.NoError(t, err, "their webhook is still there")
	k, err := f.st.APIKey(ctx, other.ID, otherKey.ID)
	require.NoError(t, err)
	assert.Nil(t, k.RevokedAt)
	got, err := f.st.Conversation(ctx, other.ID, conv)
	require.NoError(t, err)
	assert.Equal(t, store.ConversationOpen, got.Status)
	// And their lists show nothing of ours or theirs to us.
	assert.NotContains(t, c.do(http.MethodGet, "/dashboard/webhooks", nil).Body, hook)
	assert.NotContains(t, c.do(http.MethodGet, "/dashboard/conversations", nil).Body, conv)
	assert.NotContains(t, c.do(http.MethodGet, "/dashboard/contacts", nil).Body, "5511977776666")
}

// TestAccessibility: every input, select and textarea of every page has a
// label (or a fieldset legend for checkboxes), errors are tied to their
// fields, and states are words, not colours alone.
func TestAccessibility(t *testing.T) {
	f := newFixture(t)
	c := f.client().signedIn()
	inbound(t, f, f.org.ID, "5511999999999", "wamid.C1", "Oi")
	hook := createHook(t, c, "https://hooks.example.com/a11y")
	convs := c.do(http.MethodGet, "/dashboard/conversations", nil).Body
	conv := regexp.MustCompile(`/dashboard/conversations/(cv_[^"]+)`).FindStringSubmatch(convs)
	require.NotNil(t, conv)
	input := regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idRe := regexp.MustCompile(`\bid="([^"]+)"`)
	for _, path := range []string{"/dashboard/login", "/dashboard/settings/whatsapp", "/dashboard/webhooks", "/dashboard/webhooks/" + hook,
		"/dashboard/keys", "/dashboard/conversations", "/dashboard/conversations/" + conv[1], "/dashboard/contacts"} {
		cl := c
		if path == "/dashboard/login" {
			cl = f.client()
		}
		body := cl.do(http.MethodGet, path, nil).Body
		assert.Contains(t, body, `class="skip" href="#main"`, path)
		for _, tag := range input.FindAllString(body, -1) {
			if strings.Contains(tag, `type="hidden"`) {
				continue
			}
			if strings.Contains(tag, `type="checkbox"`) {
				continue // inside a <label>, in a fieldset with a legend (below)
			}
			id := idRe.FindStringSubmatch(tag)
			if assert.NotNil(t, id, "%s: %s has no id for a label", path, tag) {
				assert.Contains(t, body, `<label for="`+id[1]+`"`, "%s: no label for #%s", path, id[1])
			}
		}
		// Checkboxes sit in their label, with text, inside a fieldset whose
		// legend names the group.
		boxes := regexp.MustCompile(`<input type="checkbox"`).FindAllStringIndex(body, -1)
		labelled := regexp.MustCompile(`<label[^>]*><input type="checkbox"[^>]*> *(<code>)?[^<\s]`).FindAllStringIndex(body, -1)
		assert.Equal(t, len(boxes), len(labelled), "%s: every checkbox in a label with text", path)
		if len(boxes) > 0 {
			assert.Contains(t, body, "<legend>", path)
		}
		// Error and state colours always come with a word and a symbol.
		for _, m := range regexp.MustCompile(`<span class="(ok|bad)">(.*?)</span>`).FindAllStringSubmatch(body, -1) {
			assert.Regexp(t, `aria-hidden="true">[●○▲✔✖]`, m[2], "%s: a state shown by colour alone: %s", path, m[0])
		}
		assert.NotRegexp(t, `<label><input type="checkbox"[^>]*>\s*</label>`, body, "%s: a checkbox without text", path)
	}
}

func TestStatic(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	css := c.do(http.MethodGet, "/dashboard/static/app.css", nil)
	assert.Equal(t, http.StatusOK, css.Status)
	assert.Contains(t, css.Body, ":focus-visible", "a visible focus style")
	assert.Equal(t, "text/css; charset=utf-8", css.Headers["Content-Type"])
	for _, bad := range []string{"/dashboard/static/..%2Fdashboard.go", "/dashboard/static/x.html", "/dashboard/static/nope.css"} {
		assert.Equal(t, http.StatusNotFound, c.do(http.MethodGet, bad, nil).Status, bad)
	}
}

// failingKeys is the store when DynamoDB fails after sign-in.
type failingKeys struct {
	dashboard.Keys
	fail bool
}

func (k *failingKeys) APIKey(ctx context.Context, org, id string) (store.APIKey, error) {
	if k.fail {
		return store.APIKey{}, apperr.New(apperr.Unavailable, "the database is unavailable; retry").WithCause(errors.New("dynamodb: timeout"))
	}
	return k.Keys.APIKey(ctx, org, id)
}

// TestFailuresArePages: a failing dependency, an unknown path or a
// malformed form answer a page with the request id, never the API's JSON,
// and the cause stays in the logs.
func TestFailuresArePages(t *testing.T) {
	f := newFixture(t)
	keys := &failingKeys{Keys: f.st}
	sm := secretstest.NewSecretsManager()
	key, err := dashboard.LoadSessionKey(context.Background(), sm, "k")
	require.NoError(t, err)
	d, err := dashboard.New(dashboard.Deps{API: apiFor(t, f), Keys: keys, Secrets: f.secs, SessionKey: key,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: f.clock.now})
	require.NoError(t, err)
	f.dash = d
	c := f.client().signedIn()
	keys.fail = true
	p := c.do(http.MethodGet, "/dashboard/keys", nil)
	assert.Equal(t, http.StatusServiceUnavailable, p.Status)
	assert.Equal(t, "text/html; charset=utf-8", p.Headers["Content-Type"])
	assert.Contains(t, p.Body, "the database is unavailable; retry")
	assert.Contains(t, p.Body, "Código da requisição")
	assert.NotContains(t, p.Body, "timeout", "the cause is not shown")
	keys.fail = false

	p = c.do(http.MethodGet, "/dashboard/nowhere", nil)
	assert.Equal(t, http.StatusNotFound, p.Status)
	assert.Contains(t, p.Body, "Não encontrado")
	p = c.do(http.MethodPost, "/dashboard/keys", nil) // no form at all
	assert.Equal(t, http.StatusUnsupportedMediaType, p.Status)
	assert.Contains(t, p.Body, "<html")
	assert.NotEmpty(t, p.Headers["Content-Security-Policy"])
}

func apiFor(t *testing.T, f *fixture) dashboard.API {
	t.Helper()
	srv := api.New(api.Deps{Store: f.st, Secrets: f.secs, SecretWriter: f.secs, Webhooks: f.st, Deliveries: f.st,
		DeliveryQueue: &jobs{}, Contacts: f.st, Conversations: f.st, InsecureWebhooks: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: f.clock.now})
	return srv.InProcess(dashboard.APIRoutes...)
}

// readsFail is the API when DynamoDB starts failing between a write and the
// reads of the page that shows its result: every GET answers 503.
type readsFail struct {
	dashboard.API
	fail bool
}

func (a *readsFail) Do(ctx context.Context, k store.APIKey, method, path string, q url.Values, body any) (api.Result, error) {
	if a.fail && method == http.MethodGet {
		return api.Result{Status: http.StatusServiceUnavailable,
			Body: []byte(`{"error":{"code":"unavailable","message":"the database is unavailable; retry","details":[]}}`)}, nil
	}
	return a.API.Do(ctx, k, method, path, q, body)
}

// TestShownOnceSurvivesAFailingRead: a key or a webhook secret is made and
// then the page's list cannot be read. The value exists nowhere else (a
// rotated secret has already replaced the one the receiver checks): the
// page still shows it once, with the failure, instead of an error page
// that loses it.
func TestShownOnceSurvivesAFailingRead(t *testing.T) {
	f := newFixture(t)
	flaky := &readsFail{API: apiFor(t, f)}
	sm := secretstest.NewSecretsManager()
	key, err := dashboard.LoadSessionKey(context.Background(), sm, "k")
	require.NoError(t, err)
	f.dash, err = dashboard.New(dashboard.Deps{API: flaky, Keys: f.st, Accounts: f.st, Secrets: f.secs, SessionKey: key,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: f.clock.now})
	require.NoError(t, err)
	c := f.client().signedIn()
	hook := createHook(t, c, "http://127.0.0.1:4000/pytake")
	detail := "/dashboard/webhooks/" + hook

	// postFailing fetches the form's token, then posts with reads failing.
	postFailing := func(from, to string, form url.Values) page {
		p := c.do(http.MethodGet, from, nil)
		require.Equal(t, http.StatusOK, p.Status, p.Body)
		form.Set("csrf", p.csrf(t))
		flaky.fail = true
		defer func() { flaky.fail = false }()
		return c.do(http.MethodPost, to, form)
	}
	for _, tc := range []struct {
		name, from, to string
		form           url.Values
		secret         string // a regexp
	}{
		{"new key", "/dashboard/keys", "/dashboard/keys", url.Values{"name": {"CRM"}, "mode": {"live"}}, `pytake_live_[^<]+`},
		{"new webhook", "/dashboard/webhooks", "/dashboard/webhooks", url.Values{"url": {"http://127.0.0.1:4000/x"},
			"events": {"message.received"}}, `whsec_[^<]+`},
		{"rotated secret", detail, detail + "/rotate", url.Values{}, `whsec_[^<]+`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := postFailing(tc.from, tc.to, tc.form)
			assert.Equal(t, "text/html; charset=utf-8", p.Headers["Content-Type"])
			assert.Regexp(t, `<code id="secret-once">`+tc.secret+`</code>`, html.UnescapeString(p.Body), "the value made is shown")
			assert.Contains(t, p.Body, "the database is unavailable; retry", "and what failed")
		})
	}
}

// racingSecrets is Secrets Manager as two cold starts meet it: both read
// before either creates (both find nothing), then both create; as the real
// service, the second CreateSecret of a name answers ResourceExistsException.
type racingSecrets struct {
	mu      sync.Mutex
	value   *string
	misses  sync.WaitGroup // both first reads miss before either returns
	creates int
}

func (s *racingSecrets) GetSecretValue(_ context.Context, in *awsapi.GetSecretValueInput) (*awsapi.GetSecretValueOutput, error) {
	s.mu.Lock()
	v := s.value
	s.mu.Unlock()
	if v == nil {
		s.misses.Done()
		s.misses.Wait()
		return nil, &awsapi.Error{Service: "secretsmanager", Op: "GetSecretValue", Status: 400, Code: awsapi.ResourceNotFound, Message: "Secrets Manager can't find the specified secret."}
	}
	return &awsapi.GetSecretValueOutput{SecretString: *v}, nil
}

func (s *racingSecrets) CreateSecret(_ context.Context, in *awsapi.CreateSecretInput) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creates++
	if s.value != nil {
		return &awsapi.Error{Service: "secretsmanager", Op: "CreateSecret", Status: 400, Code: awsapi.ResourceExists, Message: "the secret already exists"}
	}
	v := in.SecretString
	s.value = &v
	return nil
}

// TestSessionKeyBootstrapRace: two cold starts that both find no session key
// create it at once; both end with the one stored (the loser reads the
// winner's), so a cookie one signs the other accepts.
func TestSessionKeyBootstrapRace(t *testing.T) {
	sm := &racingSecrets{}
	sm.misses.Add(2)
	keys := make([][]byte, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], errs[i] = dashboard.LoadSessionKey(context.Background(), sm, "pytake/test/dashboard/session-key")
		}()
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	assert.Equal(t, 2, sm.creates, "both tried to create it")
	assert.Len(t, keys[0], 32)
	assert.Equal(t, keys[0], keys[1], "one key for both")
	stored, err := base64.RawURLEncoding.DecodeString(*sm.value)
	require.NoError(t, err)
	assert.Equal(t, stored, keys[0], "the stored one")
}

// TestWhatsAppSettingsUnreadable: when the saved settings cannot be read,
// saving with the secrets left empty (keep them) or testing the connection
// says what failed; it does not answer "required" field errors or "save
// the settings first" for settings that are saved.
func TestWhatsAppSettingsUnreadable(t *testing.T) {
	f := newFixture(t)
	flaky := &readsFail{API: f.api}
	var err error
	f.dash, err = dashboard.New(dashboard.Deps{API: flaky, Keys: f.st, Accounts: f.st, Secrets: f.secs, SessionKey: bytes32,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: f.clock.now})
	require.NoError(t, err)
	c := f.client().signedIn()
	const page = "/dashboard/settings/whatsapp"
	p := c.post(page, page, url.Values{"phone_number_id": {phoneID}, "waba_id": {wabaID}, "access_token": {accessToken},
		"app_secret": {appSecret}, "verify_token": {"meu-token-de-verificacao"}})
	require.Equal(t, http.StatusOK, p.Status, p.Body)

	for _, tc := range []struct {
		name, to string
		form     url.Values
	}{
		{"save keeping the secrets", page, url.Values{"phone_number_id": {phoneID}, "waba_id": {wabaID}}},
		{"connection test", page + "/test", url.Values{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf", c.do(http.MethodGet, page, nil).csrf(t))
			flaky.fail = true
			p := c.do(http.MethodPost, tc.to, tc.form)
			flaky.fail = false
			assert.Equal(t, http.StatusServiceUnavailable, p.Status)
			assert.Contains(t, p.Body, "the database is unavailable; retry")
			assert.NotContains(t, p.Body, "Salve as configurações antes de testar.")
			assert.Empty(t, fieldError(p.Body, "access_token"))
		})
	}
}

var bytes32 = []byte("0123456789abcdef0123456789abcdef")

// TestStoredValuesAreEscaped: what others write and the dashboard shows (an
// organisation's and a key's name, a webhook's name, a customer's profile
// name and message, a receiver's response and a dial error) is text on
// every page, never markup.
func TestStoredValuesAreEscaped(t *testing.T) {
	const evil = `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	f := newFixture(t)
	ctx := context.Background()
	org, err := f.st.CreateOrganization(ctx, "Loja "+evil)
	require.NoError(t, err)
	k, plain, err := f.st.IssueKey(ctx, org.ID, "admin", apikey.Live, apikey.FirstKeyScopes()...)
	require.NoError(t, err)
	f.org, f.key, f.keyID = org, plain, k.ID
	c := f.client().signedIn()

	p := c.post("/dashboard/keys", "/dashboard/keys", url.Values{"name": {"k" + evil}, "mode": {"live"}})
	require.Equal(t, http.StatusCreated, p.Status, p.Body)
	p = c.post("/dashboard/webhooks", "/dashboard/webhooks", url.Values{"name": {"w" + evil}, "url": {"http://127.0.0.1:4000/x"},
		"events": {"message.received"}})
	require.Equal(t, http.StatusCreated, p.Status, p.Body)
	hooks, err := f.st.Webhooks(ctx, org.ID)
	require.NoError(t, err)
	require.Len(t, hooks, 1)
	detail := "/dashboard/webhooks/" + hooks[0].ID
	require.Equal(t, http.StatusSeeOther, c.post(detail, detail+"/test", nil).Status)
	ds, err := f.st.Deliveries(ctx, org.ID, hooks[0].ID, "", 10)
	require.NoError(t, err)
	require.Len(t, ds.Items, 1)
	_, err = f.st.RecordAttempt(ctx, ds.Items[0], store.Attempt{At: f.clock.now(), StatusCode: 500, Response: "r" + evil}, "failed")
	require.NoError(t, err)

	content, _ := json.Marshal(map[string]string{"text": "m" + evil})
	res, err := f.st.RecordInbound(ctx, store.InboundMessage{OrgID: org.ID, From: store.Identity{WaID: "5511988887777", ProfileName: "p" + evil},
		WAMID: "wamid.evil", Type: "text", Timestamp: f.clock.now(), Content: content})
	require.NoError(t, err)

	esc := "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"
	conv := "/dashboard/conversations/" + res.Conversation.ID
	for path, shown := range map[string][]string{
		"/dashboard/settings/whatsapp": {"Loja "}, "/dashboard/keys": {"k"}, "/dashboard/webhooks": {"w"},
		detail: {"w", "r"}, conv: {"p", "m"}, "/dashboard/contacts": {"p"}, "/dashboard/conversations": {"Loja "},
	} {
		body := c.do(http.MethodGet, path, nil).Body
		assert.NotContains(t, body, "<script>alert", path)
		assert.NotContains(t, body, "<img src=x", path)
		assert.NotRegexp(t, `<[a-z]+[^>]*\sonerror=`, body, path)
		for _, prefix := range append(shown, "Loja ") {
			assert.Contains(t, body, prefix+esc, "%s shows %q... as text", path, prefix)
		}
	}
}

// keyLoader counts the session key's reads; it fails while fail is set,
// and each read takes a moment (concurrent first requests overlap).
type keyLoader struct {
	mu    sync.Mutex
	reads int
	fail  error
	key   []byte
}

func (l *keyLoader) load(ctx context.Context) ([]byte, error) {
	time.Sleep(20 * time.Millisecond)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads++
	if l.fail != nil {
		return nil, l.fail
	}
	return l.key, nil
}

func (l *keyLoader) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reads
}

// TestSessionKeyReadOnFirstNeed: the session key is not read at the start,
// nor for a request that needs none (the sign-in page included: its token
// needs no key); concurrent first requests that need it (sign-ins) wait for
// one read, kept for the container's life.
func TestSessionKeyReadOnFirstNeed(t *testing.T) {
	f := newFixture(t)
	l := &keyLoader{key: bytes32}
	var err error
	f.dash, err = dashboard.New(dashboard.Deps{API: f.api, Keys: f.st, Accounts: f.st, Secrets: f.secs, SessionKeyLoader: l.load,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: f.clock.now})
	require.NoError(t, err)
	assert.Equal(t, 0, l.count(), "read at the start")
	for _, path := range []string{"/dashboard", "/dashboard/static/app.css", "/dashboard/lang?to=en", "/dashboard/keys", "/dashboard/login"} {
		p := f.client().do(http.MethodGet, path, nil) // no session cookie: sent to sign in
		require.Less(t, p.Status, 400, path)
	}
	assert.Equal(t, 0, l.count(), "read for a request that needs no key")

	// Eight browsers with the sign-in form, posting it at once.
	evs := make([]events.APIGatewayV2HTTPRequest, 8)
	for i := range evs {
		c := f.client()
		tok := c.do(http.MethodGet, "/dashboard/login", nil).csrf(t)
		ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/dashboard/login",
			Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"},
			Cookies: []string{"__Host-pytake_login=" + tok}, Body: url.Values{"csrf": {tok}, "key": {f.key}}.Encode()}
		ev.RequestContext.HTTP.Method = http.MethodPost
		evs[i] = ev
	}
	assert.Equal(t, 0, l.count(), "read for a sign-in page")
	var wg sync.WaitGroup
	for _, ev := range evs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := f.dash.Serve(context.Background(), ev)
			assert.NoError(t, err)
			assert.Equal(t, http.StatusSeeOther, resp.StatusCode, resp.Body)
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, l.count(), "concurrent first requests read the key once")
	f.client().signedIn()
	assert.Equal(t, 1, l.count(), "the key is kept")
}

// TestSessionKeyUnavailable: when the key cannot be read (Secrets Manager
// failing, a value too short), a request that needs it is answered 500 with
// the error page, saying nothing of the cause; the next request reads again.
func TestSessionKeyUnavailable(t *testing.T) {
	f := newFixture(t)
	l := &keyLoader{key: bytes32, fail: errors.New("session key pytake/prod/dashboard/session-key: AccessDeniedException: arn:aws:iam::123456789012:role/x")}
	var err error
	f.dash, err = dashboard.New(dashboard.Deps{API: f.api, Keys: f.st, Accounts: f.st, Secrets: f.secs, SessionKeyLoader: l.load,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: f.clock.now})
	require.NoError(t, err)
	c := f.client()
	for _, short := range []bool{false, true} {
		if short {
			l.mu.Lock()
			l.fail, l.key = nil, bytes32[:31]
			l.mu.Unlock()
		}
		p := c.signIn(f.key)
		assert.Equal(t, http.StatusInternalServerError, p.Status)
		assert.Equal(t, "text/html; charset=utf-8", p.Headers["Content-Type"])
		assert.NotEmpty(t, p.Headers["Content-Security-Policy"])
		assert.Contains(t, p.Body, "Código da requisição")
		for _, leak := range []string{"session-key", "session key", "AccessDenied", "arn:", "32 bytes"} {
			assert.NotContains(t, p.Body, leak)
		}
	}
	assert.Equal(t, 2, l.count(), "a failed read is not kept")
	l.mu.Lock()
	l.key = bytes32
	l.mu.Unlock()
	c.signedIn()
	assert.Equal(t, 3, l.count())
}

func TestNewNeedsASessionKey(t *testing.T) {
	_, err := dashboard.New(dashboard.Deps{})
	assert.Error(t, err)
	_, err = dashboard.New(dashboard.Deps{SessionKey: bytes32[:31]})
	assert.Error(t, err)
}
