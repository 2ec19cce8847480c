package campaign_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/store"
)

// acceptTimes records when each message was accepted, per organisation.
type acceptTimes struct {
	*store.Store
	f  *runFixture
	mu sync.Mutex
	at map[string][]time.Time
}

func (a *acceptTimes) AcceptOutbound(ctx context.Context, m store.OutboundMessage) (store.OutboundResult, error) {
	res, err := a.Store.AcceptOutbound(ctx, m)
	if err == nil && !res.Replayed {
		a.mu.Lock()
		a.at[m.OrgID] = append(a.at[m.OrgID], a.f.now)
		a.mu.Unlock()
	}
	return res, err
}

// One run of the runner feeds each campaign whole, at its number's pace
// (the bulk lane's share of the number's limit) and no further ahead than
// its Lead: two organisations' campaigns on numbers of different limits
// are queued side by side, neither behind the other, each at its own rate.
func TestRunnerFeedsEachCampaignAtItsNumbersPace(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	orgB, err := f.st.CreateOrganization(ctx, "Other")
	require.NoError(t, err)
	limits := map[string]int{f.org: 20, orgB.ID: 5} // bulk lane: 19/s and 4/s
	bulk := map[string]float64{f.org: 19, orgB.ID: 4}
	size := map[string]int{f.org: 60, orgB.ID: 20}
	var cs []store.Campaign
	for i, org := range []string{f.org, orgB.ID} {
		_, err := f.st.PutWhatsAppAccount(ctx, store.WhatsAppAccount{OrgID: org, PhoneNumberID: fmt.Sprint("10654035224292", i),
			VerifyTokenHash: "h-" + org})
		require.NoError(t, err)
		require.NoError(t, f.st.SetSendRateOverride(ctx, org, limits[org]))
		for j := 0; j < size[org]; j++ {
			_, err := f.st.CreateContact(ctx, store.Contact{OrgID: org, WhatsAppID: fmt.Sprintf("55119%d%07d", i, j), Name: "Ana", Tags: []string{"vip"}}, nil)
			require.NoError(t, err)
		}
		c, err := f.st.CreateCampaign(ctx, store.Campaign{OrgID: org, Name: "VIP", Template: []byte(promo), Tags: []string{"vip"},
			Status: store.CampaignScheduled, SendAt: f.now})
		require.NoError(t, err)
		cs = append(cs, c)
	}
	rec := &acceptTimes{Store: f.st, f: f, at: map[string][]time.Time{}}
	run := f.runner(rec)
	run.PageSize = 10
	run.Lead = 2 * time.Second
	start := f.now
	require.NoError(t, run.Tick(ctx))
	for _, c := range cs {
		got, err := f.st.Campaign(ctx, c.OrgID, c.ID)
		require.NoError(t, err)
		require.Equal(t, store.CampaignCompleted, got.Status, "one run finishes the campaign")
		at := rec.at[c.OrgID]
		require.Len(t, at, size[c.OrgID])
		require.Equal(t, start, at[0], "queued from the start, not behind the other campaign")
		for k, ts := range at {
			ahead := float64(k+1) - bulk[c.OrgID]*ts.Sub(start).Seconds()
			require.LessOrEqual(t, ahead, bulk[c.OrgID]*run.Lead.Seconds()+1,
				"org %s: message %d queued at +%v is more than the lead ahead of the number's pace", c.OrgID, k+1, ts.Sub(start))
		}
		last := at[len(at)-1].Sub(start).Seconds()
		min := float64(size[c.OrgID])/bulk[c.OrgID] - run.Lead.Seconds() - 1
		require.GreaterOrEqual(t, last, min, "org %s: paced, not all at once", c.OrgID)
		t.Logf("org %s: %d messages queued over %.1f s (%.0f/s bulk, lead %v)", c.OrgID, len(at), last, bulk[c.OrgID], run.Lead)
	}
}

// countReads counts the campaign's reads.
type countReads struct {
	*store.Store
	mu    sync.Mutex
	reads int
}

func (c *countReads) Campaign(ctx context.Context, org, id string) (store.Campaign, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.Store.Campaign(ctx, org, id)
}

// A page is sent with a status check, not a read of the campaign per
// recipient (pause and cancel are honoured by the check after the page is
// read and by the cursor's conditional move).
func TestPageReadsTheCampaignNotPerRecipient(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		f.contact(fmt.Sprintf("55119000009%02d", i), "Ana", "vip")
	}
	c := f.campaign([]string{"vip"}, nil)
	_, err := f.st.SetCampaignStatus(ctx, f.org, c.ID, []string{store.CampaignScheduled}, store.CampaignRunning)
	require.NoError(t, err)
	_, err = f.st.AdvanceCampaign(ctx, f.org, c.ID, "", "tags:", time.Time{})
	require.NoError(t, err)
	rd := &countReads{Store: f.st}
	run := f.runner(rd)
	run.PageSize = 10
	more, err := run.Step(ctx, f.org, c.ID)
	require.NoError(t, err)
	require.True(t, more)
	require.Equal(t, 10, f.box.n())
	require.LessOrEqual(t, rd.reads, 2, "a page of 10: the campaign read, and checked once before its messages are accepted")
}
