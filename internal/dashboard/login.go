package dashboard

import (
	"context"
	"crypto/hmac"
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

// loginToken is the sign-in form's CSRF token: the sign-in cookie's nonce,
// signed (a form from another site cannot sign anyone in to its key).
func (g signer) loginToken(nonce string) string { return b64.EncodeToString(g.mac("login", nonce)) }

func (g signer) checkLogin(nonce, token string) bool {
	got, err := b64.DecodeString(token)
	return err == nil && nonce != "" && token != "" && hmac.Equal(got, g.mac("login", nonce))
}

// loginMessages are the notices ?m= may ask the sign-in page to show.
var loginMessages = map[string]string{
	"expired": "login.expired", "revoked": "login.revoked", "test": "login.test",
	"notadmin": "login.notadmin", "out": "login.out", "invalid": "login.invalid",
}

func (s *Server) loginPage(ctx context.Context, r *httpapi.Request, status int, notice, fieldErr string) (*httpapi.Response, error) {
	sign, err := s.key.signer(ctx)
	if err != nil {
		return nil, err
	}
	nonce, err := randomID()
	if err != nil {
		return nil, err
	}
	p := &ctxPage{r: r, lang: language(readCookie(r.Event.Cookies, langCookie))}
	v := s.base(p, "", "login.title")
	v.CSRF = sign.loginToken(nonce)
	if notice != "" {
		v.Notice = v.T(notice)
	}
	if fieldErr != "" {
		v.Fields = map[string]string{"key": v.T(fieldErr)}
		v.Error = v.T("error.fields")
	}
	resp, err := s.render(status, "login", v, nil)
	if err == nil {
		resp.Cookies = []string{cookie(loginCookie, nonce, loginTTL)}
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
	return s.loginPage(ctx, r, http.StatusOK, loginMessages[r.Query.Get("m")], "")
}

// login exchanges an admin API key for a session. Attempts are limited per
// client address before the key is even parsed.
func (s *Server) login(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	form, err := parseForm(r)
	if err != nil {
		return nil, err
	}
	sign, err := s.key.signer(ctx)
	if err != nil {
		return nil, err
	}
	lang := language(readCookie(r.Event.Cookies, langCookie))
	if crossSite(r) || !sign.checkLogin(readCookie(r.Event.Cookies, loginCookie), form.Get("csrf")) {
		p := &ctxPage{r: r, lang: lang}
		return s.render(http.StatusForbidden, "message", s.base(p, "", "csrf.title"), map[string]string{"Body": "csrf.body"})
	}
	if s.limiter != nil {
		t, err := s.limiter.TakeOne(ctx, "signin#"+clientBucket(r.Event.RequestContext.HTTP.SourceIP), signInRate, signInBurst)
		if err != nil {
			r.Logger().WarnContext(ctx, "sign-in rate limit not checked; attempt let through", "error", err.Error())
		} else if !t.Allowed {
			resp, err := s.loginPage(ctx, r, http.StatusTooManyRequests, "", "login.limited")
			if err == nil {
				resp.Headers["Retry-After"] = strconv.Itoa(max(1, int((t.RetryAfter+time.Second-1)/time.Second)))
			}
			return resp, err
		}
	}
	hash, _, err := apikey.Parse(strings.TrimSpace(form.Get("key")))
	if err != nil {
		return s.loginPage(ctx, r, http.StatusUnauthorized, "", "login.invalid")
	}
	k, err := s.keys.KeyByHash(ctx, hash)
	if apperr.Is(err, apperr.NotFound) {
		return s.loginPage(ctx, r, http.StatusUnauthorized, "", "login.invalid")
	}
	if err != nil {
		return nil, err
	}
	why, err := s.admits(ctx, &k)
	if err != nil {
		return nil, err
	}
	if why != "" {
		return s.loginPage(ctx, r, http.StatusForbidden, "", loginMessages[why])
	}
	sid, err := randomID()
	if err != nil {
		return nil, err
	}
	value := sign.seal(session{OrgID: k.OrgID, KeyID: k.ID, ID: sid, Expires: s.now().Add(SessionTTL).Unix()})
	resp := redirect("/dashboard/settings/whatsapp")
	resp.Cookies = []string{cookie(sessionCookie, value, SessionTTL), cookie(loginCookie, "", 0)}
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
	resp.Cookies = []string{cookie(sessionCookie, "", 0)}
	return resp, nil
}
