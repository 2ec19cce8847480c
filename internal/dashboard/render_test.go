package dashboard

import (
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/store"
)

var updatePages = flag.Bool("update", false, "rewrite testdata/pages from the renderer")

// hostile is what a stored value may hold: markup, both quotes, an
// ampersand, a plus, a javascript: URL, a NUL, non-ASCII and a URL's
// delimiters.
const hostile = "\"><script>alert(1)</script>'&+ javascript:alert(1) \x00ção/?#%"

// pageCases render every page through each of its branches, with hostile
// values wherever a value is shown. testdata/pages holds what
// html/template rendered for them (generated before the pages were
// rendered without it): the pages must stay byte for byte the same.
func pageCases() map[string]struct {
	name string
	v    view
	data any
} {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("BRT", -3*3600))
	later := at.Add(90 * time.Minute)
	h := hostile
	signedIn := func(lang, nav, title string) view {
		return view{Lang: lang, Nav: nav, Title: title, CSRF: "csrf" + h, OrgName: "Loja " + h, KeyLabel: "pytake_live_" + h, Path: "/dashboard/x" + h}
	}
	full := func(v view, fields ...string) view {
		v.Notice, v.Error, v.Secret = "notice"+h, "error"+h, "secret"+h
		v.Fields = map[string]string{}
		for _, f := range fields {
			v.Fields[f] = f + h
		}
		return v
	}
	four := 4
	longResp := strings.Repeat("é", 150) + h + strings.Repeat("x", 100)
	test := &connectionTest{OK: false, Error: &struct {
		Code    int    `json:"code"`
		Subcode int    `json:"subcode"`
		Type    string `json:"type"`
		Message string `json:"message"`
		Details string `json:"details"`
	}{Code: 190, Subcode: 463, Type: "OAuthException" + h, Message: "msg" + h, Details: "det" + h}}
	wa := whatsappSettings{PhoneNumberID: "p" + h, WABAID: "w" + h, GraphAPIVersion: "v" + h, AccessToken: "EA…" + h,
		AppSecret: "as…" + h, VerifyToken: "vt…" + h, Healthy: false, UnhealthyReason: "reason" + h}
	hookA := store.Webhook{ID: "wh_" + h, Name: "name" + h, URL: "javascript:alert(1)" + h, Events: []string{"message.received", "e" + h}, Active: true}
	hookB := store.Webhook{ID: "wh_b", URL: "https://example.com/b", Events: []string{"*"}, Active: false, DisabledReason: "dr" + h}
	deliveries := []store.Delivery{
		{ID: "dl_" + h, Event: "ev" + h, Status: "failed" + h, CreatedAt: at, NextAt: &later,
			Attempts: []store.Attempt{{StatusCode: 200}, {StatusCode: 500, LatencyMS: 42, Response: longResp}}},
		{ID: "dl_b", Event: "message.sent", Status: "pending", CreatedAt: at, Attempts: []store.Attempt{{Error: "dial" + h, LatencyMS: 7, Response: "short" + h}}},
		{ID: "dl_c", Event: "message.read", Status: "pending", CreatedAt: at},
	}
	keys := []store.APIKey{
		{ID: "key_self", Name: "self" + h, Mode: "live", Prefix: "pytake_live_", Last4: "ab" + h, CreatedAt: at, LastUsedAt: &later, Scopes: []string{"admin", "s" + h}},
		{ID: "key_" + h, Name: "gone" + h, Mode: "test", Prefix: "pytake_test_", Last4: "zz", CreatedAt: at, RevokedAt: &later},
	}
	msgs := []messageRow{
		{Message: store.Message{Direction: "inbound", Timestamp: at, Status: "received" + h}, Text: "hi" + h},
		{Message: store.Message{Direction: "outbound", Status: "sent"}, Text: "[image]"},
	}
	contacts := []store.Contact{
		{ID: "ct_a", WhatsAppID: "55" + h, ProfileName: "p" + h, Tags: []string{"t1" + h, "t2"},
			Attributes: map[string]any{"z": "last" + h, "a" + h: 1.5, "big": 1e21, "yes": true, "none": nil, "list": []any{"x", 2.0}, "obj": map[string]any{"k": "v"}}},
		{ID: "ct_b", Name: "Name" + h, WhatsAppID: "5511"},
	}
	return map[string]struct {
		name string
		v    view
		data any
	}{
		"login":            {"login", full(view{Lang: langPT, Title: "login.title", Path: "/dashboard/login", CSRF: "tok" + h}, "key"), nil},
		"login-en":         {"login", view{Lang: langEN, Title: "login.title", Path: "/dashboard/login", CSRF: "tok"}, nil},
		"message":          {"message", full(signedIn(langPT, "", "notfound.title")), map[string]string{"Body": "notfound.body", "RequestID": "req" + h}},
		"message-empty":    {"message", view{Lang: langEN, Title: "error.title", Path: "/dashboard", Error: "e" + h}, map[string]string{}},
		"message-nosess":   {"message", view{Lang: langPT, Title: "csrf.title", Path: "/dashboard/login", OrgName: "o" + h}, map[string]string{"Body": "csrf.body"}},
		"whatsapp-failed":  {"whatsapp", full(signedIn(langPT, "whatsapp", "wa.title"), "phone_number_id", "waba_id", "access_token", "app_secret", "verify_token", "graph_api_version"), whatsappData{Saved: true, Settings: wa, Form: map[string]string{"phone_number_id": "f" + h, "waba_id": "g" + h, "graph_api_version": "v" + h}, Test: test, CallbackURL: "https://" + h + "/webhooks/whatsapp"}},
		"whatsapp-ok":      {"whatsapp", signedIn(langEN, "whatsapp", "wa.title"), whatsappData{Saved: true, Settings: whatsappSettings{Healthy: true, AccessToken: "EA…1234"}, Form: map[string]string{}, Test: &connectionTest{OK: true, PhoneNumberID: "pn" + h, DisplayPhoneNumber: "+55 " + h, VerifiedName: "vn" + h, QualityRating: "GREEN" + h}, CallbackURL: "https://x/webhooks/whatsapp", VerifiedAt: &at}},
		"whatsapp-new":     {"whatsapp", signedIn(langPT, "whatsapp", "wa.title"), whatsappData{Form: map[string]string{}, CallbackURL: "http://localhost/webhooks/whatsapp"}},
		"whatsapp-noerr":   {"whatsapp", signedIn(langPT, "whatsapp", "wa.title"), whatsappData{Saved: true, Settings: whatsappSettings{Healthy: false}, Form: map[string]string{}, Test: &connectionTest{}}},
		"webhooks":         {"webhooks", full(signedIn(langPT, "webhooks", "wh.title"), "name", "url", "events", "secret"), webhooksData{Hooks: []store.Webhook{hookA, hookB}, Events: event.Catalogue(), Form: map[string]string{"name": "n" + h, "url": "u" + h}, Checked: []string{"*", "message.received"}}},
		"webhooks-empty":   {"webhooks", signedIn(langEN, "webhooks", "wh.title"), webhooksData{Events: event.Catalogue(), Form: map[string]string{}}},
		"webhook":          {"webhook", full(signedIn(langPT, "webhooks", "wh.title"), "secret"), webhookData{Hook: hookA, Deliveries: deliveries, Next: "cur" + h}},
		"webhook-empty":    {"webhook", signedIn(langEN, "webhooks", "wh.title"), webhookData{Hook: hookB}},
		"keys":             {"keys", full(signedIn(langPT, "keys", "keys.title"), "name", "mode", "scopes"), keysData{Keys: keys, Scopes: []string{"admin", "messages:send", "x" + h}, Form: map[string]string{"name": "n" + h, "mode": "test"}, Checked: []string{"x" + h}, Self: "key_self"}},
		"keys-default":     {"keys", signedIn(langEN, "keys", "keys.title"), keysData{Scopes: []string{"admin"}, Form: map[string]string{"mode": "live"}}},
		"conversations":    {"conversations", signedIn(langPT, "conversations", "conv.title"), conversationsData{Status: "open", Items: []store.Conversation{{ID: "cv_" + h, ContactID: "ct" + h, Status: "open" + h, MessageCount: 12, LastMessageAt: &at}, {ID: "cv_b"}}, Next: "cur" + h}},
		"conversations-r":  {"conversations", signedIn(langEN, "conversations", "conv.title"), conversationsData{Status: "resolved"}},
		"conversation":     {"conversation", full(signedIn(langPT, "conversations", "conv.title"), "satisfaction"), conversationData{Conv: store.Conversation{ID: "cv_" + h, ContactID: "ct" + h, Status: "open", MessageCount: 3}, Contact: store.Contact{ProfileName: "pn" + h, WhatsAppID: "wa" + h}, Messages: msgs, Next: "cur" + h, Form: map[string]string{"satisfaction": "3"}}},
		"conversation-r":   {"conversation", signedIn(langEN, "conversations", "conv.title"), conversationData{Conv: store.Conversation{ID: "cv_r", Status: "resolved", Satisfaction: &four}, Form: map[string]string{}}},
		"conversation-odd": {"conversation", signedIn(langPT, "conversations", "conv.title"), conversationData{Conv: store.Conversation{ID: "cv_o", Status: "open" + h}, Form: map[string]string{"satisfaction": h}}},
		"contacts":         {"contacts", full(signedIn(langPT, "contacts", "contacts.title"), "tag"), contactsData{Tag: "tag" + h, Items: contacts, Next: "cur" + h}},
		"contacts-empty":   {"contacts", signedIn(langEN, "contacts", "contacts.title"), contactsData{}},
	}
}

