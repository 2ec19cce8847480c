package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

func TestConversations(t *testing.T) {
	tbl := storetest.New(t)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	evs := &eventtest.Recorder{}
	stream := storetest.NewStream(tbl.Client)
	stream.Relay = evs.Outbox
	st := store.New(stream, tbl.Name, clock)
	ctx := context.Background()
	a, _ := st.CreateOrganization(ctx, "A")
	b, _ := st.CreateOrganization(ctx, "B")
	_, ka, _ := st.IssueKey(ctx, a.ID, "a", apikey.Live)
	_, kb, _ := st.IssueKey(ctx, b.ID, "b", apikey.Live)
	f := &fixture{t: t, router: api.New(api.Deps{Store: st, Contacts: st, Conversations: st, Events: evs,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock}).Router()}
	in := func(wamid, from string) store.InboundResult {
		r, err := st.RecordInbound(ctx, store.InboundMessage{OrgID: a.ID, From: store.Identity{WaID: from}, WAMID: wamid, Type: "text",
			Timestamp: now, Content: json.RawMessage(`{"text":"oi"}`), Raw: json.RawMessage(`{}`)})
		require.NoError(t, err)
		return r
	}
	first := in("wamid.c1", "5511900000101")
	in("wamid.c2", "5511900000102")

	code, body := f.call("GET", "/v1/conversations?limit=10", ka, "")
	var page struct {
		Data []struct{ ID, Status string } `json:"data"`
	}
	_ = json.Unmarshal([]byte(body), &page)
	require.Equal(t, 200, code, "list: %d %s", code, body)
	require.Len(t, page.Data, 2, "list")
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
	require.NotEmpty(t, p1.Next, "no cursor")
	code, body = f.call("GET", "/v1/conversations?cursor="+p1.Next, kb, "")
	require.Equal(t, 422, code, "foreign cursor: %d %s", code, body)
	require.Contains(t, body, "invalid_cursor", "foreign cursor")

	// Resolve with satisfaction: event with resolution_time.
	now = now.Add(90 * time.Minute)
	code, body = f.call("PATCH", "/v1/conversations/"+first.Conversation.ID, ka, `{"status":"resolved","satisfaction":5,"assignee":"ana@loja.com"}`)
	require.Equal(t, 200, code, "resolve: %d %s", code, body)
	require.Contains(t, body, `"status":"resolved"`, "resolve")
	require.Contains(t, body, `"satisfaction":5`, "resolve")
	require.Len(t, evs.All(), 1, "events: %+v", evs.All())
	require.Equal(t, "conversation.resolved", evs.All()[0].Event, "events")
	require.Contains(t, string(evs.All()[0].Data), `"resolution_time":5400`, "events")
	if code, _ := f.call("PATCH", "/v1/conversations/"+first.Conversation.ID, ka, `{"status":"resolved"}`); code != 409 {
		t.Fatalf("resolve twice: %d", code)
	}
	// The customer writes again: a new conversation.
	again := in("wamid.c3", "5511900000101")
	require.True(t, again.ConversationCreated, "after resolution: %+v", again.Conversation)
	require.NotEqual(t, first.Conversation.ID, again.Conversation.ID, "after resolution")
	// Reopening the old one conflicts with the open new one.
	if code, body := f.call("PATCH", "/v1/conversations/"+first.Conversation.ID, ka, `{"status":"open"}`); code != 409 || !strings.Contains(body, "contact_has_open_conversation") {
		t.Fatalf("reopen with another open: %d %s", code, body)
	}
	f.call("PATCH", "/v1/conversations/"+again.Conversation.ID, ka, `{"status":"resolved"}`)
	if code, body := f.call("PATCH", "/v1/conversations/"+first.Conversation.ID, ka, `{"status":"open"}`); code != 200 || !strings.Contains(body, `"status":"open"`) {
		t.Fatalf("reopen: %d %s", code, body)
	}
	// The reopened conversation takes the next message.
	r := in("wamid.c4", "5511900000101")
	require.Equal(t, first.Conversation.ID, r.Conversation.ID, "next message went to %s", r.Conversation.ID)
	// Validation.
	for _, b := range []string{`{"status":"closed"}`, `{"status":"resolved","satisfaction":6}`, `{"satisfaction":3}`, `{}`} {
		if code, body := f.call("PATCH", "/v1/conversations/"+first.Conversation.ID, ka, b); code != 422 {
			t.Fatalf("%s: %d %s", b, code, body)
		}
	}
	code, body = f.call("PATCH", "/v1/conversations/"+first.Conversation.ID, ka, `{"assignee":"bot"}`)
	require.Equal(t, 200, code, "assign: %d %s", code, body)
	require.Contains(t, body, `"assignee":"bot"`, "assign")
}

func TestConversationHandoff(t *testing.T) {
	tbl := storetest.New(t)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	evs := &eventtest.Recorder{}
	stream := storetest.NewStream(tbl.Client)
	stream.Relay = evs.Outbox
	st := store.New(stream, tbl.Name, func() time.Time { return now })
	ctx := context.Background()
	a, _ := st.CreateOrganization(ctx, "A")
	_, ka, _ := st.IssueKey(ctx, a.ID, "a", apikey.Live)
	f := &fixture{t: t, router: api.New(api.Deps{Store: st, Contacts: st, Conversations: st, Events: evs,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }}).Router()}
	in, err := st.RecordInbound(ctx, store.InboundMessage{OrgID: a.ID, From: store.Identity{WaID: "5511900000201"}, WAMID: "wamid.h1", Type: "text",
		Timestamp: now, Content: json.RawMessage(`{"text":"oi"}`), Raw: json.RawMessage(`{}`)})
	require.NoError(t, err)
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
		require.Equal(t, s.code, code, "step %d %s: %d %s (%d events)", i, s.body, code, body, len(evs.All()))
		require.Contains(t, body, s.has, "step %d %s: %d %s (%d events)", i, s.body, code, body, len(evs.All()))
		require.Len(t, evs.All(), s.events, "step %d %s: %d %s (%d events)", i, s.body, code, body, len(evs.All()))
	}
	require.Equal(t, "conversation.handoff", evs.All()[0].Event, "event: %+v", evs.All()[0])
	require.Contains(t, string(evs.All()[0].Data), `"by":"api"`, "event")
}
