package botrun_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/botrun"
	"github.com/pytake/pytake/internal/chatbot"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

type fixture struct {
	t      *testing.T
	st     *store.Store
	org    string
	box    *storetest.Stream
	events *eventtest.Recorder
	run    *botrun.Runner
	now    time.Time
	n      int
}

const botJSON = `{"name":"Atendimento","welcome_message":"Olá! Como posso ajudar?","active":true,
 "rules":[
   {"match":{"keywords":["preço","valor"]},"reply":{"type":"text","text":"Nossos planos começam em R$ 99."}},
   {"match":{"reply_id":"btn_suporte"},"reply":{"type":"buttons","text":"Escolha:","buttons":[{"id":"b1","title":"Vendas"},{"id":"b2","title":"Suporte"}]}},
   {"match":{"keywords":["atendente","humano"]},"reply":{"type":"text","text":"Um atendente vai falar com você."},"handoff":true}
 ],
 "fallback":{"type":"text","text":"Não entendi. Digite 'atendente' para falar com uma pessoa."}}`

func newFixture(t *testing.T, bot string) *fixture {
	tbl := storetest.New(t)
	f := &fixture{t: t, now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC), events: &eventtest.Recorder{}}
	stream := storetest.NewStream(tbl.Client)
	f.box = stream
	f.st = store.New(stream, tbl.Name, func() time.Time { return f.now })
	org, err := f.st.CreateOrganization(context.Background(), "Bots")
	require.NoError(t, err)
	f.org = org.ID
	if bot != "" {
		b, err := chatbot.ParseCreate([]byte(bot))
		require.NoError(t, err)
		def, _ := json.Marshal(b)
		_, err = f.st.CreateChatbot(context.Background(), store.Chatbot{OrgID: f.org, Name: b.Name, Active: b.Active, Definition: def})
		require.NoError(t, err)
	}
	f.run = botrun.New(f.st, f.events, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return f.now })
	return f
}

// inbound stores a customer message as the webhook does and returns its
// message.received event.
func (f *fixture) inbound(from, typ, content string) event.Event {
	f.t.Helper()
	f.n++
	f.now = f.now.Add(time.Second)
	res, err := f.st.RecordInbound(context.Background(), store.InboundMessage{OrgID: f.org, From: store.Identity{WaID: from},
		WAMID: fmt.Sprintf("wamid.%d", f.n), Type: typ, Timestamp: f.now, Content: json.RawMessage(content), Raw: json.RawMessage(`{}`)})
	require.NoError(f.t, err)
	ev, err := event.MessageEvent(event.MessageReceived, f.org, res.Message.WAMID, f.now, res.Message, res.Contact, res.Conversation)
	require.NoError(f.t, err)
	return ev
}

// react runs the bot and returns what it did and the reply's text.
func (f *fixture) react(ev event.Event) (botrun.Outcome, string) {
	f.t.Helper()
	out, err := f.run.React(context.Background(), ev)
	require.NoError(f.t, err)
	if out.MessageID == "" {
		return out, ""
	}
	m, err := f.st.Message(context.Background(), f.org, out.MessageID)
	require.NoError(f.t, err)
	return out, string(m.Content)
}

func TestConversationFlow(t *testing.T) {
	f := newFixture(t, botJSON)
	steps := []struct {
		name, typ, content string
		reason, has        string
		handoff            bool
	}{
		{"new conversation: welcome", "text", `{"text":"oi"}`, chatbot.ReasonWelcome, "Como posso ajudar", false},
		{"keyword ignoring case and accents", "text", `{"text":"Qual o PRECO?"}`, chatbot.ReasonRule, "R$ 99", false},
		{"button reply id", "interactive", `{"type":"button_reply","button_reply":{"id":"btn_suporte","title":"Suporte"}}`, chatbot.ReasonRule, "Vendas", false},
		{"nothing matches: fallback", "text", `{"text":"blah"}`, chatbot.ReasonFallback, "Não entendi", false},
		{"handoff", "text", `{"text":"quero um atendente"}`, chatbot.ReasonRule, "Um atendente", true},
		{"quiet after handoff", "text", `{"text":"preço?"}`, "skipped: handed off to agents", "", false},
	}
	for _, s := range steps {
		out, text := f.react(f.inbound("5511999990001", s.typ, s.content))
		require.Equal(t, s.reason, out.Reason, "%s: %+v %s", s.name, out, text)
		require.Contains(t, text, s.has, "%s: %+v %s", s.name, out, text)
		require.Equal(t, s.handoff, out.Handoff, "%s: %+v %s", s.name, out, text)
	}
	require.Len(t, f.box.QueuedIDs(), 5, "%d replies queued, want 5", len(f.box.QueuedIDs()))
	require.Len(t, f.events.All(), 1, "events: %+v", f.events.All())
	require.Equal(t, event.ConversationHandoff, f.events.All()[0].Event, "events")
	// Back to the bot (PATCH handoff:false), then resolved: a new
	// conversation gets the welcome again.
	page, _ := f.st.Conversations(context.Background(), f.org, "", "", "", 10)
	conv := page.Items[0]
	require.Equal(t, true, conv.Handoff, "conversation: %+v", conv)
	require.Equal(t, 11, conv.MessageCount, "conversation")
	if _, changed, err := f.st.HandoffConversation(context.Background(), f.org, conv.ID, false, nil); err != nil || !changed {
		t.Fatalf("hand back: %v %v", changed, err)
	}
	if out, text := f.react(f.inbound("5511999990001", "text", `{"text":"valor"}`)); out.Reason != chatbot.ReasonRule || !strings.Contains(text, "R$ 99") {
		t.Fatalf("after hand back: %+v %s", out, text)
	}
	_, err := f.st.ResolveConversation(context.Background(), f.org, conv.ID, 5, nil, nil)
	require.NoError(t, err)
	out, _ := f.react(f.inbound("5511999990001", "text", `{"text":"oi de novo"}`))
	require.Equal(t, chatbot.ReasonWelcome, out.Reason, "after resolve: %+v", out)
}

