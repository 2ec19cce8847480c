package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

func newContactFixture(t *testing.T) (*fixture, *eventtest.Recorder, string, string) {
	tbl := storetest.New(t)
	evs := &eventtest.Recorder{}
	stream := storetest.NewStream(tbl.Client)
	stream.Relay = evs.Outbox
	st := store.New(stream, tbl.Name, time.Now)
	ctx := context.Background()
	a, _ := st.CreateOrganization(ctx, "A")
	b, _ := st.CreateOrganization(ctx, "B")
	_, ka, _ := st.IssueKey(ctx, a.ID, "a", apikey.Live)
	_, kb, _ := st.IssueKey(ctx, b.ID, "b", apikey.Live)
	srv := api.New(api.Deps{Store: st, Contacts: st, Events: evs, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now})
	return &fixture{t: t, router: srv.Router()}, evs, ka, kb
}

func TestContacts(t *testing.T) {
	f, evs, ka, kb := newContactFixture(t)
	// The guide's example.
	code, body := f.call("POST", "/v1/contacts", ka, `{"whatsapp_id":"+55 11 99999-9999","name":"Maria Silva","email":"maria@example.com","tags":["cliente"," vip ","cliente"],"attributes":{"plan":"pro","orders":3,"newsletter":true}}`)
	var c struct {
		ID         string         `json:"id"`
		WhatsAppID string         `json:"whatsapp_id"`
		Tags       []string       `json:"tags"`
		Attributes map[string]any `json:"attributes"`
	}
	_ = json.Unmarshal([]byte(body), &c)
	if code != 201 || c.WhatsAppID != "+5511999999999" || len(c.Tags) != 2 || c.Attributes["orders"] != float64(3) {
		t.Fatalf("create: %d %s", code, body)
	}
	// The same number again: 409 naming the existing contact.
	code, body = f.call("POST", "/v1/contacts", ka, `{"whatsapp_id":"5511999999999","name":"Outra"}`)
	require.Equal(t, 409, code, "duplicate: %d %s", code, body)
	require.Contains(t, body, `"existing_id":"`+c.ID+`"`, "duplicate")
	// Another organisation may have the same number.
	code, body = f.call("POST", "/v1/contacts", kb, `{"whatsapp_id":"5511999999999"}`)
	require.Equal(t, 201, code, "other org: %d %s", code, body)
	// Tags: add (deduplicated), remove one; another org cannot.
	code, body = f.call("POST", "/v1/contacts/"+c.ID+"/tags", ka, `{"tags":["comprou","vip"]}`)
	require.Equal(t, 200, code, "add tags: %d %s", code, body)
	require.Contains(t, body, `"tags":["cliente","vip","comprou"]`, "add tags")
	code, _ = f.call("POST", "/v1/contacts/"+c.ID+"/tags", kb, `{"tags":["x"]}`)
	require.Equal(t, 404, code, "other org adds a tag: %d", code)
	code, body = f.call("DELETE", "/v1/contacts/"+c.ID+"/tags/cliente", ka, "")
	require.Equal(t, 200, code, "remove tag: %d %s", code, body)
	require.Contains(t, body, `"tags":["vip","comprou"]`, "remove tag")
	code, _ = f.call("GET", "/v1/contacts/"+c.ID, kb, "")
	require.Equal(t, 404, code, "other org reads: %d", code)
	code, body = f.call("GET", "/v1/contacts/"+c.ID, ka, "")
	require.Equal(t, 200, code, "get: %d %s", code, body)
	require.Contains(t, body, "Maria Silva", "get")
	names := map[string]int{}
	for _, e := range evs.All() {
		names[e.Event]++
	}
	require.Equal(t, 2, names["contact.created"], "events %v", names)
	require.Equal(t, 2, names["contact.updated"], "events %v", names)
}

