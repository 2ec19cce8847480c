package cost

import (
	"context"
	"encoding/json"
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
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/dispatch"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/metrics"
	"github.com/pytake/pytake/internal/outbox"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/ratelimit"
	"github.com/pytake/pytake/internal/rigtest"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/sender"
	"github.com/pytake/pytake/internal/sendlimit"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
	"github.com/pytake/pytake/internal/whatsapp"
)

// counts are requests by "service:Operation", and DynamoDB's request
// units estimated from them (see units).
type counts map[string]float64

type counter struct {
	mu    sync.Mutex
	c     counts
	shape func(part string) string // a partition key's shape (keyShape), once the rig knows its ids
}

func (c *counter) add(k string, n float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.c[k] += n
}

func (c *counter) snapshot() counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := counts{}
	for k, v := range c.c {
		out[k] = v
	}
	return out
}

func (a counts) minus(b counts) counts {
	out := counts{}
	for k, v := range a {
		if d := v - b[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func (a counts) sum(prefix string) float64 {
	var t float64
	for k, v := range a {
		if strings.HasPrefix(k, prefix) {
			t += v
		}
	}
	return t
}

// units estimates DynamoDB on-demand request units from a request, with
// items assumed under 1 KB written and 4 KB read (not measured): a write
// unit per item written (two in a transaction), half a read unit per
// eventually consistent item read (one when consistent; two in a
// transaction), a Query counted as one read of up to 4 KB.
func units(op string, params any) (rru, wru float64) {
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		return half(in.ConsistentRead), 0
	case *dynamodb.QueryInput:
		return half(in.ConsistentRead), 0
	case *dynamodb.BatchGetItemInput:
		for _, ka := range in.RequestItems {
			rru += float64(len(ka.Keys)) * half(ka.ConsistentRead)
		}
		return rru, 0
	case *dynamodb.TransactGetItemsInput:
		return 2 * float64(len(in.TransactItems)), 0
	case *dynamodb.PutItemInput, *dynamodb.UpdateItemInput, *dynamodb.DeleteItemInput:
		return 0, 1
	case *dynamodb.BatchWriteItemInput:
		for _, rs := range in.RequestItems {
			wru += float64(len(rs))
		}
		return 0, wru
	case *dynamodb.TransactWriteItemsInput:
		return 0, 2 * float64(len(in.TransactItems))
	}
	return 0, 0
}

func half(consistent *bool) float64 {
	if aws.ToBool(consistent) {
		return 1
	}
	return 0.5
}

// countingDynamo is a client of the in-process table counting every
// request and its units.
func countingDynamo(tbl *storetest.Table, c *counter) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(tbl.URL),
		Credentials:                     credentials.NewStaticCredentialsProvider("test", "test", ""),
		DisableValidateResponseChecksum: true, Retryer: storetest.ConnectionRetryer(),
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				op := awsmiddleware.GetOperationName(ctx)
				c.add("dynamodb:"+op, 1)
				r, w := units(op, in.Parameters)
				c.add("units:read", r)
				c.add("units:write", w)
				c.mu.Lock()
				shape := c.shape
				c.mu.Unlock()
				for _, a := range accesses(in.Parameters) {
					if shape != nil {
						a.part = shape(a.part)
					}
					kind := "key:read:"
					if a.write {
						kind = "key:write:"
					}
					c.add(kind+a.part, a.units)
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
		}},
	})
}

// byteCounter counts what is written to it (a function's log lines) under
// key.
type byteCounter struct {
	c   *counter
	key string
}

func (b byteCounter) Write(p []byte) (int, error) {
	b.c.add(b.key, float64(len(p)))
	return len(p), nil
}

// fakeSQS keeps what is sent, per queue URL, and counts requests.
type fakeSQS struct {
	c    *counter
	mu   sync.Mutex
	msgs map[string][]events.SQSMessage
	n    int
}

func (q *fakeSQS) SendMessageBatch(_ context.Context, in *awsapi.SendMessageBatchInput) (*awsapi.BatchOutput, error) {
	q.c.add("sqs:SendMessageBatch", 1)
	q.mu.Lock()
	defer q.mu.Unlock()
	out := &awsapi.BatchOutput{}
	for _, e := range in.Entries {
		q.put(in.QueueURL, e.Body, e.GroupID)
		out.Successful = append(out.Successful, awsapi.BatchSuccess{ID: e.ID, MessageID: "m"})
	}
	return out, nil
}

