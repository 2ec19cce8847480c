package shophook_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/shop"
	"github.com/pytake/pytake/internal/shopconfig"
	"github.com/pytake/pytake/internal/shophook"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// The demo integrations of the local stack (infra/local/stack/seed.go): the
// samples in events/ are signed with these secrets.
const (
	shopDomain    = "pytake-demo.myshopify.com"
	shopifySecret = "pytake-demo-shopify-secret"
	wooSite       = "http://127.0.0.1:8080/shop"
	wooSecret     = "pytake-demo-woocommerce-secret"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type memSecrets struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memSecrets) Get(_ context.Context, org, provider string, v any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[org+"/"+provider]
	if !ok {
		return apperr.New(apperr.NotFound, "the credentials are not set")
	}
	return json.Unmarshal(b, v)
}

func (s *memSecrets) Put(_ context.Context, org, provider string, v any) error {
	b, _ := json.Marshal(v)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[org+"/"+provider] = b
	return nil
}

// outbox records enqueued messages; fail makes the next calls fail.
type outbox struct {
	mu   sync.Mutex
	jobs []string
	fail int
}

func (o *outbox) Enqueue(_ context.Context, org, contactID, messageID string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail > 0 {
		o.fail--
		return apperr.New(apperr.Unavailable, "the outbound queue is unavailable, retry")
	}
	o.jobs = append(o.jobs, messageID)
	return nil
}

func (o *outbox) sent() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.jobs...)
}

type publisher struct {
	mu     sync.Mutex
	events []event.Event
	fail   int
}

func (p *publisher) Publish(_ context.Context, evs ...event.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail > 0 {
		p.fail--
		return apperr.New(apperr.Unavailable, "the event queue is unavailable, retry")
	}
	p.events = append(p.events, evs...)
	return nil
}

// named returns the distinct events of a name (by id: a republished event
// keeps its id) and how many were published in all.
func (p *publisher) named(name string) (distinct []event.Event, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := map[string]bool{}
	for _, e := range p.events {
		if e.Event != name {
			continue
		}
		total++
		if !seen[e.ID] {
			seen[e.ID] = true
			distinct = append(distinct, e)
		}
	}
	return distinct, total
}

type fixture struct {
	t      *testing.T
	tbl    *storetest.Table
	store  *store.Store
	clock  *clock
	sec    *memSecrets
	out    *outbox
	pub    *publisher
	org    string
	shopRT *httpapi.Router
	wooRT  *httpapi.Router
	hookNo int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	tbl := storetest.New(t)
	c := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	st := store.New(tbl.Client, tbl.Name, c.Now)
	org, err := st.CreateOrganization(context.Background(), "Loja")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, tbl: tbl, store: st, clock: c, sec: &memSecrets{m: map[string][]byte{}}, out: &outbox{}, pub: &publisher{}, org: org.ID}
	f.configure(shopconfig.Shopify, `{"shop_domain":"`+shopDomain+`","webhook_secret":"`+shopifySecret+`"}`)
	f.configure(shopconfig.WooCommerce, `{"site_url":"`+wooSite+`","webhook_secret":"`+wooSecret+`"}`)
	w := shophook.New(shophook.Deps{Store: st, Secrets: f.sec, Outbox: f.out, Events: f.pub,
		Log: testLog(), Now: c.Now})
	f.shopRT, f.wooRT = w.ShopifyRouter(), w.WooCommerceRouter()
	return f
}

func (f *fixture) configure(platform, body string) {
	f.t.Helper()
	if _, _, _, err := shopconfig.Configure(context.Background(), f.store, f.sec, f.org, platform, []byte(body), f.clock.Now()); err != nil {
		f.t.Fatal(err)
	}
}

