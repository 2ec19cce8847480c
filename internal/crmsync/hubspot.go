package crmsync

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/crmconfig"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/hubspot"
	phonenum "github.com/pytake/pytake/internal/phone"
	"github.com/pytake/pytake/internal/store"
)

// synced properties: a change to any other one is ignored.
var contactProps = map[string]bool{"phone": true, "mobilephone": true, "firstname": true, "lastname": true, "email": true}

// hubspotFailure turns a HubSpot error into what to do: retry later (429,
// 5xx, network), or record it (401/403 also mark the integration
// unhealthy) and stop.
func (s *Syncer) hubspotFailure(ctx context.Context, st crmconfig.Settings, err error) (code string, retry error) {
	he, ok := hubspot.AsError(err)
	if !ok {
		return "", err
	}
	if he.Retryable() {
		return "", later(he.RetryAfter, err)
	}
	if he.Unauthorized() {
		reason := "HubSpot refused the access token (" + strings.TrimSpace(he.Message) + "): configure a new one"
		if merr := s.Store.MarkIntegrationUnhealthy(ctx, st.OrgID, crmconfig.HubSpot, st.UpdatedAt, reason); merr != nil {
			return "", merr
		}
		return codeUnauthorized, nil
	}
	if he.NotFound() {
		return "not_found", nil
	}
	return "hubspot_" + strings.ToLower(firstNonEmpty(he.Category, "error")), nil
}

// codeUnauthorized: the CRM refused the integration's credentials.
const codeUnauthorized = "unauthorized"

