// Package inbound is the WhatsApp webhook: Meta's GET verification and the
// signed POSTs carrying customer messages, statuses and account changes.
//
// How a body finds its organisation before it is trusted: the raw bytes are
// peeked (not trusted) for each entry's metadata.phone_number_id; each id maps
// to one organisation (the PHONE# item, unique across organisations); the
// X-Hub-Signature-256 must verify with that organisation's app secret. Only
// the entries of organisations whose secret verifies the body are processed;
// if none does, the answer is 401 and nothing is stored. Input that passes no
// organisation's check because no organisation owns its number (or that is
// not JSON) leaves a digest (hash, size, 512-byte prefix, capped per hour)
// and is acknowledged, so Meta does not retry it for a week.
//
// An unsigned body can cause only bounded work: at most MaxRoutes distinct
// routes are looked up before the signature is checked, a warm container
// remembers each number's organisation for RouteTTL, and a failed check
// re-reads the routes and credentials once (per organisation, at most every
// 30 s) before answering 401, so a rotated app secret or verify token is
// honoured at once and a flood of forged signatures costs no extra reads.
package inbound

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"github.com/pytake/pytake/internal/optout"
	"log/slog"
	"net/http"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/whatsapp"
)

// Store is what the webhook needs from the data store.
type Store interface {
	OrgByPhoneNumberID(ctx context.Context, phoneNumberID string) (string, error)
	OrgByVerifyTokenHash(ctx context.Context, h string) (string, error)
	MarkWhatsAppVerified(ctx context.Context, orgID, tokenHash string) error
	OrgByWABAID(ctx context.Context, wabaID string) (string, error)
	RecordInbound(ctx context.Context, in store.InboundMessage) (store.InboundResult, error)
	MarkEventsSent(ctx context.Context, org, wamid string) error
	MarkStatusEventsSent(ctx context.Context, org, msgID, status string) error
	ApplyStatus(ctx context.Context, u store.StatusUpdate) (store.StatusResult, error)
	ChangeIdentity(ctx context.Context, org string, old, updated store.Identity) (store.Contact, error)
	RecordWebhookField(ctx context.Context, org, field string, value json.RawMessage) (string, error)
	RecordUnroutable(ctx context.Context, source, reason string, body []byte) (string, bool, error)
	EventContext(ctx context.Context, m store.Message) (store.Contact, store.Conversation, error)
	Template(ctx context.Context, org, name, language string) (store.Template, error)
	UpdateTemplate(ctx context.Context, org string, u store.TemplateUpdate) (store.Template, string, bool, error)
	UpdateWhatsAppSignals(ctx context.Context, orgID string, sig store.WhatsAppSignals) (store.WhatsAppAccount, error)
	optout.Opter
}

// Credentials are an organisation's WhatsApp secrets (Secrets Manager).
type Credentials = secrets.WhatsApp

// Secrets reads credentials.
type Secrets interface {
	Get(ctx context.Context, orgID, provider string, v any) error
}

var _ Secrets = (*secrets.Store)(nil)

// forgetter drops a cached secret (secrets.Store does).
type forgetter interface {
	Forget(orgID, provider string)
}

var _ forgetter = (*secrets.Store)(nil)

// Publisher puts events on the events queue.
type Publisher interface {
	Publish(ctx context.Context, events ...event.Event) error
}

// Provider is the secret name of WhatsApp credentials.
const Provider = secrets.ProviderWhatsApp

// Source names this webhook's unauthenticated input records.
const Source = "whatsapp"

// Webhook serves /webhooks/whatsapp.
type Webhook struct {
	store   Store
	secrets Secrets
	events  Publisher
	log     *slog.Logger
	now     func() time.Time
	routes  *routeCache
	refresh *refresher
}

// New returns the webhook.
func New(s Store, sec Secrets, pub Publisher, log *slog.Logger, now func() time.Time) *Webhook {
	return &Webhook{store: s, secrets: sec, events: pub, log: log, now: now,
		routes: newRouteCache(now), refresh: &refresher{now: now, last: map[string]time.Time{}}}
}

// maxBody: Meta sends up to 3 MB.
const maxBody = 4 << 20

// Router routes the webhook's two methods.
func (w *Webhook) Router() *httpapi.Router {
	rt := httpapi.NewRouter(w.log, w.now)
	rt.SetMaxBody(maxBody)
	rt.Handle(http.MethodGet, "/webhooks/whatsapp", w.verify)
	rt.Handle(http.MethodPost, "/webhooks/whatsapp", w.receive)
	return rt
}

// verify answers Meta's subscription check with the raw challenge when the
// token belongs to an organisation; 403 otherwise.
func (w *Webhook) verify(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	mode, token, challenge := r.Query.Get("hub.mode"), r.Query.Get("hub.verify_token"), r.Query.Get("hub.challenge")
	forbidden := apperr.New(apperr.Forbidden, "verification failed: hub.mode must be subscribe and hub.verify_token must match").WithCode("verification_failed")
	if mode != "subscribe" || token == "" || challenge == "" {
		return nil, forbidden
	}
	h := whatsapp.HashVerifyToken(token)
	org, err := w.store.OrgByVerifyTokenHash(ctx, h)
	if apperr.Is(err, apperr.NotFound) {
		return nil, forbidden
	}
	if err != nil {
		return nil, err
	}
	match := func() (bool, error) {
		var cred Credentials
		if err := w.secrets.Get(ctx, org, Provider, &cred); err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return false, nil
			}
			return false, err
		}
		return subtle.ConstantTimeCompare([]byte(cred.VerifyToken), []byte(token)) == 1, nil
	}
	good, err := match()
	if err == nil && !good && w.refresh.may(org) {
		// The token's hash is the organisation's (read just now), its cached
		// credentials disagree: they may predate a rotation.
		w.forgetSecret(org)
		good, err = match()
	}
	if err != nil {
		return nil, err
	}
	if !good {
		return nil, forbidden
	}
	r.SetOrgID(org)
	// The dashboard shows it: Meta has called with this organisation's
	// token (if it is still the saved one). At most one write an hour; Meta
	// gets its answer regardless.
	if err := w.store.MarkWhatsAppVerified(ctx, org, h); err != nil {
		r.Logger().WarnContext(ctx, "verification not recorded", "error", err.Error())
	}
	return &httpapi.Response{Status: http.StatusOK, Headers: map[string]string{"Content-Type": "text/plain"}, Body: []byte(challenge)}, nil
}