func (q *fakeSQS) put(url, body, group string) {
	q.n++
	name := url[strings.LastIndex(url, "/")+1:]
	m := events.SQSMessage{MessageId: "m" + strconv.Itoa(q.n), ReceiptHandle: "rh" + strconv.Itoa(q.n), Body: body,
		EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:" + name, Attributes: map[string]string{}}
	if group != "" {
		m.Attributes["MessageGroupId"] = group
	}
	q.msgs[url] = append(q.msgs[url], m)
}

func (q *fakeSQS) ChangeMessageVisibility(context.Context, *awsapi.ChangeMessageVisibilityInput) error {
	q.c.add("sqs:ChangeMessageVisibility", 1)
	return nil
}

// take empties a queue.
func (q *fakeSQS) take(url string) []events.SQSMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	m := q.msgs[url]
	delete(q.msgs, url)
	return m
}

// fakeSNS is the events topic: each message reaches the dispatcher's
// events queue (its subscription takes every event).
type fakeSNS struct {
	c   *counter
	sqs *fakeSQS
}

func (t *fakeSNS) PublishBatch(_ context.Context, in *awsapi.PublishBatchInput) (*awsapi.BatchOutput, error) {
	t.c.add("sns:PublishBatch", 1)
	t.c.add("sns:messages", float64(len(in.Entries)))
	t.sqs.mu.Lock()
	defer t.sqs.mu.Unlock()
	for _, e := range in.Entries {
		t.sqs.put(eventsURL, e.Message, "")
	}
	return &awsapi.BatchOutput{}, nil
}

// fakeSM answers GetSecretValue from a map, counting requests; nothing
// here writes secrets.
type fakeSM struct {
	secrets.API
	c      *counter
	values map[string]string
}

func (s *fakeSM) GetSecretValue(_ context.Context, in *awsapi.GetSecretValueInput) (*awsapi.GetSecretValueOutput, error) {
	s.c.add("secretsmanager:GetSecretValue", 1)
	v, ok := s.values[in.SecretID]
	if !ok {
		return nil, fmt.Errorf("secret %s not found", in.SecretID)
	}
	return &awsapi.GetSecretValueOutput{SecretString: v}, nil
}

var (
	outboundURL   = rigtest.QueueURL(rigtest.OutboundQueue)
	eventsURL     = rigtest.QueueURL(rigtest.EventsQueue)
	deliveriesURL = rigtest.QueueURL(rigtest.DeliveriesQueue)
)

const (
	phoneID   = rigtest.PhoneID
	wabaID    = rigtest.WABAID
	appSecret = "cost-app-secret"
)

type rig struct {
	t        *testing.T
	c        *counter
	sqs      *fakeSQS
	st       *store.Store
	apiSrv   func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	hook     func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	send     func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
	disp     func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
	stream   *storetest.Stream // the table's stream of outbox items
	relay    *outbox.Relay
	relayed  int // the stream position the relay has reached
	key      string
	org      string
	wamids   chan string
	received *int64
	recvMu   sync.Mutex
	inv      counts // Lambda invocations by function
	invMu    sync.Mutex
}

