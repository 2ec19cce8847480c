package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/store"
)

func textOut(org, to string) store.OutboundMessage {
	return store.OutboundMessage{OrgID: org, To: store.Identity{WaID: to}, Type: "text",
		Content: json.RawMessage(`{"body":"Olá"}`), FreeForm: true}
}

func TestOutboundWindow(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")

	// Never wrote: free-form refused, nothing created; a template goes.
	_, err := s.AcceptOutbound(ctx, textOut(org.ID, "5511900000001"))
	e, ok := apperr.As(err)
	require.True(t, ok, "never wrote: %v", err)
	require.Equal(t, "outside_customer_service_window", e.Code, "never wrote")
	require.Equal(t, apperr.Unprocessable, e.Kind, "never wrote")
	tpl := textOut(org.ID, "5511900000001")
	tpl.Type, tpl.FreeForm, tpl.Content = "template", false, json.RawMessage(`{"name":"hello","language":{"code":"pt_BR"}}`)
	res, err := s.AcceptOutbound(ctx, tpl)
	require.NoError(t, err, "template to a new number: %+v %v", res, err)
	require.True(t, res.ContactCreated, "template to a new number")
	require.True(t, res.ConversationCreated, "template to a new number")
	require.Equal(t, store.StatusQueued, res.Message.Status, "template to a new number")
	require.Equal(t, "5511900000001", res.Message.To, "template to a new number")

	// The customer writes: free-form goes into the same conversation.
	in, err := s.RecordInbound(ctx, text(org.ID, "wamid.in1", "5511900000001", "Ana", c.Now()))
	require.NoError(t, err, "inbound: %+v %v", in, err)
	require.Equal(t, res.Conversation.ID, in.Conversation.ID, "inbound")
	c.Add(23 * time.Hour)
	got, err := s.AcceptOutbound(ctx, textOut(org.ID, "5511900000001"))
	require.NoError(t, err, "inside the window: %+v %v", got, err)
	require.False(t, got.ContactCreated, "inside the window")
	require.Equal(t, res.Conversation.ID, got.Conversation.ID, "inside the window")
	require.Equal(t, res.Contact.ID, got.Contact.ID, "inside the window")
	c.Add(2 * time.Hour)
	_, err = s.AcceptOutbound(ctx, textOut(org.ID, "5511900000001"))
	require.Equal(t, apperr.Unprocessable, apperr.KindOf(err), "after 25 h: %v", err)
	// By contact id.
	byID := store.OutboundMessage{OrgID: org.ID, ContactID: res.Contact.ID, Type: "template", Content: tpl.Content}
	if r, err := s.AcceptOutbound(ctx, byID); err != nil || r.Message.To != "5511900000001" {
		t.Fatalf("by contact id: %+v %v", r, err)
	}
	byID.ContactID = "ct_nope"
	_, err = s.AcceptOutbound(ctx, byID)
	require.Equal(t, apperr.NotFound, apperr.KindOf(err), "unknown contact id: %v", err)
	// Another organisation's contact id is not found either.
	other, _ := s.CreateOrganization(ctx, "B")
	byID.OrgID, byID.ContactID = other.ID, res.Contact.ID
	_, err = s.AcceptOutbound(ctx, byID)
	require.Equal(t, apperr.NotFound, apperr.KindOf(err), "other org's contact: %v", err)
}

func TestOutboundIdempotency(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	m := textOut(org.ID, "5511900000002")
	m.FreeForm, m.Type = false, "template"
	m.IdempotencyKey, m.RequestHash = "order-1001", "h1"

	var wg sync.WaitGroup
	ids := make([]string, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r, err := s.AcceptOutbound(ctx, m)
			ids[i], errs[i] = r.Message.ID, err
		}(i)
	}
	wg.Wait()
	for i := range ids {
		require.NoError(t, errs[i], "concurrent same key: %v %v", ids, errs)
		require.Equal(t, ids[0], ids[i], "concurrent same key")
	}
	r, err := s.AcceptOutbound(ctx, m)
	require.NoError(t, err, "replay: %+v %v", r, err)
	require.True(t, r.Replayed, "replay")
	require.True(t, r.Enqueued, "replay: the job was written with the message")
	require.Equal(t, ids[0], r.Message.ID, "replay")
	m.RequestHash = "h2"
	_, err = s.AcceptOutbound(ctx, m)
	e, ok := apperr.As(err)
	require.True(t, ok, "same key, other body: %v", err)
	require.Equal(t, apperr.Conflict, e.Kind, "same key, other body")
	require.Equal(t, "idempotency_key_reused", e.Code, "same key, other body")
	// Keys are per organisation.
	other, _ := s.CreateOrganization(ctx, "B")
	m.OrgID = other.ID
	if r, err := s.AcceptOutbound(ctx, m); err != nil || r.Replayed {
		t.Fatalf("same key in another org: %+v %v", r, err)
	}
}

