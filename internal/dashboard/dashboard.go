// Package dashboard is PyTake's server-rendered dashboard (/dashboard): the
// guide's "Settings → WhatsApp Business" and "Settings → Webhooks", API
// keys, conversations and contacts, in Portuguese with English as a switch.
//
// Sign-in exchanges an API key holding the admin scope for a signed,
// expiring session cookie (HttpOnly, Secure, SameSite=Strict); every form
// of a session carries a CSRF token derived from it, the sign-in form a
// double-submit one that needs no key (login.go); pages are written by Go
// code with html/template's contextual escaping (render.go), under a
// Content-Security-Policy that allows no inline script. Every
// operation runs through the API's own routes in process (api.InProcess):
// the same validation, scopes, rate limits, tenant scoping and field
// errors as /v1, with no HTTP round trip and no second copy of the rules.
package dashboard

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/store"
)

// SessionTTL is how long a session lasts (not extended by use).
const SessionTTL = 8 * time.Hour

// Sign-in attempts per client address: a burst, then one a second.
const (
	signInBurst = 5
	signInRate  = 1
)

// APIRoutes are the /v1 route groups the dashboard calls (s.call): its
// api.InProcess is built from these alone, so that the dashboard function
// links no other handler. TestAPIRoutesCoverCalls fails when a call's
// route is in none of them.
var APIRoutes = []api.RouteGroup{api.WhatsAppSettingRoutes, api.WebhookRoutes, api.KeyRoutes, api.ConversationRoutes,
	api.ContactReadRoutes}

// API runs /v1 operations as a key (api.InProcess).
type API interface {
	Do(ctx context.Context, k store.APIKey, method, path string, query url.Values, body any) (api.Result, error)
}

// Keys reads API keys for sign-in and for every request of a session.
type Keys interface {
	KeyByHash(ctx context.Context, hash string) (store.APIKey, error)
	APIKey(ctx context.Context, orgID, keyID string) (store.APIKey, error)
	MigrateKeyScopes(ctx context.Context, k store.APIKey) ([]string, error)
	Organization(ctx context.Context, orgID string) (store.Organization, error)
}

// Accounts reads an organisation's WhatsApp account as stored, for what the
// API does not show: when Meta's verification handshake last succeeded.
type Accounts interface {
	WhatsAppAccount(ctx context.Context, orgID string) (store.WhatsAppAccount, error)
}

// Secrets reads an organisation's saved credentials, so that a secret field
// left empty keeps the saved value.
type Secrets interface {
	Get(ctx context.Context, orgID, provider string, v any) error
}

// Limiter limits sign-in attempts (ratelimit.Limiter).
type Limiter interface {
	TakeOne(ctx context.Context, key string, rate, burst int) (store.Take, error)
}

// Deps are the dashboard's collaborators.
type Deps struct {
	API      API
	Keys     Keys
	Accounts Accounts
	Secrets  Secrets
	Limiter  Limiter // nil: sign-in is not limited (tests of other things)
	// The key that signs sessions, at least 32 bytes: SessionKey, or
	// else read by SessionKeyLoader (SessionKeyFrom) on the first
	// request that needs it.
	SessionKey       []byte
	SessionKeyLoader func(ctx context.Context) ([]byte, error)
	Log              *slog.Logger
	Now              func() time.Time
}

// Server serves the dashboard.
type Server struct {
	api      API
	keys     Keys
	accounts Accounts
	secrets  Secrets
	limiter  Limiter
	key      *lazyKey
	log      *slog.Logger
	now      func() time.Time
	rt       *httpapi.Router
}

//go:embed static
var staticFS embed.FS

// New returns a Server; it fails when it is given a short session key, or
// neither a key nor a loader.
func New(d Deps) (*Server, error) {
	key := &lazyKey{load: d.SessionKeyLoader}
	switch {
	case d.SessionKey != nil:
		if err := checkSessionKey(d.SessionKey); err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		key.sign = &signer{key: d.SessionKey}
	case d.SessionKeyLoader == nil:
		return nil, errors.New("dashboard: no session key and no loader for it")
	}
	s := &Server{api: d.API, keys: d.Keys, accounts: d.Accounts, secrets: d.Secrets, limiter: d.Limiter, key: key,
		log: d.Log, now: d.Now}
	s.rt = s.Router()
	return s, nil
}

