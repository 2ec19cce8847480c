package faultsuite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/dispatch"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/outbox"
	"github.com/pytake/pytake/internal/rigtest"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/sender"
	"github.com/pytake/pytake/internal/shop"
	"github.com/pytake/pytake/internal/shopconfig"
	"github.com/pytake/pytake/internal/shophook"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
	"github.com/pytake/pytake/internal/whatsapp"
)

// Fault modes.
const (
	modeError = "error"       // the call fails, without effect
	modeLost  = "lost-answer" // the call takes effect, its answer is an error
	modeCrash = "crash"       // the call takes effect, the invocation stops
)

var modes = []string{modeError, modeLost, modeCrash}

var (
	errInjected = errors.New("faultsuite: injected failure")
	errCrashed  = errors.New("faultsuite: the invocation crashed earlier")
)

// invocation is one run of a function; once crashed, every call it makes
// fails (nothing after the crash point happens).
type invocation struct {
	mu      sync.Mutex
	crashed bool
}

type invKey struct{}

func invOf(ctx context.Context) *invocation {
	if v, ok := ctx.Value(invKey{}).(*invocation); ok {
		return v
	}
	return &invocation{}
}

// faults counts the external calls of a run and fires one fault at call
// number at.
type faults struct {
	mu     sync.Mutex
	n      int
	at     int
	mode   string
	fired  string // the call the fault fired at
	points []string
}

func (f *faults) call(ctx context.Context, name string, apply func() error) error {
	inv := invOf(ctx)
	inv.mu.Lock()
	crashed := inv.crashed
	inv.mu.Unlock()
	if crashed {
		return errCrashed
	}
	f.mu.Lock()
	i := f.n
	f.n++
	f.points = append(f.points, name)
	fire := i == f.at
	if fire {
		f.fired = name
	}
	mode := f.mode
	f.mu.Unlock()
	if fire && mode == modeError {
		return errInjected
	}
	err := apply()
	if fire {
		switch mode {
		case modeLost:
			return errInjected
		case modeCrash:
			inv.mu.Lock()
			inv.crashed = true
			inv.mu.Unlock()
			return errCrashed
		}
	}
	return err
}

// ---------------------------------------------------------------- DynamoDB

type faultyDB struct {
	db store.DB
	f  *faults
}

func wrap[I, O any](ctx context.Context, f *faults, name string, in I, fn func(context.Context, I, ...func(*dynamodb.Options)) (O, error)) (O, error) {
	var out O
	err := f.call(ctx, "dynamodb."+name, func() error {
		var err error
		out, err = fn(ctx, in)
		return err
	})
	return out, err
}

func (d faultyDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return wrap(ctx, d.f, "GetItem", in, d.db.GetItem)
}
func (d faultyDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return wrap(ctx, d.f, "PutItem", in, d.db.PutItem)
}
func (d faultyDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return wrap(ctx, d.f, "UpdateItem", in, d.db.UpdateItem)
}
func (d faultyDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return wrap(ctx, d.f, "DeleteItem", in, d.db.DeleteItem)
}
func (d faultyDB) Query(ctx context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return wrap(ctx, d.f, "Query", in, d.db.Query)
}
func (d faultyDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return wrap(ctx, d.f, "TransactWriteItems", in, d.db.TransactWriteItems)
}
func (d faultyDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return wrap(ctx, d.f, "BatchGetItem", in, d.db.BatchGetItem)
}

// ---------------------------------------------------------------- SQS

type sqsMsg struct {
	id, body, group, dedup string
	attrs                  map[string]string
	receives               int
}

// fakeSQS holds the queues by URL; maxReceive moves a message to its
// dead-letter queue (dlq[url]) after that many receives.
type fakeSQS struct {
	f      *faults
	mu     sync.Mutex
	queues map[string][]*sqsMsg
	dedup  map[string]bool
	seq    int
}

