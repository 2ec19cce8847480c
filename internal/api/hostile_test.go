package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// TestHostileText: invalid UTF-8 (raw bytes, or a lone surrogate escape
// that a decoder would swap for U+FFFD) is refused in every body, and
// control characters (NUL, BEL, ESC, newlines, DEL, C1) in every field that
// is a name, a tag, a key or an identifier rather than free text; each
// answer names the field, and nothing is stored.
func TestHostileText(t *testing.T) {
	tbl := storetest.New(t)
	now := func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) }
	st := store.New(tbl.Client, tbl.Name, now)
	ctx := context.Background()
	a, _ := st.CreateOrganization(ctx, "A")
	_, ka, _ := st.IssueKey(ctx, a.ID, "a", apikey.Live)
	in, err := st.RecordInbound(ctx, store.InboundMessage{OrgID: a.ID, From: store.Identity{WaID: "5511988887777"}, WAMID: "wamid.A1", Type: "text",
		Timestamp: now(), Content: json.RawMessage(`{"text":"oi"}`), Raw: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	f := newFullFixture(t, st, now)
	contact := in.Contact.ID
	conv := in.Conversation.ID

	tests := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"contact name, invalid UTF-8", "POST", "/v1/contacts", "{\"whatsapp_id\":\"+5511911112222\",\"name\":\"Jo\xffo\"}", 400, "name"},
		{"contact name, lone surrogate", "POST", "/v1/contacts", `{"whatsapp_id":"+5511911112222","name":"Jo\ud800o"}`, 400, "name"},
		{"contact name, NUL", "POST", "/v1/contacts", `{"whatsapp_id":"+5511911112222","name":"Jo\u0000o"}`, 422, "name"},
		{"contact name, newline", "POST", "/v1/contacts", `{"whatsapp_id":"+5511911112222","name":"Jo\no"}`, 422, "name"},
		{"contact name, C1", "POST", "/v1/contacts", `{"whatsapp_id":"+5511911112222","name":"Jo\u009bo"}`, 422, "name"},
		{"contact tag, BEL", "POST", "/v1/contacts", `{"whatsapp_id":"+5511911112222","tags":["ok","v\u0007ip"]}`, 422, "tags[1]"},
		{"contact attribute key, ESC", "POST", "/v1/contacts", `{"whatsapp_id":"+5511911112222","attributes":{"pl\u001ban":"x"}}`, 422, "attributes.pl\x1ban"},
		{"invalid UTF-8 in an attribute value", "POST", "/v1/contacts", "{\"whatsapp_id\":\"+5511911112222\",\"attributes\":{\"plan\":\"\xc3\x28\"}}", 400, "attributes.plan"},
		{"invalid UTF-8 in a key", "POST", "/v1/contacts", "{\"whatsapp_id\":\"+5511911112222\",\"attributes\":{\"p\xfflan\":\"x\"}}", 400, "attributes"},
		{"patched contact name, DEL", "PATCH", "/v1/contacts/" + contact, `{"name":"Bi\u007fa"}`, 422, "name"},
		{"added tag, NUL", "POST", "/v1/contacts/" + contact + "/tags", `{"tags":["\u0000"]}`, 422, "tags[0]"},
		{"API key name, NUL", "POST", "/v1/api-keys", `{"name":"ci\u0000","mode":"live"}`, 422, "name"},
		{"webhook name, CR", "POST", "/v1/webhooks", `{"name":"C\rRM","url":"https://crm.example.com/h","events":["*"]}`, 422, "name"},
		{"conversation assignee, NUL", "PATCH", "/v1/conversations/" + conv, `{"assignee":"ana\u0000"}`, 422, "assignee"},
		{"chatbot name, NUL", "POST", "/v1/chatbots", `{"name":"Bot\u0000","fallback":{"type":"text","text":"?"}}`, 422, "name"},
		{"message text, invalid UTF-8", "POST", "/v1/messages", "{\"to\":\"+5511988887777\",\"text\":\"ol\xe1\"}", 400, "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := f.call(tt.method, tt.path, ka, tt.body)
			var e struct {
				Error struct {
					Details []struct{ Field string } `json:"details"`
				} `json:"error"`
			}
			_ = json.Unmarshal([]byte(body), &e)
			named := false
			for _, d := range e.Error.Details {
				named = named || d.Field == tt.field
			}
			if code != tt.status || !named {
				t.Fatalf("%d %s; want %d naming %q", code, body, tt.status, tt.field)
			}
		})
	}
	// Nothing of it was stored.
	if code, body := f.call("GET", "/v1/contacts?limit=100", ka, ""); code != 200 || strings.Contains(body, "5511911112222") {
		t.Fatalf("contacts: %d %s", code, body)
	}
	// Free text keeps its newlines; names keep their accents.
	if code, body := f.call("POST", "/v1/contacts", ka, `{"whatsapp_id":"+5511911113333","name":"João Ñandú","tags":["São Paulo"],"attributes":{"nota":"linha 1\nlinha 2"}}`); code != 201 {
		t.Fatalf("good contact: %d %s", code, body)
	}
}
