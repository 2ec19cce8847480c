package campaign_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/campaign"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// outbox reads the outbound jobs the store wrote to the table's outbox
// (what the relay puts on the outbound queue).
type outbox struct{ *storetest.Stream }

// n counts distinct messages (the FIFO queue deduplicates by message id).
func (o *outbox) n() int {
	seen := map[string]bool{}
	for _, id := range o.QueuedIDs() {
		seen[id] = true
	}
	return len(seen)
}

type runFixture struct {
	t      *testing.T
	st     *store.Store
	org    string
	box    *outbox
	events *eventtest.Recorder
	run    *campaign.Runner
	now    time.Time
}

const promo = `{"name":"promo","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"{{contact.first_name}}"}]}]}`

func newRunFixture(t *testing.T) *runFixture {
	tbl := storetest.New(t)
	stream := storetest.NewStream(tbl.Client)
	f := &runFixture{t: t, now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC), box: &outbox{stream}, events: &eventtest.Recorder{}}
	f.st = store.New(stream, tbl.Name, func() time.Time { return f.now })
	org, err := f.st.CreateOrganization(context.Background(), "Campaigns")
	require.NoError(t, err)
	f.org = org.ID
	f.run = f.runner(f.st)
	f.run.PageSize = 2
	return f
}

// runner is a Runner on st (the fixture's store, maybe wrapped) whose
// waits move the fixture's clock.
func (f *runFixture) runner(st campaign.Store) *campaign.Runner {
	r := campaign.NewRunner(st, f.events, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return f.now })
	r.Sleep = func(_ context.Context, d time.Duration) error {
		f.now = f.now.Add(d)
		return nil
	}
	r.Concurrent = 1 // one worker moves the clock
	return r
}

func (f *runFixture) contact(wa, name string, tags ...string) store.Contact {
	f.t.Helper()
	c, err := f.st.CreateContact(context.Background(), store.Contact{OrgID: f.org, WhatsAppID: wa, Name: name, Tags: tags}, nil)
	require.NoError(f.t, err)
	return c
}

func (f *runFixture) campaign(tags, ids []string) store.Campaign {
	f.t.Helper()
	c, err := f.st.CreateCampaign(context.Background(), store.Campaign{OrgID: f.org, Name: "VIP", Template: json.RawMessage(promo),
		Tags: tags, ContactIDs: ids, Status: store.CampaignScheduled, SendAt: f.now})
	require.NoError(f.t, err)
	return c
}

func (f *runFixture) drain() {
	f.t.Helper()
	for i := 0; i < 50; i++ {
		require.NoError(f.t, f.run.Tick(context.Background()))
	}
}

func (f *runFixture) recipients(c store.Campaign) map[string]store.Recipient {
	f.t.Helper()
	p, err := f.st.CampaignRecipients(context.Background(), f.org, c.ID, "", "", 100)
	require.NoError(f.t, err)
	out := map[string]store.Recipient{}
	for _, r := range p.Items {
		out[r.ContactID] = r
	}
	return out
}

