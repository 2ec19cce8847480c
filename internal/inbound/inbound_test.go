package inbound_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	miniserver "github.com/truora/minidyn/server"

	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/id"
	"github.com/pytake/pytake/internal/inbound"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
	"github.com/pytake/pytake/internal/whatsapp"
)

const (
	phoneID     = "106540352242922"
	wabaID      = "102290129340398"
	appSecret   = "test-app-secret"
	verifyToken = "verify-me-0123456789"
)

type fixture struct {
	t      *testing.T
	store  *store.Store
	tbl    *storetest.Table
	pub    *eventtest.Recorder
	router *httpapi.Router
	org    string
	now    time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, nil)
}

// newFixtureWith publishes through wrap(recorder) when wrap is not nil.
func newFixtureWith(t *testing.T, wrap func(*eventtest.Recorder) inbound.Publisher) *fixture {
	t.Helper()
	tbl := storetest.New(t)
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := store.New(tbl.Client, tbl.Name, clock)
	ctx := context.Background()
	org, err := st.CreateOrganization(ctx, "Demo")
	require.NoError(t, err)
	_, err = st.PutWhatsAppAccount(ctx, store.WhatsAppAccount{OrgID: org.ID, PhoneNumberID: phoneID, WABAID: wabaID, VerifyTokenHash: whatsapp.HashVerifyToken(verifyToken)})
	require.NoError(t, err)
	sec := secretstest.New()
	sec.Set(org.ID, inbound.Provider, inbound.Credentials{PhoneNumberID: phoneID, AppSecret: appSecret, VerifyToken: verifyToken, AccessToken: "EAAG"})
	pub := &eventtest.Recorder{}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	var p inbound.Publisher = pub
	if wrap != nil {
		p = wrap(pub)
	}
	hook := inbound.New(st, sec, p, log, clock)
	return &fixture{t: t, store: st, tbl: tbl, pub: pub, router: hook.Router(), org: org.ID, now: now}
}

func (f *fixture) post(body []byte, signature string, b64 bool) events.APIGatewayV2HTTPResponse {
	f.t.Helper()
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/webhooks/whatsapp", Headers: map[string]string{"content-type": "application/json"}}
	ev.RequestContext.HTTP.Method = "POST"
	if signature != "" {
		ev.Headers["x-hub-signature-256"] = signature
	}
	if b64 {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	} else {
		ev.Body = string(body)
	}
	resp, err := f.router.Serve(context.Background(), ev)
	require.NoError(f.t, err)
	return resp
}

func (f *fixture) postSigned(body []byte) events.APIGatewayV2HTTPResponse {
	return f.post(body, whatsapp.Sign(body, []byte(appSecret)), false)
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// messagesOf lists every stored inbound message of the organisation.
func (f *fixture) messages() []store.Message {
	f.t.Helper()
	var out []store.Message
	for _, e := range f.pub.Named(event.MessageReceived) {
		var d event.MessageData
		_ = json.Unmarshal(e.Data, &d)
		m, err := f.store.Message(context.Background(), f.org, d.Message.ID)
		require.NoError(f.t, err, "event names a message that is not stored")
		out = append(out, m)
	}
	return out
}

func TestEveryMessageType(t *testing.T) {
	tests := []struct {
		file, typ, contentHas string
	}{
		{"message_text.json", "text", `"text":"Olá, preciso de ajuda"`},
		{"message_image.json", "image", `"media_id":"1479537139650973"`},
		{"message_video.json", "video", `"media_id":"1479537139650974"`},
		{"message_audio.json", "audio", `"voice":true`},
		{"message_document.json", "document", `"filename":"nota.pdf"`},
		{"message_sticker.json", "sticker", `"mime_type":"image/webp"`},
		{"message_location.json", "location", `"latitude":-23.5505`},
		{"message_contacts.json", "contacts", `"formatted_name":"Maria"`},
		{"message_button_reply.json", "interactive", `"button_reply"`},
		{"message_list_reply.json", "interactive", `"list_reply"`},
		{"message_nfm_reply.json", "interactive", `"response_json"`},
		{"message_button.json", "button", `"payload":"STOP"`},
		{"message_reaction.json", "reaction", `"emoji":"👍"`},
		{"message_order.json", "order", `"product_retailer_id":"sku1"`},
		{"message_unsupported.json", "unsupported", `"type":"poll"`},
		{"message_request_welcome.json", "request_welcome", `{}`},
		{"message_referral.json", "text", `vi o anúncio`},
		{"message_future_type.json", "hologram", `"id":"x"`},
		{"message_bsuid_only.json", "text", `sem telefone`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := newFixture(t)
			body := read(t, tt.file)
			resp := f.postSigned(body)
			require.Equal(t, 200, resp.StatusCode, "status %d: %s", resp.StatusCode, resp.Body)
			msgs := f.messages()
			require.Len(t, msgs, 1, "%d messages stored", len(msgs))
			m := msgs[0]
			require.Equal(t, tt.typ, m.Type, "type %q content %s", m.Type, m.Content)
			require.Contains(t, string(m.Content), tt.contentHas, "type %q content %s", m.Type, m.Content)
			// The raw JSON is Meta's message object, byte for byte.
			var env struct {
				Entry []struct {
					Changes []struct {
						Value struct {
							Messages []json.RawMessage `json:"messages"`
						} `json:"value"`
					} `json:"changes"`
				} `json:"entry"`
			}
			_ = json.Unmarshal(body, &env)
			require.Equal(t, string(env.Entry[0].Changes[0].Value.Messages[0]), string(m.Raw), "raw differs:\n%s\n%s", m.Raw, env.Entry[0].Changes[0].Value.Messages[0])
			require.Len(t, f.pub.Named(event.ContactCreated), 1, "events: %d", len(f.pub.All()))
			require.Len(t, f.pub.Named(event.ConversationCreated), 1, "events")
		})
	}
}

