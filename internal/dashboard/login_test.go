package dashboard_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/dashboard"
)

const (
	loginCookie   = "__Host-pytake_login"
	sessionCookie = "__Host-pytake_session"
)

// guardedSecrets is Secrets Manager for the session key that fails the test
// when it is called while closed, and passes calls to next once opened.
type guardedSecrets struct {
	t    *testing.T
	next dashboard.SecretsAPI
	mu   sync.Mutex
	open bool
	what string // what the test is doing, for the failure message
}

func (g *guardedSecrets) allow(what string, open bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open, g.what = open, what
}

func (g *guardedSecrets) check() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.open {
		g.t.Errorf("Secrets Manager called for %s", g.what)
		return errors.New("guardedSecrets: closed")
	}
	return nil
}

func (g *guardedSecrets) GetSecretValue(ctx context.Context, in *awsapi.GetSecretValueInput) (*awsapi.GetSecretValueOutput, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	return g.next.GetSecretValue(ctx, in)
}

func (g *guardedSecrets) CreateSecret(ctx context.Context, in *awsapi.CreateSecretInput) error {
	if err := g.check(); err != nil {
		return err
	}
	return g.next.CreateSecret(ctx, in)
}

// guarded is a fixture whose dashboard reads its session key through a
// guardedSecrets, closed.
func guarded(t *testing.T) (*fixture, *guardedSecrets) {
	f := newFixture(t)
	g := &guardedSecrets{t: t, next: f.sec}
	var err error
	f.dash, err = dashboard.New(dashboard.Deps{API: f.api, Keys: f.st, Accounts: f.st, Secrets: f.secs,
		SessionKeyLoader: dashboard.SessionKeyFrom(g, dashboard.SessionKeyName("pytake/test/")),
		Log:              slog.New(slog.NewTextHandler(io.Discard, nil)), Now: f.clock.now})
	require.NoError(t, err)
	return f, g
}

