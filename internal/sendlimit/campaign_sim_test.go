package sendlimit_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/campaign"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/sendlimit"
	"github.com/pytake/pytake/internal/store"
)

// The campaign simulation runs the real campaign runner (campaign.Runner:
// its rounds, its pace per number, its concurrent accepts) on the
// simulated clock, against an in-memory store whose calls take the
// table's latency, feeding the bulk lane that the simulated senders
// drain. By hand, longer:
//
//	go test -run TestSimulationCampaigns -v ./internal/sendlimit/ -sim.recipients 100000
var simLead = flag.Duration("sim.lead", 0, "the campaign runner's Lead in the campaign simulation (0: its default)")

var simRecipients = flag.Int("sim.recipients", 10000, "recipients of the HIGH-tier organisation's campaign in the campaign simulation (the other's has a tenth)")

// Parallel runs f(0) .. f(n-1) concurrently and returns when all have: the
// caller does not count as running while it waits, so the clock moves.
func (c *simClock) Parallel(n int, f func(i int)) {
	if n <= 0 {
		return
	}
	done := make(chan struct{})
	left := n
	c.mu.Lock()
	c.active += n - 1 // the workers run; the caller waits
	c.mu.Unlock()
	for i := range n {
		go func() {
			f(i)
			c.mu.Lock()
			left--
			if left == 0 {
				// The caller resumes in the last worker's place.
				close(done)
			} else {
				c.active--
				c.advance()
			}
			c.mu.Unlock()
		}()
	}
	<-done
}

// campaignStore is the runner's store in memory: every call takes the
// table's latency on the simulated clock; an accepted message reaches its
// bulk lane after the outbox relay's latency.
type campaignStore struct {
	clock   *simClock
	latency time.Duration
	relay   time.Duration
	bulk    *lane
	mu      sync.Mutex
	camps   map[string]*store.Campaign
	order   []string
	// contacts per organisation, in audience order.
	contacts map[string][]store.Contact
	rates    map[string]int // organisation → its number's limit
	phones   map[string]string
	rcpts    map[string]store.Recipient // campaign/contact
	keys     map[string]string          // idempotency key → message id
	accepted map[string]time.Time       // message id → accepted at
	msgs     int
	calls    int
}

func (s *campaignStore) call(ctx context.Context, n int) {
	for range n {
		_ = s.clock.Sleep(ctx, s.latency)
	}
	s.mu.Lock()
	s.calls += n
	s.mu.Unlock()
}

