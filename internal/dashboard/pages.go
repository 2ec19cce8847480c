package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
)

// ------------------------------------------------------------ WhatsApp

// whatsappSettings is GET /v1/settings/whatsapp's answer (secrets masked).
type whatsappSettings struct {
	PhoneNumberID   string `json:"phone_number_id"`
	WABAID          string `json:"waba_id"`
	GraphAPIVersion string `json:"graph_api_version"`
	AccessToken     string `json:"access_token"`
	AppSecret       string `json:"app_secret"`
	VerifyToken     string `json:"verify_token"`
	Healthy         bool   `json:"healthy"`
	UnhealthyReason string `json:"unhealthy_reason"`
}

// connectionTest is POST /v1/settings/whatsapp/test's answer.
type connectionTest struct {
	OK                 bool   `json:"ok"`
	PhoneNumberID      string `json:"phone_number_id"`
	DisplayPhoneNumber string `json:"display_phone_number"`
	VerifiedName       string `json:"verified_name"`
	QualityRating      string `json:"quality_rating"`
	Error              *struct {
		Code    int    `json:"code"`
		Subcode int    `json:"subcode"`
		Type    string `json:"type"`
		Message string `json:"message"`
		Details string `json:"details"`
	} `json:"error"`
}

type whatsappData struct {
	Saved       bool
	Settings    whatsappSettings
	Form        map[string]string // values typed (never the secrets)
	Test        *connectionTest
	CallbackURL string
	// VerifiedAt: Meta's verification handshake last succeeded with the
	// saved verify token (nil: not since it was saved).
	VerifiedAt *time.Time
	// readErr: the saved settings could not be read (not "none saved"):
	// nothing may be saved or tested on the guess that there are none.
	readErr *apperr.Error
}

// callbackURL is the stack's Meta webhook, from the host this request came
// to (API Gateway sets X-Forwarded-Proto).
func callbackURL(r *httpapi.Request) string {
	proto := r.Header("x-forwarded-proto")
	if proto != "http" {
		proto = "https"
	}
	host := r.Header("host")
	if host == "" {
		host = r.Event.RequestContext.DomainName
	}
	return proto + "://" + host + "/webhooks/whatsapp"
}

func (s *Server) whatsappView(ctx context.Context, p *ctxPage) (view, whatsappData, error) {
	v := s.base(p, "whatsapp", "wa.title")
	d := whatsappData{CallbackURL: callbackURL(p.r)}
	e, err := s.call(ctx, p, http.MethodGet, "/v1/settings/whatsapp", nil, nil, &d.Settings)
	switch {
	case err != nil:
		return v, d, err
	case e == nil:
		d.Saved = true
		if s.accounts != nil {
			a, err := s.accounts.WhatsAppAccount(ctx, p.key.OrgID)
			if err != nil && !apperr.Is(err, apperr.NotFound) {
				return v, d, err
			}
			d.VerifiedAt = a.VerifiedAt
		}
	case e.Kind != apperr.NotFound:
		v.Error, d.readErr = e.Message, e
	}
	d.Form = map[string]string{"phone_number_id": d.Settings.PhoneNumberID, "waba_id": d.Settings.WABAID,
		"graph_api_version": d.Settings.GraphAPIVersion}
	return v, d, nil
}

func (s *Server) whatsapp(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	v, d, err := s.whatsappView(ctx, p)
	if err != nil {
		return nil, err
	}
	if d.readErr != nil {
		return s.render(d.readErr.Kind.Status(), "whatsapp", v, d)
	}
	return s.render(http.StatusOK, "whatsapp", v, d)
}

