package campaign

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/ctxsleep"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/msgtemplate"
	"github.com/pytake/pytake/internal/sendlimit"
	"github.com/pytake/pytake/internal/store"
)

// Store is what the runner reads and writes.
type Store interface {
	DueCampaigns(ctx context.Context, limit int) ([]store.Campaign, error)
	Campaign(ctx context.Context, org, id string) (store.Campaign, error)
	SetCampaignStatus(ctx context.Context, org, id string, from []string, to string) (store.Campaign, error)
	AdvanceCampaign(ctx context.Context, org, id, prev, next string, pacedUntil time.Time) (bool, error)
	ClaimRecipient(ctx context.Context, org, campaignID string, c store.Contact) (store.Recipient, bool, error)
	RecordRecipient(ctx context.Context, r store.Recipient) error
	CampaignCounts(ctx context.Context, c store.Campaign) (store.CampaignCounts, error)
	ContactsTagged(ctx context.Context, org string, tags []string, cursor string, limit int) (store.Page[store.Contact], error)
	Contact(ctx context.Context, org, id string) (store.Contact, error)
	WhatsAppAccount(ctx context.Context, orgID string) (store.WhatsAppAccount, error)
	accept.Store
}

// Publisher publishes campaign events.
type Publisher interface {
	Publish(ctx context.Context, evs ...event.Event) error
}

// Runner sends campaigns. A run (Tick) keeps working for up to RunFor:
// it takes the due campaigns again and again and feeds each at its
// number's pace, the bulk lane's share of the number's limit (its
// throughput level or override, sendlimit.Ceiling), never more than Lead
// ahead of what the number can have sent. So the bulk queue holds a few
// seconds of each number's work: campaigns of different organisations
// interleave in it, none waits behind another's backlog, and a campaign
// on a number at 1,000/s is queued at about 970/s.
type Runner struct {
	store  Store
	accept *accept.Accepter
	events Publisher
	log    *slog.Logger
	now    func() time.Time
	// PageSize is the most recipients one step takes (default 100);
	// Campaigns how many due campaigns a run reads at a time (default
	// 100); Concurrent how many workers step campaigns at once (default
	// 10); Workers the most recipients of a page accepted at once (default
	// 64; fewer for a slower number: one per 16/s of its pace).
	PageSize, Campaigns, Concurrent, Workers int
	// Lead is how far ahead of its number's pace a campaign is queued
	// (default 2 s): the pipeline's slack (the outbox relay and the queue
	// take a fraction of a second). Longer costs the bulk lane: a batch
	// holding a message of a number whose work is queued L seconds ahead
	// waits up to L for its token (the campaign simulation measures it).
	// RunFor bounds a run (default 55 s: the schedule runs it every
	// minute, one at a time); it ends sooner when nothing is due, and
	// Reserve before the invocation's deadline at the latest (default
	// 10 s).
	Lead, RunFor, Reserve time.Duration
	// Poll is how long an idle worker waits while others step (default
	// 100 ms).
	Poll time.Duration
	// DefaultRate is a number's limit when Meta reports no HIGH level and
	// no override is set (SEND_RATE_PER_SECOND, default 80).
	DefaultRate int
	// Sleep waits (a simulation's clock replaces it); Parallel runs f(0)
	// .. f(n-1) concurrently and returns when all have returned.
	Sleep    func(ctx context.Context, d time.Duration) error
	Parallel func(n int, f func(i int))
}

// NewRunner returns a Runner.
func NewRunner(s Store, p Publisher, log *slog.Logger, now func() time.Time) *Runner {
	// A campaign's recipients all use one template: its organisation's
	// copy is read once a second, not once per recipient (see
	// msgtemplate.CacheTTL for what that leaves stale).
	acc := accept.New(s)
	if c, ok := s.(msgtemplate.Copy); ok {
		acc.WithTemplates(msgtemplate.NewCache(c, now, msgtemplate.CacheTTL))
	}
	return &Runner{store: s, accept: acc, events: p, log: log, now: now, PageSize: 100, Campaigns: 100,
		Concurrent: 10, Workers: 64, Lead: 2 * time.Second, RunFor: 55 * time.Second, Reserve: 10 * time.Second,
		Poll: 100 * time.Millisecond, DefaultRate: 80, Sleep: ctxsleep.Sleep, Parallel: parallel}
}

