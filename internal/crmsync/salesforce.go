package crmsync

import (
	"context"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/crmconfig"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/salesforce"
	"github.com/pytake/pytake/internal/store"
)

func (s *Syncer) credentials(st crmconfig.Settings, sec crmconfig.Secret) salesforce.Credentials {
	return salesforce.Credentials{LoginURL: st.LoginURL, ClientID: st.ClientID, ClientSecret: sec.ClientSecret}
}

// LeadFields are the guide's Lead: FirstName and LastName from the
// contact's name, Phone its WhatsApp id, and the organisation's defaults.
func LeadFields(c event.ContactView, d crmconfig.LeadDefaults) map[string]any {
	first, last := salesforce.LeadName(c.Name, c.WhatsAppID)
	f := map[string]any{"LastName": last, "Phone": c.WhatsAppID, "Company": d.Company, "Status": d.Status, "LeadSource": d.LeadSource}
	if first != "" {
		f["FirstName"] = first
	}
	if c.Email != "" {
		f["Email"] = c.Email
	}
	return f
}

// lead creates the contact's Salesforce Lead on its message.received,
// exactly once: a claim per contact (conditional write) decides who
// creates it; an attempt that crashed after Salesforce answered is
// recovered by looking the Lead up before creating another.
func (s *Syncer) lead(ctx context.Context, ev event.Event) error {
	var d event.MessageData
	if err := jsonData(ev, &d); err != nil || d.Contact.ID == "" || d.Contact.WhatsAppID == "" {
		return nil
	}
	if d.Contact.Attributes[AttrSalesforceLead] != nil {
		return nil
	}
	st, sec, ok, err := s.settings(ctx, ev.OrganizationID, crmconfig.Salesforce)
	if err != nil || !ok || st.Lead == nil {
		return err
	}
	_, err = s.ensureLead(ctx, ev.OrganizationID, st, sec, d.Contact)
	return err
}

// ensureLead answers the contact's Lead id, creating the Lead when it has
// none ("" when it failed for good, recorded).
func (s *Syncer) ensureLead(ctx context.Context, org string, st crmconfig.Settings, sec crmconfig.Secret, contact event.ContactView) (string, error) {
	cid := contact.ID
	claim, claimed, err := s.claim(ctx, org, claimLead, cid, 0)
	if !claimed {
		if err == nil && claim.State == store.TriggerDone {
			// An earlier attempt may have recorded the Lead and stopped
			// before the contact got its id.
			if contact.Attributes[AttrSalesforceLead] != claim.Result {
				return s.recordLead(ctx, org, cid, claim.Result)
			}
			return claim.Result, nil
		}
		return "", err
	}
	cr := s.credentials(st, sec)
	leadID := ""
	if claim.Attempts > 1 {
		// An earlier attempt may have created the Lead and crashed.
		ids, err := s.Salesforce.QueryIDs(ctx, cr, "SELECT Id FROM Lead WHERE Phone = "+salesforce.Quote(contact.WhatsAppID)+
			" AND LeadSource = "+salesforce.Quote(st.Lead.LeadSource)+" ORDER BY CreatedDate LIMIT 1")
		if err != nil {
			return "", s.salesforceFailure(ctx, st, claimLead, cid, "lead", &contact, err)
		}
		if len(ids) > 0 {
			leadID = ids[0]
		}
	}
	if leadID == "" {
		leadID, err = s.Salesforce.Create(ctx, cr, "Lead", LeadFields(contact, *st.Lead))
		if se, ok := salesforce.AsError(err); ok && se.Status == 0 {
			// No answer (a timeout, a dropped connection): Salesforce may
			// still create the Lead. The claim is kept to its lease, so no
			// other attempt creates one meanwhile; the next looks it up.
			return "", later(Lease, err)
		}
		if err != nil {
			return "", s.salesforceFailure(ctx, st, claimLead, cid, "lead", &contact, err)
		}
	}
	// The outcome is recorded on the claim first: whatever happens next,
	// no second Lead is created.
	if err := s.Store.FinishCRM(ctx, org, claimLead, cid, store.TriggerDone, leadID, ""); err != nil {
		return "", err
	}
	return s.recordLead(ctx, org, cid, leadID)
}

// recordLead puts the Lead's id on the contact (once) and reports it.
func (s *Syncer) recordLead(ctx context.Context, org, cid, leadID string) (string, error) {
	if leadID == "" {
		return "", nil
	}
	saved, err := s.updateContact(ctx, org, cid, func(c *store.Contact) bool {
		if c.Attributes[AttrSalesforceLead] == leadID {
			return false
		}
		c.Attributes[AttrSalesforceLead] = leadID
		delete(c.Attributes, AttrSalesforceError)
		return true
	})
	if apperr.Is(err, apperr.NotFound) {
		return leadID, nil
	}
	if err != nil {
		return "", err
	}
	s.publish(ctx, s.synced(org, cid, SyncedData{CRM: crmconfig.Salesforce, Direction: "outbound", Object: "lead", CRMID: leadID, Contact: event.ViewContact(saved)})...)
	return leadID, nil
}

