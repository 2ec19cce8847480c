package dashboard

import (
	"flag"
	"net/http"
	"os"
	"path/filepath"
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