func (s *campaignStore) DueCampaigns(ctx context.Context, limit int) ([]store.Campaign, error) {
	s.call(ctx, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Campaign
	for _, id := range s.order {
		c := s.camps[id]
		if (c.Status == store.CampaignRunning || c.Status == store.CampaignScheduled) && !c.SendAt.After(s.clock.Now()) && len(out) < limit {
			out = append(out, *c)
		}
	}
	return out, nil
}

func (s *campaignStore) Campaign(ctx context.Context, _, id string) (store.Campaign, error) {
	s.call(ctx, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.camps[id], nil
}

func (s *campaignStore) SetCampaignStatus(ctx context.Context, _, id string, from []string, to string) (store.Campaign, error) {
	s.call(ctx, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.camps[id]
	for _, f := range from {
		if c.Status == f {
			c.Status = to
			now := s.clock.Now()
			if to == store.CampaignCompleted {
				c.CompletedAt = &now
			}
			return *c, nil
		}
	}
	return *c, apperr.New(apperr.Conflict, "the campaign is "+c.Status)
}

func (s *campaignStore) AdvanceCampaign(ctx context.Context, _, id, prev, next string, paced time.Time) (bool, error) {
	s.call(ctx, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.camps[id]
	if c.Cursor != prev || c.Status != store.CampaignRunning {
		return false, nil
	}
	c.Cursor = next
	if !paced.IsZero() {
		c.PacedUntil = paced
	}
	return true, nil
}

func (s *campaignStore) ClaimRecipient(ctx context.Context, org, campaignID string, c store.Contact) (store.Recipient, bool, error) {
	s.call(ctx, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := campaignID + "/" + c.ID
	if r, ok := s.rcpts[k]; ok {
		return r, false, nil
	}
	r := store.Recipient{CampaignID: campaignID, OrgID: org, ContactID: c.ID, Status: store.RecipientPending, UpdatedAt: s.clock.Now()}
	s.rcpts[k] = r
	return r, true, nil
}

func (s *campaignStore) RecordRecipient(ctx context.Context, r store.Recipient) error {
	s.call(ctx, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := r.CampaignID + "/" + r.ContactID
	if s.rcpts[k].Status == store.RecipientPending {
		s.rcpts[k] = r
	}
	return nil
}

func (s *campaignStore) CampaignCounts(ctx context.Context, c store.Campaign) (store.CampaignCounts, error) {
	s.call(ctx, 1)
	return store.CampaignCounts{Recipients: c.Recipients, Skipped: map[string]int{}}, nil
}

func (s *campaignStore) ContactsTagged(ctx context.Context, org string, _ []string, cursor string, limit int) (store.Page[store.Contact], error) {
	s.call(ctx, 1)
	i, _ := strconv.Atoi(cursor)
	all := s.contacts[org]
	end := min(i+limit, len(all))
	p := store.Page[store.Contact]{Items: all[i:end]}
	if end < len(all) {
		p.NextCursor = strconv.Itoa(end)
	}
	return p, nil
}

func (s *campaignStore) Contact(ctx context.Context, org, id string) (store.Contact, error) {
	s.call(ctx, 1)
	n, _ := strconv.Atoi(id[len(id)-6:])
	return s.contacts[org][n], nil
}

func (s *campaignStore) WhatsAppAccount(ctx context.Context, org string) (store.WhatsAppAccount, error) {
	s.call(ctx, 1)
	return store.WhatsAppAccount{OrgID: org, PhoneNumberID: s.phones[org], Healthy: true, SendRateOverride: s.rates[org]}, nil
}

// AcceptOutbound is the accepting transaction (the contact, its open
// conversation and window read, then the write); the outbox relay puts
// the message on the bulk lane after its latency.
func (s *campaignStore) AcceptOutbound(ctx context.Context, m store.OutboundMessage) (store.OutboundResult, error) {
	s.call(ctx, 4)
	s.mu.Lock()
	if id, ok := s.keys[m.IdempotencyKey]; ok {
		s.mu.Unlock()
		return store.OutboundResult{Message: store.Message{ID: id}, Replayed: true, Enqueued: true}, nil
	}
	s.msgs++
	id := fmt.Sprintf("msg_%07d", s.msgs)
	s.keys[m.IdempotencyKey] = id
	s.accepted[id] = s.clock.Now()
	rate, phone := s.rates[m.OrgID], s.phones[m.OrgID]
	s.mu.Unlock()
	q := &msg{org: m.OrgID, phone: phone, to: m.ContactID, perSecond: rate, lane: sendlimit.Bulk, mark: m.CampaignID}
	s.clock.Go(func() {
		_ = s.clock.Sleep(context.Background(), s.relay)
		q.queuedAt = s.clock.Now()
		s.bulk.put(q)
	})
	return store.OutboundResult{Message: store.Message{ID: id, ContactID: m.ContactID}}, nil
}

func (s *campaignStore) RequeueOutbound(context.Context, string, store.Message, string) error {
	return nil
}

type noEvents struct{}

func (noEvents) Publish(context.Context, ...event.Event) error { return nil }

// Two organisations' campaigns on different numbers, fed by the campaign
// runner into the one bulk lane (FIFO): A's 10,000 recipients on a number
// at the HIGH tier (1,000/s), B's 1,000 on a standard number (80/s). A
// third organisation's single transactional message is queued meanwhile.
// Each number is held at its limit (no second over it), each campaign
// finishes in about its size over its number's bulk pace (neither waits
// behind the other's backlog: the runner keeps at most a few seconds of
// each number's work in the lane), and the single message is sent within
// 2 s.
func TestSimulationCampaigns(t *testing.T) {
	c := newSimClock()
	s := &sim{clock: c, tbl: newTable(c)}
	bulk, tx := &lane{}, &lane{}
	type camp struct {
		org, phone string
		limit, n   int
	}
	camps := []camp{{"org_a", "PA", 1000, *simRecipients}, {"org_b", "PB", 80, *simRecipients / 10}}
	st := &campaignStore{clock: c, latency: 5 * time.Millisecond, relay: 200 * time.Millisecond, bulk: bulk,
		camps: map[string]*store.Campaign{}, contacts: map[string][]store.Contact{}, rates: map[string]int{}, phones: map[string]string{},
		rcpts: map[string]store.Recipient{}, keys: map[string]string{}, accepted: map[string]time.Time{}}
	tpl := []byte(`{"name":"promo","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"{{contact.first_name}}"}]}]}`)
	longest := 0.0
	for _, cp := range camps {
		st.rates[cp.org], st.phones[cp.org] = cp.limit, cp.phone
		for i := range cp.n {
			st.contacts[cp.org] = append(st.contacts[cp.org], store.Contact{ID: unique("ct_"+cp.org[4:], i), OrgID: cp.org,
				WhatsAppID: fmt.Sprintf("55%09d", i), Name: "Ana Souza"})
		}
		id := "cmp_" + cp.org
		st.camps[id] = &store.Campaign{ID: id, OrgID: cp.org, Name: "promo", Template: tpl, Tags: []string{"vip"},
			SendAt: c.Now(), Status: store.CampaignScheduled, Recipients: cp.n}
		st.order = append(st.order, id)
		longest = max(longest, float64(cp.n)/float64(sendlimit.Ceiling(cp.limit, sendlimit.Bulk)))
	}
	run := campaign.NewRunner(st, noEvents{}, slog.New(slog.NewTextHandler(io.Discard, nil)), c.Now)
	run.Sleep, run.Parallel = c.Sleep, c.Parallel
	if *simLead > 0 {
		run.Lead = *simLead
	}
	d := time.Duration(longest*float64(time.Second)) + 8*time.Second
	run.RunFor = d
	single := &msg{org: "org_c", phone: "PC", to: "c1", perSecond: 80, lane: sendlimit.Transactional, mark: "single"}
	start := c.Now()
	var ran time.Time
	s.run(t, map[*lane]int{bulk: 30, tx: 30}, d, func() {
		c.Go(func() {
			require.NoError(t, run.Tick(context.Background()))
			ran = c.Now()
		})
		_ = c.Sleep(context.Background(), 5*time.Second+300*time.Millisecond)
		single.queuedAt = c.Now()
		tx.put(single)
	})

	require.False(t, single.sentAt.IsZero(), "the single message was never sent")
	wait := single.sentAt.Sub(single.queuedAt)
	t.Logf("runner (lead %v): ran %.1f s, %d store calls, %d messages accepted", run.Lead, ran.Sub(start).Seconds(), st.calls, st.msgs)
	for _, cp := range camps {
		var last time.Time
		var sent int
		var maxWait time.Duration
		for _, m := range s.sent {
			if m.org != cp.org {
				continue
			}
			sent++
			if m.sentAt.After(last) {
				last = m.sentAt
			}
			maxWait = max(maxWait, m.sentAt.Sub(m.queuedAt))
		}
		counts := perSecond(s.sent, cp.phone)
		secs := make([]int64, 0, len(counts))
		peakSecond := 0
		for sec, n := range counts {
			secs = append(secs, sec)
			peakSecond = max(peakSecond, n)
			require.LessOrEqual(t, n, cp.limit, "%s: second %d has %d sends, over the number's %d/s", cp.phone, sec, n, cp.limit)
		}
		sort.Slice(secs, func(i, j int) bool { return secs[i] < secs[j] })
		// The steady seconds: all but the first and last (partial) ones.
		steady, full := 0, 0
		for _, sec := range secs[1 : len(secs)-1] {
			steady += counts[sec]
			full++
		}
		pace := sendlimit.Ceiling(cp.limit, sendlimit.Bulk)
		ideal := float64(cp.n) / float64(pace)
		took := last.Sub(start).Seconds()
		t.Logf("%s (%s, %d/s): %d recipients sent in %.1f s (ideal %.1f s at the bulk lane's %d/s); steady %.1f sends/s, busiest second %d; longest wait in the bulk lane %v",
			cp.org, cp.phone, cp.limit, sent, took, ideal, pace, float64(steady)/float64(max(full, 1)), peakSecond, maxWait.Round(time.Millisecond))
		require.Equal(t, cp.n, sent, "%s: every recipient sent once", cp.org)
		require.LessOrEqual(t, took, 1.25*ideal+run.Lead.Seconds()+1, "%s: held back by the other campaign", cp.org)
		require.GreaterOrEqual(t, float64(steady)/float64(max(full, 1)), 0.8*float64(pace), "%s: the number's pace is held", cp.org)
		require.LessOrEqual(t, maxWait, run.Lead+2500*time.Millisecond, "%s: a message waited behind another's backlog", cp.org)
	}
	t.Logf("org_c's single message sent %v after it was queued, during both campaigns", wait.Round(time.Millisecond))
	require.LessOrEqual(t, wait, 2*time.Second)
}
