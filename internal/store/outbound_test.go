package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

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
	if e, ok := apperr.As(err); !ok || e.Code != "outside_customer_service_window" || e.Kind != apperr.Unprocessable {
		t.Fatalf("never wrote: %v", err)
	}
	tpl := textOut(org.ID, "5511900000001")
	tpl.Type, tpl.FreeForm, tpl.Content = "template", false, json.RawMessage(`{"name":"hello","language":{"code":"pt_BR"}}`)
	res, err := s.AcceptOutbound(ctx, tpl)
	if err != nil || !res.ContactCreated || !res.ConversationCreated || res.Message.Status != store.StatusQueued || res.Message.To != "5511900000001" {
		t.Fatalf("template to a new number: %+v %v", res, err)
	}

	// The customer writes: free-form goes into the same conversation.
	in, err := s.RecordInbound(ctx, text(org.ID, "wamid.in1", "5511900000001", "Ana", c.Now()))
	if err != nil || in.Conversation.ID != res.Conversation.ID {
		t.Fatalf("inbound: %+v %v", in, err)
	}
	c.Add(23 * time.Hour)
	got, err := s.AcceptOutbound(ctx, textOut(org.ID, "5511900000001"))
	if err != nil || got.ContactCreated || got.Conversation.ID != res.Conversation.ID || got.Contact.ID != res.Contact.ID {
		t.Fatalf("inside the window: %+v %v", got, err)
	}
	c.Add(2 * time.Hour)
	if _, err := s.AcceptOutbound(ctx, textOut(org.ID, "5511900000001")); apperr.KindOf(err) != apperr.Unprocessable {
		t.Fatalf("after 25 h: %v", err)
	}
	// By contact id.
	byID := store.OutboundMessage{OrgID: org.ID, ContactID: res.Contact.ID, Type: "template", Content: tpl.Content}
	if r, err := s.AcceptOutbound(ctx, byID); err != nil || r.Message.To != "5511900000001" {
		t.Fatalf("by contact id: %+v %v", r, err)
	}
	byID.ContactID = "ct_nope"
	if _, err := s.AcceptOutbound(ctx, byID); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("unknown contact id: %v", err)
	}
	// Another organisation's contact id is not found either.
	other, _ := s.CreateOrganization(ctx, "B")
	byID.OrgID, byID.ContactID = other.ID, res.Contact.ID
	if _, err := s.AcceptOutbound(ctx, byID); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("other org's contact: %v", err)
	}
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
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("concurrent same key: %v %v", ids, errs)
		}
	}
	r, err := s.AcceptOutbound(ctx, m)
	if err != nil || !r.Replayed || r.Enqueued || r.Message.ID != ids[0] {
		t.Fatalf("replay: %+v %v", r, err)
	}
	if err := s.MarkEnqueued(ctx, org.ID, m.IdempotencyKey); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.AcceptOutbound(ctx, m); !r.Enqueued {
		t.Fatal("enqueued not remembered")
	}
	m.RequestHash = "h2"
	_, err = s.AcceptOutbound(ctx, m)
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.Conflict || e.Code != "idempotency_key_reused" {
		t.Fatalf("same key, other body: %v", err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	id := res.Message.ID

	c1, err := s.ClaimSend(ctx, org.ID, id, time.Minute)
	if err != nil || c1.Message.Attempts != 1 {
		t.Fatalf("claim: %+v %v", c1, err)
	}
	// A redelivery while the first sender holds it.
	if cl, err := s.ClaimSend(ctx, org.ID, id, time.Minute); !errors.Is(err, store.ErrNotClaimable) || cl.State != store.SendSending {
		t.Fatalf("second claim: %+v %v", cl, err)
	}
	if err := s.SendRetry(ctx, c1, "HTTP 503"); err != nil {
		t.Fatal(err)
	}
	c2, err := s.ClaimSend(ctx, org.ID, id, time.Minute)
	if err != nil || c2.Message.Attempts != 2 {
		t.Fatalf("reclaim: %+v %v", c2, err)
	}
	// The stale claim can no longer move it.
	if err := s.SendRetry(ctx, c1, "late"); !errors.Is(err, store.ErrNotClaimable) {
		t.Fatalf("stale retry: %v", err)
	}
	// A status that beats the sender to the wamid is applied afterwards.
	if r, err := s.ApplyStatus(ctx, store.StatusUpdate{OrgID: org.ID, WAMID: "wamid.out3", Status: store.StatusDelivered, Timestamp: c.Now(),
		Pricing: json.RawMessage(`{"category":"utility","billable":true}`)}); err != nil || !r.Unknown {
		t.Fatalf("early status: %+v %v", r, err)
	}
	early, err := s.SendAccepted(ctx, c2, "wamid.out3")
	if err != nil || len(early) != 1 || early[0].Status != store.StatusDelivered || early[0].PricingCategory != "utility" {
		t.Fatalf("accepted: %+v %v", early, err)
	}
	for _, u := range early {
		if _, err := s.ApplyStatus(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.Message(ctx, org.ID, id)
	if got.Status != store.StatusDelivered || got.WAMID != "wamid.out3" || got.AcceptedAt == nil || got.DeliveredAt == nil {
		t.Fatalf("after accept: %+v", got)
	}
	// Done: a redelivered queue message is not sent again.
	if cl, err := s.ClaimSend(ctx, org.ID, id, time.Minute); !errors.Is(err, store.ErrNotClaimable) || cl.State != store.SendAccepted {
		t.Fatalf("claim after accept: %+v %v", cl, err)
	}

	// A lease that expired (the sender died) can be taken over.
	res2, _ := s.AcceptOutbound(ctx, m)
	d1, _ := s.ClaimSend(ctx, org.ID, res2.Message.ID, time.Minute)
	c.Add(2 * time.Minute)
	d2, err := s.ClaimSend(ctx, org.ID, res2.Message.ID, time.Minute)
	if err != nil {
		t.Fatalf("takeover: %v", err)
	}
	if _, err := s.SendFailed(ctx, d1, store.MessageError{Code: 131047}); !errors.Is(err, store.ErrNotClaimable) {
		t.Fatalf("dead sender's fail: %v", err)
	}
	failed, err := s.SendFailed(ctx, d2, store.MessageError{Code: 131047, Message: "Re-engagement message"})
	if err != nil || failed.Status != store.StatusFailed || failed.Error == nil || failed.Error.Code != 131047 {
		t.Fatalf("failed: %+v %v", failed, err)
	}
}

func TestSendSlotsCap(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	taken := 0
	for i := 0; i < 10; i++ {
		ok, err := s.TakeSendSlot(ctx, "106540352242922", 4)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			taken++
		}
	}
	if taken != 4 {
		t.Fatalf("took %d slots, cap 4", taken)
	}
	if ok, _ := s.TakeSendSlot(ctx, "other-number", 4); !ok {
		t.Fatal("the cap is per number")
	}
	c.Add(time.Second)
	if ok, _ := s.TakeSendSlot(ctx, "106540352242922", 4); !ok {
		t.Fatal("the next second has slots")
	}
}