// finishFailed ends a claim whose work failed for good; when the
// credentials were refused the claim is released instead, so the work is
// done once the integration is configured again.
func (s *Syncer) finishFailed(ctx context.Context, org, what, subject, code, reason string) error {
	if code == codeUnauthorized {
		return s.Store.ReleaseCRM(ctx, org, what, subject)
	}
	return s.Store.FinishCRM(ctx, org, what, subject, store.CRMFailed, code, reason)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// hubspotInbound applies one HubSpot webhook event: the contact is read
// from HubSpot and created or updated in PyTake with attributes.hubspot_id.
func (s *Syncer) hubspotInbound(ctx context.Context, org string, e hubspot.Event) error {
	st, sec, ok, err := s.settings(ctx, org, crmconfig.HubSpot)
	if err != nil || !ok || st.Sync == nil || !st.Sync.Contacts || st.PortalID != e.Portal() {
		return err
	}
	subject := e.Key()
	if _, claimed, err := s.claim(ctx, org, claimHubSpotEvent, subject, hubspotEventTTL); !claimed {
		return err
	}
	finish := func(state, result, reason string) error {
		return s.Store.FinishCRM(ctx, org, claimHubSpotEvent, subject, state, result, reason)
	}
	switch {
	case e.SubscriptionType == hubspot.ContactCreation,
		e.SubscriptionType == hubspot.ContactPropertyChange && contactProps[e.PropertyName]:
	case e.SubscriptionType == hubspot.ContactDeletion:
		// PyTake keeps its contact (its conversations are the
		// organisation's record); the link is only reported.
		return finish(store.TriggerDone, "", "contact.deletion: the PyTake contact is kept")
	default:
		return finish(store.TriggerDone, "", "ignored: "+e.SubscriptionType+" "+e.PropertyName)
	}
	hubID := strconv.FormatInt(e.ObjectID, 10)
	hc, err := s.HubSpot.GetContact(ctx, sec.AccessToken, hubID)
	if err != nil {
		code, retry := s.hubspotFailure(ctx, st, err)
		if retry != nil {
			_ = s.Store.ReleaseCRM(ctx, org, claimHubSpotEvent, subject)
			return retry
		}
		s.publish(ctx, s.failed(org, subject, FailedData{CRM: crmconfig.HubSpot, Object: "contact", Code: code, Message: err.Error(), CRMID: hubID})...)
		return s.finishFailed(ctx, org, claimHubSpotEvent, subject, code, err.Error())
	}
	p := hc.Properties
	raw := firstNonEmpty(p["phone"], p["mobilephone"])
	phone, perr := phonenum.Parse(raw, "")
	if perr != nil {
		reason := "skipped: no usable phone"
		if raw != "" {
			reason = "skipped: the phone is not an international number (" + strings.TrimPrefix(perr.Error(), phonenum.ErrInvalid.Error()+": ") + ")"
		}
		s.publish(ctx, s.failed(org, subject, FailedData{CRM: crmconfig.HubSpot, Object: "contact", Code: "no_phone", Message: reason, CRMID: hubID})...)
		return finish(store.TriggerDone, "skipped", reason)
	}
	name := strings.TrimSpace(p["firstname"] + " " + p["lastname"])
	email := strings.TrimSpace(p["email"])
	c, created, err := s.upsertFromHubSpot(ctx, org, phone, name, email, hubID)
	if err != nil {
		_ = s.Store.ReleaseCRM(ctx, org, claimHubSpotEvent, subject)
		return err
	}
	if created {
		ev, err := event.New(event.StableID(org, event.ContactCreated, c.ID), event.ContactCreated, org, s.Now(), map[string]any{"contact": event.ViewContact(c)})
		if err == nil {
			s.publish(ctx, ev)
		}
	}
	s.publish(ctx, s.synced(org, subject, SyncedData{CRM: crmconfig.HubSpot, Direction: "inbound", Object: "contact", CRMID: hubID, Contact: event.ViewContact(c)})...)
	return finish(store.TriggerDone, c.ID, "")
}

// upsertFromHubSpot creates the number's contact, or sets hubspot_id, and
// a missing name or email, on the existing one.
func (s *Syncer) upsertFromHubSpot(ctx context.Context, org, phone, name, email, hubID string) (store.Contact, bool, error) {
	for attempt := 0; attempt < 6; attempt++ {
		page, err := s.Store.Contacts(ctx, org, "", phone, "", 1)
		if err != nil {
			return store.Contact{}, false, err
		}
		if len(page.Items) > 0 {
			c, err := s.updateContact(ctx, org, page.Items[0].ID, func(c *store.Contact) bool {
				changed := false
				if c.Attributes[AttrHubSpotID] != hubID {
					c.Attributes[AttrHubSpotID], changed = hubID, true
				}
				if c.Name == "" && name != "" {
					c.Name, changed = name, true
				}
				if c.Email == "" && email != "" {
					c.Email, changed = email, true
				}
				return changed
			})
			return c, false, err
		}
		c, err := s.Store.CreateContact(ctx, store.Contact{OrgID: org, WhatsAppID: phone, Name: name, Email: email,
			Tags: []string{}, Attributes: map[string]any{AttrHubSpotID: hubID}}, nil)
		if apperr.Is(err, apperr.Conflict) {
			continue // created meanwhile: update it
		}
		return c, err == nil, err
	}
	return store.Contact{}, false, later(0, errors.New("the contact keeps changing"))
}

// pushContact finds a contact created in PyTake in HubSpot by phone, or
// creates it there, and keeps HubSpot's id on it.
func (s *Syncer) pushContact(ctx context.Context, ev event.Event) error {
	var d struct {
		Contact event.ContactView `json:"contact"`
	}
	if err := jsonData(ev, &d); err != nil {
		return nil
	}
	if d.Contact.WhatsAppID == "" || d.Contact.Attributes[AttrHubSpotID] != nil {
		return nil
	}
	_, err := s.hubspotContactID(ctx, ev.OrganizationID, d.Contact.ID, true)
	return err
}

// hubspotContactID answers the HubSpot id of a PyTake contact: its
// attribute, or (push) found by phone or created in HubSpot, once.
func (s *Syncer) hubspotContactID(ctx context.Context, org, contactID string, push bool) (string, error) {
	st, sec, ok, err := s.settings(ctx, org, crmconfig.HubSpot)
	if err != nil || !ok || st.Sync == nil {
		return "", err
	}
	c, err := s.Store.Contact(ctx, org, contactID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return "", nil
		}
		return "", err
	}
	if id, _ := c.Attributes[AttrHubSpotID].(string); id != "" {
		return id, nil
	}
	if !push || !st.Sync.PushContacts || c.WhatsAppID == "" {
		return "", nil
	}
	claim, claimed, err := s.claim(ctx, org, claimHubSpotContact, c.ID, 0)
	if !claimed {
		if err == nil && claim.State == store.TriggerDone {
			return claim.Result, nil
		}
		return "", err
	}
	phone := "+" + c.WhatsAppID
	hc, found, err := s.HubSpot.FindContactByPhone(ctx, sec.AccessToken, phone)
	if err == nil && !found {
		props := map[string]string{"phone": phone}
		first, last := splitName(c.DisplayName())
		if first != "" {
			props["firstname"] = first
		}
		if last != "" {
			props["lastname"] = last
		}
		if c.Email != "" {
			props["email"] = c.Email
		}
		hc, err = s.HubSpot.CreateContact(ctx, sec.AccessToken, props)
	}
	if err != nil {
		code, retry := s.hubspotFailure(ctx, st, err)
		if retry != nil {
			_ = s.Store.ReleaseCRM(ctx, org, claimHubSpotContact, c.ID)
			return "", retry
		}
		view := event.ViewContact(c)
		s.publish(ctx, s.failed(org, c.ID, FailedData{CRM: crmconfig.HubSpot, Object: "contact", Code: code, Message: err.Error(), Contact: &view})...)
		return "", s.finishFailed(ctx, org, claimHubSpotContact, c.ID, code, err.Error())
	}
	saved, err := s.updateContact(ctx, org, c.ID, func(c *store.Contact) bool {
		if c.Attributes[AttrHubSpotID] == hc.ID {
			return false
		}
		c.Attributes[AttrHubSpotID] = hc.ID
		return true
	})
	if err != nil {
		_ = s.Store.ReleaseCRM(ctx, org, claimHubSpotContact, c.ID)
		return "", err
	}
	s.publish(ctx, s.synced(org, c.ID, SyncedData{CRM: crmconfig.HubSpot, Direction: "outbound", Object: "contact", CRMID: hc.ID, Contact: event.ViewContact(saved)})...)
	return hc.ID, s.Store.FinishCRM(ctx, org, claimHubSpotContact, c.ID, store.TriggerDone, hc.ID, "")
}

