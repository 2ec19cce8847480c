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
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/whatsapp"
)

func ok() (*httpapi.Response, error) {
	return httpapi.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// receive handles a signed POST from Meta.
func (w *Webhook) receive(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	body := r.Body
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return w.unroutable(ctx, r, "body is not a JSON webhook envelope: "+err.Error(), body)
	}
	// Which organisations the body claims to be for (untrusted until verified).
	orgOf := map[string]string{}
	orgs := map[string]bool{}
	for _, e := range env.Entry {
		for _, ch := range e.Changes {
			pid, lookup := routeKey(e.ID, ch.Value), w.store.OrgByPhoneNumberID
			if strings.HasPrefix(pid, wabaRoute) {
				lookup = w.store.OrgByWABAID
			}
			if pid == wabaRoute || orgOf[pid] != "" {
				continue
			}
			org, err := lookup(ctx, strings.TrimPrefix(pid, wabaRoute))
			if apperr.Is(err, apperr.NotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			orgOf[pid], orgs[org] = org, true
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
		if errors.Is(err, secrets.ErrNotFound) {
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
		r.Logger().Warn("body names organizations whose app secret does not verify it; their entries are skipped",
			"verified", len(verified), "claimed", len(orgs))
	}

	var failed []error
	for _, e := range env.Entry {
		for _, ch := range e.Changes {
			org := orgOf[routeKey(e.ID, ch.Value)]
			if org == "" || !verified[org] {
				continue
			}
			if err := w.change(ctx, org, ch); err != nil {
				failed = append(failed, err)
			}
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

// routeKey is how a change finds its organisation: its phone number id, or
// for fields that carry none, its entry's WABA id.
func routeKey(entryID string, v json.RawMessage) string {
	if pid := phoneNumberID(v); pid != "" {
		return pid
	}
	return wabaRoute + entryID
}

// phoneNumberID peeks a change's metadata.phone_number_id.
func phoneNumberID(v json.RawMessage) string {
	var m struct {
		Metadata struct {
			PhoneNumberID string `json:"phone_number_id"`
		} `json:"metadata"`
	}
	if json.Unmarshal(v, &m) != nil {
		return ""
	}
	return m.Metadata.PhoneNumberID
}

func (w *Webhook) unroutable(ctx context.Context, r *httpapi.Request, reason string, body []byte) (*httpapi.Response, error) {
	rec, err := w.store.RecordUnroutable(ctx, reason, body)
	if err != nil {
		return nil, err
	}
	r.Logger().Warn("webhook body recorded, not processed", "reason", reason, "record", rec, "size", len(body))
	return ok()
}

// change processes one change; every item is tried, and the first failure
// that is worth a retry is returned.
func (w *Webhook) change(ctx context.Context, org string, ch change) error {
	if ch.Field != "messages" {
		return w.otherField(ctx, org, ch.Field, ch.Value)
	}
	var v messagesValue
	if err := json.Unmarshal(ch.Value, &v); err != nil {
		_, rerr := w.store.RecordWebhookField(ctx, org, "messages.malformed", ch.Value)
		return rerr
	}
	var errs []error
	for _, raw := range v.Messages {
		if err := w.message(ctx, org, v.Contacts, raw); err != nil {
			errs = append(errs, err)
		}
	}
	for _, raw := range v.Statuses {
		if err := w.status(ctx, org, raw); err != nil {
			errs = append(errs, err)
		}
	}
	if len(v.Errors) > 0 && string(v.Errors) != "null" {
		if err := w.otherField(ctx, org, "errors", v.Errors); err != nil {
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

func (w *Webhook) message(ctx context.Context, org string, contacts []waContact, raw json.RawMessage) error {
	var m waMessage
	if err := json.Unmarshal(raw, &m); err != nil || m.ID == "" {
		_, rerr := w.store.RecordWebhookField(ctx, org, "messages.unparsable", raw)
		return rerr
	}
	who := identityFor(m, contacts)
	if m.Type == "system" && m.System != nil {
		if c, changed := w.identityChange(ctx, org, who, m); changed {
			// File the notice under the contact's new identity.
			who = store.Identity{WaID: c.WhatsAppID, UserID: c.UserID}
		}
	}
	cont, mediaID, mime := content(m.Type, raw)
	in := store.InboundMessage{
		OrgID: org, From: who, WAMID: m.ID, Type: m.Type, Timestamp: unixTime(m.Timestamp),
		Content: cont, Raw: raw, MediaID: mediaID, MediaMime: mime,
	}
	if in.Timestamp.IsZero() {
		in.Timestamp = w.now().UTC()
	}
	if m.Context != nil {
		in.ContextWAMID = m.Context.ID
	}
	res, err := w.store.RecordInbound(ctx, in)
	if err != nil {
		if retryable(err) {
			return err
		}
		_, rerr := w.store.RecordWebhookField(ctx, org, "messages.rejected", raw)
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
	if err := add(event.MessageReceived, m.ID, data); err != nil {
		return err
	}
	if err := w.events.Publish(ctx, evs...); err != nil {
		return err
	}
	return w.store.MarkEventsSent(ctx, org, m.ID)
}

// identityChange applies user_changed_number / user_changed_user_id.
func (w *Webhook) identityChange(ctx context.Context, org string, who store.Identity, m waMessage) (store.Contact, bool) {
	s := m.System
	updated := store.Identity{WaID: firstNonEmpty(s.NewWaID, s.WaID), UserID: firstNonEmpty(s.NewUserID, s.UserID), ParentUserID: s.ParentUserID}
	switch s.Type {
	case "user_changed_number":
		updated.UserID = ""
	case "user_changed_user_id":
		updated.WaID = ""
	default:
		return store.Contact{}, false
	}
	c, err := w.store.ChangeIdentity(ctx, org, who, updated)
	if err != nil {
		w.log.Warn("identity change not applied", "org_id", org, "type", s.Type, "error", err.Error())
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

func (w *Webhook) status(ctx context.Context, org string, raw json.RawMessage) error {
	var st waStatus
	if err := json.Unmarshal(raw, &st); err != nil || st.ID == "" || st.Status == "" {
		_, rerr := w.store.RecordWebhookField(ctx, org, "statuses.unparsable", raw)
		return rerr
	}
	u := store.StatusUpdate{OrgID: org, WAMID: st.ID, Status: st.Status, Timestamp: unixTime(st.Timestamp), Raw: raw}
	if u.Timestamp.IsZero() {
		u.Timestamp = w.now().UTC()
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields)
	u.Errors, u.Pricing = fields["errors"], fields["pricing"]
	if len(st.Errors) > 0 {
		e := st.Errors[0]
		u.Error = &store.MessageError{Code: e.Code, Title: e.Title, Message: e.Message, Details: e.ErrorData.Details}
	}
	if st.Pricing != nil {
		u.PricingCategory, u.Billable = st.Pricing.Category, st.Pricing.Billable
	}
	res, err := w.store.ApplyStatus(ctx, u)
	if err != nil {
		return err
	}
	if !res.Applied {
		return nil
	}
	name := "message." + st.Status
	switch st.Status {
	case "sent", "delivered", "read", "failed":
	default:
		return nil // "played" and future statuses: recorded on the timeline only
	}
	ct, err := w.store.Contact(ctx, org, res.Message.ContactID)
	if err != nil {
		return err
	}
	cv, err := w.store.Conversation(ctx, org, res.Message.ConversationID)
	if err != nil {
		return err
	}
	view := event.ViewMessage(res.Message)
	view.Status = st.Status
	ev, err := event.New(event.StableID(org, name, st.ID), name, org, w.now(), event.MessageData{
		Message: view, Contact: event.ViewContact(ct), Conversation: event.ViewConversation(cv),
	})
	if err != nil {
		return err
	}
	return w.events.Publish(ctx, ev)
}
