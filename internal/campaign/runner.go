package campaign

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/store"
)

// Store is what the runner reads and writes.
type Store interface {
	DueCampaigns(ctx context.Context, limit int) ([]store.Campaign, error)
	Campaign(ctx context.Context, org, id string) (store.Campaign, error)
	SetCampaignStatus(ctx context.Context, org, id string, from []string, to string) (store.Campaign, error)
	AdvanceCampaign(ctx context.Context, org, id, prev, next string) (bool, error)
	ClaimRecipient(ctx context.Context, org, campaignID string, c store.Contact) (store.Recipient, bool, error)
	RecordRecipient(ctx context.Context, r store.Recipient) error
	CampaignCounts(ctx context.Context, c store.Campaign) (store.CampaignCounts, error)
	ContactsTagged(ctx context.Context, org string, tags []string, cursor string, limit int) (store.Page[store.Contact], error)
	Contact(ctx context.Context, org, id string) (store.Contact, error)
	accept.Store
}

// Publisher publishes campaign events.
type Publisher interface {
	Publish(ctx context.Context, evs ...event.Event) error
}

// Runner sends campaigns: each Tick takes the due campaigns and, for each,
// one page of its audience (PageSize recipients), so the outbound queue
// never holds a whole campaign and a tick's work is bounded.
type Runner struct {
	store  Store
	accept *accept.Accepter
	events Publisher
	log    *slog.Logger
	now    func() time.Time
	// PageSize is how many recipients one campaign gets per step (default
	// 100); Campaigns how many campaigns a tick takes (default 20);
	// Pages how many pages a campaign gets per tick (default 5).
	PageSize, Campaigns, Pages int
}

// NewRunner returns a Runner.
func NewRunner(s Store, p Publisher, log *slog.Logger, now func() time.Time) *Runner {
	return &Runner{store: s, accept: accept.New(s), events: p, log: log, now: now, PageSize: 100, Campaigns: 20, Pages: 5}
}

// Tick runs every due campaign for up to Pages pages. Errors are logged
// per campaign and the first returned (the schedule runs it again; all of
// its work is idempotent).
func (r *Runner) Tick(ctx context.Context) error {
	due, err := r.store.DueCampaigns(ctx, r.Campaigns)
	if err != nil {
		return fmt.Errorf("campaign: due campaigns: %w", err)
	}
	var first error
	for _, c := range due {
		for page := 0; page < r.Pages; page++ {
			more, err := r.Step(ctx, c.OrgID, c.ID)
			if err != nil {
				r.log.ErrorContext(ctx, "campaign step failed; retried next tick", "campaign_id", c.ID, "error", err.Error())
				if first == nil {
					first = err
				}
				break
			}
			if !more {
				break
			}
		}
	}
	return first
}

// Step handles one page of a campaign: a scheduled campaign whose time has
// come starts (campaign.started), a running one gets PageSize recipients
// claimed and accepted, and one whose audience is exhausted completes
// (campaign.completed). more says whether it has pages left. Safe to run
// concurrently and again: a recipient is claimed once per campaign, its
// message accepted with the idempotency key campaign:<id>:<contact>, and
// the cursor only moves from where this step read it.
func (r *Runner) Step(ctx context.Context, org, id string) (more bool, err error) {
	c, err := r.store.Campaign(ctx, org, id)
	if err != nil {
		return false, fmt.Errorf("campaign: read: %w", err)
	}
	if c.Status == store.CampaignScheduled {
		if c.SendAt.After(r.now()) {
			return false, nil
		}
		c, err = r.store.SetCampaignStatus(ctx, org, id, []string{store.CampaignScheduled}, store.CampaignRunning)
		if apperr.Is(err, apperr.Conflict) {
			return false, nil // another runner started it, or it was cancelled
		}
		if err != nil {
			return false, fmt.Errorf("campaign: start: %w", err)
		}
	}
	if c.Status != store.CampaignRunning {
		return false, nil
	}
	if c.Cursor == "" {
		// Started (now, or by a runner that died before publishing):
		// the event's id is stable, so a repeat is delivered once.
		if err := r.publish(ctx, event.CampaignStarted, c); err != nil {
			return false, err
		}
	}
	if c.Cursor == "done" {
		return false, r.complete(ctx, c)
	}
	contacts, missing, next, err := r.page(ctx, c)
	if err != nil {
		return false, err
	}
	for _, ct := range contacts {
		// Read before each recipient: a pause or cancel answered while
		// this page is sent stops it (one read per recipient).
		if live, err := r.store.Campaign(ctx, org, id); err != nil {
			return false, fmt.Errorf("campaign: read: %w", err)
		} else if live.Status != store.CampaignRunning || live.Cursor != c.Cursor {
			return false, nil
		}
		if err := r.send(ctx, c, ct); err != nil {
			return false, err
		}
	}
	for _, idm := range missing {
		if err := r.skip(ctx, c, idm, SkipContactDeleted, "no such contact"); err != nil {
			return false, err
		}
	}
	moved, err := r.store.AdvanceCampaign(ctx, org, id, c.Cursor, next)
	if err != nil || !moved {
		// Paused, cancelled, or another runner got there first: its
		// recipients were claimed, so nothing is sent twice.
		return false, err
	}
	return true, nil
}

