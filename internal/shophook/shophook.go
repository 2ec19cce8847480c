// Package shophook is the Shopify and WooCommerce order webhooks
// (POST /webhooks/shopify, POST /webhooks/woocommerce): each request is
// verified on its raw bytes, routed to the organisation that configured the
// shop, and turned into the order's effects: the order recorded, the
// customer's contact found or created, tagged and given its purchase
// attributes, the configured WhatsApp message accepted and queued exactly as
// POST /v1/messages does it, and order.created / order.updated events. It
// answers fast: nothing here calls the Graph API.
//
// # Routing and verification
//
// Shopify: the organisation is found by X-Shopify-Shop-Domain (the
// myshopify.com domain) and X-Shopify-Hmac-Sha256 must verify with its
// webhook secret (or, for an hour after a change, the previous one).
// WooCommerce: the creation ping (form-encoded webhook_id=<n>, unsigned) is
// answered 200 and nothing else; otherwise the organisation is found by
// X-WC-Webhook-Source (the site's home URL, compared without scheme,
// default port or trailing slash) and X-WC-Webhook-Signature must verify.
// A bad signature is 401 and nothing is stored. A source no organisation
// configured leaves a digest of the body (its SHA-256, size and first 512
// bytes, at most store.UnroutedPerHour per platform per hour, 14 days) and
// is answered 404, so the platform shows the delivery failing (and Shopify's retries
// succeed once the integration is configured).
//
// # What the signature does not cover
//
// Shopify signs the body only. A body must agree with X-Shopify-Topic
// (orders/cancelled: cancelled_at set; orders/fulfilled: fulfillment_status
// "fulfilled"), and a delivery triggered (X-Shopify-Triggered-At), or an
// order last updated (the signed updated_at), more than MaxDeliveryAge ago
// is stale. Either is recorded and answered 200 {"status":"refused"}: it is
// signed, and a retry could never succeed.
//
// # Exactly once
//
// Shopify deliveries are deduplicated on X-Shopify-Webhook-Id (7 days): a
// conditional write claims the id with a lease, so a repeat answers 200
// without effects and a concurrent repeat answers 503 (Shopify retries it
// later); an attempt that fails releases the id, so a retry completes the
// work. Each effect is keyed too: every trigger of an order (a Shopify
// topic, or a WooCommerce status) is claimed once with a conditional write
// and finished with its result; the message it accepted is recorded on it
// before being queued, so a retry queues that message rather than another;
// the order is added to its contact's total_spent in the same transaction
// that marks it counted; events carry ids derived from the order and the
// trigger.
//
// # Triggers
//
// Shopify: orders/create (order.created), orders/fulfilled and
// orders/cancelled (order.updated) each send their configured message once
// per order. orders/updated updates the stored order only; other topics are
// recorded (30 days) and acknowledged. Topics may arrive in any order.
// WooCommerce: order.created and order.updated carry only the current
// status; it is compared with the last status stored for the order, and a
// change (or a new order) triggers that status once per order: the
// configured message, and order.created for an order first seen or
// order.updated (with previous_status) otherwise. A status seen again is
// nothing more.
package shophook

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/shop"
	"github.com/pytake/pytake/internal/shopconfig"
	"github.com/pytake/pytake/internal/store"
)

// Store is what the webhooks need from the data store.
type Store interface {
	Integration(ctx context.Context, org, platform string) (store.Integration, error)
	OrgByIntegrationSource(ctx context.Context, platform, sourceKey string) (string, error)
	RecordUnroutable(ctx context.Context, source, reason string, body []byte) (string, bool, error)
	RecordShopWebhook(ctx context.Context, org, platform, topic, reason string, body []byte) (string, error)
	ClaimShopWebhook(ctx context.Context, org, platform, webhookID string, lease time.Duration) (string, bool, error)
	CompleteShopWebhook(ctx context.Context, org, platform, webhookID, result string) error
	ReleaseShopWebhook(ctx context.Context, org, platform, webhookID string) error
	Order(ctx context.Context, org, platform, orderID string) (store.Order, error)
	UpsertOrder(ctx context.Context, o store.Order) (store.Order, error)
	SetOrderContact(ctx context.Context, org, platform, orderID, contactID string) error
	ClaimOrderNotification(ctx context.Context, org, platform, orderID, trigger, eventName string, lease time.Duration) (store.OrderNotification, bool, error)
	RecordOrderMessage(ctx context.Context, org, platform, orderID, trigger, messageID string) error
	CompleteOrderNotification(ctx context.Context, org, platform, orderID string, n store.OrderNotification) error
	ReleaseOrderNotification(ctx context.Context, org, platform, orderID, trigger string) error
	Contacts(ctx context.Context, org, tag, waID, cursor string, limit int) (store.Page[store.Contact], error)
	SaveOrderContact(ctx context.Context, oc store.OrderContact) (store.Contact, error)
	accept.Store
}