// saveWhatsApp saves the settings through PUT /v1/settings/whatsapp (which
// asks Meta whether the number is these credentials'); a secret field left
// empty keeps the saved secret.
func (s *Server) saveWhatsApp(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	v, d, err := s.whatsappView(ctx, p)
	if err != nil {
		return nil, err
	}
	if d.readErr != nil { // empty secret fields could not be kept
		return s.render(d.readErr.Kind.Status(), "whatsapp", v, d)
	}
	f := p.form
	in := secrets.WhatsApp{
		PhoneNumberID: strings.TrimSpace(f.Get("phone_number_id")), WABAID: strings.TrimSpace(f.Get("waba_id")),
		GraphAPIVersion: strings.TrimSpace(f.Get("graph_api_version")),
		AccessToken:     strings.TrimSpace(f.Get("access_token")), AppSecret: strings.TrimSpace(f.Get("app_secret")),
		VerifyToken: strings.TrimSpace(f.Get("verify_token")),
	}
	d.Form = map[string]string{"phone_number_id": in.PhoneNumberID, "waba_id": in.WABAID, "graph_api_version": in.GraphAPIVersion}
	if d.Saved && (in.AccessToken == "" || in.AppSecret == "" || in.VerifyToken == "") {
		var cur secrets.WhatsApp
		if err := s.secrets.Get(ctx, p.key.OrgID, secrets.ProviderWhatsApp, &cur); err != nil && !apperr.Is(err, apperr.NotFound) {
			return nil, err
		}
		in.AccessToken = cmpOr(in.AccessToken, cur.AccessToken)
		in.AppSecret = cmpOr(in.AppSecret, cur.AppSecret)
		in.VerifyToken = cmpOr(in.VerifyToken, cur.VerifyToken)
	}
	e, err := s.call(ctx, p, http.MethodPut, "/v1/settings/whatsapp", nil, in, &d.Settings)
	if err != nil {
		return nil, err
	}
	if e != nil {
		return s.render(e.Kind.Status(), "whatsapp", withError(v, e), d)
	}
	d.Saved = true
	v.Notice = v.T("saved")
	return s.render(http.StatusOK, "whatsapp", v, d)
}