func TestContactValidation(t *testing.T) {
	f, _, ka, _ := newContactFixture(t)
	long := strings.Repeat("x", 1025)
	for _, c := range []struct{ name, body, field string }{
		{"no number", `{"name":"x"}`, "whatsapp_id"},
		{"bad number", `{"whatsapp_id":"abc"}`, "whatsapp_id"},
		{"bad email", `{"whatsapp_id":"5511911111111","email":"not-an-email"}`, "email"},
		{"empty tag", `{"whatsapp_id":"5511911111111","tags":["ok",""]}`, "tags[1]"},
		{"object attribute", `{"whatsapp_id":"5511911111111","attributes":{"a":{"b":1}}}`, "attributes.a"},
		{"long attribute", `{"whatsapp_id":"5511911111111","attributes":{"a":"` + long + `"}}`, "attributes.a"},
		{"number beyond DynamoDB", `{"whatsapp_id":"5511911111111","attributes":{"big":5.7e175}}`, "attributes.big"},
		{"number below DynamoDB", `{"whatsapp_id":"5511911111111","attributes":{"tiny":1e-200}}`, "attributes.tiny"},
	} {
		code, body := f.call("POST", "/v1/contacts", ka, c.body)
		assert.Equal(t, 422, code, "%s: %d %s", c.name, code, body)
		assert.Contains(t, body, `"field":"`+c.field+`"`, "%s: %d %s", c.name, code, body)
	}
}