func TestContextAndMediaOwnership(t *testing.T) {
	f := newFixture(t)
	f.postSigned(read(t, "message_button_reply.json"))
	f.postSigned(read(t, "message_image.json"))
	msgs := f.messages()
	require.Equal(t, "wamid.OUT1", msgs[0].ContextWAMID, "context not kept: %+v", msgs[0])
	if id, _, err := f.store.MediaOwner(context.Background(), f.org, "1479537139650973"); err != nil || id != msgs[1].ID {
		t.Fatalf("media owner %q %v", id, err)
	}
	_, _, err := f.store.MediaOwner(context.Background(), "org_other", "1479537139650973")
	require.Error(t, err, "another organisation owns the media")
}

func insertOutbound(t *testing.T, f *fixture, wamid string) store.Message {
	t.Helper()
	ctx := context.Background()
	r, err := f.store.RecordInbound(ctx, store.InboundMessage{OrgID: f.org, From: store.Identity{WaID: "5511777777777"}, WAMID: "wamid.seed." + wamid, Type: "text", Timestamp: f.now, Content: json.RawMessage(`{}`)})
	require.NoError(t, err)
	m := store.Message{ID: id.New(id.Message, f.now), OrgID: f.org, ConversationID: r.Conversation.ID, ContactID: r.Contact.ID,
		Direction: store.Outbound, WAMID: wamid, Type: "text", Content: json.RawMessage(`{"text":"x"}`), Status: store.StatusAccepted, Timestamp: f.now, CreatedAt: f.now}
	require.NoError(t, f.store.InsertMessage(ctx, m))
	return m
}

func TestMixedBatch(t *testing.T) {
	f := newFixture(t)
	out1 := insertOutbound(t, f, "wamid.OUT1")
	out2 := insertOutbound(t, f, "wamid.OUT2")
	resp := f.postSigned(read(t, "batch_mixed.json"))
	require.Equal(t, 200, resp.StatusCode, "status %d %s", resp.StatusCode, resp.Body)
	n := len(f.messages())
	require.Equal(t, 3, n, "%d of 3 messages stored", n)
	m1, _ := f.store.Message(context.Background(), f.org, out1.ID)
	m2, _ := f.store.Message(context.Background(), f.org, out2.ID)
	require.Equal(t, "delivered", m1.Status, "OUT1 = %s %s %d", m1.Status, m1.PricingCategory, len(m1.Timeline))
	require.Equal(t, "utility", m1.PricingCategory, "OUT1")
	require.Len(t, m1.Timeline, 2, "OUT1")
	require.Equal(t, "failed", m2.Status, "OUT2 = %+v", m2)
	require.NotNil(t, m2.Error, "OUT2")
	require.Equal(t, 131026, m2.Error.Code, "OUT2")
	require.NotNil(t, m2.ReadAt, "OUT2")
	require.NotNil(t, m2.DeliveredAt, "OUT2")
	for name, want := range map[string]int{event.MessageSent: 1, event.MessageDelivered: 1, event.MessageRead: 1, event.MessageFailed: 1, event.MessageReceived: 3} {
		got := len(f.pub.Named(name))
		assert.Equal(t, want, got, "%s events = %d, want %d", name, got, want)
	}
}