func (q *fakeSQS) SendMessageBatch(ctx context.Context, in *awsapi.SendMessageBatchInput) (*awsapi.BatchOutput, error) {
	var out awsapi.BatchOutput
	err := q.f.call(ctx, "sqs.SendMessageBatch", func() error {
		q.mu.Lock()
		defer q.mu.Unlock()
		url := in.QueueURL
		for _, e := range in.Entries {
			d := e.DedupID
			if d != "" && q.dedup[url+"|"+d] {
				continue // FIFO deduplication
			}
			if d != "" {
				q.dedup[url+"|"+d] = true
			}
			q.seq++
			m := &sqsMsg{id: "m" + strconv.Itoa(q.seq), body: e.Body, group: e.GroupID, dedup: d, attrs: map[string]string{}}
			for k, v := range e.Attributes {
				m.attrs[k] = v
			}
			q.queues[url] = append(q.queues[url], m)
			out.Successful = append(out.Successful, awsapi.BatchSuccess{ID: e.ID, MessageID: m.id})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (q *fakeSQS) ChangeMessageVisibility(ctx context.Context, _ *awsapi.ChangeMessageVisibilityInput) error {
	// The harness redelivers every round: the delay itself is not
	// emulated, the call's failure is.
	return q.f.call(ctx, "sqs.ChangeMessageVisibility", func() error { return nil })
}

// ---------------------------------------------------------------- Meta

// meta is the simulated Graph API and Meta's webhook sender: it accepts
// sends (or refuses those to refuse[to]), counts what it accepted per
// PyTake message id, and queues the statuses it will post.
type meta struct {
	f       *faults
	h       *harness
	mu      sync.Mutex
	n       int
	sent    map[string]int // message id -> times accepted
	refuse  map[string]int // recipient -> Meta error code
	inline  bool           // post the first status before answering the send
	pending [][]byte       // webhook bodies to post
}

func (m *meta) SendMessage(ctx context.Context, _, _, _ string, body []byte) (graph.SendResult, error) {
	var b struct {
		To        string `json:"to"`
		BizOpaque string `json:"biz_opaque_callback_data"`
	}
	_ = json.Unmarshal(body, &b)
	var res graph.SendResult
	var refused error
	err := m.f.call(ctx, "graph.SendMessage", func() error {
		m.mu.Lock()
		if code, ok := m.refuse[b.To]; ok {
			m.mu.Unlock()
			refused = &graph.Error{HTTPStatus: 400, Code: code, Message: "refused by the simulated Meta"}
			return nil
		}
		m.n++
		res.WAMID = "wamid.FS" + strconv.Itoa(m.n)
		msgID := strings.TrimPrefix(b.BizOpaque, store.CallbackPrefix)
		m.sent[msgID]++
		sent := m.statusBody(res.WAMID, b.To, "sent", b.BizOpaque)
		delivered := m.statusBody(res.WAMID, b.To, "delivered", b.BizOpaque)
		inline := m.inline
		if !inline {
			m.pending = append(m.pending, sent)
		}
		m.pending = append(m.pending, delivered)
		m.mu.Unlock()
		if inline {
			// Meta's webhook beats its answer to the send.
			m.h.postUntilAccepted(sent)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, errInjected) && m.f.mode == modeError {
			return graph.SendResult{}, &graph.Error{HTTPStatus: 500, Code: 131000, Message: "Something went wrong"}
		}
		return graph.SendResult{}, fmt.Errorf("graph: post: %w", context.DeadlineExceeded)
	}
	if refused != nil {
		return graph.SendResult{}, refused
	}
	return res, nil
}

func (m *meta) statusBody(wamid, to, status, opaque string) []byte {
	st := map[string]any{"id": wamid, "status": status, "timestamp": strconv.FormatInt(m.h.now().Unix(), 10), "recipient_id": to}
	if opaque != "" {
		st["biz_opaque_callback_data"] = opaque
	}
	return metaBody(map[string]any{"statuses": []any{st}})
}

func metaBody(value map[string]any) []byte {
	value["messaging_product"] = "whatsapp"
	value["metadata"] = map[string]any{"display_phone_number": "15550783881", "phone_number_id": phoneID}
	b, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": wabaID, "changes": []any{map[string]any{"field": "messages", "value": value}}}}})
	return b
}

// ---------------------------------------------------------------- the subscriber

// endpoint is the integrator's webhook receiver; the dispatcher's POSTs
// reach it through a transport that counts as a fault point.
type endpoint struct {
	mu  sync.Mutex
	got map[string][]string // event name -> ids, as delivered (repeats included)
	srv *httptest.Server
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var ev event.Event
	_ = json.Unmarshal(b, &ev)
	e.mu.Lock()
	e.got[ev.Event] = append(e.got[ev.Event], ev.ID)
	e.mu.Unlock()
	w.WriteHeader(200)
}

type faultyTransport struct {
	f    *faults
	base http.RoundTripper
}

func (t faultyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var resp *http.Response
	err := t.f.call(r.Context(), "http.PostWebhook", func() error {
		var err error
		resp, err = t.base.RoundTrip(r)
		return err
	})
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	return resp, nil
}

// ---------------------------------------------------------------- the harness

const (
	phoneID     = rigtest.PhoneID
	wabaID      = rigtest.WABAID
	appSecret   = "fault-suite-app-secret"
	maxReceives = 40 // the outbound queue's; the others have 20
)

var (
	url         = rigtest.QueueURL
	arn         = rigtest.QueueARN
	qEvents     = rigtest.EventsQueue
	qDeliveries = rigtest.DeliveriesQueue
	qOutbound   = rigtest.OutboundQueue
	qOutDLQ     = rigtest.OutboundDLQ
	qDelDLQ     = rigtest.DeliveriesDLQ
	qEventsDLQ  = rigtest.EventsDLQ
	dlqOf       = map[string]string{qEvents: qEventsDLQ, qDeliveries: qDelDLQ, qOutbound: qOutDLQ}
	maxRecv     = map[string]int{qEvents: 20, qDeliveries: 20, qOutbound: maxReceives}
)

type harness struct {
	t      testing.TB
	f      *faults
	st     *store.Store
	raw    *store.Store // the same table without faults, for the checks
	org    string
	sqs    *fakeSQS
	meta   *meta
	ep     *endpoint
	hook   *httpapi.Router
	snd    *sender.Sender
	disp   *dispatch.Dispatcher
	acc    *accept.Accepter
	shop   *httpapi.Router // Shopify's webhook
	api    *httpapi.Router // the /v1 API
	apiKey string
	stream *storetest.Stream
	relay  *outbox.Relay
	relayN int // the stream position the relay's event source mapping has acknowledged
	clock  time.Time
	clkMu  sync.Mutex
	stuckQ []string // queue messages left when the rounds ran out
}

func (h *harness) now() time.Time {
	h.clkMu.Lock()
	defer h.clkMu.Unlock()
	return h.clock
}

func (h *harness) advance(d time.Duration) {
	h.clkMu.Lock()
	defer h.clkMu.Unlock()
	h.clock = h.clock.Add(d)
}

func newHarness(t testing.TB, f *faults, bot bool) *harness {
	// Half a second into a second: the sender's limiter hands out a
	// second's send tokens only away from its edges (sendlimit.Guard),
	// and this clock moves only when the suite says.
	h := &harness{t: t, f: f, clock: time.Date(2026, 12, 1, 12, 0, 0, 500_000_000, time.UTC)}
	h.sqs = &fakeSQS{f: f, queues: map[string][]*sqsMsg{}, dedup: map[string]bool{}}
	h.meta = &meta{f: f, h: h, sent: map[string]int{}, refuse: map[string]int{}}
	h.ep = &endpoint{got: map[string][]string{}}
	h.ep.srv = httptest.NewServer(h.ep)
	t.Cleanup(h.ep.srv.Close)

	// The organisation, its number and a subscription to every event:
	// set up before any fault can fire.
	save := f.at
	f.at = -1
	defer func() { f.at, f.n, f.points = save, 0, nil }()
	sec := secretstest.New()
	rig := rigtest.New(t, rigtest.Options{Name: "Fault suite", Now: h.now, AppSecret: appSecret, Chatbot: bot,
		Wrap:      func(db store.DB) store.DB { return faultyDB{db: db, f: f} },
		SetSecret: sec.Set, Secrets: func(string) rigtest.Secrets { return sec },
		SQS: h.sqs, Graph: h.meta, Endpoint: h.ep.srv.URL,
		Sender: func(d *sender.Deps) {
			d.Sleep, d.Rand = func(context.Context, time.Duration) error { return nil }, func() float64 { return 0.5 }
		},
		Dispatch: func(d *dispatch.Deps) {
			d.HTTP = &http.Client{Transport: faultyTransport{f: f, base: http.DefaultTransport}, Timeout: 5 * time.Second}
			d.Rand = func() float64 { return 0.5 }
		},
	})
	h.st, h.raw, h.stream, h.org, h.apiKey = rig.Store, rig.Raw, rig.Stream, rig.Org, rig.Key
	h.hook, h.snd, h.disp, h.api = rig.WhatsApp.Router(), rig.Sender, rig.Dispatcher, rig.API.Router()
	h.acc = accept.New(h.st)
	// The relay's own retries within an invocation are not waited for
	// here: a crashed invocation's calls all fail, and the stream's
	// retries (relayStream) are what this suite plays.
	h.relay = rig.Relay.WithClock(h.now, func(context.Context, time.Duration) error { return errCrashed })

	ctx := context.Background()
	if bot {
		def, _ := json.Marshal(map[string]any{"name": "Atendimento", "welcome_message": "Olá! Como posso ajudar?", "active": true, "rules": []any{}})
		if _, err := h.st.CreateChatbot(ctx, store.Chatbot{OrgID: h.org, Name: "Atendimento", Active: true, Definition: def}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, _, err := shopconfig.Configure(ctx, h.st, sec, h.org, shopconfig.Shopify,
		[]byte(`{"shop_domain":"`+shopDomain+`","webhook_secret":"`+shopSecret+`"}`), h.now()); err != nil {
		t.Fatal(err)
	}
	h.shop = shophook.New(shophook.Deps{Store: h.st, Secrets: sec, Events: rig.Events, Log: slog.New(slog.DiscardHandler), Now: h.now}).ShopifyRouter()
	return h
}

// rest calls the /v1 API as an integrator does: retried while the answer
// is lost or a 5xx (a 4xx is an answer). It returns the last status and
// body.
func (h *harness) rest(method, path, body string) (int, string) {
	code, out := 0, ""
	for i := 0; i < 20; i++ {
		crashed, err := h.invoke(func(ctx context.Context) error {
			ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: path, Body: body,
				Headers: map[string]string{"authorization": "Bearer " + h.apiKey, "content-type": "application/json"}}
			ev.RequestContext.HTTP.Method = method
			resp, err := h.api.Serve(ctx, ev)
			code, out = resp.StatusCode, resp.Body
			return err
		})
		if !crashed && err == nil && code < 500 {
			return code, out
		}
		h.advance(time.Second)
	}
	h.t.Errorf("%s %s was answered 5xx 20 times: %d %s", method, path, code, out)
	return code, out
}

const (
	shopDomain = "fault-suite.myshopify.com"
	shopSecret = "fault-suite-shopify-secret"
)

// shopify delivers an orders/create as Shopify does, retried (a minute
// apart: a delivery in progress holds it for 30 s) until answered 2xx.
func (h *harness) shopify(hookID string, body []byte) {
	for i := 0; i < 20; i++ {
		crashed, err := h.invoke(func(ctx context.Context) error {
			ev := events.APIGatewayV2HTTPRequest{RawPath: "/webhooks/shopify", Body: string(body), Headers: map[string]string{
				"content-type": "application/json", "x-shopify-topic": "orders/create", "x-shopify-hmac-sha256": shop.Sign(body, shopSecret),
				"x-shopify-shop-domain": shopDomain, "x-shopify-webhook-id": hookID, "x-shopify-api-version": "2025-10",
				"x-shopify-triggered-at": h.now().UTC().Format(time.RFC3339)}}
			ev.RequestContext.HTTP.Method = "POST"
			resp, err := h.shop.Serve(ctx, ev)
			if err == nil && resp.StatusCode/100 != 2 {
				err = fmt.Errorf("shopify webhook answered %d: %s", resp.StatusCode, resp.Body)
			}
			return err
		})
		if !crashed && err == nil {
			return
		}
		h.advance(time.Minute)
	}
	h.t.Errorf("the Shopify webhook was refused 20 times")
}

// outbound lists the organisation's outbound messages, oldest first.
func (h *harness) outbound(t testing.TB) map[string]bool {
	_ = t
	out := map[string]bool{}
	for _, m := range h.outboundMessages() {
		out[m.ID] = true
	}
	return out
}

func (h *harness) outboundMessages() []store.Message {
	ctx := context.Background()
	convs, err := h.raw.Conversations(ctx, h.org, "", "", "", 100)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []store.Message
	for _, c := range convs.Items {
		page, err := h.raw.ConversationMessages(ctx, h.org, c.ID, "", 100)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, m := range page.Items {
			if m.Direction == store.Outbound {
				full, err := h.raw.Message(ctx, h.org, m.ID)
				if err != nil {
					h.t.Fatal(err)
				}
				out = append(out, full)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// invoke runs fn as one invocation; crashed reports whether it crashed.
func (h *harness) invoke(fn func(ctx context.Context) error) (crashed bool, err error) {
	inv := &invocation{}
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), invKey{}, inv), 30*time.Second)
	defer cancel()
	err = fn(ctx)
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.crashed, err
}

// post delivers one webhook body as Meta does; true when answered 200.
func (h *harness) post(body []byte) bool {
	crashed, err := h.invoke(func(ctx context.Context) error {
		ev := events.APIGatewayV2HTTPRequest{RawPath: "/webhooks/whatsapp", Body: string(body),
			Headers: map[string]string{"content-type": "application/json", "x-hub-signature-256": whatsapp.Sign(body, []byte(appSecret))}}
		ev.RequestContext.HTTP.Method = "POST"
		resp, err := h.hook.Serve(ctx, ev)
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("webhook answered %d: %s", resp.StatusCode, resp.Body)
		}
		return err
	})
	return !crashed && err == nil
}

// postUntilAccepted is Meta's redelivery of one webhook.
func (h *harness) postUntilAccepted(body []byte) {
	for i := 0; i < 20; i++ {
		if h.post(body) {
			return
		}
	}
	h.t.Errorf("Meta's webhook was refused 20 times")
}

// poll runs one batch of a queue through its consumer, as Lambda's event
// source mapping does.
func (h *harness) poll(name string, handle func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) bool {
	h.sqs.mu.Lock()
	msgs := h.sqs.queues[url(name)]
	if len(msgs) == 0 {
		h.sqs.mu.Unlock()
		return false
	}
	batch := msgs[:min(len(msgs), 10)]
	var recs []events.SQSMessage
	for _, m := range batch {
		m.receives++
		attrs := map[string]string{"ApproximateReceiveCount": strconv.Itoa(m.receives)}
		if m.group != "" {
			attrs["MessageGroupId"] = m.group
		}
		recs = append(recs, events.SQSMessage{MessageId: m.id, ReceiptHandle: m.id, Body: m.body, Attributes: attrs, EventSourceARN: arn(name)})
	}
	h.sqs.mu.Unlock()
	var resp events.SQSEventResponse
	crashed, err := h.invoke(func(ctx context.Context) error {
		var err error
		resp, err = handle(ctx, events.SQSEvent{Records: recs})
		return err
	})
	keep := map[string]bool{}
	if crashed || err != nil {
		for _, m := range batch {
			keep[m.id] = true
		}
	} else {
		for _, f := range resp.BatchItemFailures {
			keep[f.ItemIdentifier] = true
		}
	}
	h.sqs.mu.Lock()
	defer h.sqs.mu.Unlock()
	inBatch := map[string]bool{}
	for _, m := range batch {
		inBatch[m.id] = true
	}
	var rest []*sqsMsg
	for _, m := range h.sqs.queues[url(name)] {
		switch {
		case !inBatch[m.id]:
			rest = append(rest, m)
		case !keep[m.id]:
			// deleted
		case maxRecv[name] > 0 && m.receives >= maxRecv[name]:
			dlq := dlqOf[name]
			h.sqs.queues[url(dlq)] = append(h.sqs.queues[url(dlq)], &sqsMsg{id: m.id + "d", body: m.body, group: m.group, attrs: m.attrs})
		default:
			rest = append(rest, m)
		}
	}
	h.sqs.queues[url(name)] = rest
	return true
}

// pollStream runs one batch of the table's stream (outbox inserts) through
// the relay, as Lambda's event source mapping does: reading the shard is a
// fault point; a batch whose invocation fails or crashes is retried whole,
// one that reports an item failure is retried from that item on (the
// records before it are acknowledged).
func (h *harness) pollStream() bool {
	recs := h.stream.Records(h.relayN)
	if len(recs) == 0 {
		return false
	}
	recs = recs[:min(len(recs), 10)]
	var resp events.DynamoDBEventResponse
	crashed, err := h.invoke(func(ctx context.Context) error {
		if err := h.f.call(ctx, "dynamodbstreams.GetRecords", func() error { return nil }); err != nil {
			return err
		}
		ev := events.DynamoDBEvent{}
		for i, r := range recs {
			ev.Records = append(ev.Records, outbox.Record(strconv.Itoa(h.relayN+i), r))
		}
		var err error
		resp, err = h.relay.Handle(ctx, ev)
		return err
	})
	if crashed || err != nil {
		return true
	}
	done := len(recs)
	for _, f := range resp.BatchItemFailures {
		n, err := strconv.Atoi(f.ItemIdentifier)
		if err != nil || n < h.relayN || n >= h.relayN+len(recs) {
			h.t.Errorf("the relay named %q, not in its batch", f.ItemIdentifier)
			return true
		}
		done = min(done, n-h.relayN)
	}
	h.relayN += done
	return true
}

// settle runs the platform until nothing is left to do (or rounds run
// out): Meta's webhooks (redelivered until answered), then one batch of
// each queue; time moves on a minute a round.
func (h *harness) settle() {
	for round := 0; round < 60; round++ {
		busy := false
		h.meta.mu.Lock()
		pending := h.meta.pending
		h.meta.pending = nil
		h.meta.mu.Unlock()
		for _, b := range pending {
			busy = true
			h.postUntilAccepted(b)
		}
		for i := 0; i < 5 && h.pollStream(); i++ {
			busy = true
		}
		for _, q := range []string{qOutbound, qOutDLQ, qEvents, qDeliveries, qDelDLQ} {
			handle := h.disp.Handle
			if q == qOutbound || q == qOutDLQ {
				handle = h.snd.Handle
			}
			for i := 0; i < 5 && h.poll(q, handle); i++ {
				busy = true
			}
		}
		h.advance(time.Minute)
		if !busy {
			return
		}
	}
	for range h.stream.Records(h.relayN) {
		h.stuckQ = append(h.stuckQ, "stream")
	}
	h.sqs.mu.Lock()
	defer h.sqs.mu.Unlock()
	for q, msgs := range h.sqs.queues {
		for range msgs {
			h.stuckQ = append(h.stuckQ, q)
		}
	}
	sort.Strings(h.stuckQ)
}

// send accepts a message as POST /v1/messages does, retried by the
// integrator with its Idempotency-Key until it is answered.
func (h *harness) send(to string, key string) string {
	req, err := outbound.BodyTemplate(to, "order_confirmation", "pt_BR", []string{"1001"})
	if err != nil {
		h.t.Fatal(err)
	}
	var id string
	for i := 0; i < 20 && id == ""; i++ {
		var res store.OutboundResult
		crashed, err := h.invoke(func(ctx context.Context) error {
			var err error
			res, err = h.acc.Accept(ctx, accept.Message{OrgID: h.org, Request: req, IdempotencyKey: key, Fingerprint: []byte(key)})
			return err
		})
		if !crashed && err == nil {
			id = res.Message.ID
		}
	}
	if id == "" {
		h.t.Errorf("POST /v1/messages never answered 202")
	}
	return id
}