func TestContactListPatchDelete(t *testing.T) {
	f, _, ka, kb := newContactFixture(t)
	var ids []string
	for i, n := range []string{"5511900000201", "5511900000202", "5511900000203"} {
		tags := `["lead"]`
		if i == 1 {
			tags = `["lead","vip"]`
		}
		_, body := f.call("POST", "/v1/contacts", ka, `{"whatsapp_id":"`+n+`","name":"C`+n[len(n)-1:]+`","tags":`+tags+`}`)
		var c struct{ ID string }
		_ = json.Unmarshal([]byte(body), &c)
		ids = append(ids, c.ID)
	}
	count := func(body string) int { return strings.Count(body, `"id":"ct_`) }
	if code, body := f.call("GET", "/v1/contacts?limit=100", ka, ""); code != 200 || count(body) != 3 {
		t.Fatalf("list: %d %s", code, body)
	}
	if _, body := f.call("GET", "/v1/contacts?tag=vip", ka, ""); count(body) != 1 || !strings.Contains(body, ids[1]) {
		t.Fatalf("tag filter: %s", body)
	}
	if _, body := f.call("GET", "/v1/contacts?whatsapp_id=%2B5511900000203", ka, ""); count(body) != 1 || !strings.Contains(body, ids[2]) {
		t.Fatalf("number filter: %s", body)
	}
	f.call("PATCH", "/v1/contacts/"+ids[1], ka, `{"email":"Ana.Souza@example.com"}`)
	for _, c := range []struct {
		name, query string
		code        int
		want        []string
	}{
		{"email", "email=ana.souza%40example.com", 200, []string{ids[1]}},
		{"email, exact case", "email=Ana.Souza%40example.com", 200, []string{ids[1]}},
		{"email and tag", "email=ana.souza%40example.com&tag=vip", 200, []string{ids[1]}},
		{"email, other tag", "email=ana.souza%40example.com&tag=customer", 200, nil},
		{"email and number", "email=ana.souza%40example.com&whatsapp_id=%2B5511900000202", 200, []string{ids[1]}},
		{"email, other number", "email=ana.souza%40example.com&whatsapp_id=%2B5511900000203", 200, nil},
		{"unknown email", "email=nobody%40example.com", 200, nil},
		{"empty email", "email=", 200, ids},
		{"invalid email", "email=not-an-email", 422, nil},
	} {
		code, body := f.call("GET", "/v1/contacts?limit=100&"+c.query, ka, "")
		if code != c.code || code == 200 && count(body) != len(c.want) {
			t.Errorf("%s: %d %s", c.name, code, body)
			continue
		}
		if code == 422 && !strings.Contains(body, `"field":"email"`) {
			t.Errorf("%s: %s", c.name, body)
		}
		for _, id := range c.want {
			assert.Contains(t, body, id, "%s: %s lacks %s", c.name, body, id)
		}
	}
	if _, body := f.call("GET", "/v1/contacts?email=ana.souza%40example.com", kb, ""); count(body) != 0 {
		t.Fatalf("other org finds by email: %s", body)
	}
	if _, body := f.call("GET", "/v1/contacts", kb, ""); count(body) != 0 {
		t.Fatalf("other org lists: %s", body)
	}
	if code, _ := f.call("GET", "/v1/contacts?limit=101", ka, ""); code != 422 {
		t.Fatalf("limit 101: %d", code)
	}
	_, body := f.call("GET", "/v1/contacts?limit=1", ka, "")
	var p struct {
		Next string `json:"next_cursor"`
	}
	_ = json.Unmarshal([]byte(body), &p)
	if code, _ := f.call("GET", "/v1/contacts?cursor="+p.Next, kb, ""); code != 422 {
		t.Fatalf("foreign cursor: %d", code)
	}
	// The guide's PATCH after a purchase: tags replaced, attributes merged, null removes.
	f.call("PATCH", "/v1/contacts/"+ids[0], ka, `{"attributes":{"plan":"basic","old":"x"}}`)
	code, body := f.call("PATCH", "/v1/contacts/"+ids[0], ka, `{"tags":["customer","purchased"],"attributes":{"last_purchase":"2026-11-29","total_spent":150.5,"old":null}}`)
	require.Equal(t, 200, code, "patch: %d %s", code, body)
	require.Contains(t, body, `"tags":["customer","purchased"]`, "patch")
	require.Contains(t, body, `"plan":"basic"`, "patch")
	require.Contains(t, body, `"total_spent":150.5`, "patch")
	require.NotContains(t, body, `"old"`, "patch")
	code, _ = f.call("PATCH", "/v1/contacts/"+ids[0], kb, `{"name":"x"}`)
	require.Equal(t, 404, code, "other org patches: %d", code)
	if code, body := f.call("PATCH", "/v1/contacts/"+ids[0], ka, `null`); code != 400 || !strings.Contains(body, "invalid_json") {
		t.Fatalf("null body: %d %s", code, body)
	}
	if code, body := f.call("PATCH", "/v1/contacts/"+ids[0], ka, `{"email":"bad"}`); code != 422 || !strings.Contains(body, `"field":"email"`) {
		t.Fatalf("bad email: %d %s", code, body)
	}
	// DELETE: gone, and the number is free again.
	code, _ = f.call("DELETE", "/v1/contacts/"+ids[0], kb, "")
	require.Equal(t, 404, code, "other org deletes: %d", code)
	code, _ = f.call("DELETE", "/v1/contacts/"+ids[0], ka, "")
	require.Equal(t, 204, code, "delete: %d", code)
	code, _ = f.call("GET", "/v1/contacts/"+ids[0], ka, "")
	require.Equal(t, 404, code, "after delete: %d", code)
	if code, body := f.call("POST", "/v1/contacts", ka, `{"whatsapp_id":"5511900000201"}`); code != 201 {
		t.Fatalf("number after delete: %d %s", code, body)
	}
}

// Issue 13 review: a contact within the documented limits whose event the
// events topic cannot carry is answered 413 naming the problem, nothing
// stored, no event (it was stored, and its event could never be
// published: the relay's stream shard held up, then the event lost).
func TestContactTooLargeForItsEvent(t *testing.T) {
	f, evs, ka, _ := newContactFixture(t)
	attrs := map[string]string{}
	for i := 0; i < 50; i++ {
		attrs[fmt.Sprintf("campo_%02d", i)] = strings.Repeat("<", 1024)
	}
	b, err := json.Marshal(map[string]any{"whatsapp_id": "5511988887777", "attributes": attrs})
	require.NoError(t, err)
	code, body := f.call("POST", "/v1/contacts", ka, string(b))
	require.Equal(t, 413, code, "%s", body)
	require.Contains(t, body, "event_too_large")
	code, body = f.call("GET", "/v1/contacts?whatsapp_id=5511988887777", ka, "")
	require.Equal(t, 200, code, "%s", body)
	require.NotContains(t, body, "5511988887777", "nothing stored")
	require.Empty(t, evs.All())
}