// page reads the next page of the campaign's audience from its cursor:
// contact_ids first (by index), then contacts with every tag. missing are
// contact ids that are no contact now; next is the cursor after them.
func (r *Runner) page(ctx context.Context, c store.Campaign) (contacts []store.Contact, missing []string, next string, err error) {
	cur := c.Cursor
	if cur == "" {
		cur = "ids:0"
	}
	if n, ok := strings.CutPrefix(cur, "ids:"); ok {
		i, _ := strconv.Atoi(n)
		end := min(i+r.PageSize, len(c.ContactIDs))
		for _, cid := range c.ContactIDs[min(i, end):end] {
			ct, err := r.store.Contact(ctx, c.OrgID, cid)
			switch {
			case apperr.Is(err, apperr.NotFound):
				missing = append(missing, cid)
			case err != nil:
				return nil, nil, "", fmt.Errorf("campaign: contact: %w", err)
			default:
				contacts = append(contacts, ct)
			}
		}
		switch {
		case end < len(c.ContactIDs):
			next = "ids:" + strconv.Itoa(end)
		case len(c.Tags) > 0:
			next = "tags:"
		default:
			next = "done"
		}
		return contacts, missing, next, nil
	}
	tc, _ := strings.CutPrefix(cur, "tags:")
	p, err := r.store.ContactsTagged(ctx, c.OrgID, c.Tags, tc, r.PageSize)
	if err != nil {
		return nil, nil, "", fmt.Errorf("campaign: audience: %w", err)
	}
	next = "done"
	if p.NextCursor != "" {
		next = "tags:" + p.NextCursor
	}
	return p.Items, nil, next, nil
}

// send claims contact ct as a recipient and accepts its message, once.
func (r *Runner) send(ctx context.Context, c store.Campaign, ct store.Contact) error {
	// Read now: a contact merged since the page was read is its survivor
	// (one recipient per person: the survivor may be on a later page), and
	// an opt-out since then counts.
	fresh, err := r.store.Contact(ctx, c.OrgID, ct.ID)
	switch {
	case apperr.Is(err, apperr.NotFound):
		return r.skip(ctx, c, ct.ID, SkipContactDeleted, "deleted before its turn")
	case err != nil:
		return fmt.Errorf("campaign: contact: %w", err)
	}
	ct = fresh
	rc, created, err := r.store.ClaimRecipient(ctx, c.OrgID, c.ID, ct)
	if err != nil {
		return fmt.Errorf("campaign: claim recipient: %w", err)
	}
	if rc.Status != store.RecipientPending {
		return nil // settled by an earlier run
	}
	if !created && r.now().Sub(rc.UpdatedAt) >= store.IdempotencyTTL-time.Hour {
		// Claimed by a run that never recorded the outcome, so long ago
		// that its idempotency key may have expired (the key is claimed
		// after the recipient, and lasts IdempotencyTTL; an hour's margin
		// for clocks): accepting it now could send a second message.
		return r.record(ctx, rc, store.RecipientSkipped, "", SkipUnconfirmed,
			"claimed at "+rc.UpdatedAt.UTC().Format(time.RFC3339)+" and its outcome never recorded; not sent again")
	}
	switch {
	case ct.OptOut != nil:
		return r.record(ctx, rc, store.RecipientSkipped, "", SkipOptedOut, "opted out at "+ct.OptOut.At.UTC().Format(time.RFC3339))
	case ct.WhatsAppID == "" && ct.UserID == "":
		return r.record(ctx, rc, store.RecipientSkipped, "", SkipNoNumber, "")
	}
	req, skip, detail := Build(c.Template, ct)
	if skip != "" {
		return r.record(ctx, rc, store.RecipientSkipped, "", skip, detail)
	}
	// The fingerprint is the key itself: a retry after the contact
	// changed (renamed, so another body) replays the message accepted
	// before, rather than failing as another request with the same key.
	key := "campaign:" + c.ID + ":" + ct.ID
	res, err := r.accept.Accept(ctx, accept.Message{OrgID: c.OrgID, Request: req, IdempotencyKey: key,
		Fingerprint: []byte(key), Test: c.Test, Bulk: true, Marketing: true, Campaign: c.ID})
	switch {
	case err == nil:
		return r.record(ctx, rc, store.RecipientQueued, res.Message.ID, "", "")
	case accept.Refused(err):
		reason := SkipRefused
		if e, ok := apperr.As(err); ok {
			switch e.Code {
			case "contact_opted_out":
				reason = SkipOptedOut // opted out since the page was read
			case "contact_not_found":
				reason = SkipContactDeleted
			}
		}
		return r.record(ctx, rc, store.RecipientSkipped, "", reason, err.Error())
	case res.Message.ID != "":
		// Accepted, not queued: the key stays claimed; the next run
		// replays it and queues it.
		return fmt.Errorf("campaign: enqueue: %w", err)
	}
	return fmt.Errorf("campaign: accept: %w", err)
}

