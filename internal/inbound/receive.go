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
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/whatsapp"
)

func ok() (*httpapi.Response, error) {
	return httpapi.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// receive handles a signed POST from Meta.
func (w *Webhook) receive(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	body := r.Body
	plan, err := ParsePlan(body)
	if err != nil {
		return w.unroutable(ctx, r, "body is not a JSON webhook envelope: "+err.Error(), body)
	}
	// Which organisations the body claims to be for (untrusted until verified).
	orgOf := map[string]string{}
	orgs := map[string]bool{}
	for _, ch := range plan.Changes {
		if _, seen := orgOf[ch.Route]; seen || ch.Route == wabaRoute {
			continue
		}
		lookup, key := w.store.OrgByPhoneNumberID, ch.Route
		if k, ok := strings.CutPrefix(ch.Route, wabaRoute); ok {
			lookup, key = w.store.OrgByWABAID, k
		}
		org, err := lookup(ctx, key)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return nil, err
		}
		orgOf[ch.Route] = org
		if org != "" {
			orgs[org] = true
		}
	}
	if len(orgs) == 0 {
		return w.unroutable(ctx, r, "no organization owns the phone number ids in this body", body)
	}
	sig := r.Header("x-hub-signature-256")
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
	if len(verified) == 0 {
		return nil, apperr.New(apperr.Unauthenticated, "X-Hub-Signature-256 is missing or does not match").WithCode("invalid_signature")
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

func (w *Webhook) unroutable(ctx context.Context, r *httpapi.Request, reason string, body []byte) (*httpapi.Response, error) {
	rec, err := w.store.RecordUnroutable(ctx, reason, body)
	if err != nil {
		return nil, err
	}
	r.Logger().WarnContext(ctx, "webhook body recorded, not processed", "reason", reason, "record", rec, "size", len(body))
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
	var errs []error
	for _, m := range ch.Messages {
		if err := w.message(ctx, org, m); err != nil {
			errs = append(errs, err)
		}
	}
	for _, st := range ch.Statuses {
		if err := w.status(ctx, org, st); err != nil {
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
	return w.events.Publish(ctx, ev)
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
	if err != nil {
		if retryable(err) {
			return err
		}
		_, rerr := w.store.RecordWebhookField(ctx, org, "messages.rejected", pm.Raw)
		return rerr
	}
	if res.Duplicate && !res.EventsPending {
		return nil
	}
	var evs []event.Event
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

func (w *Webhook) status(ctx context.Context, org string, ps PlannedStatus) error {
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
	if !res.Applied {
		return nil
	}
	name := "message." + u.Status
	switch u.Status {
	case "sent", "delivered", "read", "failed":
	default:
		// "played" and future statuses: recorded on the timeline only.
		return w.store.MarkStatusEventsSent(ctx, org, res.Message.ID, u.Status)
	}
	ct, err := w.store.Contact(ctx, org, res.Message.ContactID)
	if err != nil {
		return err
	}
	cv, err := w.store.Conversation(ctx, org, res.Message.ConversationID)
	if err != nil {
		return err
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