// order loads a testdata payload, applies edit and serialises it again
// (numbers kept exactly as written).
func order(t *testing.T, file string, edit func(o map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile("../shop/testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var o map[string]any
	if err := dec.Decode(&o); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(o)
	}
	out, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// shopifyOrder is Shopify's sample order, open (not cancelled), with a
// Brazilian customer phone.
func shopifyOrder(t *testing.T, edit func(o map[string]any)) []byte {
	return order(t, "shopify_orders_create.json", func(o map[string]any) {
		o["cancelled_at"] = nil
		o["currency"] = "BRL"
		o["customer"].(map[string]any)["phone"] = "+55 (11) 98765-4321"
		if edit != nil {
			edit(o)
		}
	})
}

func request(path string, headers map[string]string, body []byte) events.APIGatewayV2HTTPRequest {
	h := map[string]string{"content-type": "application/json"}
	for k, v := range headers {
		h[strings.ToLower(k)] = v
	}
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: path, Headers: h, Body: string(body)}
	ev.RequestContext.HTTP.Method = "POST"
	ev.RequestContext.RequestID = "req-test"
	return ev
}

type resp struct {
	Status int
	Body   string
}

func (f *fixture) serve(rt *httpapi.Router, ev events.APIGatewayV2HTTPRequest) resp {
	f.t.Helper()
	r, err := rt.Serve(context.Background(), ev)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp{r.StatusCode, r.Body}
}

// shopify delivers a signed Shopify webhook; hookID "" makes a new one.
func (f *fixture) shopify(topic, hookID string, body []byte, secret ...string) resp {
	f.t.Helper()
	return f.serve(f.shopRT, f.shopifyEvent(topic, hookID, body, secret...))
}

func (f *fixture) shopifyEvent(topic, hookID string, body []byte, secret ...string) events.APIGatewayV2HTTPRequest {
	if hookID == "" {
		f.hookNo++
		hookID = fmt.Sprintf("b54557e4-bdd9-4b37-8a5f-bf7d70bc%04d", f.hookNo)
	}
	key := shopifySecret
	if len(secret) > 0 {
		key = secret[0]
	}
	return request("/webhooks/shopify", map[string]string{
		"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": shop.Sign(body, key), "X-Shopify-Shop-Domain": shopDomain,
		"X-Shopify-Webhook-Id": hookID, "X-Shopify-API-Version": "2025-10", "X-Shopify-Triggered-At": "2026-11-29T12:00:00Z",
	}, body)
}

// woo delivers a signed WooCommerce webhook.
func (f *fixture) woo(topic string, body []byte, secret ...string) resp {
	f.t.Helper()
	key := wooSecret
	if len(secret) > 0 {
		key = secret[0]
	}
	return f.serve(f.wooRT, request("/webhooks/woocommerce", map[string]string{
		"X-WC-Webhook-Source": wooSite + "/", "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": "order",
		"X-WC-Webhook-Event": strings.TrimPrefix(topic, "order."), "X-WC-Webhook-Signature": shop.Sign(body, key),
		"X-WC-Webhook-ID": "12", "X-WC-Webhook-Delivery-ID": fmt.Sprint(time.Now().UnixNano()),
	}, body))
}

func (f *fixture) order(platform, id string) store.Order {
	f.t.Helper()
	o, err := f.store.Order(context.Background(), f.org, platform, id)
	if err != nil {
		f.t.Fatalf("order %s: %v", id, err)
	}
	return o
}

func (f *fixture) contact(phone string) store.Contact {
	f.t.Helper()
	p, err := f.store.Contacts(context.Background(), f.org, "", phone, "", 1)
	if err != nil || len(p.Items) != 1 {
		f.t.Fatalf("contact %s: %+v %v", phone, p, err)
	}
	return p.Items[0]
}

func (f *fixture) message(id string) store.Message {
	f.t.Helper()
	m, err := f.store.Message(context.Background(), f.org, id)
	if err != nil {
		f.t.Fatalf("message %s: %v", id, err)
	}
	return m
}

// count counts the items of a partition.
func (f *fixture) count(pk string) int {
	f.t.Helper()
	out, err := f.tbl.Client.Query(context.Background(), &dynamodb.QueryInput{
		TableName: aws.String(f.tbl.Name), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(out.Items)
}

const shopifyOrderID = "820982911946154508" // above 2^53

func orderData(t *testing.T, e event.Event) event.OrderData {
	t.Helper()
	var d event.OrderData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestShopifyOrderCreateSendsTheTemplate(t *testing.T) {
	f := newFixture(t)
	r := f.shopify("orders/create", "", shopifyOrder(t, nil))
	if r.Status != 200 || !strings.Contains(r.Body, `"ok"`) {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	o := f.order("shopify", shopifyOrderID)
	if o.Number != "1234" || o.Name != "#9999" || o.Total != "388.00" || o.Currency != "BRL" || o.Phone != "5511987654321" ||
		o.PhoneSource != shop.SourceShopifyCustomer || !o.Counted || o.ContactID == "" {
		t.Fatalf("order: %+v", o)
	}
	if len(o.Notifications) != 1 || o.Notifications[0].State != store.TriggerDone || o.Notifications[0].Result != "queued" {
		t.Fatalf("trigger: %+v", o.Notifications)
	}
	jobs := f.out.sent()
	if len(jobs) != 1 || jobs[0] != o.Notifications[0].MessageID {
		t.Fatalf("jobs %v", jobs)
	}
	m := f.message(jobs[0])
	want := `{"name":"order_confirmation","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"1234"},{"type":"text","text":"388.00 BRL"}]}]}`
	if m.Type != "template" || string(m.Content) != want || m.To != "5511987654321" || m.Status != store.StatusQueued {
		t.Fatalf("message: %s %s %s", m.Type, m.Content, m.To)
	}
	c := f.contact("5511987654321")
	if c.ID != o.ContactID || c.Name != "John Smith" || c.Email != "jon@example.com" || strings.Join(c.Tags, ",") != "customer,purchased" ||
		c.Attributes["last_purchase"] != "2021-12-31" || c.Attributes["total_spent"] != 388.0 || c.Attributes["total_spent_currency"] != "BRL" {
		t.Fatalf("contact: %+v", c)
	}
	created, _ := f.pub.named(event.ContactCreated)
	evs, total := f.pub.named(event.OrderCreated)
	if len(created) != 1 || len(evs) != 1 || total != 1 {
		t.Fatalf("events: %d contact.created, %d order.created", len(created), total)
	}
	d := orderData(t, evs[0])
	if d.Platform != "shopify" || d.Topic != "orders/create" || d.Order.ID != shopifyOrderID || d.Contact == nil || d.Contact.WhatsAppID != "+5511987654321" ||
		d.MessageID == nil || *d.MessageID != m.ID || d.Notification.Status != "queued" || d.PhoneSource != "customer.phone" {
		t.Fatalf("order.created: %s", evs[0].Data)
	}
}

func TestShopifySignature(t *testing.T) {
	f := newFixture(t)
	body := shopifyOrder(t, nil)
	for name, ev := range map[string]events.APIGatewayV2HTTPRequest{
		"wrong secret": f.shopifyEvent("orders/create", "", body, "not-the-secret"),
		"no signature": func() events.APIGatewayV2HTTPRequest {
			ev := f.shopifyEvent("orders/create", "", body)
			delete(ev.Headers, "x-shopify-hmac-sha256")
			return ev
		}(),
		"body changed": func() events.APIGatewayV2HTTPRequest {
			ev := f.shopifyEvent("orders/create", "", body)
			ev.Body = strings.Replace(ev.Body, "388.00", "1.00", 1)
			return ev
		}(),
	} {
		if r := f.serve(f.shopRT, ev); r.Status != 401 || !strings.Contains(r.Body, "invalid_signature") {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// Nothing stored: no order, no dedupe item, no contact, nothing queued or published.
	if _, err := f.store.Order(context.Background(), f.org, "shopify", shopifyOrderID); err == nil {
		t.Fatal("an unverified webhook stored an order")
	}
	if n := f.count("ORG#" + f.org + "#CHOOK#shopify#b54557e4-bdd9-4b37-8a5f-bf7d70bc0001"); n != 0 {
		t.Fatal("an unverified webhook claimed its id")
	}
	if len(f.out.sent()) != 0 || len(f.pub.events) != 0 {
		t.Fatal("an unverified webhook had effects")
	}
	// Base64 bodies (API Gateway's binary handling) verify on the decoded bytes.
	ev := f.shopifyEvent("orders/create", "", body)
	ev.Body, ev.IsBase64Encoded = b64(body), true
	if r := f.serve(f.shopRT, ev); r.Status != 200 {
		t.Fatalf("base64: %d %s", r.Status, r.Body)
	}
	// An unknown shop is recorded for inspection and answered 404.
	ev = f.shopifyEvent("orders/create", "", body)
	ev.Headers["x-shopify-shop-domain"] = "someone-else.myshopify.com"
	if r := f.serve(f.shopRT, ev); r.Status != 404 || !strings.Contains(r.Body, "unknown_source") {
		t.Fatalf("unknown shop: %d %s", r.Status, r.Body)
	}
	if n := f.count("UNROUTED#2026-11-29"); n != 1 {
		t.Fatalf("unrouted records: %d", n)
	}
	ev = f.shopifyEvent("orders/create", "", body)
	delete(ev.Headers, "x-shopify-shop-domain")
	if r := f.serve(f.shopRT, ev); r.Status != 400 {
		t.Fatalf("no shop header: %d %s", r.Status, r.Body)
	}
}

func TestShopifyMissingPhone(t *testing.T) {
	f := newFixture(t)
	// Shopify's sample as published: "555-555-SHIP" and "123-123-1234" are not numbers.
	r := f.shopify("orders/create", "", order(t, "shopify_orders_create.json", nil))
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	o := f.order("shopify", shopifyOrderID)
	if o.Phone != "" || o.PhoneSource != "none" || o.ContactID != "" || o.Status != "cancelled" || o.Counted {
		t.Fatalf("order: %+v", o)
	}
	if len(f.out.sent()) != 0 {
		t.Fatal("sent without a phone")
	}
	evs, _ := f.pub.named(event.OrderCreated)
	if len(evs) != 1 {
		t.Fatalf("order.created: %d", len(evs))
	}
	if d := orderData(t, evs[0]); d.Contact != nil || d.MessageID != nil || d.Notification.Status != "no_phone" || d.PhoneSource != "none" {
		t.Fatalf("event: %s", evs[0].Data)
	}
	if !strings.Contains(string(evs[0].Data), `"contact":null`) || !strings.Contains(string(evs[0].Data), `"message_id":null`) {
		t.Fatalf("event nulls: %s", evs[0].Data)
	}
}

func TestShopifyPhoneNormalisation(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(o map[string]any)
		phone  string
		source string
	}{
		{"local Brazilian billing phone completed with the address's country", func(o map[string]any) {
			o["customer"].(map[string]any)["phone"] = nil
			o["billing_address"].(map[string]any)["phone"] = "(11) 98765-4321"
			o["billing_address"].(map[string]any)["country_code"] = "BR"
		}, "5511987654321", shop.SourceShopifyBilling},
		{"trunk 0 after the calling code dropped", func(o map[string]any) {
			o["customer"].(map[string]any)["phone"] = "+44 (0)7911 123456"
		}, "447911123456", shop.SourceShopifyCustomer},
		{"top-level phone when the others are unusable", func(o map[string]any) {
			o["customer"].(map[string]any)["phone"] = ""
			o["phone"] = "0049 30 1234567"
		}, "49301234567", shop.SourceShopifyOrder},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			body := shopifyOrder(t, func(o map[string]any) { o["id"] = json.Number(fmt.Sprint(1000 + i)); tt.edit(o) })
			if r := f.shopify("orders/create", "", body); r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			o := f.order("shopify", fmt.Sprint(1000+i))
			if o.Phone != tt.phone || o.PhoneSource != tt.source {
				t.Fatalf("phone %q from %q", o.Phone, o.PhoneSource)
			}
			if c := f.contact(tt.phone); c.ID != o.ContactID {
				t.Fatalf("contact %+v", c)
			}
		})
	}
}

func TestShopifyDuplicateWebhookID(t *testing.T) {
	f := newFixture(t)
	body := shopifyOrder(t, nil)
	const id = "b54557e4-bdd9-4b37-8a5f-bf7d70bc6a01"
	if r := f.shopify("orders/create", id, body); r.Status != 200 {
		t.Fatalf("first: %d %s", r.Status, r.Body)
	}
	if r := f.shopify("orders/create", id, body); r.Status != 200 || !strings.Contains(r.Body, "duplicate") {
		t.Fatalf("second: %d %s", r.Status, r.Body)
	}
	// The same topic for the same order under another webhook id: the trigger is done.
	if r := f.shopify("orders/create", "", body); r.Status != 200 {
		t.Fatalf("other id: %d %s", r.Status, r.Body)
	}
	if jobs := f.out.sent(); len(jobs) != 1 {
		t.Fatalf("enqueued %d", len(jobs))
	}
	if evs, total := f.pub.named(event.OrderCreated); len(evs) != 1 || total != 1 {
		t.Fatalf("order.created %d/%d", len(evs), total)
	}
	if c := f.contact("5511987654321"); c.Attributes["total_spent"] != 388.0 {
		t.Fatalf("counted twice: %v", c.Attributes)
	}
}

func TestShopifyConcurrentDuplicates(t *testing.T) {
	f := newFixture(t)
	body := shopifyOrder(t, nil)
	ev := f.shopifyEvent("orders/create", "b54557e4-bdd9-4b37-8a5f-bf7d70bc6a02", body)
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := f.shopRT.Serve(context.Background(), ev)
			codes[i] = r.StatusCode
		}()
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		switch c {
		case 200:
			ok++
		case 503: // in progress: Shopify retries it
		default:
			t.Fatalf("status %d (%v)", c, codes)
		}
	}
	if ok == 0 {
		t.Fatalf("no delivery succeeded: %v", codes)
	}
	// Shopify's retry of a 503 finds it done.
	if r := f.serve(f.shopRT, ev); r.Status != 200 || !strings.Contains(r.Body, "duplicate") {
		t.Fatalf("retry: %d %s", r.Status, r.Body)
	}
	if jobs := f.out.sent(); len(jobs) != 1 {
		t.Fatalf("enqueued %d: %v", len(jobs), jobs)
	}
	if evs, total := f.pub.named(event.OrderCreated); len(evs) != 1 || total != 1 {
		t.Fatalf("order.created %d/%d", len(evs), total)
	}
	page, _ := f.store.ConversationMessages(context.Background(), f.org, f.message(f.out.sent()[0]).ConversationID, "", 50)
	if len(page.Items) != 1 {
		t.Fatalf("messages accepted: %d", len(page.Items))
	}
}

func TestShopifyUpdatedBeforeCreate(t *testing.T) {
	f := newFixture(t)
	f.configure(shopconfig.Shopify, `{"shop_domain":"`+shopDomain+`","topics":{"orders/fulfilled":{"message":{"type":"template","template":{"name":"order_shipped","language":{"code":"pt_BR"},"parameters":["{{order_name}}"]}}}}}`)
	body := shopifyOrder(t, nil)
	r := f.shopify("orders/updated", "", body)
	if r.Status != 200 {
		t.Fatalf("updated: %d %s", r.Status, r.Body)
	}
	if o := f.order("shopify", shopifyOrderID); o.LastTopic != "orders/updated" || o.Counted || len(o.Notifications) != 0 {
		t.Fatalf("after updated: %+v", o)
	}
	if len(f.out.sent()) != 0 || len(f.pub.events) != 0 {
		t.Fatal("orders/updated had effects")
	}
	if r := f.shopify("orders/create", "", body); r.Status != 200 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	fulfilled := shopifyOrder(t, func(o map[string]any) { o["fulfillment_status"] = "fulfilled" })
	if r := f.shopify("orders/fulfilled", "", fulfilled); r.Status != 200 {
		t.Fatalf("fulfilled: %d %s", r.Status, r.Body)
	}
	// And a late orders/updated changes nothing sent.
	if r := f.shopify("orders/updated", "", body); r.Status != 200 {
		t.Fatalf("late updated: %d %s", r.Status, r.Body)
	}
	jobs := f.out.sent()
	if len(jobs) != 2 || !strings.Contains(string(f.message(jobs[1]).Content), `"name":"order_shipped"`) ||
		!strings.Contains(string(f.message(jobs[1]).Content), `"text":"#9999"`) {
		t.Fatalf("jobs: %v", jobs)
	}
	if c := f.contact("5511987654321"); c.Attributes["total_spent"] != 388.0 {
		t.Fatalf("total_spent %v", c.Attributes["total_spent"])
	}
	created, _ := f.pub.named(event.OrderCreated)
	updated, _ := f.pub.named(event.OrderUpdated)
	if len(created) != 1 || len(updated) != 1 || orderData(t, updated[0]).Order.Status != "fulfilled" {
		t.Fatalf("events: %d created, %d updated", len(created), len(updated))
	}
}

// A delivery that fails half-way (the queue, then the events queue, down)
// is answered 503 and Shopify's retry completes it: one message, queued
// once, one order.created with the same id.
func TestShopifyRetryAfterFailureCompletes(t *testing.T) {
	f := newFixture(t)
	body := shopifyOrder(t, nil)
	const id = "b54557e4-bdd9-4b37-8a5f-bf7d70bc6a03"
	f.out.fail = 1
	if r := f.shopify("orders/create", id, body); r.Status != 503 {
		t.Fatalf("queue down: %d %s", r.Status, r.Body)
	}
	o := f.order("shopify", shopifyOrderID)
	if len(o.Notifications) != 1 || o.Notifications[0].State != store.TriggerPending || o.Notifications[0].MessageID == "" {
		t.Fatalf("after the failure: %+v", o.Notifications)
	}
	accepted := o.Notifications[0].MessageID
	f.pub.fail = 1
	if r := f.shopify("orders/create", id, body); r.Status != 503 {
		t.Fatalf("events down: %d %s", r.Status, r.Body)
	}
	if r := f.shopify("orders/create", id, body); r.Status != 200 || strings.Contains(r.Body, "duplicate") {
		t.Fatalf("retry: %d %s", r.Status, r.Body)
	}
	if r := f.shopify("orders/create", id, body); !strings.Contains(r.Body, "duplicate") {
		t.Fatalf("after success: %d %s", r.Status, r.Body)
	}
	jobs := f.out.sent()
	for _, j := range jobs {
		if j != accepted {
			t.Fatalf("a second message was accepted: %v (first %s)", jobs, accepted)
		}
	}
	if evs, _ := f.pub.named(event.OrderCreated); len(evs) != 1 {
		t.Fatalf("order.created ids: %d", len(evs))
	}
	if c := f.contact("5511987654321"); c.Attributes["total_spent"] != 388.0 {
		t.Fatalf("total_spent %v", c.Attributes["total_spent"])
	}
	page, _ := f.store.ConversationMessages(context.Background(), f.org, f.message(accepted).ConversationID, "", 50)
	if len(page.Items) != 1 {
		t.Fatalf("messages accepted: %d", len(page.Items))
	}
}

func TestShopifyRotationGrace(t *testing.T) {
	f := newFixture(t)
	f.clock.Add(time.Minute)
	f.configure(shopconfig.Shopify, `{"shop_domain":"`+shopDomain+`","webhook_secret":"a-brand-new-secret"}`)
	mk := func(id int) []byte {
		return shopifyOrder(t, func(o map[string]any) { o["id"] = json.Number(fmt.Sprint(id)) })
	}
	if r := f.shopify("orders/create", "", mk(1), "a-brand-new-secret"); r.Status != 200 {
		t.Fatalf("new secret: %d %s", r.Status, r.Body)
	}
	f.clock.Add(59 * time.Minute)
	if r := f.shopify("orders/create", "", mk(2), shopifySecret); r.Status != 200 {
		t.Fatalf("old secret within the hour: %d %s", r.Status, r.Body)
	}
	f.clock.Add(2 * time.Minute)
	if r := f.shopify("orders/create", "", mk(3), shopifySecret); r.Status != 401 {
		t.Fatalf("old secret after the hour: %d %s", r.Status, r.Body)
	}
	if r := f.shopify("orders/create", "", mk(4), "a-brand-new-secret"); r.Status != 200 {
		t.Fatalf("new secret after the hour: %d %s", r.Status, r.Body)
	}
}

func TestShopifyOtherTopicsRecorded(t *testing.T) {
	f := newFixture(t)
	if r := f.shopify("products/update", "", []byte(`{"id":632910392,"title":"IPod Nano - 8GB"}`)); r.Status != 200 || !strings.Contains(r.Body, "recorded") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if r := f.shopify("orders/create", "", []byte(`{"id":"not a number"}`)); r.Status != 200 || !strings.Contains(r.Body, "recorded") {
		t.Fatalf("unreadable: %d %s", r.Status, r.Body)
	}
	if n := f.count("ORG#" + f.org + "#CREC#shopify"); n != 2 {
		t.Fatalf("records: %d", n)
	}
}

// total_spent is summed exactly, once per order; another currency is not added.
func TestTotalSpentExact(t *testing.T) {
	f := newFixture(t)
	for i, total := range []string{"0.10", "0.20", "0.70", "29.35"} {
		body := shopifyOrder(t, func(o map[string]any) {
			o["id"] = json.Number(fmt.Sprint(2000 + i))
			o["total_price"] = total
			o["created_at"] = fmt.Sprintf("2026-11-%02dT10:00:00-03:00", 20+i)
		})
		for range 2 {
			if r := f.shopify("orders/create", "", body); r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		}
	}
	eur := shopifyOrder(t, func(o map[string]any) {
		o["id"] = json.Number("2999")
		o["currency"] = "EUR"
		o["total_price"] = "5.00"
	})
	if r := f.shopify("orders/create", "", eur); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	c := f.contact("5511987654321")
	if c.Attributes["total_spent"] != 30.35 || c.Attributes["last_purchase"] != "2026-11-23" {
		t.Fatalf("attributes: %v", c.Attributes)
	}
	if o := f.order("shopify", "2999"); !o.Counted || o.CountedTotal != "currency_mismatch" {
		t.Fatalf("EUR order: %+v", o)
	}
	if b, _ := json.Marshal(event.ViewContact(c)); !strings.Contains(string(b), `"total_spent":30.35`) ||
		!strings.Contains(string(b), `"total_spent_decimal":"30.35"`) {
		t.Fatalf("view: %s", b)
	}
}

func b64(b []byte) string {
	return base64.StdEncoding.EncodeToString(b)
}

// testLog discards the webhooks' log unless SHOPHOOK_TEST_LOG is set.
func testLog() *slog.Logger {
	if os.Getenv("SHOPHOOK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