// testWhatsApp runs POST /v1/settings/whatsapp/test: Meta's answer for the
// saved number, or Meta's error.
func (s *Server) testWhatsApp(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	v, d, err := s.whatsappView(ctx, p)
	if err != nil {
		return nil, err
	}
	if d.readErr != nil {
		return s.render(d.readErr.Kind.Status(), "whatsapp", v, d)
	}
	if !d.Saved {
		v.Error = v.T("wa.test.none")
		return s.render(http.StatusConflict, "whatsapp", v, d)
	}
	var t connectionTest
	e, err := s.call(ctx, p, http.MethodPost, "/v1/settings/whatsapp/test", nil, nil, &t)
	if err != nil {
		return nil, err
	}
	if e != nil {
		return s.render(e.Kind.Status(), "whatsapp", withError(v, e), d)
	}
	d.Test = &t
	// The test may have marked the connection unhealthy (Meta's 190).
	if _, err := s.call(ctx, p, http.MethodGet, "/v1/settings/whatsapp", nil, nil, &d.Settings); err != nil {
		return nil, err
	}
	return s.render(http.StatusOK, "whatsapp", v, d)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ------------------------------------------------------------ Webhooks

type webhooksData struct {
	Hooks   []store.Webhook
	Events  []event.Kind
	Form    map[string]string
	Checked []string
	Created *store.Webhook
}

func (s *Server) webhooksPage(ctx context.Context, p *ctxPage, status int, v view, d webhooksData) (*httpapi.Response, error) {
	var list store.Page[store.Webhook]
	e, err := s.call(ctx, p, http.MethodGet, "/v1/webhooks", nil, nil, &list)
	if e, err = s.keepShownOnce(ctx, p, v, e, err); err != nil {
		return nil, err
	}
	if e != nil {
		return s.readFailed(p, status, v, e)
	}
	d.Hooks = list.Items
	d.Events = event.Catalogue()
	if d.Form == nil {
		d.Form = map[string]string{}
	}
	return s.render(status, "webhooks", v, d)
}

func (s *Server) webhooks(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	v := s.base(p, "webhooks", "wh.title")
	if p.r.Query.Get("done") == "deleted" {
		v.Notice = v.T("wh.deleted")
	}
	return s.webhooksPage(ctx, p, http.StatusOK, v, webhooksData{})
}

// createWebhook is the guide's "Create Webhook": name, URL, event
// checkboxes and an optional secret, through POST /v1/webhooks. The
// secret is shown this once.
func (s *Server) createWebhook(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	v := s.base(p, "webhooks", "wh.title")
	f := p.form
	body := map[string]any{"url": f.Get("url"), "events": f["events"]}
	if f["events"] == nil {
		body["events"] = []string{}
	}
	if n := strings.TrimSpace(f.Get("name")); n != "" {
		body["name"] = n
	}
	if sec := f.Get("secret"); sec != "" {
		body["secret"] = sec
	}
	d := webhooksData{Form: map[string]string{"name": f.Get("name"), "url": f.Get("url")}, Checked: f["events"]}
	var created struct {
		store.Webhook
		Secret string `json:"secret"`
	}
	e, err := s.call(ctx, p, http.MethodPost, "/v1/webhooks", nil, body, &created)
	if err != nil {
		return nil, err
	}
	if e != nil {
		return s.webhooksPage(ctx, p, e.Kind.Status(), withError(v, e), d)
	}
	v.Notice, v.Secret = v.T("wh.created"), created.Secret
	d = webhooksData{Created: &created.Webhook}
	return s.webhooksPage(ctx, p, http.StatusCreated, v, d)
}

type webhookData struct {
	Hook       store.Webhook
	Deliveries []store.Delivery
	Next       string
}

func (s *Server) webhookPage(ctx context.Context, p *ctxPage, status int, v view) (*httpapi.Response, error) {
	id := p.r.Params["id"]
	var d webhookData
	e, err := s.call(ctx, p, http.MethodGet, "/v1/webhooks/"+url.PathEscape(id), nil, nil, &d.Hook)
	if e, err = s.keepShownOnce(ctx, p, v, e, err); err != nil {
		return nil, err
	}
	if e != nil {
		return s.readFailed(p, status, v, e)
	}
	q := url.Values{"limit": {"20"}}
	if c := p.r.Query.Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	var page store.Page[store.Delivery]
	e, err = s.call(ctx, p, http.MethodGet, "/v1/webhooks/"+url.PathEscape(id)+"/deliveries", q, nil, &page)
	if e, err = s.keepShownOnce(ctx, p, v, e, err); err != nil {
		return nil, err
	}
	if e != nil {
		return s.readFailed(p, status, v, e)
	}
	d.Deliveries, d.Next = page.Items, page.NextCursor
	return s.render(status, "webhook", v, d)
}

func (s *Server) webhook(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	v := s.base(p, "webhooks", "wh.title")
	switch p.r.Query.Get("done") {
	case "tested":
		v.Notice = v.T("wh.tested")
	case "resent":
		v.Notice = v.T("wh.resent")
	}
	return s.webhookPage(ctx, p, http.StatusOK, v)
}

func (s *Server) webhookAction(ctx context.Context, p *ctxPage, method, apiPath string, body any, done string) (*httpapi.Response, error) {
	e, err := s.call(ctx, p, method, apiPath, nil, body, nil)
	if err != nil {
		return nil, err
	}
	if e != nil {
		if e.Kind == apperr.NotFound {
			return s.failed(p, e)
		}
		return s.webhookPage(ctx, p, e.Kind.Status(), withError(s.base(p, "webhooks", "wh.title"), e))
	}
	if done == "deleted" {
		return redirect("/dashboard/webhooks?done=deleted"), nil
	}
	return redirect("/dashboard/webhooks/" + url.PathEscape(p.r.Params["id"]) + "?done=" + done), nil
}

func (s *Server) testWebhook(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	return s.webhookAction(ctx, p, http.MethodPost, "/v1/webhooks/"+url.PathEscape(p.r.Params["id"])+"/test", nil, "tested")
}

func (s *Server) retryDelivery(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	return s.webhookAction(ctx, p, http.MethodPost, "/v1/webhooks/"+url.PathEscape(p.r.Params["id"])+"/deliveries/"+
		url.PathEscape(p.r.Params["delivery_id"])+"/retry", nil, "resent")
}

func (s *Server) deleteWebhook(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	return s.webhookAction(ctx, p, http.MethodDelete, "/v1/webhooks/"+url.PathEscape(p.r.Params["id"]), nil, "deleted")
}

// rotateWebhook makes a new secret (or takes the one typed) and shows it
// once.
func (s *Server) rotateWebhook(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	v := s.base(p, "webhooks", "wh.title")
	body := map[string]any{}
	if sec := p.form.Get("secret"); sec != "" {
		body["secret"] = sec
	}
	var out struct {
		Secret string `json:"secret"`
	}
	e, err := s.call(ctx, p, http.MethodPost, "/v1/webhooks/"+url.PathEscape(p.r.Params["id"])+"/rotate-secret", nil, body, &out)
	if err != nil {
		return nil, err
	}
	if e != nil {
		if e.Kind == apperr.NotFound {
			return s.failed(p, e)
		}
		return s.webhookPage(ctx, p, e.Kind.Status(), withError(v, e))
	}
	v.Notice, v.Secret = v.T("wh.rotated"), out.Secret
	return s.webhookPage(ctx, p, http.StatusOK, v)
}

// ------------------------------------------------------------ API keys

type keysData struct {
	Keys    []store.APIKey
	Scopes  []string
	Form    map[string]string
	Checked []string
	Self    string
}

func (s *Server) keysPage(ctx context.Context, p *ctxPage, status int, v view, d keysData) (*httpapi.Response, error) {
	var list store.Page[store.APIKey]
	e, err := s.call(ctx, p, http.MethodGet, "/v1/api-keys", url.Values{"limit": {"100"}}, nil, &list)
	if e, err = s.keepShownOnce(ctx, p, v, e, err); err != nil {
		return nil, err
	}
	if e != nil {
		return s.readFailed(p, status, v, e)
	}
	d.Keys, d.Scopes, d.Self = list.Items, apikey.Scopes(), p.key.ID
	if d.Form == nil {
		d.Form = map[string]string{"mode": apikey.Live}
	}
	return s.render(status, "keys", v, d)
}

func (s *Server) apiKeys(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	v := s.base(p, "keys", "keys.title")
	if p.r.Query.Get("done") == "revoked" {
		v.Notice = v.T("keys.revokedmsg")
	}
	return s.keysPage(ctx, p, http.StatusOK, v, keysData{})
}

// createKey issues a key through POST /v1/api-keys and shows it once.
func (s *Server) createKey(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	v := s.base(p, "keys", "keys.title")
	f := p.form
	body := map[string]any{"name": f.Get("name"), "mode": f.Get("mode")}
	if len(f["scopes"]) > 0 {
		body["scopes"] = f["scopes"]
	}
	var created struct {
		Key string `json:"key"`
	}
	d := keysData{Form: map[string]string{"name": f.Get("name"), "mode": f.Get("mode")}, Checked: f["scopes"]}
	e, err := s.call(ctx, p, http.MethodPost, "/v1/api-keys", nil, body, &created)
	if err != nil {
		return nil, err
	}
	if e != nil {
		return s.keysPage(ctx, p, e.Kind.Status(), withError(v, e), d)
	}
	v.Notice, v.Secret = v.T("keys.created"), created.Key
	return s.keysPage(ctx, p, http.StatusCreated, v, keysData{})
}

func (s *Server) revokeKey(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	e, err := s.call(ctx, p, http.MethodDelete, "/v1/api-keys/"+url.PathEscape(p.r.Params["id"]), nil, nil, nil)
	if err != nil {
		return nil, err
	}
	if e != nil {
		if e.Kind == apperr.NotFound {
			return s.failed(p, e)
		}
		return s.keysPage(ctx, p, e.Kind.Status(), withError(s.base(p, "keys", "keys.title"), e), keysData{})
	}
	return redirect("/dashboard/keys?done=revoked"), nil
}

// ------------------------------------------------------------ Conversations

type conversationsData struct {
	Status string
	Items  []store.Conversation
	Next   string
}

func (s *Server) conversations(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	v := s.base(p, "conversations", "conv.title")
	status := p.r.Query.Get("status")
	if status != store.ConversationResolved {
		status = store.ConversationOpen
	}
	q := url.Values{"status": {status}, "limit": {"20"}}
	if c := p.r.Query.Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	var page store.Page[store.Conversation]
	e, err := s.call(ctx, p, http.MethodGet, "/v1/conversations", q, nil, &page)
	if err != nil {
		return nil, err
	}
	if e != nil {
		return s.failed(p, e)
	}
	return s.render(http.StatusOK, "conversations", v, conversationsData{Status: status, Items: page.Items, Next: page.NextCursor})
}

// messageRow is a message as the conversation page lists it.
type messageRow struct {
	store.Message
	Text string
}

type conversationData struct {
	Conv     store.Conversation
	Contact  store.Contact
	Messages []messageRow
	Next     string
	Form     map[string]string
}

func (s *Server) conversationPage(ctx context.Context, p *ctxPage, status int, v view, form map[string]string) (*httpapi.Response, error) {
	id := url.PathEscape(p.r.Params["id"])
	d := conversationData{Form: form}
	e, err := s.call(ctx, p, http.MethodGet, "/v1/conversations/"+id, nil, nil, &d.Conv)
	if err != nil {
		return nil, err
	}
	if e != nil {
		return s.failed(p, e)
	}
	if e, err = s.call(ctx, p, http.MethodGet, "/v1/contacts/"+url.PathEscape(d.Conv.ContactID), nil, nil, &d.Contact); err != nil {
		return nil, err
	}
	if e != nil && e.Kind != apperr.NotFound { // a deleted contact leaves its conversations
		return s.failed(p, e)
	}
	q := url.Values{"limit": {"50"}}
	if c := p.r.Query.Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	var page store.Page[store.Message]
	if e, err = s.call(ctx, p, http.MethodGet, "/v1/conversations/"+id+"/messages", q, nil, &page); err != nil {
		return nil, err
	}
	if e != nil {
		return s.failed(p, e)
	}
	for _, m := range page.Items {
		d.Messages = append(d.Messages, messageRow{Message: m, Text: messageText(m)})
	}
	d.Next = page.NextCursor
	if d.Form == nil {
		d.Form = map[string]string{}
	}
	return s.render(status, "conversation", v, d)
}

// messageText is what a message says, for the list: its text, caption or
// body; its type otherwise.
func messageText(m store.Message) string {
	var c map[string]any
	if json.Unmarshal(m.Content, &c) == nil {
		for _, k := range []string{"text", "caption", "body"} {
			if s, ok := c[k].(string); ok && s != "" {
				return s
			}
		}
		if t, ok := c["text"].(map[string]any); ok {
			if s, ok := t["body"].(string); ok {
				return s
			}
		}
		if t, ok := c["template"].(map[string]any); ok {
			if s, ok := t["name"].(string); ok {
				return "template " + s
			}
		}
	}
	return "[" + m.Type + "]"
}

func (s *Server) conversation(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	v := s.base(p, "conversations", "conv.title")
	if p.r.Query.Get("done") == "resolved" {
		v.Notice = v.T("conv.resolvedmsg")
	}
	return s.conversationPage(ctx, p, http.StatusOK, v, nil)
}

// resolveConversation resolves through PATCH /v1/conversations/{id}, with
// the satisfaction if one was chosen (conversation.resolved follows).
func (s *Server) resolveConversation(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	body := map[string]any{"status": store.ConversationResolved}
	sat := strings.TrimSpace(p.form.Get("satisfaction"))
	v := s.base(p, "conversations", "conv.title")
	if sat != "" {
		n, err := strconv.Atoi(sat)
		if err != nil {
			v = withError(v, apperr.Field("satisfaction", "must be an integer from 1 to 5"))
			return s.conversationPage(ctx, p, http.StatusUnprocessableEntity, v, map[string]string{"satisfaction": sat})
		}
		body["satisfaction"] = n
	}
	e, err := s.call(ctx, p, http.MethodPatch, "/v1/conversations/"+url.PathEscape(p.r.Params["id"]), nil, body, nil)
	if err != nil {
		return nil, err
	}
	if e != nil {
		if e.Kind == apperr.NotFound {
			return s.failed(p, e)
		}
		return s.conversationPage(ctx, p, e.Kind.Status(), withError(v, e), map[string]string{"satisfaction": sat})
	}
	return redirect("/dashboard/conversations/" + url.PathEscape(p.r.Params["id"]) + "?done=resolved"), nil
}

// ------------------------------------------------------------ Contacts

type contactsData struct {
	Tag   string
	Items []store.Contact
	Next  string
}

func (s *Server) contacts(ctx context.Context, p *ctxPage) (*httpapi.Response, error) {
	v := s.base(p, "contacts", "contacts.title")
	q := url.Values{"limit": {"20"}}
	tag := strings.TrimSpace(p.r.Query.Get("tag"))
	if tag != "" {
		q.Set("tag", tag)
	}
	if c := p.r.Query.Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	var page store.Page[store.Contact]
	e, err := s.call(ctx, p, http.MethodGet, "/v1/contacts", q, nil, &page)
	if err != nil {
		return nil, err
	}
	d := contactsData{Tag: tag}
	if e != nil {
		if len(e.Details) == 0 {
			return s.failed(p, e)
		}
		return s.render(e.Kind.Status(), "contacts", withError(v, e), d)
	}
	d.Items, d.Next = page.Items, page.NextCursor
	return s.render(http.StatusOK, "contacts", v, d)
}