// Router builds the /dashboard router.
func (s *Server) Router() *httpapi.Router {
	rt := httpapi.NewRouter(s.log, s.now)
	get, post := http.MethodGet, http.MethodPost
	rt.Handle(get, "/dashboard", s.home)
	rt.Handle(get, "/dashboard/static/{file}", s.static)
	rt.Handle(get, "/dashboard/login", s.loginForm)
	rt.Handle(post, "/dashboard/login", s.login)
	rt.Handle(get, "/dashboard/lang", s.switchLang)
	auth := func(method, pattern string, h pageHandler) {
		rt.Handle(method, pattern, s.authed(h))
	}
	auth(post, "/dashboard/logout", s.logout)
	auth(get, "/dashboard/settings/whatsapp", s.whatsapp)
	auth(post, "/dashboard/settings/whatsapp", s.saveWhatsApp)
	auth(post, "/dashboard/settings/whatsapp/test", s.testWhatsApp)
	auth(get, "/dashboard/webhooks", s.webhooks)
	auth(post, "/dashboard/webhooks", s.createWebhook)
	auth(get, "/dashboard/webhooks/{id}", s.webhook)
	auth(post, "/dashboard/webhooks/{id}/test", s.testWebhook)
	auth(post, "/dashboard/webhooks/{id}/rotate", s.rotateWebhook)
	auth(post, "/dashboard/webhooks/{id}/delete", s.deleteWebhook)
	auth(post, "/dashboard/webhooks/{id}/deliveries/{delivery_id}/retry", s.retryDelivery)
	auth(get, "/dashboard/keys", s.apiKeys)
	auth(post, "/dashboard/keys", s.createKey)
	auth(post, "/dashboard/keys/{id}/revoke", s.revokeKey)
	auth(get, "/dashboard/conversations", s.conversations)
	auth(get, "/dashboard/conversations/{id}", s.conversation)
	auth(post, "/dashboard/conversations/{id}/resolve", s.resolveConversation)
	auth(get, "/dashboard/contacts", s.contacts)
	return rt
}

// Serve answers one API Gateway event with the dashboard's security
// headers on every answer, errors included.
func (s *Server) Serve(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	resp, err := s.rt.Serve(ctx, ev)
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	if resp.StatusCode >= 400 && strings.HasPrefix(resp.Headers["Content-Type"], "application/json") {
		resp = s.errorPage(ev, resp)
	}
	for k, v := range securityHeaders {
		resp.Headers[k] = v
	}
	return resp, err
}

// errorPage turns the router's JSON error answer (a failing dependency, an
// unknown path, a malformed form) into a page people can read, with the
// request id to quote.
func (s *Server) errorPage(ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) events.APIGatewayV2HTTPResponse {
	var body struct {
		Error struct {
			Message   string `json:"message"`
			RequestID string `json:"request_id"`
		} `json:"error"`
	}
	_ = json.Unmarshal([]byte(resp.Body), &body)
	lang := language(readCookie(ev.Cookies, langCookie))
	v := view{Lang: lang, Title: "error.title", Path: "/dashboard", Error: body.Error.Message}
	data := map[string]string{"RequestID": body.Error.RequestID}
	if resp.StatusCode == http.StatusNotFound {
		v.Title, v.Error, data["Body"] = "notfound.title", "", "notfound.body"
	}
	page, err := s.render(resp.StatusCode, "message", v, data)
	if err != nil {
		return resp
	}
	for k, val := range page.Headers {
		resp.Headers[k] = val
	}
	resp.Body = string(page.Body)
	return resp
}

// securityHeaders go on every answer. The CSP allows the dashboard's own
// stylesheet and script file only: no inline script or style, no other
// origin, no framing, forms posting only here.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
	"X-Frame-Options":        "DENY",
}

// ctxPage is what an authenticated handler gets.
type ctxPage struct {
	r    *httpapi.Request
	key  store.APIKey
	sess session
	sign signer
	org  store.Organization
	lang string
	form url.Values // POST bodies, parsed
}

type pageHandler func(ctx context.Context, p *ctxPage) (*httpapi.Response, error)

// authed checks the session (signature, expiry, its key still valid and
// admin) and, on POST, the CSRF token; otherwise it sends the browser to
// sign in (or answers 403 for a bad token).
func (s *Server) authed(h pageHandler) httpapi.Handler {
	// One serveAuthed for every page: a closure with authed's body would
	// be compiled again at each of the Router's auth calls (2 KB each).
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		return s.serveAuthed(ctx, r, h)
	}
}

