package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/campaign"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/jsoncheck"
	"github.com/pytake/pytake/internal/msgtemplate"
	"github.com/pytake/pytake/internal/store"
)

// CampaignStore keeps campaigns (store.Store).
type CampaignStore interface {
	CreateCampaign(ctx context.Context, c store.Campaign) (store.Campaign, error)
	Campaign(ctx context.Context, org, id string) (store.Campaign, error)
	Campaigns(ctx context.Context, org, cursor string, limit int) (store.Page[store.Campaign], error)
	SetCampaignStatus(ctx context.Context, org, id string, from []string, to string) (store.Campaign, error)
	CampaignRecipients(ctx context.Context, org, campaignID, status, cursor string, limit int) (store.Page[store.Recipient], error)
	CampaignCounts(ctx context.Context, c store.Campaign) (store.CampaignCounts, error)
	ContactsTagged(ctx context.Context, org string, tags []string, cursor string, limit int) (store.Page[store.Contact], error)
	Contact(ctx context.Context, org, id string) (store.Contact, error)
}

// createCampaign checks a campaign fully (its shape, its template against
// the organisation's synced copy, every contact id, an audience that is
// not empty) and stores it: running at once, or scheduled for send_at.
// The runner (functions/campaign-runner) sends it.
func (s *Server) createCampaign(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.campaigns == nil {
		return nil, apperr.New(apperr.Unavailable, "campaigns are not configured")
	}
	if err := r.JSONBody(); err != nil {
		return nil, err
	}
	spec, err := campaign.ParseCreate(r.Body, s.now())
	if err != nil {
		return nil, err
	}
	org := r.OrgID()
	sample, err := campaign.Sample(spec.Template)
	if err != nil {
		return nil, apperr.Field("template", err.Error())
	}
	if s.templates != nil {
		if err := msgtemplate.CheckSend(ctx, s.templates, org, sample.Content); err != nil {
			return nil, err
		}
	}
	// The audience: every contact id must be one of the organisation's
	// (another's is "not a contact", as a missing one); the tagged
	// contacts are counted (without the ones named by id).
	members := map[string]bool{}
	var ids []string
	for i, cid := range spec.ContactIDs {
		c, err := s.campaigns.Contact(ctx, org, cid)
		if apperr.Is(err, apperr.NotFound) {
			return nil, apperr.Field(jsoncheck.Index("audience.contact_ids", i), "is not a contact of this organization")
		}
		if err != nil {
			return nil, err
		}
		if !members[c.ID] {
			members[c.ID] = true
			ids = append(ids, c.ID) // a merged contact's survivor
		}
	}
	if len(spec.Tags) > 0 {
		cursor := ""
		for {
			p, err := s.campaigns.ContactsTagged(ctx, org, spec.Tags, cursor, 100)
			if err != nil {
				return nil, err
			}
			for _, c := range p.Items {
				members[c.ID] = true
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
	}
	if len(members) == 0 {
		return nil, apperr.New(apperr.Unprocessable, "the audience is empty: no contact has all of the tags "+strings.Join(spec.Tags, ", ")).
			WithCode("campaign_audience_empty").WithDetails(apperr.Detail{Field: "audience", Issue: "matches no contact"})
	}
	c := store.Campaign{OrgID: org, Name: spec.Name, Template: spec.Template, Tags: spec.Tags, ContactIDs: ids,
		Status: store.CampaignRunning, Recipients: len(members), Test: caller(r).Mode == apikey.Test}
	if spec.SendAt != nil {
		c.Status, c.SendAt = store.CampaignScheduled, *spec.SendAt
	}
	c, err = s.campaigns.CreateCampaign(ctx, c)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, event.ViewCampaign(c, store.CampaignCounts{Recipients: c.Recipients}))
}

func (s *Server) listCampaigns(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.campaigns == nil {
		return nil, apperr.New(apperr.Unavailable, "campaigns are not configured")
	}
	limit, err := pageLimit(r)
	if err != nil {
		return nil, err
	}
	page, err := s.campaigns.Campaigns(ctx, r.OrgID(), r.Query.Get("cursor"), limit)
	if err != nil {
		return nil, err
	}
	views := make([]event.CampaignView, 0, len(page.Items))
	for _, c := range page.Items {
		// Lists show the audience size only: the live counts read every
		// recipient (GET /v1/campaigns/{id}).
		views = append(views, event.ViewCampaign(c, store.CampaignCounts{Recipients: c.Recipients}))
	}
	return httpapi.JSON(http.StatusOK, store.Page[event.CampaignView]{Items: views, NextCursor: page.NextCursor})
}

func (s *Server) getCampaign(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.campaigns == nil {
		return nil, apperr.New(apperr.Unavailable, "campaigns are not configured")
	}
	c, err := s.campaigns.Campaign(ctx, r.OrgID(), r.Params["id"])
	if err != nil {
		return nil, err
	}
	n, err := s.campaigns.CampaignCounts(ctx, c)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, event.ViewCampaign(c, n))
}

var recipientStatuses = []string{store.RecipientPending, store.RecipientQueued, store.RecipientSkipped}

func (s *Server) listCampaignRecipients(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.campaigns == nil {
		return nil, apperr.New(apperr.Unavailable, "campaigns are not configured")
	}
	limit, err := pageLimit(r)
	if err != nil {
		return nil, err
	}
	status := r.Query.Get("status")
	if status != "" && !contains(recipientStatuses, status) {
		return nil, apperr.Field("status", "must be one of "+strings.Join(recipientStatuses, ", "))
	}
	c, err := s.campaigns.Campaign(ctx, r.OrgID(), r.Params["id"])
	if err != nil {
		return nil, err
	}
	page, err := s.campaigns.CampaignRecipients(ctx, r.OrgID(), c.ID, status, r.Query.Get("cursor"), limit)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, page)
}

// campaignTransition is pause, resume or cancel.
func (s *Server) campaignTransition(from []string, to string) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		if s.campaigns == nil {
			return nil, apperr.New(apperr.Unavailable, "campaigns are not configured")
		}
		c, err := s.campaigns.SetCampaignStatus(ctx, r.OrgID(), r.Params["id"], from, to)
		if err != nil {
			return nil, err
		}
		return httpapi.JSON(http.StatusOK, event.ViewCampaign(c, store.CampaignCounts{Recipients: c.Recipients}))
	}
}

// resumeCampaign takes a paused campaign back to running, or to scheduled
// when it was paused before it started.
func (s *Server) resumeCampaign(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if s.campaigns == nil {
		return nil, apperr.New(apperr.Unavailable, "campaigns are not configured")
	}
	c, err := s.campaigns.Campaign(ctx, r.OrgID(), r.Params["id"])
	if err != nil {
		return nil, err
	}
	to := store.CampaignRunning
	if c.StartedAt == nil && c.SendAt.After(s.now()) {
		to = store.CampaignScheduled
	}
	c, err = s.campaigns.SetCampaignStatus(ctx, r.OrgID(), c.ID, []string{store.CampaignPaused}, to)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, event.ViewCampaign(c, store.CampaignCounts{Recipients: c.Recipients}))
}
