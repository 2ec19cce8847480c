package optout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/chatbot"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/optout"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

type fixture struct {
	t      *testing.T
	st     *store.Store
	org    string
	box    *storetest.Stream
	events *eventtest.Recorder
	run    *optout.Runner
	now    time.Time
	n      int
}

func newFixture(t *testing.T) *fixture {
	tbl := storetest.New(t)
	stream := storetest.NewStream(tbl.Client)
	f := &fixture{t: t, now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC), box: stream, events: &eventtest.Recorder{}}
	f.st = store.New(stream, tbl.Name, func() time.Time { return f.now })
	org, err := f.st.CreateOrganization(context.Background(), "Optout")
	require.NoError(t, err)
	f.org = org.ID
	f.run = optout.New(f.st, f.events, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return f.now })
	return f
}

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

func contactOf(t *testing.T, ev event.Event) string {
	var d event.MessageData
	require.NoError(t, json.Unmarshal(ev.Data, &d))
	return d.Contact.ID
}

func TestMatch(t *testing.T) {
	kws := store.DefaultOptOutKeywords
	for _, tc := range []struct {
		in   chatbot.Inbound
		want string
	}{
		{chatbot.Inbound{Text: "parar"}, "PARAR"},
		{chatbot.Inbound{Text: "  Parar! "}, "PARAR"},
		{chatbot.Inbound{Text: "PÁRAR"}, "PARAR"},
		{chatbot.Inbound{Text: "stop"}, "STOP"},
		{chatbot.Inbound{Text: "Descadastrar."}, "DESCADASTRAR"},
		{chatbot.Inbound{Type: "button", ReplyTitle: "Sair"}, "SAIR"}, // a template's quick reply
		// The organisation's own interactive buttons and list rows (a bot's
		// "Cancelar" an appointment, "Sair" of a menu) are not opt-outs.
		{chatbot.Inbound{Type: "interactive", ReplyTitle: "Cancelar"}, ""},
		{chatbot.Inbound{Type: "interactive", ReplyTitle: "Sair"}, ""},
		{chatbot.Inbound{Text: "quero cancelar meu pedido"}, ""},
		{chatbot.Inbound{Text: "não vou parar de comprar"}, ""},
		{chatbot.Inbound{Text: "stopped"}, ""},
		{chatbot.Inbound{Text: ""}, ""},
	} {
		got, ok := optout.Match(tc.in, kws)
		require.Equal(t, tc.want != "", ok, "%+v", tc.in)
		require.Equal(t, tc.want, got, "%+v", tc.in)
	}
	_, ok := optout.Match(chatbot.Inbound{Text: "stop"}, []string{})
	require.False(t, ok, "no keywords: nothing matches")
}

// "parar" opts the contact out once (when, why, which message), publishes
// contact.opted_out once and sends the confirmation once, however often
// the event comes back; other messages do nothing.
func TestKeywordOptsOut(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.st.SetOptOutSettings(ctx, f.org, store.OptOutSettings{Keywords: store.DefaultOptOutKeywords, Confirmation: "Pronto, você não receberá mais ofertas."})
	require.NoError(t, err)
	hello := f.inbound("5511999999999", "text", `{"text":"oi"}`)
	out, err := f.run.React(ctx, hello)
	require.NoError(t, err)
	require.False(t, out.OptedOut)

	ev := f.inbound("5511999999999", "text", `{"text":"Parar"}`)
	for attempt := 0; attempt < 3; attempt++ {
		out, err = f.run.React(ctx, ev)
		require.NoError(t, err)
		require.True(t, out.OptedOut)
		require.Equal(t, "PARAR", out.Keyword)
		require.NotEmpty(t, out.ReplyID)
	}
	c, err := f.st.Contact(ctx, f.org, contactOf(t, ev))
	require.NoError(t, err)
	require.NotNil(t, c.OptOut)
	require.Equal(t, store.OptOutKeyword, c.OptOut.Reason)
	require.Equal(t, "PARAR", c.OptOut.Detail)
	require.Equal(t, f.now, c.OptOut.At)
	require.Len(t, f.box.QueuedIDs(), 1, "one confirmation")
	got := f.events.Distinct(event.ContactOptedOut)
	require.Len(t, got, 1)
	var data struct {
		Contact event.ContactView `json:"contact"`
		OptOut  event.OptOutView  `json:"opt_out"`
	}
	require.NoError(t, json.Unmarshal(got[0].Data, &data))
	require.True(t, data.Contact.OptedOut)
	require.Equal(t, "keyword", data.OptOut.Reason)
	require.Equal(t, "PARAR", data.OptOut.Keyword)
	first := c.OptOut.At

	// Writing it again later keeps the first opt-out and publishes nothing.
	again := f.inbound("5511999999999", "text", `{"text":"STOP"}`)
	out, err = f.run.React(ctx, again)
	require.NoError(t, err)
	require.True(t, out.OptedOut)
	c, err = f.st.Contact(ctx, f.org, contactOf(t, ev))
	require.NoError(t, err)
	require.Equal(t, first, c.OptOut.At)
	require.Len(t, f.events.Distinct(event.ContactOptedOut), 1)
}