func TestStatusesOutOfOrderAndDuplicated(t *testing.T) {
	f := newFixture(t)
	out := insertOutbound(t, f, "wamid.OOO")
	status := func(st string, ts int) []byte {
		return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"` + wabaID + `","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":"` + phoneID + `"},"statuses":[{"id":"wamid.OOO","status":"` + st + `","timestamp":"` + itoa(ts) + `","recipient_id":"5511777777777"}]}}]}]}`)
	}
	for _, b := range [][]byte{status("read", 30), status("sent", 10), status("delivered", 20), status("read", 30), status("sent", 10)} {
		resp := f.postSigned(b)
		require.Equal(t, 200, resp.StatusCode, "status %d", resp.StatusCode)
	}
	m, _ := f.store.Message(context.Background(), f.org, out.ID)
	require.Equal(t, "read", m.Status, "status %s timeline %d", m.Status, len(m.Timeline))
	require.Len(t, m.Timeline, 3, "status %s timeline %d", m.Status, len(m.Timeline))
	n := len(f.pub.Named(event.MessageRead)) + len(f.pub.Named(event.MessageSent)) + len(f.pub.Named(event.MessageDelivered))
	require.Equal(t, 3, n, "%d status events, want 3", n)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestDuplicatesDeliveredConcurrently(t *testing.T) {
	f := newFixture(t)
	body := read(t, "message_text.json")
	var wg sync.WaitGroup
	codes := make(chan int, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); codes <- f.postSigned(body).StatusCode }()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		require.Equal(t, 200, c)
	}
	// One event by id (a duplicate that found them unconfirmed published
	// them again, by the same id: the dispatcher fans an id out once).
	n := len(f.pub.Distinct(event.MessageReceived))
	require.Equal(t, 1, n, "message.received emitted %d times", n)
	require.Len(t, f.messages()[:1], 1)
	// Meta's later retry is acknowledged and publishes nothing new.
	before := len(f.pub.All())
	resp := f.postSigned(body)
	require.Equal(t, 200, resp.StatusCode)
	require.Len(t, f.pub.All(), before, "retry")
}

func TestSignatureAndEncoding(t *testing.T) {
	body := read(t, "message_text.json")
	tests := []struct {
		name   string
		sig    string
		b64    bool
		status int
		stored int
	}{
		{"base64-encoded body", whatsapp.Sign(body, []byte(appSecret)), true, 200, 1},
		{"wrong secret", whatsapp.Sign(body, []byte("nope")), false, 401, 0},
		{"missing", "", false, 401, 0},
		{"malformed", "sha256=zz", false, 401, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			resp := f.post(body, tt.sig, tt.b64)
			require.Equal(t, tt.status, resp.StatusCode, "status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			n := len(f.pub.All())
			require.Equal(t, tt.stored > 0, n > 0, "%d events", n)
		})
	}
}

func TestUnroutableInputIsRecordedAndAcknowledged(t *testing.T) {
	for _, body := range [][]byte{read(t, "unknown_phone.json"), []byte(`{"object":`), []byte(`not json`)} {
		f := newFixture(t)
		resp := f.post(body, "sha256=00", false)
		require.Equal(t, 200, resp.StatusCode, "status %d for %q", resp.StatusCode, body[:8])
		require.Empty(t, f.pub.All(), "events for unroutable input")
	}
}

func TestOtherFieldsBecomeEvents(t *testing.T) {
	f := newFixture(t)
	for file, name := range map[string]string{"field_template_status.json": "whatsapp.message_template_status_update", "value_errors.json": "whatsapp.errors"} {
		resp := f.postSigned(read(t, file))
		require.Equal(t, 200, resp.StatusCode, "%s: %d %s", file, resp.StatusCode, resp.Body)
		got := f.pub.Named(name)
		require.Len(t, got, 1, "%s: events %v", file, got)
		require.Contains(t, string(got[0].Data), `"value"`, "%s: events %v", file, got)
	}
}

func TestUserChangedNumber(t *testing.T) {
	f := newFixture(t)
	f.postSigned(read(t, "message_text.json"))
	first := f.messages()[0]
	resp := f.postSigned(read(t, "system_changed_number.json"))
	require.Equal(t, 200, resp.StatusCode, "%d %s", resp.StatusCode, resp.Body)
	c, _ := f.store.Contact(context.Background(), f.org, first.ContactID)
	require.Equal(t, "5511555555555", c.WhatsAppID, "contact %+v, %d contacts created", c, len(f.pub.Named(event.ContactCreated)))
	require.Len(t, f.pub.Named(event.ContactCreated), 1, "contact %+v, %d contacts created", c, len(f.pub.Named(event.ContactCreated)))
}

func TestStorageFailureAsksMetaToRetry(t *testing.T) {
	f := newFixture(t)
	f.tbl.Server.EmulateFailure(miniserver.FailureConditionInternalServerError)
	if resp := f.postSigned(read(t, "message_text.json")); resp.StatusCode < 500 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	f.tbl.Server.EmulateFailure(miniserver.FailureConditionNone)
	resp := f.postSigned(read(t, "message_text.json"))
	require.Equal(t, 200, resp.StatusCode, "retry: %d", resp.StatusCode)
	require.Len(t, f.messages(), 1, "retry")
}

func TestVerification(t *testing.T) {
	f := newFixture(t)
	q := func(mode, token, challenge string) events.APIGatewayV2HTTPResponse {
		ev := events.APIGatewayV2HTTPRequest{RawPath: "/webhooks/whatsapp", RawQueryString: url.Values{"hub.mode": {mode}, "hub.verify_token": {token}, "hub.challenge": {challenge}}.Encode()}
		ev.RequestContext.HTTP.Method = "GET"
		resp, _ := f.router.Serve(context.Background(), ev)
		return resp
	}
	for name, r := range map[string]events.APIGatewayV2HTTPResponse{
		"wrong token":  q("subscribe", "nope", "1"),
		"wrong mode":   q("unsubscribe", verifyToken, "1"),
		"no challenge": q("subscribe", verifyToken, ""),
	} {
		assert.Equal(t, 403, r.StatusCode, "%s: %d", name, r.StatusCode)
	}
	acct, err := f.store.WhatsAppAccount(context.Background(), f.org)
	require.NoError(t, err)
	assert.Nil(t, acct.VerifiedAt, "refused handshakes record nothing")
	if r := q("subscribe", verifyToken, "1158201444"); r.StatusCode != 200 || r.Body != "1158201444" {
		t.Fatalf("good: %d %q", r.StatusCode, r.Body)
	}
	acct, err = f.store.WhatsAppAccount(context.Background(), f.org)
	require.NoError(t, err)
	require.NotNil(t, acct.VerifiedAt, "the dashboard's verification status")
	assert.True(t, acct.VerifiedAt.Equal(f.now))
}

// TestEventSamples feeds every sample in events/whatsapp-webhook to the
// function's router (signed with the fixture's app secret), so the samples
// for `sam local invoke` stay valid.
func TestEventSamples(t *testing.T) {
	want := map[string]string{"verify.json": "1158201444", "message-text.json": `"ok"`, "statuses.json": `"ok"`, "template-status.json": `"ok"`}
	files, _ := filepath.Glob("../../events/whatsapp-webhook/*.json")
	require.NotEmpty(t, files, "no samples")
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			insertOutbound(t, f, "wamid.OUT1")
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			var ev events.APIGatewayV2HTTPRequest
			require.NoError(t, json.Unmarshal(b, &ev))
			resp, _ := f.router.Serve(context.Background(), ev)
			body, ok := want[name]
			require.True(t, ok, "%d %s", resp.StatusCode, resp.Body)
			require.Equal(t, 200, resp.StatusCode, "%d %s", resp.StatusCode, resp.Body)
			require.Contains(t, resp.Body, body, "%d %s", resp.StatusCode, resp.Body)
		})
	}
}

// Issue 13, item 10: concurrent identical deliveries from Meta are all
// answered 200 (a duplicate whose first delivery has not yet published
// publishes the same events, by the same ids, itself), and the message is
// stored once.
func TestConcurrentDuplicatesAreAllAnswered200(t *testing.T) {
	g := &gate{release: make(chan struct{}), entered: make(chan struct{})}
	f := newFixtureWith(t, func(r *eventtest.Recorder) inbound.Publisher { g.next = r; return g })
	body := read(t, "message_text.json")
	first := make(chan int, 1)
	go func() { first <- f.postSigned(body).StatusCode }()
	<-g.entered // the first delivery stored the message and is publishing
	for i := 0; i < 3; i++ {
		require.Equal(t, 200, f.postSigned(body).StatusCode, "duplicate %d", i)
	}
	close(g.release)
	require.Equal(t, 200, <-first)
	require.Len(t, f.pub.Distinct(event.MessageReceived), 1)
	require.Len(t, f.pub.Distinct(event.ContactCreated), 1)
}

// Issue 13, item 6: Meta's retry after a failed publish emits every event
// of the message: contact.created and conversation.created too.
func TestRetryAfterAFailedPublishEmitsEveryEvent(t *testing.T) {
	f := newFixture(t)
	body := read(t, "message_text.json")
	f.pub.FailNext(1)
	require.Equal(t, 503, f.postSigned(body).StatusCode)
	require.Equal(t, 200, f.postSigned(body).StatusCode)
	require.Len(t, f.pub.Distinct(event.MessageReceived), 1)
	require.Len(t, f.pub.Distinct(event.ContactCreated), 1, "contact.created")
	require.Len(t, f.pub.Distinct(event.ConversationCreated), 1, "conversation.created")
}

// gate holds the first Publish until release is closed.
type gate struct {
	next    *eventtest.Recorder
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *gate) Publish(ctx context.Context, evs ...event.Event) error {
	held := false
	g.once.Do(func() { held = true })
	if held {
		close(g.entered)
		<-g.release
	}
	return g.next.Publish(ctx, evs...)
}

// Meta's webhook names a phone and a BSUID that two contacts hold: they are
// one person, merged before the message is stored, and contact.merged names
// the survivor.
func TestWebhookMergesContactsMetaShowsAreOne(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	byUser, err := f.store.AcceptOutbound(ctx, store.OutboundMessage{OrgID: f.org, To: store.Identity{UserID: "US.13491208655302741918"},
		Type: "template", Content: json.RawMessage(`{"name":"hello"}`)})
	require.NoError(t, err)
	byPhone, err := f.store.CreateContact(ctx, store.Contact{OrgID: f.org, WhatsAppID: "5511888888888", Tags: []string{"lead"}}, nil)
	require.NoError(t, err)

	resp := f.postSigned(read(t, "message_text.json"))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	merged := f.pub.Named(event.ContactMerged)
	require.Len(t, merged, 1, "events: %d", len(f.pub.All()))
	var d event.MergedData
	require.NoError(t, json.Unmarshal(merged[0].Data, &d))
	// The older survives; this fixture's clock stands still, so the id
	// (time-ordered) decides.
	surv, lost := byUser.Contact.ID, byPhone.ID
	if lost < surv {
		surv, lost = lost, surv
	}
	assert.Equal(t, surv, d.SurvivingID)
	assert.Equal(t, lost, d.MergedContactID)
	assert.Equal(t, []string{"lead"}, d.Contact.Tags)
	msgs := f.messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, surv, msgs[0].ContactID)

	// Meta redelivers: nothing more is merged or announced.
	resp = f.postSigned(read(t, "message_text.json"))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Len(t, f.pub.Named(event.ContactMerged), 1)
}

// A failed status with Meta's 131050 (the user stopped marketing messages)
// opts the message's contact out, once, also when Meta delivers the status
// again.
func TestFailedStatus131050OptsOut(t *testing.T) {
	f := newFixture(t)
	out := insertOutbound(t, f, "wamid.MKT")
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"` + wabaID + `","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":"` + phoneID + `"},"statuses":[{"id":"wamid.MKT","status":"failed","timestamp":"1796040000","recipient_id":"5511777777777","errors":[{"code":131050,"title":"Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business","message":"Unable to deliver the message."}]}]}}]}]}`)
	for i := 0; i < 2; i++ {
		resp := f.postSigned(body)
		require.Equal(t, 200, resp.StatusCode)
	}
	m, _ := f.store.Message(context.Background(), f.org, out.ID)
	require.Equal(t, "failed", m.Status)
	c, err := f.store.Contact(context.Background(), f.org, m.ContactID)
	require.NoError(t, err)
	require.NotNil(t, c.OptOut)
	require.Equal(t, store.OptOutMeta, c.OptOut.Reason)
	require.Len(t, f.pub.Distinct(event.ContactOptedOut), 1)
	require.Len(t, f.pub.Named(event.MessageFailed), 1)
}