// salesforceFailure: retryable errors release the claim and retry later;
// the others are recorded on the claim and the contact
// (attributes.salesforce_error) and reported with crm.sync_failed.
func (s *Syncer) salesforceFailure(ctx context.Context, st crmconfig.Settings, what, subject, object string, c *event.ContactView, err error) error {
	org := st.OrgID
	se, ok := salesforce.AsError(err)
	if !ok {
		_ = s.Store.ReleaseCRM(ctx, org, what, subject)
		return err
	}
	if se.Retryable() {
		_ = s.Store.ReleaseCRM(ctx, org, what, subject)
		wait := time.Duration(0)
		if se.Code == "REQUEST_LIMIT_EXCEEDED" {
			// The org's API limit is over a rolling 24 hours: 20 receives
			// 15 minutes apart span 5 hours before the dead-letter queue.
			wait = 15 * time.Minute
		}
		return later(wait, err)
	}
	if se.Credentials() {
		// Not this contact's fault: the work is released (done once the
		// integration is configured again) and the integration marked.
		if rerr := s.Store.ReleaseCRM(ctx, org, what, subject); rerr != nil {
			return rerr
		}
		reason := "Salesforce refused the connected app's credentials (" + se.Code + ": " + se.Message + "): configure them again"
		if merr := s.Store.MarkIntegrationUnhealthy(ctx, org, crmconfig.Salesforce, st.UpdatedAt, reason); merr != nil {
			return merr
		}
		s.publish(ctx, s.failed(org, subject, FailedData{CRM: crmconfig.Salesforce, Object: object, Code: codeUnauthorized, Message: reason, Contact: c})...)
		return nil
	}
	if ferr := s.Store.FinishCRM(ctx, org, what, subject, store.CRMFailed, se.Code, se.Message); ferr != nil {
		return ferr
	}
	if c != nil && object == "lead" {
		_, uerr := s.updateContact(ctx, org, c.ID, func(ct *store.Contact) bool {
			ct.Attributes[AttrSalesforceError] = map[string]any{"code": clip(se.Code, 100), "message": clip(se.Message, 1000),
				"fields": fieldsOf(se), "at": s.Now().UTC().Format("2006-01-02T15:04:05Z")}
			return true
		})
		if uerr != nil && !apperr.Is(uerr, apperr.NotFound) {
			return uerr
		}
	}
	s.publish(ctx, s.failed(org, subject, FailedData{CRM: crmconfig.Salesforce, Object: object, Code: se.Code, Message: se.Message, Contact: c})...)
	return nil
}

func fieldsOf(se *salesforce.Error) []string {
	out := []string{}
	for i, f := range se.Fields {
		if i == 20 {
			break
		}
		out = append(out, clip(f, 100))
	}
	return out
}

// clip bounds what a CRM's answer puts on a contact.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// task logs a resolved conversation as a completed Task on the contact's
// Lead, once per resolution.
func (s *Syncer) task(ctx context.Context, ev event.Event) error {
	org := ev.OrganizationID
	st, sec, ok, err := s.settings(ctx, org, crmconfig.Salesforce)
	if err != nil || !ok || st.Tasks == nil || !*st.Tasks {
		return err
	}
	var d resolvedData
	if err := jsonData(ev, &d); err != nil {
		return nil
	}
	c, err := s.Store.Contact(ctx, org, d.Conversation.ContactID)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	leadID, _ := c.Attributes[AttrSalesforceLead].(string)
	if leadID == "" && c.WhatsAppID != "" && st.Lead != nil {
		// No Lead yet (Salesforce was connected after the contact's first
		// message, or that message's work is still queued): create it.
		if leadID, err = s.ensureLead(ctx, org, st, sec, event.ViewContact(c)); err != nil {
			return err
		}
	}
	if leadID == "" {
		return nil
	}
	if _, claimed, err := s.claim(ctx, org, claimTask, ev.ID, 0); !claimed {
		return err
	}
	sum, err := s.summary(ctx, org, d)
	if err != nil {
		_ = s.Store.ReleaseCRM(ctx, org, claimTask, ev.ID)
		return err
	}
	id, err := s.Salesforce.Create(ctx, s.credentials(st, sec), "Task",
		salesforce.TaskFields(leadID, "WhatsApp conversation resolved", sum.Text(), sum.ResolvedAt))
	if err != nil {
		view := event.ViewContact(c)
		return s.salesforceFailure(ctx, st, claimTask, ev.ID, "task", &view, err)
	}
	s.publish(ctx, s.synced(org, ev.ID, SyncedData{CRM: crmconfig.Salesforce, Direction: "outbound", Object: "task", CRMID: id, Contact: event.ViewContact(c)})...)
	return s.Store.FinishCRM(ctx, org, claimTask, ev.ID, store.TriggerDone, id, "")
}

func splitName(name string) (string, string) {
	w := strings.Fields(name)
	switch len(w) {
	case 0:
		return "", ""
	case 1:
		return w[0], ""
	}
	return w[0], strings.Join(w[1:], " ")
}
