package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/metrics"
	"github.com/pytake/pytake/internal/optout"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/whatsapp"
)

func ok() (*httpapi.Response, error) {
	return httpapi.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// receive handles a signed POST from Meta.
//
// Before the signature is checked the body is untrusted, so the work it can
// cause is bounded: at most MaxRoutes distinct routes are looked up (from
// the warm container's cache when it can), and the secrets of the
// organisations they name are read (cached by the secrets store). A body
// that names no organisation is kept as a digest (RecordUnroutable). Once
// one organisation's secret verifies the body, the rest of its routes are
// resolved too.
func (w *Webhook) receive(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	body := r.Body
	plan, err := ParsePlan(body)
	if err != nil {
		return w.unroutable(ctx, r, "body is not a JSON webhook envelope: "+err.Error(), body)
	}
	routes := plan.routes()
	first := routes[:min(len(routes), MaxRoutes)]
	orgOf, err := w.resolve(ctx, first)
	if err != nil {
		return nil, err
	}
	orgs := orgSet(orgOf)
	if len(orgs) == 0 {
		return w.unroutable(ctx, r, "no organization owns the phone number ids in this body", body)
	}
	sig := r.Header("x-hub-signature-256")
	verified, err := w.verifyOrgs(ctx, orgs, body, sig)
	if err != nil {
		return nil, err
	}
	if len(verified) == 0 && strings.TrimSpace(sig) != "" {
		// A number that moved, or an app secret saved moments ago, can be
		// hidden by the caches: re-read them once (per organisation, at
		// most every refreshEvery) before refusing.
		stale := map[string]bool{}
		for org := range orgs {
			if w.refresh.may(org) {
				stale[org] = true
			}
		}
		if len(stale) > 0 {
			for route, org := range orgOf {
				if stale[org] {
					w.routes.forget(route)
				}
			}
			for org := range stale {
				w.forgetSecret(org)
			}
			if orgOf, err = w.resolve(ctx, first); err != nil {
				return nil, err
			}
			orgs = orgSet(orgOf)
			if verified, err = w.verifyOrgs(ctx, orgs, body, sig); err != nil {
				return nil, err
			}
		}
	}
	if len(verified) == 0 {
		return nil, apperr.New(apperr.Unauthenticated, "X-Hub-Signature-256 is missing or does not match").WithCode("invalid_signature")
	}
	if rest := routes[len(first):]; len(rest) > 0 {
		// Authenticated now: route the rest of the body's numbers.
		more, err := w.resolve(ctx, rest)
		if err != nil {
			return nil, err
		}
		extra := map[string]bool{}
		for route, org := range more {
			orgOf[route] = org
			if org != "" && !orgs[org] {
				orgs[org], extra[org] = true, true
			}
		}
		v, err := w.verifyOrgs(ctx, extra, body, sig)
		if err != nil {
			return nil, err
		}
		for org := range v {
			verified[org] = true
		}
	}
	if len(verified) < len(orgs) {
		r.Logger().WarnContext(ctx, "body names organizations whose app secret does not verify it; their entries are skipped",
			"verified", len(verified), "claimed", len(orgs))
	}

	var failed []error
	for _, ch := range plan.Changes {
		org := orgOf[ch.Route]
		if org == "" || !verified[org] {
			continue
		}
		if err := w.change(ctx, org, ch); err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		// Meta retries the whole body; what was stored is deduplicated.
		return nil, apperr.New(apperr.Unavailable, fmt.Sprintf("%d item(s) could not be stored, retry", len(failed))).WithCause(errors.Join(failed...))
	}
	return ok()
}

// wabaRoute marks a route by WABA id (changes without a phone number id).
const wabaRoute = "waba:"

// routes are the plan's distinct routes, in body order.
func (p *Plan) routes() []string {
	seen := map[string]bool{}
	var out []string
	for _, ch := range p.Changes {
		if seen[ch.Route] || ch.Route == wabaRoute || ch.Route == "" {
			continue
		}
		seen[ch.Route] = true
		out = append(out, ch.Route)
	}
	return out
}

// resolve finds the organisation of each route ("" for none), from the
// cache or the store; only routes some organisation owns are cached.
func (w *Webhook) resolve(ctx context.Context, routes []string) (map[string]string, error) {
	orgOf := make(map[string]string, len(routes))
	for _, route := range routes {
		if org, ok := w.routes.get(route); ok {
			orgOf[route] = org
			continue
		}
		lookup, key := w.store.OrgByPhoneNumberID, route
		if k, ok := strings.CutPrefix(route, wabaRoute); ok {
			lookup, key = w.store.OrgByWABAID, k
		}
		org, err := lookup(ctx, key)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return nil, err
		}
		orgOf[route] = org
		if org != "" {
			w.routes.put(route, org)
		}
	}
	return orgOf, nil
}

func orgSet(orgOf map[string]string) map[string]bool {
	orgs := map[string]bool{}
	for _, org := range orgOf {
		if org != "" {
			orgs[org] = true
		}
	}
	return orgs
}