// The scenario: three vip contacts, one opted out; the campaign
// queues two templates with the right first names, skips the third, and
// running its work again sends nothing more.
func TestCampaignSendsEachRecipientOnce(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	ana := f.contact("5511900000001", "Ana Souza", "vip")
	bia := f.contact("5511900000002", "Bia Lima", "vip", "other")
	cau := f.contact("5511900000003", "Caio", "vip")
	f.contact("5511900000004", "Not VIP")
	_, _, err := f.st.OptOutContact(ctx, f.org, cau.ID, store.OptOut{Reason: store.OptOutKeyword, Detail: "PARAR"})
	require.NoError(t, err)
	c := f.campaign([]string{"vip"}, nil)
	f.drain()
	got, err := f.st.Campaign(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, store.CampaignCompleted, got.Status)
	rs := f.recipients(c)
	require.Len(t, rs, 3)
	require.Equal(t, store.RecipientSkipped, rs[cau.ID].Status)
	require.Equal(t, campaign.SkipOptedOut, rs[cau.ID].SkipReason)
	for id, name := range map[string]string{ana.ID: "Ana", bia.ID: "Bia"} {
		require.Equal(t, store.RecipientQueued, rs[id].Status, name)
		m, err := f.st.Message(ctx, f.org, rs[id].MessageID)
		require.NoError(t, err)
		require.Contains(t, string(m.Content), `"text":"`+name+`"`)
		require.Equal(t, id, m.ContactID)
	}
	require.Equal(t, 2, f.box.n())
	n, err := f.st.CampaignCounts(ctx, got)
	require.NoError(t, err)
	require.Equal(t, 3, n.Recipients)
	require.Equal(t, 2, n.Queued)
	require.Equal(t, map[string]int{"opted_out": 1}, n.Skipped)
	require.Len(t, f.events.Distinct(event.CampaignStarted), 1)
	done := f.events.Distinct(event.CampaignCompleted)
	require.Len(t, done, 1)
	require.Contains(t, string(done[0].Data), `"skipped":{"opted_out":1}`)

	// Its work run again: nothing more.
	more, err := f.run.Step(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.False(t, more)
	f.drain()
	require.Equal(t, 2, f.box.n())
}

// Two runners racing over the same campaign (and its pages redone after a
// crash between accepting and advancing) send each recipient once.
func TestConcurrentRunnersSendOnce(t *testing.T) {
	f := newRunFixture(t)
	for i := 0; i < 7; i++ {
		f.contact(fmt.Sprintf("55119000001%02d", i), fmt.Sprintf("Pessoa%d Silva", i), "vip")
	}
	c := f.campaign([]string{"vip"}, nil)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				_, _ = f.run.Step(context.Background(), f.org, c.ID)
			}
		}()
	}
	wg.Wait()
	f.drain()
	require.Equal(t, 7, f.box.n(), "seven recipients, seven messages")
	// A crash after accepting, before the cursor moved: the page is redone.
	_, err := f.st.AdvanceCampaign(context.Background(), f.org, c.ID, "done", "ids:0", time.Time{})
	require.NoError(t, err)
	f.drain()
	require.Equal(t, 7, f.box.n())
}

// A paused campaign sends nothing until resumed; a cancelled one never
// again. Contacts deleted or merged before their turn, and ones without a
// value for a placeholder, are skipped with a reason.
func TestPauseDeletedAndMissingValues(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	a := f.contact("5511900000201", "Ana")
	b := f.contact("5511900000202", "Bruno")
	gone := f.contact("5511900000203", "Gone")
	noName := f.contact("5511900000204", "")
	c := f.campaign(nil, []string{a.ID, gone.ID, b.ID, noName.ID})
	require.NoError(t, f.st.DeleteContact(ctx, f.org, gone.ID))
	// Started (first page), then paused.
	_, err := f.run.Step(ctx, f.org, c.ID)
	require.NoError(t, err)
	sent := f.box.n()
	require.Equal(t, 1, sent, "one page of two: Ana, and Gone skipped")
	_, err = f.st.SetCampaignStatus(ctx, f.org, c.ID, []string{store.CampaignRunning}, store.CampaignPaused)
	require.NoError(t, err)
	f.drain()
	require.Equal(t, sent, f.box.n(), "paused")
	_, err = f.st.SetCampaignStatus(ctx, f.org, c.ID, []string{store.CampaignPaused}, store.CampaignRunning)
	require.NoError(t, err)
	f.drain()
	rs := f.recipients(c)
	require.Equal(t, campaign.SkipContactDeleted, rs[gone.ID].SkipReason)
	require.Equal(t, campaign.SkipMissingValue, rs[noName.ID].SkipReason)
	require.Equal(t, "contact.first_name", rs[noName.ID].Detail)
	require.Equal(t, store.RecipientQueued, rs[b.ID].Status)
	require.Equal(t, 2, f.box.n())

	cancelled := f.campaign(nil, []string{a.ID})
	_, err = f.st.SetCampaignStatus(ctx, f.org, cancelled.ID, []string{store.CampaignScheduled}, store.CampaignCancelled)
	require.NoError(t, err)
	f.drain()
	require.Empty(t, f.recipients(cancelled))
}