func newRig(t *testing.T) *rig {
	t.Helper()
	c := &counter{c: counts{}}
	var received int64
	r := &rig{t: t, c: c, wamids: make(chan string, 10000), received: &received, inv: counts{}}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.recvMu.Lock()
		received++
		r.recvMu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)

	var n int64
	var nmu sync.Mutex
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body struct{ To string }
		_ = json.NewDecoder(req.Body).Decode(&body)
		nmu.Lock()
		n++
		id := "wamid.cost" + strconv.FormatInt(n, 10)
		nmu.Unlock()
		r.wamids <- id
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":%q}]}`, body.To, body.To, id)
	}))
	t.Cleanup(meta.Close)

	sm := &fakeSM{c: c, values: map[string]string{}}
	names := secrets.New(sm, "pytake/dev/", time.Minute, time.Now)
	r.sqs = &fakeSQS{c: c, msgs: map[string][]events.SQSMessage{}}
	// The functions' log lines and metric lines are counted (CloudWatch
	// Logs bills ingestion by the byte).
	log := slog.New(slog.NewJSONHandler(byteCounter{c, "logs:bytes"}, nil))
	emit := func(fn string) *metrics.Emitter {
		e, err := metrics.NewEmitter(byteCounter{c, "logs:emf-bytes"}, "PyTake/cost", fn, time.Now)
		require.NoError(t, err)
		return e
	}
	p := rigtest.New(t, rigtest.Options{Name: "Cost", Log: log, AppSecret: appSecret, Chatbot: true,
		// The relay as main wires it: each organisation's admission bucket
		// and each contact's lane in the table.
		Relay: func(r *rigtest.Rig, e *sender.Enqueuer) {
			e.Admission, e.Routes = sendlimit.NewAdmission(r.Store, 0, 0, time.Now), r.Store
		},
		Client: func(tbl *storetest.Table) store.DB { return countingDynamo(tbl, c) },
		// The dispatcher's container keeps the subscriptions for the whole
		// run (read once, whatever the machine's pace): their reads a second
		// per container are modelled by the throughput simulation, not
		// counted per message here.
		Dispatch: func(d *dispatch.Deps) { d.HookCacheTTL = time.Hour },
		SetSecret: func(org, provider string, v any) {
			b, _ := json.Marshal(v)
			sm.values[names.Name(org, provider)] = string(b)
		},
		// Each function has its own container, so its own secrets cache (5
		// minutes in every function but the dispatcher's minute, as in main).
		Secrets: func(fn string) rigtest.Secrets {
			ttl := 5 * time.Minute
			if fn == "dispatcher" {
				ttl = time.Minute
			}
			return secrets.New(sm, "pytake/dev/", ttl, time.Now)
		},
		SQS:      r.sqs,
		Events:   queue.NewTopic(&fakeSNS{c: c, sqs: r.sqs}, "arn:aws:sns:us-east-1:123456789012:pytake-events", "event"),
		Graph:    graph.New(meta.URL, meta.Client()),
		Endpoint: receiver.URL + "/pytake",
		// The API as main wires it.
		API: func(p *rigtest.Rig, d *api.Deps) {
			d.SecretWriter = d.Secrets.(*secrets.Store)
			d.Webhooks, d.Deliveries, d.Chatbots, d.Integrations, d.Templates = p.Store, p.Store, p.Store, p.Store, p.Store
			d.DeliveryQueue = dispatch.Jobs{Queue: queue.New(r.sqs, deliveriesURL, "deliveries")}
			d.Graph, d.GraphVersion = graph.New(meta.URL, meta.Client()), rigtest.GraphVersion
			d.Limiter = ratelimit.New(p.Store, time.Now)
		},
	})
	r.st, r.key, r.org, r.stream, r.relay = p.Store, p.Key, p.Org, p.Stream, p.Relay
	c.mu.Lock()
	c.shape = func(part string) string { return keyShape(part, p.Org, p.Hook.ID) }
	c.mu.Unlock()
	r.apiSrv = p.API.Router().Serve
	r.hook = metrics.Handler(emit("whatsapp-webhook"), nil, p.WhatsApp.Router().Serve)
	r.send = metrics.Handler(emit("sender"), nil, p.Sender.Handle)
	r.disp = metrics.Handler(emit("dispatcher"), nil, p.Dispatcher.Handle)
	return r
}

func (r *rig) invoked(fn string, n int) {
	r.invMu.Lock()
	r.inv[fn] += float64(n)
	r.invMu.Unlock()
	r.c.add("lambda:"+fn, float64(n))
}

func apiRequest(method, path, authz, body string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: path, Body: body,
		Headers: map[string]string{"authorization": authz, "content-type": "application/json"}}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.RequestID = "cost"
	return ev
}

// metaPost signs a webhook body as Meta does.
func (r *rig) metaPost(body string) {
	r.t.Helper()
	ev := apiRequest("POST", "/webhooks/whatsapp", "", body)
	ev.Headers["x-hub-signature-256"] = whatsapp.Sign([]byte(body), []byte(appSecret))
	resp, err := r.hook(context.Background(), ev)
	require.NoError(r.t, err)
	require.Equal(r.t, 200, resp.StatusCode, resp.Body)
	r.invoked("whatsapp-webhook", 1)
}

func change(value string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"` + wabaID + `","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"` + phoneID + `"},` + value + `}}]}]}`
}

// batches hands a queue's messages to a handler in batches of 10, as the
// event source mapping does, until the queue stays empty.
func (r *rig) drain(url, fn string, h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) {
	r.t.Helper()
	for {
		msgs := r.sqs.take(url)
		if len(msgs) == 0 {
			return
		}
		for i := 0; i < len(msgs); i += 10 {
			batch := msgs[i:min(i+10, len(msgs))]
			resp, err := h(context.Background(), events.SQSEvent{Records: batch})
			require.NoError(r.t, err)
			require.Empty(r.t, resp.BatchItemFailures, "%s kept records", fn)
			r.invoked(fn, 1)
			r.c.add("sqs:ReceiveMessage", 1)     // the event source mapping's receive of this batch
			r.c.add("sqs:DeleteMessageBatch", 1) // and its delete
		}
	}
}

