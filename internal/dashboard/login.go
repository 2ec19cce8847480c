package dashboard

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/httpapi"
)

// loginTTL bounds how long a sign-in form may be submitted.
const loginTTL = time.Hour

// The sign-in form's CSRF token is a double-submit one, which needs no key
// (the sign-in page does not wait for Secrets Manager at a cold start): a
// random token in the __Host- cookie loginCookie and the same value in the
// form's csrf field, compared in constant time on POST. Another site can
// read neither (the cookie is HttpOnly, the page same-origin), and it cannot
// plant its own token in the cookie: a __Host- cookie is only accepted from
// this host itself over a secure connection, with Path=/ and no Domain, so
// a sibling subdomain cannot set it (which defeats the plain double-submit
// scheme). Each sign-in page sets a new token, and signing in deletes it.

// loginTokenLen is the length of a token randomID makes.
const loginTokenLen = 24

// checkLoginToken says whether the form's token matches the cookie's: both
// present, well formed and equal, compared in constant time.
func checkLoginToken(cookieToken, formToken string) bool {
	if len(cookieToken) != loginTokenLen || len(formToken) != loginTokenLen {
		return false
	}
	if _, err := b64.DecodeString(cookieToken); err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(cookieToken), []byte(formToken)) == 1
}

// loginMessages are the notices ?m= may ask the sign-in page to show.
var loginMessages = map[string]string{
	"expired": "login.expired", "revoked": "login.revoked", "test": "login.test",
	"notadmin": "login.notadmin", "out": "login.out", "invalid": "login.invalid",
}

// loginPage renders the sign-in form with a new token (it reads no key).
func (s *Server) loginPage(r *httpapi.Request, status int, notice, fieldErr string) (*httpapi.Response, error) {
	token, err := randomID()
	if err != nil {
		return nil, err
	}
	p := &ctxPage{r: r, lang: language(readCookie(r.Event.Cookies, langCookie))}
	v := s.base(p, "", "login.title")
	v.CSRF = token
	if notice != "" {
		v.Notice = v.T(notice)
	}
	if fieldErr != "" {
		v.Fields = map[string]string{"key": v.T(fieldErr)}
		v.Error = v.T("error.fields")
	}
	resp, err := s.render(status, "login", v, nil)
	if err == nil {
		resp.Cookies = []string{hostCookie(loginCookie, token, loginTTL)}
	}
	return resp, err
}

func (s *Server) loginForm(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if raw := readCookie(r.Event.Cookies, sessionCookie); raw != "" {
		sign, err := s.key.signer(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := sign.open(raw, s.now()); err == nil {
			return redirect("/dashboard/settings/whatsapp"), nil
		}
	}
	return s.loginPage(r, http.StatusOK, loginMessages[r.Query.Get("m")], "")
}

// login exchanges an admin API key for a session. Attempts are limited per
// client address before the key is even parsed.
func (s *Server) login(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	form, err := parseForm(r)
	if err != nil {
		return nil, err
	}
	lang := language(readCookie(r.Event.Cookies, langCookie))
	if crossSite(r) || !checkLoginToken(readCookie(r.Event.Cookies, loginCookie), form.Get("csrf")) {
		p := &ctxPage{r: r, lang: lang}
		return s.render(http.StatusForbidden, "message", s.base(p, "", "csrf.title"), map[string]string{"Body": "csrf.body"})
	}
	if s.limiter != nil {
		t, err := s.limiter.TakeOne(ctx, "signin#"+clientBucket(r.Event.RequestContext.HTTP.SourceIP), signInRate, signInBurst)
		if err != nil {
			r.Logger().WarnContext(ctx, "sign-in rate limit not checked; attempt let through", "error", err.Error())
		} else if !t.Allowed {
			resp, err := s.loginPage(r, http.StatusTooManyRequests, "", "login.limited")
			if err == nil {
				resp.Headers["Retry-After"] = strconv.Itoa(max(1, int((t.RetryAfter+time.Second-1)/time.Second)))
			}
			return resp, err
		}
	}
	hash, _, err := apikey.Parse(strings.TrimSpace(form.Get("key")))
	if err != nil {
		return s.loginPage(r, http.StatusUnauthorized, "", "login.invalid")
	}
	k, err := s.keys.KeyByHash(ctx, hash)
	if apperr.Is(err, apperr.NotFound) {
		return s.loginPage(r, http.StatusUnauthorized, "", "login.invalid")
	}
	if err != nil {
		return nil, err
	}
	why, err := s.admits(ctx, &k)
	if err != nil {
		return nil, err
	}
	if why != "" {
		return s.loginPage(r, http.StatusForbidden, "", loginMessages[why])
	}
	sign, err := s.key.signer(ctx)
	if err != nil {
		return nil, err
	}
	sid, err := randomID()
	if err != nil {
		return nil, err
	}
	value := sign.seal(session{OrgID: k.OrgID, KeyID: k.ID, ID: sid, Expires: s.now().Add(SessionTTL).Unix()})
	resp := redirect("/dashboard/settings/whatsapp")
	resp.Cookies = []string{hostCookie(sessionCookie, value, SessionTTL), hostCookie(loginCookie, "", 0)}
	r.SetOrgID(k.OrgID)
	r.Logger().InfoContext(ctx, "dashboard sign-in", "org_id", k.OrgID, "key_id", k.ID)
	return resp, nil
}

// clientBucket is the sign-in limit's bucket for a client address: API
// Gateway's source address (the TCP peer's; no header the client writes),
// an IPv4 address as it is, an IPv6 one by its /64 (a host's own: one
// client may take any address in it).
func clientBucket(sourceIP string) string {
	a, err := netip.ParseAddr(sourceIP)
	if err != nil {
		return sourceIP
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
}

func (s *Server) logout(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	resp := redirect("/dashboard/login?m=out")
	resp.Cookies = []string{hostCookie(sessionCookie, "", 0)}
	return resp, nil
}
