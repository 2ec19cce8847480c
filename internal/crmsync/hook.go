// Package crmsync runs PyTake's built-in CRM integrations: the HubSpot
// webhook (POST /webhooks/hubspot: verify, route by portal, queue) and the
// consumer of each CRM's own queue (HubSpot contacts into PyTake and back,
// notes on resolved conversations; a Salesforce Lead per contact, exactly
// once, and a Task per resolved conversation).
package crmsync

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/crmconfig"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/hubspot"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/store"
)

// Job is a HubSpot webhook event queued for the sync.
type Job struct {
	OrgID   string         `json:"organization_id"`
	HubSpot *hubspot.Event `json:"hubspot_event"`
}

// HookStore is what the webhook reads.
type HookStore interface {
	OrgByIntegrationSource(ctx context.Context, platform, sourceKey string) (string, error)
	Integration(ctx context.Context, org, platform string) (store.Integration, error)
}

// SecretReader reads credentials.
type SecretReader interface {
	Get(ctx context.Context, orgID, provider string, v any) error
}

// Sender queues jobs.
type Sender interface {
	Send(ctx context.Context, msgs ...queue.Message) error
}

// Hook serves POST /webhooks/hubspot.
type Hook struct {
	Store   HookStore
	Secrets SecretReader
	Queue   Sender
	Log     *slog.Logger
	Now     func() time.Time
}

// maxHookBody: 100 events of a few hundred bytes each.
const maxHookBody = 1 << 20

// Router serves the webhook.
func (h *Hook) Router() *httpapi.Router {
	rt := httpapi.NewRouter(h.Log, h.Now)
	rt.SetMaxBody(maxHookBody)
	rt.Handle(http.MethodPost, "/webhooks/hubspot", h.receive)
	return rt
}

// URI is the URL HubSpot called, as it signs it: scheme (the forwarded
// one), host, raw path and raw query.
func URI(r *httpapi.Request) string {
	host := r.Header("host")
	if host == "" && r.Event != nil {
		host = r.Event.RequestContext.DomainName
	}
	proto := r.Header("x-forwarded-proto")
	if proto != "http" {
		proto = "https"
	}
	u := proto + "://" + host
	if r.Event != nil {
		u += r.Event.RawPath
		if r.Event.RawQueryString != "" {
			u += "?" + r.Event.RawQueryString
		}
	}
	return u
}

func (h *Hook) receive(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	evs, err := hubspot.ParseBatch(r.Body)
	if err != nil {
		return nil, apperr.New(apperr.Invalid, err.Error()).WithCode("invalid_request")
	}
	// Every portal of the batch is routed and its signature checked before
	// anything is queued: one bad portal refuses the whole batch.
	orgs := map[string]string{}
	for _, e := range evs {
		p := e.Portal()
		if _, ok := orgs[p]; ok {
			continue
		}
		org, err := h.Store.OrgByIntegrationSource(ctx, crmconfig.HubSpot, p)
		if apperr.Is(err, apperr.NotFound) {
			return nil, apperr.New(apperr.NotFound, "no organization has configured HubSpot portal "+p).WithCode("unknown_source")
		}
		if err != nil {
			return nil, err
		}
		var sec crmconfig.Secret
		if err := h.Secrets.Get(ctx, org, crmconfig.Provider(crmconfig.HubSpot), &sec); err != nil && !apperr.Is(err, apperr.NotFound) {
			return nil, err
		}
		version, err := hubspot.Verify(sec.ClientSecret, hubspot.Request{Method: r.Event.RequestContext.HTTP.Method, URI: URI(r), Body: r.Body, Header: r.Header}, h.Now())
		if err != nil {
			r.Logger().WarnContext(ctx, "hubspot webhook refused", "portal", p, "reason", err.Error())
			return nil, apperr.New(apperr.Unauthenticated, strings.TrimPrefix(err.Error(), "hubspot: ")).WithCode("invalid_signature")
		}
		r.Logger().DebugContext(ctx, "hubspot webhook verified", "portal", p, "version", version)
		orgs[p] = org
	}
	if len(orgs) == 1 {
		for _, org := range orgs {
			r.SetOrgID(org)
		}
	}
	msgs := make([]queue.Message, len(evs))
	for i := range evs {
		msgs[i] = queue.Message{Body: Job{OrgID: orgs[evs[i].Portal()], HubSpot: &evs[i]},
			Attributes: map[string]string{"event": "hubspot." + evs[i].SubscriptionType}}
	}
	if err := h.Queue.Send(ctx, msgs...); err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"status": "accepted", "events": len(evs)})
}