func TestDuplicateEventRepliesOnce(t *testing.T) {
	f := newFixture(t, botJSON)
	ev := f.inbound("5511999990002", "text", `{"text":"oi"}`)
	first, _ := f.react(ev)
	second, _ := f.react(ev)
	require.NotEmpty(t, first.MessageID, "first %+v second %+v, queued %v", first, second, f.box.QueuedIDs())
	require.Equal(t, second.MessageID, first.MessageID, "first %+v second %+v, queued %v", first, second, f.box.QueuedIDs())
	require.Len(t, f.box.QueuedIDs(), 1, "first %+v second %+v, queued %v", first, second, f.box.QueuedIDs())
	conv, _ := f.st.Conversation(context.Background(), f.org, mustConv(t, ev))
	require.Equal(t, 2, conv.MessageCount, "message_count %d, want 2 (one inbound, one reply)", conv.MessageCount)
}

func mustConv(t *testing.T, ev event.Event) string {
	var d event.MessageData
	require.NoError(t, json.Unmarshal(ev.Data, &d))
	return d.Conversation.ID
}

func TestNoBotOrInactiveBot(t *testing.T) {
	f := newFixture(t, "")
	if out, _ := f.react(f.inbound("5511999990003", "text", `{"text":"oi"}`)); out.Reason != "skipped: no active chatbot" {
		t.Fatalf("no bot: %+v", out)
	}
	g := newFixture(t, strings.Replace(botJSON, `"active":true`, `"active":false`, 1))
	out, _ := g.react(g.inbound("5511999990003", "text", `{"text":"oi"}`))
	require.Equal(t, "skipped: no active chatbot", out.Reason, "inactive bot: %+v", out)
	require.Empty(t, g.box.QueuedIDs(), "inactive bot")
}

func TestOtherEventsAreIgnored(t *testing.T) {
	f := newFixture(t, botJSON)
	ev := f.inbound("5511999990004", "text", `{"text":"oi"}`)
	ev.Event = event.MessageDelivered
	out, _ := f.react(ev)
	require.True(t, strings.HasPrefix(out.Reason, "skipped"), "%+v", out)
	require.Empty(t, f.box.QueuedIDs(), "%+v", out)
}

func TestInbound(t *testing.T) {
	tests := []struct {
		typ, content string
		want         chatbot.Inbound
	}{
		{"text", `{"text":"Olá"}`, chatbot.Inbound{Type: "text", Text: "Olá"}},
		{"interactive", `{"type":"list_reply","list_reply":{"id":"row_2","title":"Segunda via"}}`, chatbot.Inbound{Type: "interactive", ReplyID: "row_2", ReplyTitle: "Segunda via"}},
		{"button", `{"payload":"PAY_YES","text":"Sim"}`, chatbot.Inbound{Type: "button", ReplyID: "PAY_YES", ReplyTitle: "Sim"}},
		{"image", `{"caption":"meu boleto","media_id":"1"}`, chatbot.Inbound{Type: "image", Text: "meu boleto"}},
		{"location", `{"latitude":1}`, chatbot.Inbound{Type: "location"}},
		{"text", `not json`, chatbot.Inbound{Type: "text"}},
	}
	for _, tt := range tests {
		got := botrun.Inbound(event.MessageView{Type: tt.typ, Content: json.RawMessage(tt.content)})
		if got != tt.want {
			t.Errorf("%s %s: %+v, want %+v", tt.typ, tt.content, got, tt.want)
		}
	}
}
