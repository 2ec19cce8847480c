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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/secrets/secretstest"
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

type fixture struct {
	t      *testing.T
	tbl    *storetest.Table
	store  *store.Store
	clock  *clock
	sec    *secretstest.Store
	out    *storetest.Stream
	pub    *eventtest.Recorder
	org    string
	shopRT *httpapi.Router
	wooRT  *httpapi.Router
	hookNo int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	tbl := storetest.New(t)
	c := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	stream := storetest.NewStream(tbl.Client)
	st := store.New(stream, tbl.Name, c.Now)
	org, err := st.CreateOrganization(context.Background(), "Loja")
	require.NoError(t, err)
	f := &fixture{t: t, tbl: tbl, store: st, clock: c, sec: secretstest.New(), out: stream, pub: &eventtest.Recorder{}, org: org.ID}
	f.configure(shopconfig.Shopify, `{"shop_domain":"`+shopDomain+`","webhook_secret":"`+shopifySecret+`"}`)
	f.configure(shopconfig.WooCommerce, `{"site_url":"`+wooSite+`","webhook_secret":"`+wooSecret+`"}`)
	w := shophook.New(shophook.Deps{Store: st, Secrets: f.sec, Events: f.pub,
		Log: testLog(), Now: c.Now})
	f.shopRT, f.wooRT = w.ShopifyRouter(), w.WooCommerceRouter()
	return f
}

func (f *fixture) configure(platform, body string) {
	f.t.Helper()
	_, _, _, err := shopconfig.Configure(context.Background(), f.store, f.sec, f.org, platform, []byte(body), f.clock.Now())
	require.NoError(f.t, err)
}