func setCookie(t *testing.T, p page, name string) *http.Cookie {
	t.Helper()
	for _, sc := range p.Cookies {
		c, err := http.ParseSetCookie(sc)
		require.NoError(t, err)
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestSignInPageNeedsNoKey: the sign-in page (a cold start's usual first
// request) does not call Secrets Manager; its token is a random value in a
// __Host- cookie and the form.
func TestSignInPageNeedsNoKey(t *testing.T) {
	f, g := guarded(t)
	g.allow("the sign-in page", false)
	c := f.client()
	for _, path := range []string{"/dashboard/login", "/dashboard/login?m=expired", "/dashboard/login"} {
		p := c.do(http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, p.Status, p.Body)
		ck := setCookie(t, p, loginCookie)
		require.NotNil(t, ck, "no sign-in cookie: %v", p.Cookies)
		assert.Equal(t, p.csrf(t), ck.Value, "the form carries the cookie's token")
		assert.Len(t, ck.Value, 24, "18 random bytes")
		assert.Equal(t, "/", ck.Path, "__Host- demands Path=/")
		assert.Empty(t, ck.Domain, "__Host- demands no Domain")
		assert.True(t, ck.Secure)
		assert.True(t, ck.HttpOnly)
		assert.Equal(t, http.SameSiteStrictMode, ck.SameSite)
		assert.Equal(t, 3600, ck.MaxAge)
		// A shared cache keeping the page would hand one token to many
		// browsers (with its Set-Cookie): it is never stored.
		assert.Equal(t, "no-store", p.Headers["Cache-Control"])
	}
	assert.NotEqual(t, c.do(http.MethodGet, "/dashboard/login", nil).csrf(t), c.do(http.MethodGet, "/dashboard/login", nil).csrf(t),
		"every page a new token")
}

// TestSignInToken: a sign-in post is refused (403, the CSRF page, no
// session, no key read) unless its form's token equals its __Host- cookie's;
// the browser's own form signs in through the real handler.
func TestSignInToken(t *testing.T) {
	f, g := guarded(t)
	mine := f.client()
	tok := mine.do(http.MethodGet, "/dashboard/login", nil).csrf(t)
	theirs := f.client().do(http.MethodGet, "/dashboard/login", nil).csrf(t)
	const other = "AAAAAAAAAAAAAAAAAAAAAAAA" // well formed, never issued
	for _, tc := range []struct {
		name    string
		cookies map[string]string // the request's cookies (nil: none)
		form    url.Values
	}{
		{"no cookie", nil, url.Values{"csrf": {tok}}},
		{"no token", map[string]string{loginCookie: tok}, url.Values{}},
		{"empty token", map[string]string{loginCookie: tok}, url.Values{"csrf": {""}}},
		{"empty token and cookie", map[string]string{loginCookie: ""}, url.Values{"csrf": {""}}},
		{"mismatched token", map[string]string{loginCookie: tok}, url.Values{"csrf": {other}}},
		{"token from another response", map[string]string{loginCookie: tok}, url.Values{"csrf": {theirs}}},
		{"token with a changed letter", map[string]string{loginCookie: tok}, url.Values{"csrf": {tok[:23] + string(tok[23]^1)}}},
		{"token prefix", map[string]string{loginCookie: tok}, url.Values{"csrf": {tok[:12]}}},
		{"token twice as long", map[string]string{loginCookie: tok + tok}, url.Values{"csrf": {tok + tok}}},
		{"malformed token equal to the cookie", map[string]string{loginCookie: "!!!!!!!!!!!!!!!!!!!!!!!!"}, url.Values{"csrf": {"!!!!!!!!!!!!!!!!!!!!!!!!"}}},
		// A sibling subdomain can set cookies without the prefix (or, in a
		// browser checking it case-sensitively, with another case) for the
		// whole domain: only the exact __Host- name is read.
		{"unprefixed cookie planted", map[string]string{"pytake_login": other}, url.Values{"csrf": {other}}},
		{"lower-case prefix planted", map[string]string{"__host-pytake_login": other}, url.Values{"csrf": {other}}},
		{"__Secure- prefix planted", map[string]string{"__Secure-pytake_login": other}, url.Values{"csrf": {other}}},
		// Nor a name that only becomes it once Unicode white space is
		// trimmed: a browser takes "\u2000__Host-pytake_login" for an
		// ordinary cookie (the prefix is not at its start), which any
		// sibling subdomain may set ("cookie chaos" prefix bypass).
		{"prefix after U+2000 planted", map[string]string{"\u2000" + loginCookie: other}, url.Values{"csrf": {other}}},
		{"prefix after a no-break space planted", map[string]string{"\u00a0" + loginCookie: other}, url.Values{"csrf": {other}}},
		{"prefix after U+0085 planted", map[string]string{"\u0085" + loginCookie: other}, url.Values{"csrf": {other}}},
		{"prefix before U+3000 planted", map[string]string{loginCookie + "\u3000": other}, url.Values{"csrf": {other}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g.allow("a refused sign-in ("+tc.name+")", false)
			c := f.client()
			for k, v := range tc.cookies {
				c.cookies[k] = v
			}
			tc.form.Set("key", f.key)
			p := c.do(http.MethodPost, "/dashboard/login", tc.form)
			assert.Equal(t, http.StatusForbidden, p.Status)
			assert.Contains(t, p.Body, "Este formulário não pôde ser verificado")
			assert.Nil(t, setCookie(t, p, sessionCookie))
		})
	}

	t.Run("an earlier page's token, after a new page", func(t *testing.T) {
		g.allow("a refused sign-in (stale token)", false)
		c := f.client()
		old := c.do(http.MethodGet, "/dashboard/login", nil).csrf(t)
		c.do(http.MethodGet, "/dashboard/login", nil)
		p := c.do(http.MethodPost, "/dashboard/login", url.Values{"csrf": {old}, "key": {f.key}})
		assert.Equal(t, http.StatusForbidden, p.Status)
	})

	t.Run("a wrong key re-renders the form with a new token, no key read", func(t *testing.T) {
		g.allow("a refused key", false)
		c := f.client()
		tok := c.do(http.MethodGet, "/dashboard/login", nil).csrf(t)
		p := c.do(http.MethodPost, "/dashboard/login", url.Values{"csrf": {tok}, "key": {"pytake_live_nope"}})
		assert.Equal(t, http.StatusUnauthorized, p.Status)
		again := p.csrf(t)
		assert.NotEqual(t, tok, again)
		assert.Equal(t, again, c.cookies[loginCookie])
	})

	t.Run("happy path", func(t *testing.T) {
		g.allow("signing in", true)
		p := mine.do(http.MethodPost, "/dashboard/login", url.Values{"csrf": {tok}, "key": {f.key}})
		require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
		assert.Equal(t, "/dashboard/settings/whatsapp", p.Headers["Location"])
		assert.NotEmpty(t, mine.cookies[sessionCookie])
		gone := setCookie(t, p, loginCookie)
		require.NotNil(t, gone, "the sign-in token is deleted")
		assert.Less(t, gone.MaxAge, 0)
		assert.Equal(t, "/", gone.Path, "deleted where it was set")
		assert.Empty(t, mine.cookies[loginCookie])
		assert.Equal(t, http.StatusOK, mine.do(http.MethodGet, "/dashboard/keys", nil).Status)
	})
}

// TestSignInTokenFixation: an attacker's own token (from its own sign-in
// page) is of no use against a victim: the victim's browser sends its own
// cookie, so the attacker's form (with its token) does not match, and the
// page always sets a new token rather than keeping one the request brought.
func TestSignInTokenFixation(t *testing.T) {
	f, g := guarded(t)
	g.allow("fixation", false)
	attacker := f.client()
	tok := attacker.do(http.MethodGet, "/dashboard/login", nil).csrf(t)

	victim := f.client()
	victim.cookies[loginCookie] = tok // had it been planted, the page replaces it
	p := victim.do(http.MethodGet, "/dashboard/login", nil)
	assert.NotEqual(t, tok, p.csrf(t), "a token the request brought is not kept")
	assert.NotEqual(t, tok, victim.cookies[loginCookie])
	p = victim.do(http.MethodPost, "/dashboard/login", url.Values{"csrf": {tok}, "key": {f.key}})
	assert.Equal(t, http.StatusForbidden, p.Status)
	assert.Empty(t, victim.cookies[sessionCookie])
}