// relayOutbox runs the outbox relay over the stream's new records in
// batches of 25 (the event source mapping's BatchSize), as Lambda does.
// Lambda's reads of a DynamoDB stream for a function are not billed; the
// invocations are.
func (r *rig) relayOutbox() {
	r.t.Helper()
	for {
		recs := r.stream.Records(r.relayed)
		if len(recs) == 0 {
			return
		}
		recs = recs[:min(len(recs), 25)]
		var ev events.DynamoDBEvent
		for i, rec := range recs {
			ev.Records = append(ev.Records, outbox.Record(strconv.Itoa(r.relayed+i), rec))
		}
		resp, err := r.relay.Handle(context.Background(), ev)
		require.NoError(r.t, err)
		require.Empty(r.t, resp.BatchItemFailures, "the relay kept records")
		r.relayed += len(recs)
		r.invoked("outbox-relay", 1)
	}
}

// deliverEvents runs the dispatcher over the events, then the jobs.
func (r *rig) deliverEvents() {
	r.drain(eventsURL, "dispatcher", r.disp)
	r.drain(deliveriesURL, "dispatcher", r.disp)
}

// sendRound sends n messages through the API (to n recipients, the same
// ones each round: the first round creates their contacts and
// conversations), the relay and the sender, applies their three statuses
// through the webhook and delivers every event, calling step after each
// function's part.
func (r *rig) sendRound(n int, step func(string)) {
	t := r.t
	t.Helper()
	ctx := context.Background()
	r.wamids = make(chan string, 10000)
	for i := 0; i < n; i++ {
		resp, err := r.apiSrv(ctx, apiRequest("POST", "/v1/messages", "Bearer "+r.key,
			fmt.Sprintf(`{"to":"+55119%08d","type":"template","template":{"name":"order_update","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"%d"},{"type":"text","text":"saiu para entrega"}]}]}}`, 10000000+i, 1000+i)))
		require.NoError(t, err)
		require.Equal(t, 202, resp.StatusCode, resp.Body)
		r.invoked("api", 1)
	}
	step("1 api")
	r.relayOutbox()
	step("1b outbox relay")
	r.drain(outboundURL, "sender", r.send)
	step("2 sender")
	require.Len(t, r.wamids, n, "every message reached Meta once")
	close(r.wamids)
	ts := time.Now().Unix()
	for id := range r.wamids {
		for _, st := range []string{"sent", "delivered", "read"} {
			r.metaPost(change(`"statuses":[{"id":"` + id + `","status":"` + st + `","timestamp":"` + strconv.FormatInt(ts, 10) + `","recipient_id":"5511900000000"}]`))
		}
	}
	step("3 webhook (3 statuses)")
	r.drain(eventsURL, "dispatcher", r.disp)
	step("4 dispatcher fan-out")
	r.drain(deliveriesURL, "dispatcher", r.disp)
	step("5 dispatcher deliveries")
}

// Bounds per message: the measured counts (README, Cost model) with
// headroom; a change that needs more requests per message fails here and
// must update the model.
var bounds = []struct {
	phase, key string
	max        float64
}{
	// Measured (N=20): 71.55 write units, 12.9 read units, 61.45 DynamoDB
	// requests, 8.2 SQS requests, 4 SNS requests, 0.15 secret reads (cold
	// caches), 2,987 log and metric bytes per message sent.
	{"sent", "units:write", 79},
	{"sent", "units:read", 19},
	{"sent", "dynamodb:", 72},
	{"sent", "sqs:", 9},
	{"sent", "sns:PublishBatch", 4.5},
	{"sent", "secretsmanager:", 0.5},
	{"sent", "logs:", 3300},
	// 31, 5, 25, 4.2, 1, 0, 816 per inbound message.
	{"inbound", "units:write", 35},
	{"inbound", "units:read", 6},
	{"inbound", "dynamodb:", 28},
	{"inbound", "sqs:", 5},
	{"inbound", "sns:PublishBatch", 1.2},
	{"inbound", "secretsmanager:", 0.2},
	{"inbound", "logs:", 950},
	// 2, 1, 3, 0.2, 0, 36 per delivery (the attempt; its fan-out is in
	// the phases above: "sent: 4 dispatcher fan-out").
	{"delivery", "units:write", 2.2},
	{"delivery", "units:read", 1.2},
	{"delivery", "dynamodb:", 3.4},
	{"delivery", "sqs:", 0.3},
	{"delivery", "secretsmanager:", 0.1},
	{"delivery", "logs:", 60},
}