func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}

// Pace is the number's pace of a campaign: how many recipients it may
// queue now (at most most), and otherwise how long to wait. pacedUntil is
// when the number is expected to have sent what was queued before.
func Pace(now, pacedUntil time.Time, perSecond float64, lead time.Duration, most int) (n int, wait time.Duration) {
	from := pacedUntil
	if from.Before(now) {
		from = now
	}
	room := now.Add(lead).Sub(from).Seconds() * perSecond
	if room >= 1 {
		return min(most, int(room)), 0
	}
	// Until there is room for one (at least a millisecond: no spin on a
	// rounding).
	return 0, max(time.Duration((1-room)/perSecond*float64(time.Second)), time.Millisecond)
}

// PacedUntil moves pacedUntil by queued messages at perSecond.
func PacedUntil(now, pacedUntil time.Time, perSecond float64, queued int) time.Time {
	if pacedUntil.Before(now) {
		pacedUntil = now
	}
	return pacedUntil.Add(time.Duration(float64(queued) / perSecond * float64(time.Second)))
}

// stepped is what a step did.
type stepped struct {
	more bool      // the campaign has work left
	wake time.Time // not before (its pace); zero: at once
}

// Tick runs the due campaigns, each at its number's pace, until nothing
// is due or RunFor has passed. Concurrent workers each take the campaign
// whose pace lets it go soonest, so a slow number's campaign never holds
// a fast one back; the due list is read again every Refresh (new
// campaigns join, and a number's pace is shared anew). A campaign whose
// step fails is logged and left to the next run (its work is idempotent);
// the first error is returned.
func (r *Runner) Tick(ctx context.Context) error {
	end := r.now().Add(r.RunFor)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-r.Reserve).Before(end) {
		end = dl.Add(-r.Reserve)
	}
	t := &tick{r: r, end: end, entries: map[string]*entry{}, rates: map[string]float64{}}
	if err := t.refresh(ctx); err != nil {
		return err
	}
	r.Parallel(max(r.Concurrent, 1), func(int) { t.work(ctx) })
	return t.err
}

// tick is one run's schedule of campaigns.
type tick struct {
	r          *Runner
	end        time.Time
	mu         sync.Mutex
	entries    map[string]*entry
	rates      map[string]float64 // organisation → its number's bulk pace
	share      map[string]int     // organisation → its campaigns with work
	refreshed  time.Time
	refreshing bool
	err        error
}

type entry struct {
	c    store.Campaign
	wake time.Time // not before (its pace)
	busy bool      // a worker is stepping it
	done bool      // nothing more for this run
}

// refresh reads the due campaigns: new ones join, ones no longer due
// (completed, paused, cancelled) leave, and each organisation's number is
// shared by its campaigns with work.
func (t *tick) refresh(ctx context.Context) error {
	due, err := t.r.store.DueCampaigns(ctx, t.r.Campaigns)
	if err != nil {
		return fmt.Errorf("campaign: due campaigns: %w", err)
	}
	var orgs []string
	t.mu.Lock()
	for _, c := range due {
		if _, ok := t.rates[c.OrgID]; !ok {
			orgs = append(orgs, c.OrgID)
		}
	}
	t.mu.Unlock()
	rates := map[string]float64{}
	for _, org := range orgs {
		rate, err := t.r.rate(ctx, org)
		if err != nil {
			t.r.log.ErrorContext(ctx, "organisation's number not read; its campaigns wait for the next run", "org_id", org, "error", err.Error())
			t.fail(err)
			continue
		}
		rates[org] = rate
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for org, rate := range rates {
		t.rates[org] = rate
	}
	listed := map[string]bool{}
	for _, c := range due {
		listed[c.ID] = true
		if _, ok := t.entries[c.ID]; !ok {
			_, known := t.rates[c.OrgID]
			t.entries[c.ID] = &entry{c: c, done: !known}
		}
	}
	t.share = map[string]int{}
	for id, e := range t.entries {
		if !listed[id] && !e.busy {
			e.done = true
		}
		if !e.done {
			t.share[e.c.OrgID]++
		}
	}
	t.refreshed = t.r.now()
	return nil
}

func (t *tick) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = err
	}
}