func TestSenderTransitions(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	m := textOut(org.ID, "5511900000003")
	m.FreeForm, m.Type = false, "template"
	res, err := s.AcceptOutbound(ctx, m)
	require.NoError(t, err)
	id := res.Message.ID

	c1, err := s.ClaimSend(ctx, org.ID, id, time.Minute)
	require.NoError(t, err, "claim: %+v %v", c1, err)
	require.Equal(t, 1, c1.Message.Attempts, "claim")
	// A redelivery while the first sender holds it.
	if cl, err := s.ClaimSend(ctx, org.ID, id, time.Minute); !errors.Is(err, store.ErrNotClaimable) || cl.State != store.SendSending {
		t.Fatalf("second claim: %+v %v", cl, err)
	}
	require.NoError(t, s.SendRetry(ctx, c1, "HTTP 503"))
	c2, err := s.ClaimSend(ctx, org.ID, id, time.Minute)
	require.NoError(t, err, "reclaim: %+v %v", c2, err)
	require.Equal(t, 2, c2.Message.Attempts, "reclaim")
	// The stale claim can no longer move it.
	err = s.SendRetry(ctx, c1, "late")
	require.ErrorIs(t, err, store.ErrNotClaimable, "stale retry: %v", err)
	// A status that beats the sender to the wamid is applied afterwards.
	if r, err := s.ApplyStatus(ctx, store.StatusUpdate{OrgID: org.ID, WAMID: "wamid.out3", Status: store.StatusDelivered, Timestamp: c.Now(),
		Pricing: json.RawMessage(`{"category":"utility","billable":true}`)}); err != nil || !r.Unknown {
		t.Fatalf("early status: %+v %v", r, err)
	}
	early, err := s.SendAccepted(ctx, c2, "wamid.out3")
	require.NoError(t, err, "accepted: %+v %v", early, err)
	require.Len(t, early, 1, "accepted")
	require.Equal(t, store.StatusDelivered, early[0].Status, "accepted")
	require.Equal(t, "utility", early[0].PricingCategory, "accepted")
	for _, u := range early {
		if _, err := s.ApplyStatus(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.Message(ctx, org.ID, id)
	require.Equal(t, store.StatusDelivered, got.Status, "after accept: %+v", got)
	require.Equal(t, "wamid.out3", got.WAMID, "after accept")
	require.NotNil(t, got.AcceptedAt, "after accept")
	require.NotNil(t, got.DeliveredAt, "after accept")
	// Done: a redelivered queue message is not sent again.
	if cl, err := s.ClaimSend(ctx, org.ID, id, time.Minute); !errors.Is(err, store.ErrNotClaimable) || cl.State != store.SendAccepted {
		t.Fatalf("claim after accept: %+v %v", cl, err)
	}

	// A lease that expired (the sender died) can be taken over.
	res2, _ := s.AcceptOutbound(ctx, m)
	d1, _ := s.ClaimSend(ctx, org.ID, res2.Message.ID, time.Minute)
	c.Add(2 * time.Minute)
	d2, err := s.ClaimSend(ctx, org.ID, res2.Message.ID, time.Minute)
	require.NoError(t, err, "takeover")
	_, err = s.SendFailed(ctx, d1, store.MessageError{Code: 131047})
	require.ErrorIs(t, err, store.ErrNotClaimable, "dead sender's fail: %v", err)
	failed, err := s.SendFailed(ctx, d2, store.MessageError{Code: 131047, Message: "Re-engagement message"})
	require.NoError(t, err, "failed: %+v %v", failed, err)
	require.Equal(t, store.StatusFailed, failed.Status, "failed")
	require.NotNil(t, failed.Error, "failed")
	require.Equal(t, 131047, failed.Error.Code, "failed")
}

func TestLeaseSendTokens(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	sec := c.Now().Unix()
	const phone = "106540352242922"
	for _, tc := range []struct {
		name            string
		want, ceiling   int
		granted, second int64
	}{
		{"fits", 3, 10, 3, 0},
		{"fits exactly", 7, 10, 7, 0},
		{"full", 1, 10, 0, 0},
		{"a higher ceiling (the transactional lane) has room", 5, 12, 2, 0},
		{"next second", 4, 10, 4, 1},
		{"part of a lease", 9, 10, 6, 1},
		// A lease asked for more than the whole second (ten waiting
		// senders, a limit of 5/s): never over the ceiling, even as the
		// second's first write.
		{"more than the ceiling, first of its second", 10, 5, 5, 2},
		{"more than the ceiling, full", 10, 5, 0, 2},
	} {
		got, err := s.LeaseSendTokens(ctx, phone, sec+tc.second, tc.want, tc.ceiling)
		require.NoError(t, err, tc.name)
		require.EqualValues(t, tc.granted, got, tc.name)
	}
	got, err := s.LeaseSendTokens(ctx, "other-number", sec, 4, 4)
	require.NoError(t, err)
	require.Equal(t, 4, got, "the ceiling is per number")
}

// Saving the settings again keeps the operator's send-rate override, and
// the throughput level while the number stays the same.
func TestSettingsSaveKeepsSendLimits(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	org, err := s.CreateOrganization(ctx, "A")
	require.NoError(t, err)
	a := store.WhatsAppAccount{OrgID: org.ID, PhoneNumberID: "1001", VerifyTokenHash: "h"}
	_, err = s.PutWhatsAppAccount(ctx, a)
	require.NoError(t, err)
	require.NoError(t, s.SetSendRateOverride(ctx, org.ID, 250))
	_, err = s.UpdateWhatsAppSignals(ctx, org.ID, store.WhatsAppSignals{ThroughputLevel: "HIGH"})
	require.NoError(t, err)
	got, err := s.PutWhatsAppAccount(ctx, a)
	require.NoError(t, err)
	require.Equal(t, 250, got.SendRateOverride)
	got, err = s.WhatsAppAccount(ctx, org.ID)
	require.NoError(t, err)
	require.Equal(t, 250, got.SendRateOverride)
	require.Equal(t, "HIGH", got.Signals.ThroughputLevel)
	a.PhoneNumberID = "1002"
	_, err = s.PutWhatsAppAccount(ctx, a)
	require.NoError(t, err)
	got, err = s.WhatsAppAccount(ctx, org.ID)
	require.NoError(t, err)
	require.Empty(t, got.Signals.ThroughputLevel, "another number: its level is Meta's to say")
	require.NoError(t, s.SetSendRateOverride(ctx, org.ID, 0))
	got, err = s.WhatsAppAccount(ctx, org.ID)
	require.NoError(t, err)
	require.Zero(t, got.SendRateOverride)
	require.Error(t, s.SetSendRateOverride(ctx, org.ID, -1))
	require.True(t, apperr.Is(s.SetSendRateOverride(ctx, "org_none", 10), apperr.NotFound))
}

// A bucket slower than one token a second (Meta's pair limit: one message
// every 6 s, bursts of 45), tried idle first: the burst, then one every
// interval.
func TestSlowIdleFirstBucket(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	b := store.Bucket{Key: "pair#1001#5511900000001", Every: 6 * time.Second, Burst: 3, IdleFirst: true}
	for i := range 3 {
		tk, err := s.TakeToken(ctx, b)
		require.NoError(t, err)
		require.True(t, tk.Allowed, "take %d of the burst", i)
	}
	tk, err := s.TakeToken(ctx, b)
	require.NoError(t, err)
	require.False(t, tk.Allowed, "over the burst")
	require.InDelta(t, 6*time.Second, tk.RetryAfter, float64(time.Millisecond))
	c.Add(6 * time.Second)
	tk, err = s.TakeToken(ctx, b)
	require.NoError(t, err)
	require.True(t, tk.Allowed, "one interval later")
	tk, err = s.TakeToken(ctx, store.Bucket{Key: "pair#1001#5511900000002", Every: 6 * time.Second, Burst: 3, IdleFirst: true})
	require.NoError(t, err)
	require.True(t, tk.Allowed, "another recipient")
}

// An operator's send-rate override is for the number it was set on: saving
// another number drops it (the new number's limit follows Meta's level, not
// a rate raised for the old one), as its throughput level is dropped. An
// account put back as it was read (a failed save undone) gets it back. The
// override is never over Meta's highest level.
func TestSendRateOverrideFollowsTheNumber(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	org, err := s.CreateOrganization(ctx, "A")
	require.NoError(t, err)
	a := store.WhatsAppAccount{OrgID: org.ID, PhoneNumberID: "2001", VerifyTokenHash: "h"}
	_, err = s.PutWhatsAppAccount(ctx, a)
	require.NoError(t, err)
	require.NoError(t, s.SetSendRateOverride(ctx, org.ID, 1000))
	prev, err := s.WhatsAppAccount(ctx, org.ID)
	require.NoError(t, err)
	b := a
	b.PhoneNumberID = "2002"
	got, err := s.PutWhatsAppAccount(ctx, b)
	require.NoError(t, err)
	require.Zero(t, got.SendRateOverride, "another number does not inherit the old one's rate")
	got, err = s.PutWhatsAppAccount(ctx, prev)
	require.NoError(t, err)
	require.Equal(t, 1000, got.SendRateOverride, "put back as it was read")
	err = s.SetSendRateOverride(ctx, org.ID, 1001)
	require.True(t, apperr.Is(err, apperr.Invalid), "over Meta's highest level (1,000/s): %v", err)
}
