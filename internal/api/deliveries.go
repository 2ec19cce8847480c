package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/delivery"
	"github.com/pytake/pytake/internal/dispatch"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/id"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
)

// DeliveryStore is the part of the store delivery routes use.
type DeliveryStore interface {
	Deliveries(ctx context.Context, org, webhookID, cursor string, limit int) (store.Page[store.Delivery], error)
	Delivery(ctx context.Context, org, webhookID, id string) (store.Delivery, error)
	ResetDelivery(ctx context.Context, org, webhookID, id string) (store.Delivery, error)
	CreateDelivery(ctx context.Context, d store.Delivery) (store.Delivery, bool, error)
	EventSamples(ctx context.Context, org, name string, limit int) ([][]byte, error)
}

// DeliveryQueue takes delivery jobs for the dispatcher.
type DeliveryQueue interface {
	Enqueue(ctx context.Context, jobs ...dispatch.Job) error
}

func (s *Server) deliveriesReady() error {
	if s.hooks == nil || s.deliveries == nil || s.deliveryQueue == nil {
		return apperr.New(apperr.Unavailable, "webhook deliveries are not configured")
	}
	return nil
}

func (s *Server) listDeliveries(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := s.deliveriesReady(); err != nil {
		return nil, err
	}
	limit, err := pageLimit(r)
	if err != nil {
		return nil, err
	}
	if _, err := s.hooks.Webhook(ctx, r.OrgID(), r.Params["id"]); err != nil {
		return nil, err
	}
	page, err := s.deliveries.Deliveries(ctx, r.OrgID(), r.Params["id"], r.Query.Get("cursor"), limit)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, page)
}

func (s *Server) retryDelivery(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := s.deliveriesReady(); err != nil {
		return nil, err
	}
	org, wh, dlv := r.OrgID(), r.Params["id"], r.Params["delivery_id"]
	if _, err := s.deliveries.Delivery(ctx, org, wh, dlv); err != nil {
		return nil, err
	}
	d, err := s.deliveries.ResetDelivery(ctx, org, wh, dlv)
	if err != nil {
		return nil, err
	}
	if err := s.deliveryQueue.Enqueue(ctx, dispatch.Job{OrgID: org, WebhookID: wh, DeliveryID: dlv}); err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusAccepted, d)
}

// testWebhook sends a webhook.test event to one subscription.
func (s *Server) testWebhook(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := s.deliveriesReady(); err != nil {
		return nil, err
	}
	org := r.OrgID()
	w, err := s.hooks.Webhook(ctx, org, r.Params["id"])
	if err != nil {
		return nil, err
	}
	now := s.now()
	ev, err := event.New(event.StableID(org, event.WebhookTest, id.New(id.Request, now)), event.WebhookTest, org, now,
		map[string]any{"message": "This is a test event from PyTake.", "webhook_id": w.ID})
	if err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(ev)
	body, err := delivery.CanonicalBody(raw)
	if err != nil {
		return nil, err
	}
	d, _, err := s.deliveries.CreateDelivery(ctx, store.Delivery{ID: store.DeliveryID(now, ev.ID, w.ID), OrgID: org, WebhookID: w.ID,
		EventID: ev.ID, Event: ev.Event, Body: string(body)})
	if err != nil {
		return nil, err
	}
	if err := s.deliveryQueue.Enqueue(ctx, dispatch.Job{OrgID: org, WebhookID: w.ID, DeliveryID: d.ID}); err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusAccepted, map[string]any{"delivery": d, "event": ev})
}

// ---------------------------------------------------------------- Zapier

type hookInput struct {
	HookURL   string `json:"hookUrl"`
	TargetURL string `json:"target_url"`
	URL       string `json:"url"`
	Event     string `json:"event"`
}

// createHook is Zapier's REST hook subscribe: a subscription to one event.
func (s *Server) createHook(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.hooks == nil || s.secretWriter == nil {
		return nil, apperr.New(apperr.Unavailable, "webhooks are not configured")
	}
	var in hookInput
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	target := strings.TrimSpace(in.HookURL)
	field := "hookUrl"
	if target == "" {
		target, field = strings.TrimSpace(in.TargetURL), "target_url"
	}
	if target == "" {
		target, field = strings.TrimSpace(in.URL), "url"
	}
	if target == "" {
		return nil, apperr.Field("hookUrl", "is required (or target_url, or url)")
	}
	if in.Event == "" || in.Event == event.All || !event.Known(in.Event) {
		return nil, apperr.Field("event", "must be one event name from GET /v1/webhooks/events")
	}
	name := "Zapier"
	events := []string{in.Event}
	w, err := s.validateWebhook(webhookInput{Name: &name, URL: &target, Events: &events}, true)
	if err != nil {
		if e, ok := apperr.As(err); ok {
			for i := range e.Details {
				if e.Details[i].Field == "url" {
					e.Details[i].Field = field
				}
			}
		}
		return nil, err
	}
	w.OrgID, w.Active = r.OrgID(), true
	w, err = s.hooks.CreateWebhook(ctx, w)
	if err != nil {
		return nil, err
	}
	secret, err := delivery.NewSecret()
	if err != nil {
		return nil, err
	}
	if err := s.secretWriter.Put(ctx, w.OrgID, secrets.ProviderWebhook(w.ID), secrets.WebhookSecrets{Version: w.SecretVersion,
		Secrets: []secrets.SigningSecret{{Secret: secret, CreatedAt: s.now().UTC()}},
	}); err != nil {
		_ = s.hooks.DeleteWebhook(ctx, w.OrgID, w.ID)
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, map[string]any{"id": w.ID, "event": in.Event, "url": w.URL, "created_at": w.CreatedAt})
}

// hookSamples is Zapier's performList: the organisation's latest real
// events of a kind, newest first, in the live payload's shape; a sample
// from the catalogue when there are none yet.
func (s *Server) hookSamples(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	name := r.Params["event"]
	if !event.Known(name) || name == event.All || name == event.AnyWhatsApp {
		return nil, apperr.New(apperr.NotFound, "no such event").WithDetails(apperr.Detail{Field: "event", Issue: "unknown event name"})
	}
	var items []json.RawMessage
	if s.deliveries != nil {
		samples, err := s.deliveries.EventSamples(ctx, r.OrgID(), name, 3)
		if err != nil {
			return nil, err
		}
		for _, b := range samples {
			items = append(items, json.RawMessage(b))
		}
	}
	if len(items) == 0 {
		for _, k := range event.Catalogue() {
			if k.Name == name {
				b, _ := json.Marshal(k.Sample)
				items = append(items, b)
			}
		}
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	return httpapi.JSON(http.StatusOK, items)
}