func (r *Runner) skip(ctx context.Context, c store.Campaign, contactID, reason, detail string) error {
	rc, _, err := r.store.ClaimRecipient(ctx, c.OrgID, c.ID, store.Contact{ID: contactID})
	if err != nil {
		return fmt.Errorf("campaign: claim recipient: %w", err)
	}
	if rc.Status != store.RecipientPending {
		return nil
	}
	return r.record(ctx, rc, store.RecipientSkipped, "", reason, detail)
}

func (r *Runner) record(ctx context.Context, rc store.Recipient, status, msgID, reason, detail string) error {
	rc.Status, rc.MessageID, rc.SkipReason, rc.Detail = status, msgID, reason, detail
	if err := r.store.RecordRecipient(ctx, rc); err != nil {
		return fmt.Errorf("campaign: record recipient: %w", err)
	}
	return nil
}

// complete publishes campaign.completed with the counts and then marks
// the campaign completed: a failure in between is retried by the next
// tick, which publishes the same event (its id is stable) again.
func (r *Runner) complete(ctx context.Context, c store.Campaign) error {
	done := c
	done.Status = store.CampaignCompleted
	now := r.now()
	done.CompletedAt = &now
	n, err := r.store.CampaignCounts(ctx, done)
	if err != nil {
		return fmt.Errorf("campaign: counts: %w", err)
	}
	// Read again after the counts (every recipient: seconds for a large
	// campaign): one paused or cancelled meanwhile is not announced.
	live, err := r.store.Campaign(ctx, c.OrgID, c.ID)
	if err != nil {
		return fmt.Errorf("campaign: read: %w", err)
	}
	if live.Status != store.CampaignRunning {
		return nil
	}
	ev, err := event.CampaignEvent(event.CampaignCompleted, r.now(), done, n)
	if err != nil {
		return fmt.Errorf("campaign: event: %w", err)
	}
	if err := r.events.Publish(ctx, ev); err != nil {
		return fmt.Errorf("campaign: publish %s: %w", event.CampaignCompleted, err)
	}
	_, err = r.store.SetCampaignStatus(ctx, c.OrgID, c.ID, []string{store.CampaignRunning}, store.CampaignCompleted)
	if err != nil && !apperr.Is(err, apperr.Conflict) {
		return fmt.Errorf("campaign: complete: %w", err)
	}
	return nil
}

func (r *Runner) publish(ctx context.Context, name string, c store.Campaign) error {
	n, err := r.store.CampaignCounts(ctx, c)
	if err != nil {
		return fmt.Errorf("campaign: counts: %w", err)
	}
	ev, err := event.CampaignEvent(name, r.now(), c, n)
	if err != nil {
		return fmt.Errorf("campaign: event: %w", err)
	}
	if err := r.events.Publish(ctx, ev); err != nil {
		return fmt.Errorf("campaign: publish %s: %w", name, err)
	}
	return nil
}
