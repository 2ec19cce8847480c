package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

func TestConversations(t *testing.T) {
	tbl := storetest.New(t)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := store.New(tbl.Client, tbl.Name, clock)
	ctx := context.Background()
	a, _ := st.CreateOrganization(ctx, "A")
	b, _ := st.CreateOrganization(ctx, "B")
	_, ka, _ := st.IssueKey(ctx, a.ID, "a", apikey.Live)
	_, kb, _ := st.IssueKey(ctx, b.ID, "b", apikey.Live)
	evs := &recordEvents{}
	f := &fixture{t: t, router: api.New(api.Deps{Store: st, Contacts: st, Conversations: st, Events: evs,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock}).Router()}
	in := func(wamid, from string) store.InboundResult {
		r, err := st.RecordInbound(ctx, store.InboundMessage{OrgID: a.ID, From: store.Identity{WaID: from}, WAMID: wamid, Type: "text",
			Timestamp: now, Content: json.RawMessage(`{"text":"oi"}`), Raw: json.RawMessage(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := in("wamid.c1", "5511900000101")
	in("wamid.c2", "5511900000102")

	code, body := f.call("GET", "/v1/conversations?limit=10", ka, "")
	var page struct {
		Data []struct{ ID, Status string } `json:"data"`
	}
	_ = json.Unmarshal([]byte(body), &page)
	if code != 200 || len(page.Data) != 2 {
		t.Fatalf("list: %d %s", code, body)
	}
	if _, body := f.call("GET", "/v1/conversations?contact_id="+first.Contact.ID, ka, ""); !strings.Contains(body, first.Conversation.ID) || strings.Count(body, `"id":"cv_`) != 1 {
		t.Fatalf("by contact: %s", body)
	}
	if code, _ := f.call("GET", "/v1/conversations?status=closed", ka, ""); code != 422 {
		t.Fatalf("bad status filter: %d", code)
	}
	// Isolation.
	if _, body := f.call("GET", "/v1/conversations", kb, ""); strings.Contains(body, "cv_") {
		t.Fatalf("other org lists: %s", body)
	}
	for _, c := range []struct{ m, body string }{{"GET", ""}, {"PATCH", `{"status":"resolved"}`}} {
		if code, _ := f.call(c.m, "/v1/conversations/"+first.Conversation.ID, kb, c.body); code != 404 {
			t.Fatalf("other org %s: %d", c.m, code)
		}
	}
	// A cursor from another organisation's list is refused.
	_, body = f.call("GET", "/v1/conversations?limit=1", ka, "")
	var p1 struct {
		Next string `json:"next_cursor"`
	}
	_ = json.Unmarshal([]byte(body), &p1)
	if p1.Next == "" {
		t.Fatal("no cursor")
	}
	if code, body := f.call("GET", "/v1/conversations?cursor="+p1.Next, kb, ""); code != 422 || !strings.Contains(body, "invalid_cursor") {
		t.Fatalf("foreign cursor: %d %s", code, body)
	}

	// Resolve with satisfaction: event with resolution_time.
	now = now.Add(90 * time.Minute)
	code, body = f.call("PATCH", "/v1/conversations/"+first.Conversation.ID, ka, `{"status":"resolved","satisfaction":5,"assignee":"ana@loja.com"}`)
	if code != 200 || !strings.Contains(body, `"status":"resolved"`) || !strings.Contains(body, `"satisfaction":5`) {
		t.Fatalf("resolve: %d %s", code, body)
	}
	if len(evs.evs) != 1 || evs.evs[0].Event != "conversation.resolved" || !strings.Contains(string(evs.evs[0].Data), `"resolution_time":5400`) {
		t.Fatalf("events: %+v", evs.evs)
	}
	if code, _ := f.call("PATCH", "/v1/conversations/"+first.Conversation.ID, ka, `{"status":"resolved"}`); code != 409 {
		t.Fatalf("resolve twice: %d", code)
	}
	// The customer writes again: a new conversation.
	again := in("wamid.c3", "5511900000101")
	if !again.ConversationCreated || again.Conversation.ID == first.Conversation.ID {
		t.Fatalf("after resolution: %+v", again.Conversation)
	}
	// Reopening the old one conflicts with the open new one.
	if code, body := f.call("PATCH", "/v1/conversations/"+first.Conversation.ID, ka, `{"status":"open"}`); code != 409 || !strings.Contains(body, "contact_has_open_conversation") {
		t.Fatalf("reopen with another open: %d %s", code, body)
	}
	f.call("PATCH", "/v1/conversations/"+again.Conversation.ID, ka, `{"status":"resolved"}`)
	if code, body := f.call("PATCH", "/v1/conversations/"+first.Conversation.ID, ka, `{"status":"open"}`); code != 200 || !strings.Contains(body, `"status":"open"`) {
		t.Fatalf("reopen: %d %s", code, body)
	}
	// The reopened conversation takes the next message.
	if r := in("wamid.c4", "5511900000101"); r.Conversation.ID != first.Conversation.ID {
		t.Fatalf("next message went to %s", r.Conversation.ID)
	}
	// Validation.
	for _, b := range []string{`{"status":"closed"}`, `{"status":"resolved","satisfaction":6}`, `{"satisfaction":3}`, `{}`} {
		if code, body := f.call("PATCH", "/v1/conversations/"+first.Conversation.ID, ka, b); code != 422 {
			t.Fatalf("%s: %d %s", b, code, body)
		}
	}
	if code, body := f.call("PATCH", "/v1/conversations/"+first.Conversation.ID, ka, `{"assignee":"bot"}`); code != 200 || !strings.Contains(body, `"assignee":"bot"`) {
		t.Fatalf("assign: %d %s", code, body)
	}
}

func TestConversationHandoff(t *testing.T) {
	tbl := storetest.New(t)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	st := store.New(tbl.Client, tbl.Name, func() time.Time { return now })
	ctx := context.Background()
	a, _ := st.CreateOrganization(ctx, "A")
	_, ka, _ := st.IssueKey(ctx, a.ID, "a", apikey.Live)
	evs := &recordEvents{}
	f := &fixture{t: t, router: api.New(api.Deps{Store: st, Contacts: st, Conversations: st, Events: evs,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }}).Router()}
	in, err := st.RecordInbound(ctx, store.InboundMessage{OrgID: a.ID, From: store.Identity{WaID: "5511900000201"}, WAMID: "wamid.h1", Type: "text",
		Timestamp: now, Content: json.RawMessage(`{"text":"oi"}`), Raw: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	path := "/v1/conversations/" + in.Conversation.ID
	steps := []struct {
		body   string
		code   int
		has    string
		events int
	}{
		{`{"handoff":true}`, 200, `"handoff":true`, 1},
		{`{"handoff":true}`, 200, `"handoff":true`, 1}, // already: no second event
		{`{"handoff":false}`, 200, `"handoff":false`, 1},
		{`{"handoff":"yes"}`, 422, `"field":"handoff"`, 1},
		{`{"status":"resolved","handoff":true}`, 422, `"field":"handoff"`, 1},
		{`{"status":"resolved"}`, 200, `"status":"resolved"`, 2},
		{`{"handoff":true}`, 409, `conversation_not_open`, 2},
	}
	for i, s := range steps {
		code, body := f.call("PATCH", path, ka, s.body)
		if code != s.code || !strings.Contains(body, s.has) || len(evs.evs) != s.events {
			t.Fatalf("step %d %s: %d %s (%d events)", i, s.body, code, body, len(evs.evs))
		}
	}
	if evs.evs[0].Event != "conversation.handoff" || !strings.Contains(string(evs.evs[0].Data), `"by":"api"`) {
		t.Fatalf("event: %+v", evs.evs[0])
	}
}