// An opt-out that arrives after the page was read still stops the
// message: the accepting transaction checks it.
func TestOptOutMidCampaign(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	a := f.contact("5511900000301", "Ana", "vip")
	c := f.campaign([]string{"vip"}, nil)
	st := &optOutOnRead{Store: f.st, org: f.org, contact: a.ID}
	run := campaign.NewRunner(st, f.events, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return f.now })
	for i := 0; i < 5; i++ {
		_, err := run.Step(ctx, f.org, c.ID)
		require.NoError(t, err)
	}
	rs := f.recipients(c)
	require.Equal(t, store.RecipientSkipped, rs[a.ID].Status)
	require.Equal(t, campaign.SkipOptedOut, rs[a.ID].SkipReason)
	require.Zero(t, f.box.n())
}

// optOutOnRead opts the contact out right after the audience page is read.
type optOutOnRead struct {
	*store.Store
	org, contact string
}

func (s *optOutOnRead) ContactsTagged(ctx context.Context, org string, tags []string, cursor string, limit int) (store.Page[store.Contact], error) {
	p, err := s.Store.ContactsTagged(ctx, org, tags, cursor, limit)
	if err == nil {
		_, _, err = s.Store.OptOutContact(ctx, s.org, s.contact, store.OptOut{Reason: store.OptOutKeyword, Detail: "STOP"})
	}
	return p, err
}

// A crash after the message was accepted and before the recipient was
// recorded: the next run replays the idempotency key, records the same
// message, and sends nothing new.
func TestCrashBeforeRecording(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	a := f.contact("5511900000401", "Ana", "vip")
	c := f.campaign([]string{"vip"}, nil)
	st := &failRecord{Store: f.st, fail: 1}
	run := campaign.NewRunner(st, f.events, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return f.now })
	var err error
	for i := 0; i < 3 && err == nil; i++ {
		_, err = run.Step(ctx, f.org, c.ID) // the contact_ids phase (none), then the tags'
	}
	require.Error(t, err, "the record failed")
	require.Equal(t, 1, f.box.n(), "accepted and queued")
	require.Equal(t, store.RecipientPending, f.recipients(c)[a.ID].Status)
	f.drain()
	rs := f.recipients(c)
	require.Equal(t, store.RecipientQueued, rs[a.ID].Status)
	require.Equal(t, f.box.QueuedIDs()[0], rs[a.ID].MessageID, "the same message")
	require.Equal(t, 1, f.box.n())
}

type failRecord struct {
	*store.Store
	fail int
}

func (s *failRecord) RecordRecipient(ctx context.Context, r store.Recipient) error {
	if s.fail > 0 {
		s.fail--
		return fmt.Errorf("injected: the table is unavailable")
	}
	return s.Store.RecordRecipient(ctx, r)
}

// A contact merged into another after the page was read is sent once, as
// the survivor, however the pages fall.
func TestMergedMidCampaignSentOnce(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	a := f.contact("5511900000501", "Ana", "vip")
	b, err := f.st.CreateContact(ctx, store.Contact{OrgID: f.org, UserID: "BR.1234567890", Name: "Ana B", Tags: []string{"vip"}}, nil)
	require.NoError(t, err)
	c := f.campaign(nil, []string{b.ID, a.ID})
	f.run.PageSize = 1
	// b's page is read; the two are merged before the next page.
	_, err = f.run.Step(ctx, f.org, c.ID)
	require.NoError(t, err)
	_, err = f.st.MergeContacts(ctx, f.org, a.ID, b.ID, "5511900000501")
	require.NoError(t, err)
	f.drain()
	require.Equal(t, 1, f.box.n(), "one person, one message")
}