// Refresh is how often a run reads the due campaigns again.
const Refresh = time.Second

// work steps campaigns, the one that may go soonest first, until the run
// ends or no campaign has work left.
func (t *tick) work(ctx context.Context) {
	r := t.r
	for {
		now := r.now()
		if !now.Before(t.end) || ctx.Err() != nil {
			return
		}
		t.mu.Lock()
		if now.Sub(t.refreshed) >= Refresh && !t.refreshing {
			t.refreshing = true
			t.mu.Unlock()
			err := t.refresh(ctx)
			t.mu.Lock()
			t.refreshing = false
			if err != nil {
				r.log.ErrorContext(ctx, "due campaigns not read", "error", err.Error())
				if t.err == nil {
					t.err = err
				}
				t.mu.Unlock()
				return
			}
		}
		var next *entry
		busy := false
		for _, e := range t.entries {
			busy = busy || e.busy
			if e.busy || e.done {
				continue
			}
			if next == nil || e.wake.Before(next.wake) {
				next = e
			}
		}
		if next == nil {
			t.mu.Unlock()
			if !busy {
				return // nothing left, nothing under way
			}
			if err := r.Sleep(ctx, r.Poll); err != nil {
				return
			}
			continue
		}
		if next.wake.After(now) {
			wait := minTime(next.wake, t.refreshed.Add(Refresh)).Sub(now)
			t.mu.Unlock()
			if err := r.Sleep(ctx, max(wait, time.Millisecond)); err != nil {
				return
			}
			continue
		}
		next.busy = true
		c, pace := next.c, t.rates[next.c.OrgID]/float64(max(t.share[next.c.OrgID], 1))
		t.mu.Unlock()
		res, err := r.step(ctx, c.OrgID, c.ID, r.PageSize, pace)
		t.mu.Lock()
		next.busy = false
		switch {
		case err != nil:
			r.log.ErrorContext(ctx, "campaign step failed; retried next run", "campaign_id", c.ID, "error", err.Error())
			if t.err == nil {
				t.err = err
			}
			next.done = true
		case !res.more:
			next.done = true
		default:
			next.wake = res.wake
		}
		t.mu.Unlock()
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// rate is the bulk lane's pace of the organisation's number (messages/s):
// the number's limit less the transactional lane's headroom.
func (r *Runner) rate(ctx context.Context, org string) (float64, error) {
	limit := r.DefaultRate
	acct, err := r.store.WhatsAppAccount(ctx, org)
	switch {
	case err == nil:
		limit = acct.SendRate(r.DefaultRate)
	case !apperr.Is(err, apperr.NotFound):
		return 0, fmt.Errorf("campaign: whatsapp account: %w", err)
	}
	return float64(max(sendlimit.Ceiling(limit, sendlimit.Bulk), 1)), nil
}

// Step handles one page of a campaign (PageSize recipients, unpaced): a
// scheduled campaign whose time has come starts (campaign.started), a
// running one gets its next recipients claimed and accepted, and one
// whose audience is exhausted completes (campaign.completed). more says
// whether it has pages left. Safe to run concurrently and again: a
// recipient is claimed once per campaign, its message accepted with the
// idempotency key campaign:<id>:<contact>, and the cursor only moves from
// where this step read it.
func (r *Runner) Step(ctx context.Context, org, id string) (more bool, err error) {
	s, err := r.step(ctx, org, id, r.PageSize, 0)
	return s.more, err
}

// step is Step for up to size recipients; paced at perSecond (0: not
// paced), it takes only as many as the pace allows now.
func (r *Runner) step(ctx context.Context, org, id string, size int, perSecond float64) (stepped, error) {
	c, err := r.store.Campaign(ctx, org, id)
	if err != nil {
		return stepped{}, fmt.Errorf("campaign: read: %w", err)
	}
	if c.Status == store.CampaignScheduled {
		if c.SendAt.After(r.now()) {
			return stepped{}, nil
		}
		c, err = r.store.SetCampaignStatus(ctx, org, id, []string{store.CampaignScheduled}, store.CampaignRunning)
		if apperr.Is(err, apperr.Conflict) {
			return stepped{}, nil // another runner started it, or it was cancelled
		}
		if err != nil {
			return stepped{}, fmt.Errorf("campaign: start: %w", err)
		}
	}
	if c.Status != store.CampaignRunning {
		return stepped{}, nil
	}
	if c.Cursor == "" {
		// Started (now, or by a runner that died before publishing):
		// the event's id is stable, so a repeat is delivered once.
		if err := r.publish(ctx, event.CampaignStarted, c); err != nil {
			return stepped{}, err
		}
	}
	if c.Cursor == "done" {
		return stepped{}, r.complete(ctx, c)
	}
	now := r.now()
	if perSecond > 0 {
		n, wait := Pace(now, c.PacedUntil, perSecond, r.Lead, size)
		if n == 0 {
			return stepped{more: true, wake: now.Add(wait)}, nil
		}
		size = n
	}
	contacts, next, err := r.page(ctx, c, size)
	if err != nil {
		return stepped{}, err
	}
	// Checked once the page is read, before any of its messages is
	// accepted: a pause or cancel answered meanwhile stops it (and one
	// answered later stops the next page: the cursor moves only while the
	// campaign runs).
	if live, err := r.store.Campaign(ctx, org, id); err != nil {
		return stepped{}, fmt.Errorf("campaign: read: %w", err)
	} else if live.Status != store.CampaignRunning || live.Cursor != c.Cursor {
		return stepped{}, nil
	}
	queued, err := r.sendAll(ctx, c, contacts, perSecond)
	if err != nil {
		return stepped{}, err
	}
	var paced time.Time
	if perSecond > 0 {
		paced = PacedUntil(now, c.PacedUntil, perSecond, queued)
	}
	moved, err := r.store.AdvanceCampaign(ctx, org, id, c.Cursor, next, paced)
	if err != nil || !moved {
		// Paused, cancelled, or another runner got there first: its
		// recipients were claimed, so nothing is sent twice.
		return stepped{}, err
	}
	s := stepped{more: true}
	if perSecond > 0 {
		if w := paced.Add(-r.Lead); w.After(r.now()) {
			s.wake = w
		}
	}
	return s, nil
}

// sendAll sends a page's contacts, several at once (Workers, fewer for a
// slow pace), and answers how many were queued; the first error stops it.
func (r *Runner) sendAll(ctx context.Context, c store.Campaign, contacts []store.Contact, perSecond float64) (int, error) {
	workers := max(r.Workers, 1)
	if perSecond > 0 {
		workers = min(workers, int(perSecond/16)+1)
	}
	workers = min(workers, len(contacts))
	var (
		mu     sync.Mutex
		queued int
		first  error
	)
	next := make(chan store.Contact, len(contacts))
	for _, ct := range contacts {
		next <- ct
	}
	close(next)
	r.Parallel(workers, func(int) {
		for ct := range next {
			mu.Lock()
			stop := first != nil
			mu.Unlock()
			if stop {
				return
			}
			q, err := r.send(ctx, c, ct)
			mu.Lock()
			if err != nil && first == nil {
				first = err
			}
			if q {
				queued++
			}
			mu.Unlock()
		}
	})
	return queued, first
}

// page reads the next page (up to size) of the campaign's audience from
// its cursor: contact_ids first (by index; each contact is read when it is
// sent), then contacts with every tag. next is the cursor after them.
func (r *Runner) page(ctx context.Context, c store.Campaign, size int) (contacts []store.Contact, next string, err error) {
	cur := c.Cursor
	if cur == "" {
		cur = "ids:0"
	}
	if n, ok := strings.CutPrefix(cur, "ids:"); ok {
		i, _ := strconv.Atoi(n)
		end := min(i+size, len(c.ContactIDs))
		for _, cid := range c.ContactIDs[min(i, end):end] {
			contacts = append(contacts, store.Contact{ID: cid})
		}
		switch {
		case end < len(c.ContactIDs):
			next = "ids:" + strconv.Itoa(end)
		case len(c.Tags) > 0:
			next = "tags:"
		default:
			next = "done"
		}
		return contacts, next, nil
	}
	tc, _ := strings.CutPrefix(cur, "tags:")
	p, err := r.store.ContactsTagged(ctx, c.OrgID, c.Tags, tc, size)
	if err != nil {
		return nil, "", fmt.Errorf("campaign: audience: %w", err)
	}
	next = "done"
	if p.NextCursor != "" {
		next = "tags:" + p.NextCursor
	}
	return p.Items, next, nil
}

// send claims contact ct as a recipient and accepts its message, once;
// queued says it was accepted now.
func (r *Runner) send(ctx context.Context, c store.Campaign, ct store.Contact) (queued bool, err error) {
	// Read now: a contact merged since the page was read is its survivor
	// (one recipient per person: the survivor may be on a later page), and
	// an opt-out since then counts.
	fresh, err := r.store.Contact(ctx, c.OrgID, ct.ID)
	switch {
	case apperr.Is(err, apperr.NotFound):
		return false, r.skip(ctx, c, ct.ID, SkipContactDeleted, "deleted before its turn")
	case err != nil:
		return false, fmt.Errorf("campaign: contact: %w", err)
	}
	ct = fresh
	rc, created, err := r.store.ClaimRecipient(ctx, c.OrgID, c.ID, ct)
	if err != nil {
		return false, fmt.Errorf("campaign: claim recipient: %w", err)
	}
	if rc.Status != store.RecipientPending {
		return false, nil // settled by an earlier run
	}
	if !created && r.now().Sub(rc.UpdatedAt) >= store.IdempotencyTTL-time.Hour {
		// Claimed by a run that never recorded the outcome, so long ago
		// that its idempotency key may have expired (the key is claimed
		// after the recipient, and lasts IdempotencyTTL; an hour's margin
		// for clocks): accepting it now could send a second message.
		return false, r.record(ctx, rc, store.RecipientSkipped, "", SkipUnconfirmed,
			"claimed at "+rc.UpdatedAt.UTC().Format(time.RFC3339)+" and its outcome never recorded; not sent again")
	}
	switch {
	case ct.OptOut != nil:
		return false, r.record(ctx, rc, store.RecipientSkipped, "", SkipOptedOut, "opted out at "+ct.OptOut.At.UTC().Format(time.RFC3339))
	case ct.WhatsAppID == "" && ct.UserID == "":
		return false, r.record(ctx, rc, store.RecipientSkipped, "", SkipNoNumber, "")
	}
	req, skip, detail := Build(c.Template, ct)
	if skip != "" {
		return false, r.record(ctx, rc, store.RecipientSkipped, "", skip, detail)
	}
	// The fingerprint is the key itself: a retry after the contact
	// changed (renamed, so another body) replays the message accepted
	// before, rather than failing as another request with the same key.
	key := "campaign:" + c.ID + ":" + ct.ID
	res, err := r.accept.Accept(ctx, accept.Message{OrgID: c.OrgID, Request: req, IdempotencyKey: key,
		Fingerprint: []byte(key), Test: c.Test, Bulk: true, Marketing: true, Campaign: c.ID})
	switch {
	case err == nil:
		return true, r.record(ctx, rc, store.RecipientQueued, res.Message.ID, "", "")
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
		return false, r.record(ctx, rc, store.RecipientSkipped, "", reason, err.Error())
	case res.Message.ID != "":
		// Accepted, not queued: the key stays claimed; the next run
		// replays it and queues it.
		return false, fmt.Errorf("campaign: enqueue: %w", err)
	}
	return false, fmt.Errorf("campaign: accept: %w", err)
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