// TestPagesRender: every page renders as recorded in testdata/pages (go
// test -run TestPagesRender ./internal/dashboard/ -update rewrites them).
func TestPagesRender(t *testing.T) {
	s, err := New(Deps{SessionKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range pageCases() {
		t.Run(name, func(t *testing.T) {
			resp, err := s.render(http.StatusOK, c.name, c.v, c.data)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join("testdata", "pages", name+".html")
			if *updatePages {
				if err := os.WriteFile(file, resp.Body, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(resp.Body); got != string(want) {
				t.Errorf("%s differs from %s:\n%s", name, file, firstDiff(string(want), got))
			}
		})
	}
}

// firstDiff shows where two renderings part.
func firstDiff(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := max(0, i-120)
	return "want: …" + want[from:min(len(want), i+120)] + "\n got: …" + got[from:min(len(got), i+120)]
}

func TestEscapers(t *testing.T) {
	for _, c := range []struct{ in, esc, query, url string }{
		{"plain-text_1.~", "plain-text_1.~", "plain-text_1.~", "plain-text_1.~"},
		{`<script>alert("x")</script>`, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "%3cscript%3ealert%28%22x%22%29%3c%2fscript%3e", "%3cscript%3ealert%28%22x%22%29%3c/script%3e"},
		{`a' onmouseover='x`, "a&#39; onmouseover=&#39;x", "a%27%20onmouseover%3d%27x", "a%27%20onmouseover=%27x"},
		{"a&b+c", "a&amp;b&#43;c", "a%26b%2bc", "a&amp;b&#43;c"},
		{"nul\x00", "nul\uFFFD", "nul%00", "nul%00"},
		{"ção", "ção", "%c3%a7%c3%a3o", "%c3%a7%c3%a3o"},
		{"/p?q=1#f%2F%zz", "/p?q=1#f%2F%zz", "%2fp%3fq%3d1%23f%252F%25zz", "/p?q=1#f%2F%25zz"},
		{"javascript:alert(1)", "javascript:alert(1)", "javascript%3aalert%281%29", "#ZgotmplZ"},
		{"JavaScript:alert(1)", "JavaScript:alert(1)", "JavaScript%3aalert%281%29", "#ZgotmplZ"},
		{" javascript:alert(1)", " javascript:alert(1)", "%20javascript%3aalert%281%29", "#ZgotmplZ"},
		{"data:text/html,<script>", "data:text/html,&lt;script&gt;", "data%3atext%2fhtml%2c%3cscript%3e", "#ZgotmplZ"},
		{"vbscript:x", "vbscript:x", "vbscript%3ax", "#ZgotmplZ"},
		{"https://example.com/a b", "https://example.com/a b", "https%3a%2f%2fexample.com%2fa%20b", "https://example.com/a%20b"},
		{"mailto:a@b.c", "mailto:a@b.c", "mailto%3aa%40b.c", "mailto:a@b.c"},
		{"/dashboard/webhooks/javascript:x", "/dashboard/webhooks/javascript:x", "%2fdashboard%2fwebhooks%2fjavascript%3ax", "/dashboard/webhooks/javascript:x"},
	} {
		var e, u html
		e.esc(c.in)
		u.url(c.in)
		if e.b.String() != c.esc || queryEscape(c.in) != c.query || u.b.String() != c.url {
			t.Errorf("%q: esc %q (want %q), queryEscape %q (want %q), url %q (want %q)",
				c.in, e.b.String(), c.esc, queryEscape(c.in), c.query, u.b.String(), c.url)
		}
	}
}

var (
	startTag   = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	wellFormed = regexp.MustCompile(`^<[a-z][a-z0-9]*(\s+[a-z][a-z-]*(="[^"<>]*")?)*\s*>$`)
	attr       = regexp.MustCompile(`\s([a-z][a-z-]*)(?:="([^"]*)")?`)
)

// TestHostileValues: on every page, a stored or typed value is text or
// an attribute's value, never markup, an attribute or a URL's scheme; no
// page has inline script or style, or an event handler (the CSP would
// block them: a page that needed one would be broken).
func TestHostileValues(t *testing.T) {
	s, err := New(Deps{SessionKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range pageCases() {
		resp, err := s.render(http.StatusOK, c.name, c.v, c.data)
		if err != nil {
			t.Fatal(err)
		}
		body := string(resp.Body)
		for _, bad := range []string{"<script>alert", "'&+ javascript", `"><script`, "\x00", `="javascript`, `"#ZgotmplZ`} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
		if n := strings.Count(body, "<script"); n != 1 || !strings.Contains(body, `<script src="/dashboard/static/app.js" defer></script>`) {
			t.Errorf("%s has %d script elements, want only app.js", name, n)
		}
		// Every start tag: a name, then attributes, each quoted, none an
		// event handler or a style; every URL starts with / or #.
		for _, tag := range startTag.FindAllString(body, -1) {
			if !wellFormed.MatchString(tag) {
				t.Errorf("%s: tag %s", name, tag)
			}
			for _, a := range attr.FindAllStringSubmatch(tag, -1) {
				if strings.HasPrefix(a[1], "on") || a[1] == "style" ||
					(a[1] == "href" || a[1] == "action" || a[1] == "src") && !strings.HasPrefix(a[2], "/") && !strings.HasPrefix(a[2], "#") {
					t.Errorf("%s: attribute %s in %s", name, a[0], tag)
				}
			}
		}
		if strings.Contains(body, "<style") {
			t.Errorf("%s has a style element", name)
		}
	}
	// A value in a URL's path or query cannot end the attribute or start
	// a scheme.
	resp, err := s.render(http.StatusOK, "conversations", view{Lang: langEN, Title: "conv.title"},
		conversationsData{Items: []store.Conversation{{ID: `x" onclick="alert(1)`}}, Next: `javascript:alert(1)"`})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`href="/dashboard/conversations/x%22%20onclick=%22alert%281%29"`,
		`href="/dashboard/conversations?status=&amp;cursor=javascript%3aalert%281%29%22"`} {
		if !strings.Contains(string(resp.Body), want) {
			t.Errorf("want %s in\n%s", want, resp.Body)
		}
	}
}