// A publish that fails after the contact was marked is retried by the
// event's redelivery: the event is published then (once).
func TestPublishFailureIsRetried(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ev := f.inbound("5511999999999", "text", `{"text":"sair"}`)
	f.events.FailNext(1)
	_, err := f.run.React(ctx, ev)
	require.Error(t, err)
	require.Empty(t, f.events.Distinct(event.ContactOptedOut))
	out, err := f.run.React(ctx, ev)
	require.NoError(t, err)
	require.True(t, out.OptedOut)
	require.Empty(t, out.ReplyID, "no confirmation set")
	require.Len(t, f.events.Distinct(event.ContactOptedOut), 1)
	require.Empty(t, f.box.QueuedIDs())
}

// With no keywords, nothing opts out; a contact deleted before the event
// is handled is skipped.
func TestNoKeywordsAndDeletedContact(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.st.SetOptOutSettings(ctx, f.org, store.OptOutSettings{Keywords: []string{}})
	require.NoError(t, err)
	out, err := f.run.React(ctx, f.inbound("5511999999999", "text", `{"text":"stop"}`))
	require.NoError(t, err)
	require.False(t, out.OptedOut)
	_, err = f.st.SetOptOutSettings(ctx, f.org, store.OptOutSettings{Keywords: []string{"basta"}})
	require.NoError(t, err)
	ev := f.inbound("5511988888888", "text", `{"text":"Basta!"}`)
	require.NoError(t, f.st.DeleteContact(ctx, f.org, contactOf(t, ev)))
	out, err = f.run.React(ctx, ev)
	require.NoError(t, err)
	require.True(t, out.OptedOut)
	require.Empty(t, f.events.All())
}

func TestParseSettings(t *testing.T) {
	s, err := optout.ParseSettings([]byte(`{"keywords":["STOP","Parar"],"confirmation":"Ok!\nAté logo."}`))
	require.NoError(t, err)
	require.Equal(t, []string{"STOP", "Parar"}, s.Keywords)
	require.Equal(t, "Ok!\nAté logo.", s.Confirmation)
	s, err = optout.ParseSettings([]byte(`{"keywords":[],"confirmation":null}`))
	require.NoError(t, err)
	require.Equal(t, []string{}, s.Keywords)
	require.Empty(t, s.Confirmation)
	for body, field := range map[string]string{
		`{}`:                                     "keywords",
		`{"keywords":"STOP"}`:                    "keywords",
		`{"keywords":["STOP","stop!"]}`:          "keywords[1]",
		`{"keywords":["!!"]}`:                    "keywords[0]",
		`{"keywords":[3]}`:                       "keywords[0]",
		`{"keywords":["STOP"],"extra":1}`:        "extra",
		`{"keywords":["STOP"],"confirmation":5}`: "confirmation",
	} {
		_, err := optout.ParseSettings([]byte(body))
		e, ok := apperr.As(err)
		require.True(t, ok, "%s: %v", body, err)
		require.NotEmpty(t, e.Details, body)
		require.Equal(t, field, e.Details[0].Field, "%s: %v", body, err)
	}
}

func TestThenSkipsTheBotOnAnOptOut(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var bot []string
	h := f.run.Then(func(_ context.Context, ev event.Event) error {
		bot = append(bot, ev.ID)
		return nil
	})
	hello := f.inbound("5511999999999", "text", `{"text":"oi"}`)
	require.NoError(t, h(ctx, hello))
	require.NoError(t, h(ctx, f.inbound("5511999999999", "text", `{"text":"cancelar"}`)))
	require.Equal(t, []string{hello.ID}, bot)
}