// note logs a resolved conversation on the HubSpot contact, once.
func (s *Syncer) note(ctx context.Context, ev event.Event) error {
	org := ev.OrganizationID
	st, sec, ok, err := s.settings(ctx, org, crmconfig.HubSpot)
	if err != nil || !ok || st.Sync == nil || !st.Sync.Notes {
		return err
	}
	var d resolvedData
	if err := jsonData(ev, &d); err != nil {
		return nil
	}
	hubID, err := s.hubspotContactID(ctx, org, d.Conversation.ContactID, true)
	if err != nil || hubID == "" {
		return err
	}
	if _, claimed, err := s.claim(ctx, org, claimHubSpotNote, ev.ID, 0); !claimed {
		return err
	}
	sum, err := s.summary(ctx, org, d)
	if err != nil {
		_ = s.Store.ReleaseCRM(ctx, org, claimHubSpotNote, ev.ID)
		return err
	}
	id, err := s.HubSpot.CreateNote(ctx, sec.AccessToken, hubID, sum.HTML(), sum.ResolvedAt)
	if err != nil {
		code, retry := s.hubspotFailure(ctx, st, err)
		if retry != nil {
			_ = s.Store.ReleaseCRM(ctx, org, claimHubSpotNote, ev.ID)
			return retry
		}
		s.publish(ctx, s.failed(org, ev.ID, FailedData{CRM: crmconfig.HubSpot, Object: "note", Code: code, Message: err.Error(), CRMID: hubID})...)
		return s.finishFailed(ctx, org, claimHubSpotNote, ev.ID, code, err.Error())
	}
	s.publish(ctx, s.synced(org, ev.ID, SyncedData{CRM: crmconfig.HubSpot, Direction: "outbound", Object: "note", CRMID: id, Contact: d.Contact})...)
	return s.Store.FinishCRM(ctx, org, claimHubSpotNote, ev.ID, store.TriggerDone, id, "")
}