var _ Store = (*store.Store)(nil)

// Secrets reads the webhook secrets.
type Secrets interface {
	Get(ctx context.Context, orgID, provider string, v any) error
}

// forgetter drops a cached secret (secrets.Store does).
type forgetter interface {
	Forget(orgID, provider string)
}

var _ forgetter = (*secrets.Store)(nil)

// Publisher puts events on the events queue.
type Publisher interface {
	Publish(ctx context.Context, events ...event.Event) error
}

// Deps are the webhooks' collaborators.
type Deps struct {
	Store   Store
	Secrets Secrets
	Events  Publisher
	Log     *slog.Logger
	Now     func() time.Time
}

// Webhook serves /webhooks/shopify and /webhooks/woocommerce.
type Webhook struct {
	Deps
	accept    *accept.Accepter
	mu        sync.Mutex
	refreshed map[string]time.Time // org/provider -> last forced secret re-read
}

// New returns the webhooks.
func New(d Deps) *Webhook {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Webhook{Deps: d, accept: accept.New(d.Store), refreshed: map[string]time.Time{}}
}

// maxBody: orders with many line items run to hundreds of KB.
const maxBody = 5 << 20

// Lease is how long an attempt owns a webhook id or a trigger before a
// retry may take it over.
const Lease = 30 * time.Second

// ShopifyRouter serves POST /webhooks/shopify.
func (w *Webhook) ShopifyRouter() *httpapi.Router {
	rt := httpapi.NewRouter(w.Log, w.Now)
	rt.SetMaxBody(maxBody)
	rt.Handle(http.MethodPost, "/webhooks/shopify", w.shopify)
	return rt
}

// WooCommerceRouter serves POST /webhooks/woocommerce.
func (w *Webhook) WooCommerceRouter() *httpapi.Router {
	rt := httpapi.NewRouter(w.Log, w.Now)
	rt.SetMaxBody(maxBody)
	rt.Handle(http.MethodPost, "/webhooks/woocommerce", w.woocommerce)
	return rt
}

func answer(status string) (*httpapi.Response, error) {
	return httpapi.JSON(http.StatusOK, map[string]string{"status": status})
}