// serveAuthed is authed's check of one request for page h.
func (s *Server) serveAuthed(ctx context.Context, r *httpapi.Request, h pageHandler) (*httpapi.Response, error) {
	lang := language(readCookie(r.Event.Cookies, langCookie))
	raw := readCookie(r.Event.Cookies, sessionCookie)
	if raw == "" {
		return redirect("/dashboard/login"), nil
	}
	sign, err := s.key.signer(ctx)
	if err != nil {
		return nil, err
	}
	sess, err := sign.open(raw, s.now())
	if err != nil {
		resp := redirect("/dashboard/login?m=expired")
		resp.Cookies = []string{hostCookie(sessionCookie, "", 0)}
		return resp, nil
	}
	k, err := s.keys.APIKey(ctx, sess.OrgID, sess.KeyID)
	if apperr.Is(err, apperr.NotFound) {
		resp := redirect("/dashboard/login?m=expired")
		resp.Cookies = []string{hostCookie(sessionCookie, "", 0)}
		return resp, nil
	}
	if err != nil {
		return nil, err
	}
	msg, err := s.admits(ctx, &k)
	if err != nil {
		return nil, err
	}
	if msg != "" {
		resp := redirect("/dashboard/login?m=" + msg)
		resp.Cookies = []string{hostCookie(sessionCookie, "", 0)}
		return resp, nil
	}
	p := &ctxPage{r: r, key: k, sess: sess, sign: sign, lang: lang}
	r.SetOrgID(k.OrgID)
	if r.Method == http.MethodPost {
		form, err := parseForm(r)
		if err != nil {
			return nil, err
		}
		p.form = form
		if crossSite(r) || !sign.checkCSRF(sess.ID, form.Get("csrf")) {
			return s.render(http.StatusForbidden, "message", s.base(p, "", "csrf.title"), map[string]string{"Body": "csrf.body"})
		}
	}
	if p.org, err = s.keys.Organization(ctx, k.OrgID); err != nil {
		return nil, err
	}
	return h(ctx, p)
}

// admits says why a key may not hold a session ("" when it may): revoked,
// test mode, or without the admin scope. It completes the scopes of a key
// stored before scopes existed, as the API does.
func (s *Server) admits(ctx context.Context, k *store.APIKey) (string, error) {
	if k.Revoked() {
		return "revoked", nil
	}
	if k.Mode != apikey.Live {
		return "test", nil
	}
	if k.Scopes == nil {
		scopes, err := s.keys.MigrateKeyScopes(ctx, *k)
		if err != nil {
			return "", err
		}
		k.Scopes = scopes
	}
	if !slices.Contains(k.Scopes, apikey.ScopeAdmin) {
		return "notadmin", nil
	}
	return "", nil
}

// crossSite says whether a POST comes from another site, by what browsers
// send with every form post: Sec-Fetch-Site, or else Origin compared with
// the host the request came to. Requests without either (not a browser)
// are judged by their CSRF token alone.
func crossSite(r *httpapi.Request) bool {
	switch r.Header("sec-fetch-site") {
	case "same-origin":
		return false
	case "":
	default: // same-site (a sibling subdomain), cross-site, none
		return true
	}
	origin := r.Header("origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Header("host"))
}

func parseForm(r *httpapi.Request) (url.Values, error) {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(r.Header("content-type"), ";", 2)[0]))
	if ct != "application/x-www-form-urlencoded" {
		return nil, apperr.Newf(apperr.UnsupportedMedia, "content type %q is not supported, send a form", ct)
	}
	v, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "the form is malformed").WithCause(err)
	}
	return v, nil
}

func redirect(to string) *httpapi.Response {
	return &httpapi.Response{Status: http.StatusSeeOther, Headers: map[string]string{"Location": to, "Cache-Control": "no-store"}}
}

// view is what every page gets (its own data aside).
type view struct {
	Lang     string
	Title    string
	Nav      string
	CSRF     string
	OrgName  string
	KeyLabel string
	Path     string
	Notice   string
	Error    string
	Fields   map[string]string // field name → its error
	Secret   string            // a value shown once (new key, new secret)
}

// T translates a message key into the page's language.
func (v view) T(key string) string { return translate(v.Lang, key) }

// FieldError is the error of one field, "" when none.
func (v view) FieldError(name string) string { return v.Fields[name] }

func (s *Server) base(p *ctxPage, nav, title string) view {
	v := view{Lang: p.lang, Nav: nav, Title: title, Path: pagePath(p.r.Path)}
	if p.sess.ID != "" {
		v.CSRF = p.sign.csrf(p.sess.ID)
		v.OrgName = p.org.Name
		v.KeyLabel = p.key.Prefix + "…" + p.key.Last4
	}
	return v
}