// A recipient left pending (accepted, the record lost) past the
// idempotency key's 24 hours (the campaign paused meanwhile, say) is not
// accepted again: the expired key would make it a new message, sent twice.
func TestPendingPastKeyTTLNotSentAgain(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	a := f.contact("5511900000501", "Ana", "vip")
	c := f.campaign([]string{"vip"}, nil)
	st := &failRecord{Store: f.st, fail: 1}
	run := campaign.NewRunner(st, f.events, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return f.now })
	var err error
	for i := 0; i < 3 && err == nil; i++ {
		_, err = run.Step(ctx, f.org, c.ID)
	}
	require.Error(t, err, "the record failed")
	require.Equal(t, 1, f.box.n())
	f.now = f.now.Add(store.IdempotencyTTL + time.Hour)
	f.drain()
	rs := f.recipients(c)
	require.Equal(t, 1, f.box.n(), "not sent again after the key expired")
	require.Equal(t, store.RecipientSkipped, rs[a.ID].Status)
	require.Equal(t, campaign.SkipUnconfirmed, rs[a.ID].SkipReason)
	cur, err := f.st.Campaign(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, store.CampaignCompleted, cur.Status)
}

// A campaign cancelled (or paused) while a page is being sent sends
// nothing more once the cancel is answered: the rest of the page is left.
func TestCancelMidPageStopsSending(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	f.contact("5511900000601", "Ana", "vip")
	f.contact("5511900000602", "Bia", "vip")
	c := f.campaign([]string{"vip"}, nil)
	st := &cancelOnRead{Store: f.st, org: f.org, campaign: c.ID}
	run := campaign.NewRunner(st, f.events, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return f.now })
	for i := 0; i < 5; i++ {
		_, err := run.Step(ctx, f.org, c.ID)
		require.NoError(t, err)
	}
	require.Zero(t, f.box.n(), "cancelled before any message was accepted")
	cur, err := f.st.Campaign(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, store.CampaignCancelled, cur.Status)
}

// cancelOnRead cancels the campaign right after an audience page is read.
type cancelOnRead struct {
	*store.Store
	org, campaign string
}

func (s *cancelOnRead) ContactsTagged(ctx context.Context, org string, tags []string, cursor string, limit int) (store.Page[store.Contact], error) {
	p, err := s.Store.ContactsTagged(ctx, org, tags, cursor, limit)
	if err == nil {
		_, err = s.Store.SetCampaignStatus(ctx, s.org, s.campaign, []string{store.CampaignRunning}, store.CampaignCancelled)
	}
	return p, err
}

// A crash after the message was accepted, then the contact renamed before
// the retry: the retry replays the message accepted (the same recipient),
// not a conflict recorded as refused while the message goes out.
func TestCrashThenContactRenamed(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	a := f.contact("5511900000701", "Ana", "vip")
	c := f.campaign([]string{"vip"}, nil)
	st := &failRecord{Store: f.st, fail: 1}
	run := campaign.NewRunner(st, f.events, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return f.now })
	var err error
	for i := 0; i < 3 && err == nil; i++ {
		_, err = run.Step(ctx, f.org, c.ID)
	}
	require.Error(t, err, "the record failed")
	a.Name = "Beatriz"
	_, err = f.st.SaveContact(ctx, a, nil)
	require.NoError(t, err)
	f.drain()
	rs := f.recipients(c)
	require.Equal(t, store.RecipientQueued, rs[a.ID].Status, "%+v", rs[a.ID])
	require.Equal(t, f.box.QueuedIDs()[0], rs[a.ID].MessageID, "the message accepted")
	require.Equal(t, 1, f.box.n())
}

// A campaign cancelled while its completion counts are read (every
// recipient: seconds for a large one) is not announced campaign.completed.
func TestCancelWhileCompletingNotAnnouncedCompleted(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	f.contact("5511900000801", "Ana", "vip")
	c := f.campaign([]string{"vip"}, nil)
	st := &cancelOnCount{Store: f.st}
	run := campaign.NewRunner(st, f.events, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return f.now })
	for i := 0; i < 5; i++ {
		_, err := run.Step(ctx, f.org, c.ID)
		require.NoError(t, err)
	}
	cur, err := f.st.Campaign(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.Equal(t, store.CampaignCancelled, cur.Status)
	require.Empty(t, f.events.Named(event.CampaignCompleted), "cancelled, not completed")
}