// order loads a testdata payload, applies edit and serialises it again
// (numbers kept exactly as written).
func order(t *testing.T, file string, edit func(o map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile("../shop/testdata/" + file)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var o map[string]any
	require.NoError(t, dec.Decode(&o))
	if edit != nil {
		edit(o)
	}
	out, err := json.Marshal(o)
	require.NoError(t, err)
	return out
}

// shopifyOrder is Shopify's sample order, open (not cancelled), with a
// Brazilian customer phone.
func shopifyOrder(t *testing.T, edit func(o map[string]any)) []byte {
	return order(t, "shopify_orders_create.json", func(o map[string]any) {
		o["cancelled_at"] = nil
		o["updated_at"] = "2026-11-29T08:59:00-03:00" // a minute before the fixture's clock
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
	require.NoError(f.t, err)
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
	require.NoError(f.t, err, "order %s: %v", id, err)
	return o
}

func (f *fixture) contact(phone string) store.Contact {
	f.t.Helper()
	p, err := f.store.Contacts(context.Background(), f.org, "", phone, "", 1)
	require.NoError(f.t, err, "contact %s: %+v %v", phone, p, err)
	require.Len(f.t, p.Items, 1, "contact %s: %+v %v", phone, p, err)
	return p.Items[0]
}

func (f *fixture) message(id string) store.Message {
	f.t.Helper()
	m, err := f.store.Message(context.Background(), f.org, id)
	require.NoError(f.t, err, "message %s: %v", id, err)
	return m
}

// count counts the items of a partition.
func (f *fixture) count(pk string) int {
	f.t.Helper()
	out, err := f.tbl.Client.Query(context.Background(), &dynamodb.QueryInput{
		TableName: aws.String(f.tbl.Name), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
	})
	require.NoError(f.t, err)
	return len(out.Items)
}

const shopifyOrderID = "820982911946154508" // above 2^53

func orderData(t *testing.T, e event.Event) event.OrderData {
	t.Helper()
	var d event.OrderData
	require.NoError(t, json.Unmarshal(e.Data, &d))
	return d
}

func TestShopifyOrderCreateSendsTheTemplate(t *testing.T) {
	f := newFixture(t)
	r := f.shopify("orders/create", "", shopifyOrder(t, nil))
	require.Equal(t, 200, r.Status, "%d %s", r.Status, r.Body)
	require.Contains(t, r.Body, `"ok"`, "%d %s", r.Status, r.Body)
	o := f.order("shopify", shopifyOrderID)
	require.Equal(t, "1234", o.Number, "order: %+v", o)
	require.Equal(t, "#9999", o.Name, "order")
	require.Equal(t, "388.00", o.Total, "order")
	require.Equal(t, "BRL", o.Currency, "order")
	require.Equal(t, "5511987654321", o.Phone, "order")
	require.Equal(t, shop.SourceShopifyCustomer, o.PhoneSource, "order")
	require.True(t, o.Counted, "order")
	require.NotEmpty(t, o.ContactID, "order")
	require.Len(t, o.Notifications, 1, "trigger: %+v", o.Notifications)
	require.Equal(t, store.TriggerDone, o.Notifications[0].State, "trigger")
	require.Equal(t, "queued", o.Notifications[0].Result, "trigger")
	jobs := f.out.QueuedIDs()
	require.Len(t, jobs, 1, "jobs %v", jobs)
	require.Equal(t, o.Notifications[0].MessageID, jobs[0], "jobs %v", jobs)
	m := f.message(jobs[0])
	want := `{"name":"order_confirmation","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"1234"},{"type":"text","text":"388.00 BRL"}]}]}`
	require.Equal(t, "template", m.Type, "message: %s %s %s", m.Type, m.Content, m.To)
	require.Equal(t, want, string(m.Content), "message")
	require.Equal(t, "5511987654321", m.To, "message")
	require.Equal(t, store.StatusQueued, m.Status, "message")
	c := f.contact("5511987654321")
	if c.ID != o.ContactID || c.Name != "John Smith" || c.Email != "jon@example.com" || strings.Join(c.Tags, ",") != "customer,purchased" ||
		c.Attributes["last_purchase"] != "2021-12-31" || c.Attributes["total_spent"] != 388.0 || c.Attributes["total_spent_currency"] != "BRL" {
		t.Fatalf("contact: %+v", c)
	}
	created := f.pub.Distinct(event.ContactCreated)
	evs, total := f.pub.Distinct(event.OrderCreated), len(f.pub.Named(event.OrderCreated))
	require.Len(t, created, 1, "events: %d contact.created, %d order.created", len(created), total)
	require.Len(t, evs, 1, "events")
	require.Equal(t, 1, total, "events")
	d := orderData(t, evs[0])
	require.Equal(t, "shopify", d.Platform, "order.created: %s", evs[0].Data)
	require.Equal(t, "orders/create", d.Topic, "order.created")
	require.Equal(t, shopifyOrderID, d.Order.ID, "order.created")
	require.NotNil(t, d.Contact, "order.created")
	require.Equal(t, "+5511987654321", d.Contact.WhatsAppID, "order.created")
	require.NotNil(t, d.MessageID, "order.created")
	require.Equal(t, m.ID, *d.MessageID, "order.created")
	require.Equal(t, "queued", d.Notification.Status, "order.created")
	require.Equal(t, "customer.phone", d.PhoneSource, "order.created")
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
		r := f.serve(f.shopRT, ev)
		assert.Equal(t, 401, r.Status, "%s: %d %s", name, r.Status, r.Body)
		assert.Contains(t, r.Body, "invalid_signature", "%s: %d %s", name, r.Status, r.Body)
	}
	// Nothing stored: no order, no dedupe item, no contact, nothing queued or published.
	_, err := f.store.Order(context.Background(), f.org, "shopify", shopifyOrderID)
	require.Error(t, err, "an unverified webhook stored an order")
	if n := f.count("ORG#" + f.org + "#CHOOK#shopify#b54557e4-bdd9-4b37-8a5f-bf7d70bc0001"); n != 0 {
		t.Fatal("an unverified webhook claimed its id")
	}
	require.Empty(t, f.out.QueuedIDs(), "an unverified webhook had effects")
	require.Empty(t, f.pub.All(), "an unverified webhook had effects")
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
	n := f.count("UNROUTED#shopify#" + f.clock.Now().UTC().Format("2006-01-02T15"))
	require.Equal(t, 2, n, "unrouted records (the record and the hour's counter): %d", n)
	ev = f.shopifyEvent("orders/create", "", body)
	delete(ev.Headers, "x-shopify-shop-domain")
	r := f.serve(f.shopRT, ev)
	require.Equal(t, 400, r.Status, "no shop header: %d %s", r.Status, r.Body)
}

func TestShopifyMissingPhone(t *testing.T) {
	f := newFixture(t)
	// Shopify's sample as published: "555-555-SHIP" and "123-123-1234" are not numbers.
	r := f.shopify("orders/create", "", order(t, "shopify_orders_create.json", func(o map[string]any) { o["updated_at"] = "2026-11-29T08:59:00-03:00" }))
	require.Equal(t, 200, r.Status, "%d %s", r.Status, r.Body)
	o := f.order("shopify", shopifyOrderID)
	require.Empty(t, o.Phone, "order: %+v", o)
	require.Equal(t, "none", o.PhoneSource, "order")
	require.Empty(t, o.ContactID, "order")
	require.Equal(t, "cancelled", o.Status, "order")
	require.False(t, o.Counted, "order")
	require.Empty(t, f.out.QueuedIDs(), "sent without a phone")
	evs := f.pub.Distinct(event.OrderCreated)
	require.Len(t, evs, 1, "order.created: %d", len(evs))
	d := orderData(t, evs[0])
	require.Nil(t, d.Contact, "event: %s", evs[0].Data)
	require.Nil(t, d.MessageID, "event")
	require.Equal(t, "no_phone", d.Notification.Status, "event")
	require.Equal(t, "none", d.PhoneSource, "event")
	require.Contains(t, string(evs[0].Data), `"contact":null`, "event nulls: %s", evs[0].Data)
	require.Contains(t, string(evs[0].Data), `"message_id":null`, "event nulls")
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
			r := f.shopify("orders/create", "", body)
			require.Equal(t, 200, r.Status, "%d %s", r.Status, r.Body)
			o := f.order("shopify", fmt.Sprint(1000+i))
			require.Equal(t, tt.phone, o.Phone, "phone %q from %q", o.Phone, o.PhoneSource)
			require.Equal(t, tt.source, o.PhoneSource, "phone %q from %q", o.Phone, o.PhoneSource)
			c := f.contact(tt.phone)
			require.Equal(t, o.ContactID, c.ID, "contact %+v", c)
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
	r := f.shopify("orders/create", "", body)
	require.Equal(t, 200, r.Status, "other id: %d %s", r.Status, r.Body)
	jobs := f.out.QueuedIDs()
	require.Len(t, jobs, 1, "enqueued %d", len(jobs))
	evs, total := f.pub.Distinct(event.OrderCreated), len(f.pub.Named(event.OrderCreated))
	require.Len(t, evs, 1, "order.created %d/%d", len(evs), total)
	require.Equal(t, 1, total, "order.created %d/%d", len(evs), total)
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
	require.NotEqual(t, 0, ok, "no delivery succeeded: %v", codes)
	// Shopify's retry of a 503 finds it done.
	r := f.serve(f.shopRT, ev)
	require.Equal(t, 200, r.Status, "retry: %d %s", r.Status, r.Body)
	require.Contains(t, r.Body, "duplicate", "retry")
	jobs := f.out.QueuedIDs()
	require.Len(t, jobs, 1, "enqueued %d: %v", len(jobs), jobs)
	evs, total := f.pub.Distinct(event.OrderCreated), len(f.pub.Named(event.OrderCreated))
	require.Len(t, evs, 1, "order.created %d/%d", len(evs), total)
	require.Equal(t, 1, total, "order.created %d/%d", len(evs), total)
	page, _ := f.store.ConversationMessages(context.Background(), f.org, f.message(f.out.QueuedIDs()[0]).ConversationID, "", 50)
	require.Len(t, page.Items, 1, "messages accepted: %d", len(page.Items))
}

func TestShopifyUpdatedBeforeCreate(t *testing.T) {
	f := newFixture(t)
	f.configure(shopconfig.Shopify, `{"shop_domain":"`+shopDomain+`","topics":{"orders/fulfilled":{"message":{"type":"template","template":{"name":"order_shipped","language":{"code":"pt_BR"},"parameters":["{{order_name}}"]}}}}}`)
	body := shopifyOrder(t, nil)
	r := f.shopify("orders/updated", "", body)
	require.Equal(t, 200, r.Status, "updated: %d %s", r.Status, r.Body)
	if o := f.order("shopify", shopifyOrderID); o.LastTopic != "orders/updated" || o.Counted || len(o.Notifications) != 0 {
		t.Fatalf("after updated: %+v", o)
	}
	require.Empty(t, f.out.QueuedIDs(), "orders/updated had effects")
	require.Empty(t, f.pub.All(), "orders/updated had effects")
	r = f.shopify("orders/create", "", body)
	require.Equal(t, 200, r.Status, "create: %d %s", r.Status, r.Body)
	fulfilled := shopifyOrder(t, func(o map[string]any) { o["fulfillment_status"] = "fulfilled" })
	r = f.shopify("orders/fulfilled", "", fulfilled)
	require.Equal(t, 200, r.Status, "fulfilled: %d %s", r.Status, r.Body)
	// And a late orders/updated changes nothing sent.
	r = f.shopify("orders/updated", "", body)
	require.Equal(t, 200, r.Status, "late updated: %d %s", r.Status, r.Body)
	jobs := f.out.QueuedIDs()
	require.Len(t, jobs, 2, "jobs: %v", jobs)
	require.Contains(t, string(f.message(jobs[1]).Content), `"name":"order_shipped"`, "jobs")
	require.Contains(t, string(f.message(jobs[1]).Content), `"text":"#9999"`, "jobs")
	if c := f.contact("5511987654321"); c.Attributes["total_spent"] != 388.0 {
		t.Fatalf("total_spent %v", c.Attributes["total_spent"])
	}
	created := f.pub.Distinct(event.OrderCreated)
	updated := f.pub.Distinct(event.OrderUpdated)
	require.Len(t, created, 1, "events: %d created, %d updated", len(created), len(updated))
	require.Len(t, updated, 1, "events")
	require.Equal(t, "fulfilled", orderData(t, updated[0]).Order.Status, "events")
}

// A delivery that fails half-way (the events topic down, twice) is
// answered 503 and Shopify's retry completes it: one message, queued once
// (its job written with it), one order.created with the same id.
func TestShopifyRetryAfterFailureCompletes(t *testing.T) {
	f := newFixture(t)
	body := shopifyOrder(t, nil)
	const id = "b54557e4-bdd9-4b37-8a5f-bf7d70bc6a03"
	f.pub.FailNext(1)
	if r := f.shopify("orders/create", id, body); r.Status != 503 {
		t.Fatalf("events down: %d %s", r.Status, r.Body)
	}
	o := f.order("shopify", shopifyOrderID)
	require.Len(t, o.Notifications, 1, "after the failure: %+v", o.Notifications)
	require.Equal(t, store.TriggerPending, o.Notifications[0].State, "after the failure")
	require.NotEmpty(t, o.Notifications[0].MessageID, "after the failure")
	accepted := o.Notifications[0].MessageID
	f.pub.FailNext(1)
	if r := f.shopify("orders/create", id, body); r.Status != 503 {
		t.Fatalf("events down: %d %s", r.Status, r.Body)
	}
	if r := f.shopify("orders/create", id, body); r.Status != 200 || strings.Contains(r.Body, "duplicate") {
		t.Fatalf("retry: %d %s", r.Status, r.Body)
	}
	r := f.shopify("orders/create", id, body)
	require.Contains(t, r.Body, "duplicate", "after success: %d %s", r.Status, r.Body)
	jobs := f.out.QueuedIDs()
	for _, j := range jobs {
		require.Equal(t, accepted, j, "a second message was accepted: %v (first %s)", jobs, accepted)
	}
	evs := f.pub.Distinct(event.OrderCreated)
	require.Len(t, evs, 1, "order.created ids: %d", len(evs))
	if c := f.contact("5511987654321"); c.Attributes["total_spent"] != 388.0 {
		t.Fatalf("total_spent %v", c.Attributes["total_spent"])
	}
	page, _ := f.store.ConversationMessages(context.Background(), f.org, f.message(accepted).ConversationID, "", 50)
	require.Len(t, page.Items, 1, "messages accepted: %d", len(page.Items))
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
	r := f.shopify("orders/create", "", mk(4), "a-brand-new-secret")
	require.Equal(t, 200, r.Status, "new secret after the hour: %d %s", r.Status, r.Body)
}

func TestShopifyOtherTopicsRecorded(t *testing.T) {
	f := newFixture(t)
	if r := f.shopify("products/update", "", []byte(`{"id":632910392,"title":"IPod Nano - 8GB"}`)); r.Status != 200 || !strings.Contains(r.Body, "recorded") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	r := f.shopify("orders/create", "", []byte(`{"id":"not a number"}`))
	require.Equal(t, 200, r.Status, "unreadable: %d %s", r.Status, r.Body)
	require.Contains(t, r.Body, "recorded", "unreadable")
	n := f.count("ORG#" + f.org + "#CREC#shopify")
	require.Equal(t, 2, n, "records: %d", n)
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
			r := f.shopify("orders/create", "", body)
			require.Equal(t, 200, r.Status, "%d %s", r.Status, r.Body)
		}
	}
	eur := shopifyOrder(t, func(o map[string]any) {
		o["id"] = json.Number("2999")
		o["currency"] = "EUR"
		o["total_price"] = "5.00"
	})
	r := f.shopify("orders/create", "", eur)
	require.Equal(t, 200, r.Status, "%d %s", r.Status, r.Body)
	c := f.contact("5511987654321")
	if c.Attributes["total_spent"] != 30.35 || c.Attributes["last_purchase"] != "2026-11-23" {
		t.Fatalf("attributes: %v", c.Attributes)
	}
	o := f.order("shopify", "2999")
	require.True(t, o.Counted, "EUR order: %+v", o)
	require.Equal(t, "currency_mismatch", o.CountedTotal, "EUR order")
	b, _ := json.Marshal(event.ViewContact(c))
	require.Contains(t, string(b), `"total_spent":30.35`, "view: %s", b)
	require.Contains(t, string(b), `"total_spent_decimal":"30.35"`, "view")
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

// Issue 13, item 6: a delivery whose events could not be published after
// it created the customer's contact is retried by Shopify: the retry
// emits contact.created too (it found the contact made and emitted only
// order.created).
func TestShopifyRetryEmitsContactCreated(t *testing.T) {
	f := newFixture(t)
	body := shopifyOrder(t, nil)
	const id = "0f6b1c0e-7a59-4d83-9d0e-3d1f6a3b1c11"
	f.pub.FailNext(1)
	if r := f.shopify("orders/create", id, body); r.Status != 503 {
		t.Fatalf("events down: %d %s", r.Status, r.Body)
	}
	if r := f.shopify("orders/create", id, body); r.Status != 200 {
		t.Fatalf("retry: %d %s", r.Status, r.Body)
	}
	require.Len(t, f.pub.Distinct(event.OrderCreated), 1)
	require.Len(t, f.pub.Distinct(event.ContactCreated), 1, "contact.created")
}