// pagePath is the page a path shows: a form's action path shows the page
// it was posted from, which the language switch returns to.
func pagePath(p string) string {
	if i := strings.Index(p, "/deliveries/"); i > 0 {
		return p[:i]
	}
	for _, action := range []string{"/test", "/rotate", "/delete", "/resolve", "/revoke"} {
		if strings.HasSuffix(p, action) && p != "/dashboard/settings/whatsapp/test" {
			return strings.TrimSuffix(p, action)
		}
	}
	if strings.HasPrefix(p, "/dashboard/keys/") {
		return "/dashboard/keys"
	}
	return strings.TrimSuffix(p, "/test")
}

// withError puts an API error on the page: field details next to their
// fields (events[2] next to events), the message at the top.
func withError(v view, e *apperr.Error) view {
	v.Error = e.Message
	for _, d := range e.Details {
		f := d.Field
		if i := strings.IndexByte(f, '['); i > 0 {
			f = f[:i]
		}
		if f == "" {
			v.Error += " " + d.Issue
			continue
		}
		if v.Fields == nil {
			v.Fields = map[string]string{}
		}
		if v.Fields[f] != "" {
			v.Fields[f] += "; "
		}
		v.Fields[f] += d.Field + " " + d.Issue
	}
	return v
}

// failed renders an API error that is not about fields: 404 (another
// organisation's id, or none) as the not-found page, others as a message.
func (s *Server) failed(p *ctxPage, e *apperr.Error) (*httpapi.Response, error) {
	if e.Kind == apperr.NotFound {
		return s.render(http.StatusNotFound, "message", s.base(p, "", "notfound.title"), map[string]string{"Body": "notfound.body"})
	}
	v := s.base(p, "", "error.title")
	v.Error = e.Message
	status := e.Kind.Status()
	if status == 0 {
		status = http.StatusInternalServerError
	}
	return s.render(status, "message", v, map[string]string{})
}

// keepShownOnce turns a failure to call the API (err) into an internal
// *apperr.Error when v shows a value once (a new key, a new or rotated
// webhook secret), so that the page showing it is still rendered; the
// cause goes to the logs. Otherwise it returns e and err as they are.
func (s *Server) keepShownOnce(ctx context.Context, p *ctxPage, v view, e *apperr.Error, err error) (*apperr.Error, error) {
	if err == nil || v.Secret == "" {
		return e, err
	}
	p.r.Logger().ErrorContext(ctx, "page read failed after a value shown once was made", "error", err.Error())
	return apperr.New(apperr.Internal, "internal error; quote the request id when reporting it"), nil
}

// readFailed answers a page whose reads failed. When the page was to show
// a value once (a key or webhook secret just made, which exists nowhere
// else in clear), the value is still shown, with what failed, and status is
// the write's own; otherwise it is failed's page.
func (s *Server) readFailed(p *ctxPage, status int, v view, e *apperr.Error) (*httpapi.Response, error) {
	if v.Secret == "" {
		return s.failed(p, e)
	}
	kept := s.base(p, v.Nav, v.Title)
	kept.Notice, kept.Secret, kept.Error = v.Notice, v.Secret, e.Message
	return s.render(status, "message", kept, map[string]string{"RequestID": p.r.RequestID})
}

// call runs an API operation as the session's key; an error it answers
// comes back as *apperr.Error, a failure to call it as error.
func (s *Server) call(ctx context.Context, p *ctxPage, method, path string, q url.Values, body any, out any) (*apperr.Error, error) {
	res, err := s.api.Do(ctx, p.key, method, path, q, body)
	if err != nil {
		return nil, err
	}
	if e := res.Err(); e != nil {
		return e, nil
	}
	if out != nil {
		if err := res.Decode(out); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func (s *Server) home(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return redirect("/dashboard/settings/whatsapp"), nil
}

// static serves the embedded stylesheet and script.
func (s *Server) static(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	name := r.Params["file"]
	types := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
	ct, ok := types[path.Ext(name)]
	if !ok || strings.Contains(name, "/") {
		return nil, apperr.New(apperr.NotFound, "no such file")
	}
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "no such file")
	}
	return &httpapi.Response{Status: http.StatusOK, Body: b, Headers: map[string]string{
		"Content-Type": ct, "Cache-Control": "public, max-age=300",
	}}, nil
}

// switchLang sets the language cookie and goes back to the page the link
// was on (a /dashboard path only).
func (s *Server) switchLang(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	lang := language(r.Query.Get("to"))
	back := r.Query.Get("back")
	if !strings.HasPrefix(back, "/dashboard") || strings.HasPrefix(back, "//") || strings.ContainsAny(back, "\\\r\n") {
		back = "/dashboard"
	}
	resp := redirect(back)
	resp.Cookies = []string{cookie(langCookie, lang, 365*24*time.Hour)}
	return resp, nil
}