// route finds the organisation of a webhook's source header and its
// settings, and verifies the signature on the raw body.
func (w *Webhook) route(ctx context.Context, r *httpapi.Request, platform, sourceHeader, sigHeader string) (shopconfig.Settings, error) {
	raw := r.Header(sourceHeader)
	if strings.TrimSpace(raw) == "" {
		return shopconfig.Settings{}, apperr.New(apperr.Invalid, sourceHeader+" is missing").WithCode("missing_header").
			WithDetails(apperr.Detail{Field: sourceHeader, Issue: "is required"})
	}
	key, ok := shopconfig.SourceKey(platform, raw)
	if !ok {
		return shopconfig.Settings{}, apperr.New(apperr.Invalid, sourceHeader+" is not a valid source").WithCode("invalid_header").
			WithDetails(apperr.Detail{Field: sourceHeader, Issue: "is not a shop domain or site URL"})
	}
	org, err := w.Store.OrgByIntegrationSource(ctx, platform, key)
	if apperr.Is(err, apperr.NotFound) {
		reason := platform + ": no organization has configured " + key
		// Unauthenticated: a digest only, capped per platform per hour.
		rec, recorded, rerr := w.Store.RecordUnroutable(ctx, platform, reason, r.Body)
		if rerr != nil {
			return shopconfig.Settings{}, rerr
		}
		r.Logger().WarnContext(ctx, "webhook for an unknown source", "platform", platform, "source", key, "record", rec, "recorded", recorded, "size", len(r.Body))
		return shopconfig.Settings{}, apperr.New(apperr.NotFound, "no organization has configured this "+platform+" source").
			WithCode("unknown_source")
	}
	if err != nil {
		return shopconfig.Settings{}, err
	}
	st, err := shopconfig.Load(ctx, w.Store, org, platform)
	if apperr.Is(err, apperr.NotFound) {
		// The lookup item outlived its settings for a moment (a DELETE).
		return shopconfig.Settings{}, apperr.New(apperr.NotFound, "no organization has configured this "+platform+" source").WithCode("unknown_source")
	}
	if err != nil {
		return shopconfig.Settings{}, err
	}
	if err := w.verify(ctx, st, r.Body, r.Header(sigHeader)); err != nil {
		return shopconfig.Settings{}, err
	}
	r.SetOrgID(org)
	return st, nil
}

// refreshEvery bounds forced secret re-reads after a failed signature.
const refreshEvery = 30 * time.Second