// TestRequestsPerMessage sends N messages through the API and the sender
// (Meta answering each, then its sent, delivered and read statuses
// through the webhook), receives N inbound messages, and delivers every
// event they cause to one subscription; each phase's AWS requests per
// message are reported and held to bounds.
func TestRequestsPerMessage(t *testing.T) {
	const n = 20
	r := newRig(t)

	// Sent: accepted by the API, sent, three statuses, and every event of
	// it delivered to the subscription.
	before := r.c.snapshot()
	steps := map[string]counts{}
	mark := r.c.snapshot()
	step := func(name string) {
		now := r.c.snapshot()
		steps[name] = now.minus(mark)
		mark = now
	}
	r.sendRound(n, step)
	sent := r.c.snapshot().minus(before)
	ts := time.Now().Unix()
	sentDeliveries := float64(*r.received)

	// Inbound: N messages from N customers, and their events delivered.
	before = r.c.snapshot()
	for i := 0; i < n; i++ {
		from := fmt.Sprintf("55219%08d", 20000000+i)
		r.metaPost(change(`"contacts":[{"profile":{"name":"Cliente"},"wa_id":"` + from + `"}],"messages":[{"from":"` + from + `","id":"wamid.in` + strconv.Itoa(i) + `","timestamp":"` + strconv.FormatInt(ts, 10) + `","type":"text","text":{"body":"Oi"}}]`))
	}
	r.deliverEvents()
	in := r.c.snapshot().minus(before)
	inDeliveries := float64(*r.received) - sentDeliveries

	// Delivery alone: the jobs of the events above, per delivery.
	deliveries := sentDeliveries + inDeliveries
	require.Positive(t, deliveries)

	phases := map[string]struct {
		c   counts
		per float64
	}{"sent": {sent, n}, "inbound": {in, n}}
	// A delivery's own requests: the dispatcher's deliver step, measured
	// once more on its own (the delivery jobs of N message.sent events).
	jobsBefore := *r.received
	for i := 0; i < n; i++ {
		ev, err := event.New("evt_cost_"+strconv.Itoa(i), event.MessageSent, r.org, time.Now(), map[string]any{"i": i})
		require.NoError(t, err)
		b, _ := json.Marshal(ev)
		r.sqs.mu.Lock()
		r.sqs.put(eventsURL, string(b), "")
		r.sqs.mu.Unlock()
	}
	r.drain(eventsURL, "dispatcher", r.disp)
	fan := r.c.snapshot()
	r.drain(deliveriesURL, "dispatcher", r.disp)
	deliv := r.c.snapshot().minus(fan)
	require.Equal(t, int64(n), *r.received-jobsBefore)
	phases["delivery"] = struct {
		c   counts
		per float64
	}{deliv, n}

	var names []string
	for k := range steps {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		phases["sent: "+name] = struct {
			c   counts
			per float64
		}{steps[name], n}
	}
	for _, name := range append([]string{"sent", "inbound", "delivery"}, func() []string {
		var o []string
		for _, x := range names {
			o = append(o, "sent: "+x)
		}
		return o
	}()...) {
		p := phases[name]
		var keys []string
		for k := range p.c {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "  %-36s %7.2f\n", k, p.c[k]/p.per)
		}
		t.Logf("per message %s (N=%d, webhook deliveries in this phase: sent %v, inbound %v):\n%s", name, n, sentDeliveries, inDeliveries, b.String())
	}
	for _, bd := range bounds {
		p := phases[bd.phase]
		got := p.c.sum(bd.key) / p.per
		require.LessOrEqual(t, got, bd.max, "%s: %s per message is %.2f, over its bound %.2f (update the README's cost model)", bd.phase, bd.key, got, bd.max)
	}

	// The same recipients again (their contacts and open conversations
	// exist): the steady state of a number sending to known customers.
	// The partition keys of both rounds are the throughput simulation's
	// model (internal/sendlimit).
	again := map[string]counts{}
	mark = r.c.snapshot()
	r.sendRound(n, func(name string) {
		now := r.c.snapshot()
		again[name] = now.minus(mark)
		mark = now
	})
	checkKeyProfile(t, keyProfile{Messages: n, NewContacts: profileOf(steps, n), KnownContacts: profileOf(again, n)})
}