// verifyOrgs answers which organisations' app secrets verify the body.
func (w *Webhook) verifyOrgs(ctx context.Context, orgs map[string]bool, body []byte, sig string) (map[string]bool, error) {
	verified := map[string]bool{}
	for org := range orgs {
		var cred Credentials
		err := w.secrets.Get(ctx, org, Provider, &cred)
		if apperr.Is(err, apperr.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if whatsapp.VerifySignature(body, sig, []byte(cred.AppSecret)) == nil {
			verified[org] = true
		}
	}
	return verified, nil
}

// forgetSecret drops the organisation's cached credentials, when the
// secrets store caches.
func (w *Webhook) forgetSecret(org string) {
	if f, ok := w.secrets.(forgetter); ok {
		f.Forget(org, Provider)
	}
}

// unroutable keeps a digest of a body no organisation can be found for
// (never the body: it is unauthenticated) and acknowledges it, so Meta does
// not retry it for a week.
func (w *Webhook) unroutable(ctx context.Context, r *httpapi.Request, reason string, body []byte) (*httpapi.Response, error) {
	rec, recorded, err := w.store.RecordUnroutable(ctx, Source, reason, body)
	if err != nil {
		return nil, err
	}
	if recorded {
		r.Logger().WarnContext(ctx, "webhook body not processed; its digest is recorded", "reason", reason, "record", rec, "size", len(body))
	} else {
		r.Logger().WarnContext(ctx, "webhook body not processed; the hour's records are spent", "reason", reason, "size", len(body))
	}
	return ok()
}

// change processes one change; every item is tried, and the failures worth
// a retry are returned.
func (w *Webhook) change(ctx context.Context, org string, ch PlannedChange) error {
	if ch.Field != "messages" {
		return w.otherField(ctx, org, ch.Field, ch.Value)
	}
	if ch.Bad != "" {
		return w.otherField(ctx, org, "messages.unparsable", ch.Value)
	}
	// The business number the change is for (verified by now): the
	// per-number metrics' dimension. Never a customer's number.
	var number []metrics.Dim
	if !strings.HasPrefix(ch.Route, wabaRoute) {
		number = []metrics.Dim{metrics.Number(ch.Route)}
	}
	var errs []error
	for _, m := range ch.Messages {
		if err := w.message(ctx, org, m); err != nil {
			errs = append(errs, err)
		} else if m.Bad == "" {
			metrics.From(ctx).Count(metrics.MessagesReceived, 1, number...)
		}
	}
	for _, st := range ch.Statuses {
		if err := w.status(ctx, org, st, number); err != nil {
			errs = append(errs, err)
		}
	}
	if len(ch.Errors) > 0 {
		if err := w.otherField(ctx, org, "errors", ch.Errors); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// otherField records a non-message field and emits whatsapp.<field>.
func (w *Webhook) otherField(ctx context.Context, org, field string, value json.RawMessage) error {
	rec, err := w.store.RecordWebhookField(ctx, org, field, value)
	if err != nil {
		return err
	}
	ev, err := event.New(event.StableID(org, "field", rec), event.WhatsAppPrefix+field, org, w.now(),
		map[string]any{"field": field, "value": value})
	if err != nil {
		return err
	}
	if err := w.events.Publish(ctx, ev); err != nil {
		return err
	}
	_, err = w.accountField(ctx, org, field, value, rec)
	return err
}

// retryable reports whether an item's failure should make Meta retry.
func retryable(err error) bool {
	k := apperr.KindOf(err)
	return k == apperr.Unavailable || k == apperr.Internal
}

func identityFor(m waMessage, contacts []waContact) store.Identity {
	id := store.Identity{WaID: m.From, UserID: m.FromUserID}
	for _, c := range contacts {
		if (c.WaID != "" && c.WaID == m.From) || (c.UserID != "" && c.UserID == m.FromUserID) || len(contacts) == 1 {
			if id.WaID == "" {
				id.WaID = c.WaID
			}
			if id.UserID == "" {
				id.UserID = c.UserID
			}
			id.ParentUserID, id.ProfileName = c.ParentUserID, c.Profile.Name
			break
		}
	}
	// A BSUID may arrive in "from" for users without a visible phone.
	if id.UserID == "" && strings.Contains(id.WaID, ".") {
		id.UserID, id.WaID = id.WaID, ""
	}
	return id
}

func (w *Webhook) message(ctx context.Context, org string, pm PlannedMessage) error {
	if pm.Bad != "" {
		_, err := w.store.RecordWebhookField(ctx, org, "messages.unparsable", pm.Raw)
		return err
	}
	in := pm.In
	in.OrgID = org
	if in.Timestamp.IsZero() {
		in.Timestamp = w.now().UTC()
	}
	if pm.System != nil {
		if c, changed := w.identityChange(ctx, org, in.From, pm.System); changed {
			// File the notice under the contact's new identity.
			in.From = store.Identity{WaID: c.WhatsAppID, UserID: c.UserID}
		}
	}
	res, err := w.store.RecordInbound(ctx, in)
	var evs []event.Event
	for _, m := range res.Merges {
		// Meta showed two contacts are one person: merged before the
		// message was stored (even when storing it then failed).
		e, merr := event.MergedEvent(org, w.now(), m)
		if merr != nil {
			return merr
		}
		evs = append(evs, e)
	}
	if err != nil && len(evs) > 0 {
		if perr := w.events.Publish(ctx, evs...); perr != nil {
			w.log.ErrorContext(ctx, "event not published", "event", event.ContactMerged, "error", perr.Error())
		}
		evs = nil
	}
	if err != nil {
		if retryable(err) {
			return err
		}
		_, rerr := w.store.RecordWebhookField(ctx, org, "messages.rejected", pm.Raw)
		return rerr
	}
	if res.Duplicate && !res.EventsPending {
		if len(evs) > 0 {
			return w.events.Publish(ctx, evs...)
		}
		return nil
	}
	data := event.MessageData{
		Message: event.ViewMessage(res.Message), Contact: event.ViewContact(res.Contact),
		Conversation: event.ViewConversation(res.Conversation),
	}
	add := func(name, subject string, d any) error {
		e, err := event.New(event.StableID(org, name, subject), name, org, w.now(), d)
		if err != nil {
			return err
		}
		evs = append(evs, e)
		return nil
	}
	if res.ContactCreated {
		if err := add(event.ContactCreated, res.Contact.ID, map[string]any{"contact": data.Contact}); err != nil {
			return err
		}
	}
	if res.ConversationCreated {
		if err := add(event.ConversationCreated, res.Conversation.ID, map[string]any{"conversation": data.Conversation, "contact": data.Contact}); err != nil {
			return err
		}
	}
	if err := add(event.MessageReceived, in.WAMID, data); err != nil {
		return err
	}
	if err := w.events.Publish(ctx, evs...); err != nil {
		return err
	}
	return w.store.MarkEventsSent(ctx, org, in.WAMID)
}

// identityChange applies user_changed_number / user_changed_user_id.
func (w *Webhook) identityChange(ctx context.Context, org string, who store.Identity, ch *IdentityChange) (store.Contact, bool) {
	c, err := w.store.ChangeIdentity(ctx, org, who, ch.Updated)
	if err != nil {
		w.log.WarnContext(ctx, "identity change not applied", "org_id", org, "type", ch.Type, "error", err.Error())
		return store.Contact{}, false
	}
	return c, true
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func (w *Webhook) status(ctx context.Context, org string, ps PlannedStatus, number []metrics.Dim) error {
	if ps.Bad != "" {
		_, err := w.store.RecordWebhookField(ctx, org, "statuses.unparsable", ps.Raw)
		return err
	}
	u := ps.Update
	u.OrgID = org
	if u.Timestamp.IsZero() {
		u.Timestamp = w.now().UTC()
	}
	res, err := w.store.ApplyStatus(ctx, u)
	if err != nil {
		return err
	}
	if u.Status == "failed" && res.Message.ID != "" {
		// 131050: the contact stopped marketing messages. Before the
		// Applied check, so a redelivery finishes what failed.
		if err := optout.MetaRefused(ctx, w.store, w.events, w.now(), res.Message, u.Error); err != nil {
			return err
		}
	}
	if !res.Applied {
		return nil
	}
	statusMetric(ctx, u.Status, number)
	name := "message." + u.Status
	switch u.Status {
	case "sent", "delivered", "read", "failed":
	default:
		// "played" and future statuses: recorded on the timeline only.
		return w.store.MarkStatusEventsSent(ctx, org, res.Message.ID, u.Status)
	}
	// The contact and the conversation are read at once: two reads of
	// 5 ms one after the other were a sixth of a status's time.
	var (
		cv    store.Conversation
		cvErr error
		read  = make(chan struct{})
	)
	go func() {
		defer close(read)
		cv, cvErr = w.store.Conversation(ctx, org, res.Message.ConversationID)
	}()
	ct, err := w.store.Contact(ctx, org, res.Message.ContactID)
	<-read
	if err != nil {
		return err
	}
	if cvErr != nil {
		return cvErr
	}
	m := res.Message
	m.Status = u.Status
	ev, err := event.MessageEvent(name, org, u.WAMID, w.now(), m, ct, cv)
	if err != nil {
		return err
	}
	if err := w.events.Publish(ctx, ev); err != nil {
		return err
	}
	return w.store.MarkStatusEventsSent(ctx, org, res.Message.ID, u.Status)
}

// statusMetric counts an applied status: StatusesApplied by status (Meta's
// statuses are a short list; anything else counts as "other"), and sent
// and failed per business number.
func statusMetric(ctx context.Context, status string, number []metrics.Dim) {
	rec := metrics.From(ctx)
	switch status {
	case store.StatusSent, store.StatusDelivered, store.StatusRead, store.StatusFailed, "played":
		rec.Count(metrics.StatusesApplied, 1, metrics.Dim{Name: metrics.DimStatus, Value: status})
	default:
		rec.Count(metrics.StatusesApplied, 1, metrics.Dim{Name: metrics.DimStatus, Value: "other"})
	}
	switch status {
	case store.StatusSent:
		rec.Count(metrics.MessagesSent, 1, number...)
	case store.StatusFailed:
		rec.Count(metrics.MessagesFailed, 1, number...)
	}
}