// cancelOnCount cancels a campaign whose audience is done when its counts
// are read.
type cancelOnCount struct{ *store.Store }

func (s *cancelOnCount) CampaignCounts(ctx context.Context, c store.Campaign) (store.CampaignCounts, error) {
	if c.Cursor == "done" {
		if _, err := s.Store.SetCampaignStatus(ctx, c.OrgID, c.ID, []string{store.CampaignRunning}, store.CampaignCancelled); err != nil {
			return store.CampaignCounts{}, err
		}
	}
	return s.Store.CampaignCounts(ctx, c)
}

// The recipient's outcome not recorded (the table throttled) while the
// sender already found its contact opted out (store.SkipQueuedRecipient,
// before the runner's next run records it queued): it ends skipped
// (opted_out), not queued over a message that was never sent.
func TestOptedOutBeforeRecordingCountsSkipped(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	a := f.contact("5511900000501", "Ana", "vip")
	c := f.campaign([]string{"vip"}, nil)
	st := &failRecord{Store: f.st, fail: 1}
	run := campaign.NewRunner(st, f.events, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return f.now })
	var err error
	for i := 0; i < 3 && err == nil; i++ {
		_, err = run.Step(ctx, f.org, c.ID)
	}
	require.Error(t, err, "the record failed")
	require.Equal(t, store.RecipientPending, f.recipients(c)[a.ID].Status)
	// The sender, meanwhile: the contact opted out after its message was queued.
	require.NoError(t, f.st.SkipQueuedRecipient(ctx, f.org, c.ID, a.ID, store.RecipientOptedOut, "opted out after its message was queued"))
	f.drain()
	rs := f.recipients(c)
	require.Equal(t, store.RecipientSkipped, rs[a.ID].Status)
	require.Equal(t, store.RecipientOptedOut, rs[a.ID].SkipReason)
}

// tplReads is the store, counting its reads of the template copy.
type tplReads struct {
	*store.Store
	n int
}

func (s *tplReads) TemplatesSyncedAt(ctx context.Context, org string) (*time.Time, error) {
	s.n++
	return s.Store.TemplatesSyncedAt(ctx, org)
}

func (s *tplReads) Template(ctx context.Context, org, name, language string) (store.Template, error) {
	s.n++
	return s.Store.Template(ctx, org, name, language)
}

// A campaign reads its organisation's template copy (ORG#<org>#TPL) once
// a msgtemplate.CacheTTL, not once per recipient (two reads each: its
// sync time and the template).
func TestCampaignReadsTemplateCopyOnceASecond(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	_, err := f.st.SyncTemplates(ctx, f.org, []store.Template{{ID: "1", Name: "promo", Language: "pt_BR", Category: "MARKETING",
		Status: "APPROVED", Components: json.RawMessage(`[{"type":"BODY","text":"Oi {{1}}, oferta!"}]`)}})
	require.NoError(t, err)
	for i := range 10 {
		f.contact(fmt.Sprintf("55119000001%02d", i), fmt.Sprintf("C%d", i), "vip")
	}
	st := &tplReads{Store: f.st}
	f.run = f.runner(st)
	f.run.PageSize = 10
	// One recipient after another: concurrent ones may each miss the
	// cache once before the first read fills it.
	f.run.Parallel = func(n int, fn func(i int)) {
		for i := range n {
			fn(i)
		}
	}
	start := f.now
	c := f.campaign([]string{"vip"}, nil)
	f.drain()
	require.Len(t, f.recipients(c), 10)
	require.Equal(t, 10, f.box.n())
	elapsed := f.now.Sub(start)
	seconds := int((elapsed + time.Second - 1) / time.Second)
	require.LessOrEqual(t, st.n, 2*(seconds+1), "template copy reads for 10 recipients over %s", elapsed)
	require.Less(t, st.n, 20)
}
