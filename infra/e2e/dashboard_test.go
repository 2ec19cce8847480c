//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/browser"
	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/infra/local/stack"
)

// TestDashboard does the guide's two dashboard steps by clicking, in
// headless Chromium against the local stack: sign in with the demo key;
// Settings → WhatsApp Business: save the settings and test the connection
// (the simulator answers as Meta); Settings → Webhooks: create one with the
// guide's values (secret abc123) and see its delivery after a customer
// writes; then create and revoke an API key and resolve the customer's
// conversation. No page may log a console error (CSP violations included),
// throw, or fail a request.
//
// With PYTAKE_SCREENSHOTS=<dir> it saves the main pages there as PNGs (the
// README's screenshots come from infra/docs/dashboard).
func TestDashboard(t *testing.T) {
	if path, ok := browser.Available(browser.Options{}); !ok {
		t.Fatalf("chromium not found at %s: make chromium installs it", path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b, err := browser.Start(ctx, browser.Options{Width: 1280, Height: 900})
	require.NoError(t, err)
	defer b.Close()
	p, err := b.Open(ctx, st.URL+"/dashboard")
	require.NoError(t, err)
	defer p.Close()

	shots := os.Getenv("PYTAKE_SCREENSHOTS")
	shot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		png, err := chromedp.Run(p.Ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(shots, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644))
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(p.Ctx, actions...), what)
	}
	// submit clicks a button and waits for the next page to show text.
	submit := func(button, text string) {
		t.Helper()
		run("click "+button, chromedp.Click(chromedp.CSS(button)))
		require.NoError(t, p.WaitFor(fmt.Sprintf(`document.readyState === "complete" && !!document.body && document.body.innerText.includes(%q)`, text), 60*time.Second),
			"after %s the page does not show %q", button, text)
	}
	// fill sets a field's value as typing would end (a select's too).
	fill := func(sel, v string) {
		t.Helper()
		q, _ := json.Marshal(sel)
		val, _ := json.Marshal(v)
		ok, err := browser.Eval[bool](p, fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false;
			e.focus(); e.value = %s; e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`, q, val))
		require.NoError(t, err)
		require.True(t, ok, "no field %s", sel)
	}
	body := func() string {
		s, err := browser.Eval[string](p, `document.body.innerText`)
		require.NoError(t, err)
		return s
	}

	// Sign in: the demo key, exchanged for a cookie Chromium keeps as
	// Secure on http://127.0.0.1 (a secure context, like localhost).
	require.NoError(t, p.WaitFor(`!!document.querySelector("#key")`, 30*time.Second), "the sign-in page")
	shot("login")
	cookies := func() map[string]*network.Cookie {
		t.Helper()
		jar, err := chromedp.Run(p.Ctx, chromedp.Action[network.GetCookiesResult](func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
			return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{st.URL + "/dashboard"}})
		}))
		require.NoError(t, err)
		m := map[string]*network.Cookie{}
		for _, c := range jar.Cookies {
			m[c.Name] = c
		}
		return m
	}
	// The sign-in form's token: a __Host- cookie, which Chromium keeps on
	// http://127.0.0.1 too (a secure context), and the same value in the form.
	login := cookies()["__Host-pytake_login"]
	require.NotNil(t, login, "Chromium kept no sign-in token cookie")
	assert.Equal(t, "/", login.Path)
	assert.True(t, login.Secure && login.HTTPOnly, "Secure, HttpOnly")
	formToken, err := browser.Eval[string](p, `document.querySelector('form[action="/dashboard/login"] input[name=csrf]').value`)
	require.NoError(t, err)
	assert.Equal(t, login.Value, formToken, "the form carries the cookie's token")
	run("type the key", chromedp.SendKeys(chromedp.CSS("#key"), demo.APIKey.Key))
	submit(`form[action="/dashboard/login"] button[type=submit]`, "Configurações → WhatsApp Business")
	jar := cookies()
	session := jar["__Host-pytake_session"]
	assert.Nil(t, jar["__Host-pytake_login"], "signing in deletes the sign-in token")
	require.NotNil(t, session, "Chromium kept no session cookie")
	assert.True(t, session.Secure, "Secure")
	assert.True(t, session.HTTPOnly, "HttpOnly")
	assert.Equal(t, network.CookieSameSiteStrict, session.SameSite)
	hidden, err := browser.Eval[bool](p, `!document.cookie.includes("pytake_session")`)
	require.NoError(t, err)
	assert.True(t, hidden, "scripts cannot read the session")

	// Settings → WhatsApp Business: the demo number's credentials, saved
	// (Meta, the simulator, confirms the number), then tested.
	for id, v := range map[string]string{"#phone_number_id": stack.DemoPhoneNumberID, "#waba_id": stack.DemoWABAID,
		"#access_token": stack.DemoAccessToken, "#app_secret": stack.DemoAppSecret, "#verify_token": stack.DemoVerifyToken} {
		fill(id, v)
	}
	submit(`form[action="/dashboard/settings/whatsapp"] button[type=submit]`, "Salvo.")
	assert.NotContains(t, body(), stack.DemoAccessToken, "the token is never shown")
	submit("#test-connection", "Conexão OK")
	text := body()
	assert.Contains(t, text, "PyTake Demo")
	assert.Contains(t, text, "15550783881")
	assert.Contains(t, text, st.URL+"/webhooks/whatsapp", "the callback URL for Meta's console")
	// Meta's "Verify and save" with the token: the page says Meta has called.
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {stack.DemoVerifyToken}, "hub.challenge": {"1158201444"}}
	require.Equal(t, 200, do(t, "GET", "/webhooks/whatsapp?"+q.Encode(), "", nil).Status, "Meta's handshake")
	run("reload", chromedp.Navigate(st.URL+"/dashboard/settings/whatsapp"))
	require.NoError(t, p.WaitFor(`!!document.querySelector("#verification") && document.querySelector("#verification").innerText.includes("a Meta verificou a URL com este token")`, 30*time.Second))
	submit("#test-connection", "Conexão OK")
	shot("whatsapp")

	// Settings → Webhooks → Create Webhook, with the guide's values.
	sub := newSubscriber(t)
	sub.secret = "abc123"
	run("webhooks", chromedp.Navigate(st.URL+"/dashboard/webhooks"))
	require.NoError(t, p.WaitFor(`!!document.querySelector("#url")`, 30*time.Second))
	run("fill the webhook",
		chromedp.SendKeys(chromedp.CSS("#name"), "CRM"),
		chromedp.SendKeys(chromedp.CSS("#url"), sub.url),
		chromedp.Click(chromedp.CSS(`input[name=events][value="message.received"]`)),
		chromedp.Click(chromedp.CSS(`input[name=events][value="conversation.resolved"]`)),
		chromedp.SendKeys(chromedp.CSS("#secret"), "abc123"))
	submit(`form[action="/dashboard/webhooks"] button[type=submit]`, "Webhook criado.")
	secret, err := browser.Eval[string](p, `document.querySelector("#secret-once").textContent`)
	require.NoError(t, err)
	assert.Equal(t, "abc123", secret, "the secret, shown once")
	hookPath, err := browser.Eval[string](p, fmt.Sprintf(`(() => { for (const a of document.querySelectorAll('a[href^="/dashboard/webhooks/wh_"]')) {
		if (a.closest("tr").innerText.includes(%q)) return a.getAttribute("href"); } return ""; })()`, sub.url))
	require.NoError(t, err)
	require.NotEmpty(t, hookPath, "the new webhook in the list")
	t.Cleanup(func() {
		do(t, "DELETE", "/v1/webhooks/"+strings.TrimPrefix(hookPath, "/dashboard/webhooks/"), demo.APIKey.Key, nil)
	})
	shot("webhooks")

	// A customer writes: the endpoint gets message.received, signed with abc123.
	customer := fmt.Sprintf("55119%08d", time.Now().UnixNano()%100_000_000)
	_, status, err := st.Sim.Inbound(ctx, graphsim.Inbound{PhoneNumberID: stack.DemoPhoneNumberID, From: customer, Name: "Maria",
		Text: "Oi! Vocês entregam em Campinas?"})
	require.NoError(t, err)
	require.Equal(t, 200, status)
	got := sub.wait(t, 1, 90*time.Second)
	require.NoError(t, got[0].verified, "the delivery verifies with abc123")
	var ev struct {
		Event string `json:"event"`
	}
	require.NoError(t, json.Unmarshal(got[0].body, &ev))
	assert.Equal(t, "message.received", ev.Event)

	// Its delivery in the webhook's log: delivered, HTTP 200.
	run("the webhook's page", chromedp.Navigate(st.URL+hookPath))
	require.NoError(t, p.WaitFor(`(() => { const t = document.querySelector("#deliveries"); return !!t && t.innerText.includes("message.received") && t.innerText.includes("200"); })()`, 60*time.Second),
		"the delivery log shows the delivery")
	shot("webhook-deliveries")
	submit("#send-test", "Evento de teste enviado")

	// API keys: create one, then revoke it; the API refuses it afterwards.
	run("keys", chromedp.Navigate(st.URL+"/dashboard/keys"))
	require.NoError(t, p.WaitFor(`!!document.querySelector("#name")`, 30*time.Second))
	run("fill the key", chromedp.SendKeys(chromedp.CSS("#name"), "dashboard-e2e"),
		chromedp.Click(chromedp.CSS(`input[name=scopes][value="contacts:read"]`)))
	submit(`form[action="/dashboard/keys"] button[type=submit]`, "Chave criada.")
	newKey, err := browser.Eval[string](p, `document.querySelector("#secret-once").textContent`)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(newKey, "pytake_live_"), newKey)
	assert.Equal(t, 200, do(t, "GET", "/v1/contacts", newKey, nil).Status, "the new key works")
	revoke := `(() => { for (const tr of document.querySelectorAll("#keys tbody tr")) {
		if (tr.innerText.includes("dashboard-e2e")) { tr.querySelector("form button").click(); return true; } } return false; })()`
	clicked, err := browser.Eval[bool](p, revoke)
	require.NoError(t, err)
	require.True(t, clicked, "a revoke button on the key's row")
	require.NoError(t, p.WaitFor(`!!document.body && document.body.innerText.includes("Chave revogada.")`, 60*time.Second))
	shot("keys") // after the revocation: the new key's banner is gone
	r := do(t, "GET", "/v1/contacts", newKey, nil)
	assert.Equal(t, 401, r.Status)
	assert.Equal(t, "api_key_revoked", r.errorCode(t))

	// Conversations: the customer's, resolved with satisfaction 5.
	var convs struct {
		Data []struct {
			ID        string `json:"id"`
			ContactID string `json:"contact_id"`
		} `json:"data"`
	}
	var contacts struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	do(t, "GET", "/v1/contacts?whatsapp_id=%2B"+customer, demo.APIKey.Key, nil).json(t, &contacts)
	require.Len(t, contacts.Data, 1)
	do(t, "GET", "/v1/conversations?status=open&contact_id="+contacts.Data[0].ID, demo.APIKey.Key, nil).json(t, &convs)
	require.Len(t, convs.Data, 1)
	conv := convs.Data[0].ID
	run("conversations", chromedp.Navigate(st.URL+"/dashboard/conversations"))
	require.NoError(t, p.WaitFor(fmt.Sprintf(`!!document.body && document.body.innerText.includes(%q)`, conv), 30*time.Second), "the open conversation is listed")
	shot("conversations")
	run("open it", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/dashboard/conversations/%s"]`, conv))))
	require.NoError(t, p.WaitFor(`!!document.querySelector("#resolve") && !!document.body && document.body.innerText.includes("Vocês entregam em Campinas?")`, 30*time.Second))
	fill("#satisfaction", "5")
	shot("conversation")
	submit("#resolve", "Conversa resolvida.")
	status2, err := browser.Eval[string](p, `document.querySelector("#conv-status").innerText`)
	require.NoError(t, err)
	assert.Contains(t, status2, "resolved")
	// The webhook subscribed conversation.resolved: it arrives too.
	// (after message.received and the test's webhook.test)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		sub.mu.Lock()
		defer sub.mu.Unlock()
		found := false
		for _, r := range sub.got {
			if strings.Contains(string(r.body), `"event":"conversation.resolved"`) {
				found = true
				assert.NoError(c, r.verified)
			}
		}
		assert.True(c, found, "conversation.resolved delivered")
	}, 90*time.Second, 200*time.Millisecond)

	// English, as a switch.
	run("switch", chromedp.Click(chromedp.CSS(`a[href^="/dashboard/lang?to=en"]`)))
	require.NoError(t, p.WaitFor(`!!document.documentElement && document.documentElement.lang === "en" && !!document.body && document.body.innerText.includes("Conversations")`, 30*time.Second))

	assert.Empty(t, p.Problems(), "console errors, exceptions or failed requests")
}