// verify checks the signature against the active secrets. A failure
// re-reads the secret once (at most every 30 s per organisation) before
// refusing, so a secret saved moments ago is not hidden by a warm cache.
func (w *Webhook) verify(ctx context.Context, st shopconfig.Settings, body []byte, sig string) error {
	provider := shopconfig.Provider(st.Platform)
	check := func() (bool, error) {
		var sec shopconfig.Secret
		err := w.Secrets.Get(ctx, st.OrgID, provider, &sec)
		if apperr.Is(err, apperr.NotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		active := sec.Active(w.Now())
		if st.Platform == shopconfig.Shopify {
			return shop.VerifyShopify(body, sig, active...), nil
		}
		return shop.VerifyWooCommerce(body, sig, active...), nil
	}
	ok, err := check()
	if err != nil {
		return err
	}
	if !ok && strings.TrimSpace(sig) != "" {
		if f, can := w.Secrets.(forgetter); can && w.mayRefresh(st.OrgID+"/"+provider) {
			f.Forget(st.OrgID, provider)
			if ok, err = check(); err != nil {
				return err
			}
		}
	}
	if !ok {
		header := "X-Shopify-Hmac-Sha256"
		if st.Platform == shopconfig.WooCommerce {
			header = "X-WC-Webhook-Signature"
		}
		return apperr.New(apperr.Unauthenticated, header+" is missing or does not match").WithCode("invalid_signature")
	}
	return nil
}

func (w *Webhook) mayRefresh(k string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.Now()
	if last, ok := w.refreshed[k]; ok && now.Sub(last) < refreshEvery {
		return false
	}
	w.refreshed[k] = now
	return true
}

// record keeps a verified webhook that is not acted on and acknowledges it.
func (w *Webhook) record(ctx context.Context, r *httpapi.Request, st shopconfig.Settings, topic, reason string) (*httpapi.Response, error) {
	rec, err := w.Store.RecordShopWebhook(ctx, st.OrgID, st.Platform, topic, reason, r.Body)
	if err != nil {
		return nil, err
	}
	r.Logger().InfoContext(ctx, "webhook recorded, not acted on", "platform", st.Platform, "topic", topic, "reason", reason, "record", rec)
	return answer("recorded")
}

// refuse records a verified webhook that must not be acted on and
// acknowledges it as refused.
func (w *Webhook) refuse(ctx context.Context, r *httpapi.Request, st shopconfig.Settings, topic, reason string) (*httpapi.Response, error) {
	rec, err := w.Store.RecordShopWebhook(ctx, st.OrgID, st.Platform, topic, "refused: "+reason, r.Body)
	if err != nil {
		return nil, err
	}
	r.Logger().WarnContext(ctx, "webhook refused", "platform", st.Platform, "topic", topic, "reason", reason, "record", rec)
	return httpapi.JSON(http.StatusOK, map[string]string{"status": "refused", "reason": reason})
}

// ---------------------------------------------------------------- Shopify

// MaxDeliveryAge bounds how old a Shopify delivery may be: Shopify retries a
// failed one 8 times over 4 hours with the original payload and its
// original X-Shopify-Triggered-At; 12 hours leaves room for clock skew. An
// older delivery (by the header, or by the signed body's updated_at) is
// stale or replayed, and is refused.
const MaxDeliveryAge = 12 * time.Hour

// stale says why a delivery is too old to act on ("" when it is not).
// X-Shopify-Triggered-At is not signed: it catches stale retries; the signed
// updated_at is what bounds a replayed body.
func (w *Webhook) stale(r *httpapi.Request, o shop.Order) string {
	now := w.Now()
	if h := strings.TrimSpace(r.Header("x-shopify-triggered-at")); h != "" {
		t, err := time.Parse(time.RFC3339Nano, h)
		if err != nil {
			return "X-Shopify-Triggered-At is not an RFC 3339 time"
		}
		if now.Sub(t) > MaxDeliveryAge {
			return fmt.Sprintf("triggered at %s, more than %s ago", t.UTC().Format(time.RFC3339), MaxDeliveryAge)
		}
	}
	if o.UpdatedAt != "" {
		if t, err := time.Parse(time.RFC3339Nano, o.UpdatedAt); err == nil && now.Sub(t) > MaxDeliveryAge {
			return fmt.Sprintf("the order was last updated at %s, more than %s ago", t.UTC().Format(time.RFC3339), MaxDeliveryAge)
		}
	}
	return ""
}

// Shopify topics besides the triggers.
const topicOrdersUpdated = "orders/updated"

const maxWebhookID = 200

func (w *Webhook) shopify(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	st, err := w.route(ctx, r, shopconfig.Shopify, "x-shopify-shop-domain", "x-shopify-hmac-sha256")
	if err != nil {
		return nil, err
	}
	topic := strings.TrimSpace(r.Header("x-shopify-topic"))
	hookID := strings.TrimSpace(r.Header("x-shopify-webhook-id"))
	if len(hookID) > maxWebhookID || strings.ContainsAny(hookID, "#\x00") {
		return nil, apperr.New(apperr.Invalid, "X-Shopify-Webhook-Id is not a webhook id").WithDetails(apperr.Detail{Field: "X-Shopify-Webhook-Id", Issue: "is malformed"})
	}
	log := r.Logger().With("platform", shopconfig.Shopify, "topic", topic, "webhook_id", hookID)
	if hookID != "" {
		state, claimed, err := w.Store.ClaimShopWebhook(ctx, st.OrgID, shopconfig.Shopify, hookID, Lease)
		if err != nil {
			return nil, err
		}
		if !claimed {
			if state == store.TriggerDone {
				log.InfoContext(ctx, "duplicate delivery")
				return answer("duplicate")
			}
			return nil, apperr.New(apperr.Unavailable, "this webhook is being processed; retry later").WithCode("delivery_in_progress")
		}
	} else {
		log.WarnContext(ctx, "delivery without X-Shopify-Webhook-Id: deduplicated per order trigger only")
	}
	resp, result, err := w.shopifyTopic(ctx, r, st, topic)
	if hookID != "" {
		if err != nil {
			if rerr := w.Store.ReleaseShopWebhook(ctx, st.OrgID, shopconfig.Shopify, hookID); rerr != nil {
				log.WarnContext(ctx, "could not release the delivery; a retry waits for the lease", "error", rerr.Error())
			}
			return nil, err
		}
		if err := w.Store.CompleteShopWebhook(ctx, st.OrgID, shopconfig.Shopify, hookID, result); err != nil {
			return nil, err
		}
	}
	return resp, err
}

func (w *Webhook) shopifyTopic(ctx context.Context, r *httpapi.Request, st shopconfig.Settings, topic string) (*httpapi.Response, string, error) {
	handled := false
	for _, t := range shopconfig.ShopifyTopics {
		handled = handled || t == topic
	}
	if !handled && topic != topicOrdersUpdated {
		resp, err := w.record(ctx, r, st, topic, "topic not handled")
		return resp, "recorded", err
	}
	o, err := shop.ParseShopifyOrder(r.Body)
	if err != nil {
		resp, err := w.record(ctx, r, st, topic, err.Error())
		return resp, "recorded", err
	}
	reason := shop.ShopifyTopicMismatch(topic, o)
	if reason == "" {
		reason = w.stale(r, o)
	}
	if reason != "" {
		// Signed, yet it can never be acted on: recorded and acknowledged
		// (a 4xx would only make Shopify retry it for hours).
		resp, err := w.refuse(ctx, r, st, topic, reason)
		return resp, "refused", err
	}
	if !handled { // orders/updated: the stored order follows, nothing is sent
		if _, err := w.Store.UpsertOrder(ctx, orderRecord(st.OrgID, o, topic)); err != nil {
			return nil, "", err
		}
		resp, err := answer("ok")
		return resp, "order_updated", err
	}
	ev := event.OrderUpdated
	if topic == shopconfig.TopicOrdersCreate {
		ev = event.OrderCreated
	}
	res, err := w.process(ctx, r.Logger(), st, o, topic, trigger{key: topic, setting: topic, event: ev, topic: topic})
	if err != nil {
		return nil, "", err
	}
	resp, err := answer("ok")
	return resp, res, err
}

// ---------------------------------------------------------------- WooCommerce

// WooCommerce topics handled.
const (
	wooOrderCreated = "order.created"
	wooOrderUpdated = "order.updated"
)

func (w *Webhook) woocommerce(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if id, ok := shop.WooPing(r.Header("content-type"), r.Body); ok {
		r.Logger().InfoContext(ctx, "woocommerce webhook created (ping)", "webhook_id", id)
		return answer("ok")
	}
	st, err := w.route(ctx, r, shopconfig.WooCommerce, "x-wc-webhook-source", "x-wc-webhook-signature")
	if err != nil {
		return nil, err
	}
	topic := strings.TrimSpace(r.Header("x-wc-webhook-topic"))
	if topic != wooOrderCreated && topic != wooOrderUpdated {
		return w.record(ctx, r, st, topic, "topic not handled")
	}
	o, err := shop.ParseWooCommerceOrder(r.Body)
	if err != nil {
		return w.record(ctx, r, st, topic, err.Error())
	}
	if _, err := w.wooStatus(ctx, r.Logger(), st, o, topic); err != nil {
		return nil, err
	}
	return answer("ok")
}

// wooStatus runs the order's current status as a trigger when it is a
// change from the status stored (or the order is new), or when an earlier
// attempt at it failed half-way; otherwise it only updates the order.
func (w *Webhook) wooStatus(ctx context.Context, log *slog.Logger, st shopconfig.Settings, o shop.Order, topic string) (string, error) {
	prev, err := w.Store.Order(ctx, st.OrgID, shopconfig.WooCommerce, o.ID)
	found := err == nil
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return "", err
	}
	if o.Status == "" {
		_, err := w.Store.UpsertOrder(ctx, orderRecord(st.OrgID, o, topic))
		return "order_updated", err
	}
	key := StatusTrigger(o.Status)
	var pending bool
	for _, n := range prev.Notifications {
		if n.Key == key {
			if n.State == store.TriggerDone {
				_, err := w.Store.UpsertOrder(ctx, orderRecord(st.OrgID, o, topic))
				return "seen", err
			}
			pending = true
		}
	}
	if found && prev.Status == o.Status && !pending {
		_, err := w.Store.UpsertOrder(ctx, orderRecord(st.OrgID, o, topic))
		return "unchanged", err
	}
	ev := event.OrderUpdated
	if !found || len(prev.Notifications) == 0 {
		ev = event.OrderCreated
	}
	return w.process(ctx, log, st, o, topic, trigger{key: key, setting: o.Status, event: ev, topic: topic, prevStatus: prev.Status})
}

// StatusTrigger is the trigger key of a WooCommerce status.
func StatusTrigger(status string) string { return "status:" + status }
