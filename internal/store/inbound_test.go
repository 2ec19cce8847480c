package store_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
	"github.com/pytake/pytake/internal/store"
)

// counting wraps the client and counts item writes (a transaction counts
// each of its items) and write requests.
type counting struct {
	store.DB
	items, requests atomic.Int64
}

func (c *counting) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.items.Add(1)
	c.requests.Add(1)
	return c.DB.PutItem(ctx, in, o...)
}

func (c *counting) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.items.Add(1)
	c.requests.Add(1)
	return c.DB.UpdateItem(ctx, in, o...)
}

func (c *counting) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.items.Add(int64(len(in.TransactItems)))
	c.requests.Add(1)
	return c.DB.TransactWriteItems(ctx, in, o...)
}

func text(org, wamid, waID, name string, at time.Time) store.InboundMessage {
	return store.InboundMessage{
		OrgID: org, From: store.Identity{WaID: waID, ProfileName: name}, WAMID: wamid, Type: "text",
		Timestamp: at, Content: json.RawMessage(`{"text":"Olá"}`),
		Raw: json.RawMessage(`{"from":"` + waID + `","id":"` + wamid + `","type":"text","text":{"body":"Olá"}}`),
	}
}

func TestRecordInboundCreatesThenJoins(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")

	first, err := s.RecordInbound(ctx, text(org.ID, "wamid.1", "5511888888888", "João", c.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if !first.ContactCreated || !first.ConversationCreated || first.Duplicate || !first.EventsPending {
		t.Fatalf("first = %+v", first)
	}
	if first.Contact.WhatsAppID != "5511888888888" || first.Contact.ProfileName != "João" {
		t.Fatalf("contact = %+v", first.Contact)
	}
	c.Add(time.Minute)
	second, err := s.RecordInbound(ctx, text(org.ID, "wamid.2", "5511888888888", "João S.", c.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if second.ContactCreated || second.ConversationCreated || second.Contact.ID != first.Contact.ID || second.Conversation.ID != first.Conversation.ID {
		t.Fatalf("second = %+v", second)
	}
	conv, _ := s.Conversation(ctx, org.ID, first.Conversation.ID)
	if conv.MessageCount != 2 || !conv.LastInboundAt.Equal(c.Now()) {
		t.Fatalf("conversation = %+v", conv)
	}
	ct, _ := s.Contact(ctx, org.ID, first.Contact.ID)
	if ct.ProfileName != "João S." {
		t.Fatalf("profile name not updated: %+v", ct)
	}
	page, err := s.ConversationMessages(ctx, org.ID, conv.ID, "", 1)
	if err != nil || len(page.Items) != 1 || page.Items[0].WAMID != "wamid.1" || page.NextCursor == "" {
		t.Fatalf("page 1 = %+v %v", page, err)
	}
	page2, err := s.ConversationMessages(ctx, org.ID, conv.ID, page.NextCursor, 1)
	if err != nil || len(page2.Items) != 1 || page2.Items[0].WAMID != "wamid.2" {
		t.Fatalf("page 2 = %+v %v", page2, err)
	}
	if string(page2.Items[0].Raw) == "" {
		t.Fatal("raw JSON not kept")
	}
}

func TestRecordInboundDuplicates(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	in := text(org.ID, "wamid.dup", "5511777777777", "Ana", c.Now())

	// Concurrent redeliveries: exactly one stores.
	var wg sync.WaitGroup
	var stored atomic.Int32
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.RecordInbound(ctx, in)
			if err == nil && !r.Duplicate {
				stored.Add(1)
			}
		}()
	}
	wg.Wait()
	if stored.Load() != 1 {
		t.Fatalf("stored %d times", stored.Load())
	}

	// Within the lease, with events pending: retry later.
	_, err := s.RecordInbound(ctx, in)
	if !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("duplicate within lease: %v", err)
	}
	// After the lease the duplicate carries what is needed to publish.
	c.Add(store.EventLease + time.Second)
	r, err := s.RecordInbound(ctx, in)
	if err != nil || !r.Duplicate || !r.EventsPending || r.Message.WAMID != "wamid.dup" || r.Contact.ID == "" {
		t.Fatalf("duplicate after lease = %+v %v", r, err)
	}
	if err := s.MarkEventsSent(ctx, org.ID, in.WAMID); err != nil {
		t.Fatal(err)
	}
	r, err = s.RecordInbound(ctx, in)
	if err != nil || !r.Duplicate || r.EventsPending {
		t.Fatalf("duplicate after events sent = %+v %v", r, err)
	}
}

func TestIdentityIsNotThePhoneAlone(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	// A username user: BSUID only.
	in := text(org.ID, "wamid.b1", "", "User", c.Now())
	in.From.UserID = "US.13491208655302741918"
	a, err := s.RecordInbound(ctx, in)
	if err != nil || !a.ContactCreated {
		t.Fatalf("bsuid-only: %+v %v", a, err)
	}
	// The same person later seen with a phone: same contact, phone added.
	in2 := text(org.ID, "wamid.b2", "5511666666666", "User", c.Now())
	in2.From.UserID = "US.13491208655302741918"
	b, err := s.RecordInbound(ctx, in2)
	if err != nil || b.ContactCreated || b.Contact.ID != a.Contact.ID || b.Contact.WhatsAppID != "5511666666666" {
		t.Fatalf("phone added: %+v %v", b, err)
	}
	// Found by phone alone now too.
	c3, err := s.RecordInbound(ctx, text(org.ID, "wamid.b3", "5511666666666", "User", c.Now()))
	if err != nil || c3.Contact.ID != a.Contact.ID {
		t.Fatalf("by phone: %+v %v", c3, err)
	}
	// user_changed_number: the same contact moves to the new number.
	moved, err := s.ChangeIdentity(ctx, org.ID, store.Identity{WaID: "5511666666666"}, store.Identity{WaID: "5511555555555"})
	if err != nil || moved.ID != a.Contact.ID || moved.WhatsAppID != "5511555555555" {
		t.Fatalf("change number: %+v %v", moved, err)
	}
	d, err := s.RecordInbound(ctx, text(org.ID, "wamid.b4", "5511555555555", "User", c.Now()))
	if err != nil || d.ContactCreated || d.Contact.ID != a.Contact.ID {
		t.Fatalf("after number change: %+v %v", d, err)
	}
	// The old number is free: writing from it is a new person.
	e, err := s.RecordInbound(ctx, text(org.ID, "wamid.b5", "5511666666666", "Other", c.Now()))
	if err != nil || !e.ContactCreated {
		t.Fatalf("old number reused: %+v %v", e, err)
	}
	if _, err := s.ChangeIdentity(ctx, org.ID, store.Identity{WaID: "000"}, store.Identity{WaID: "111"}); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown old identity: %v", err)
	}
}

func TestWritesPerInboundText(t *testing.T) {
	tbl, c := newTable(t)
	cnt := &counting{DB: tbl.Client}
	s := store.New(cnt, tbl.Name, c.Now)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	if _, err := s.RecordInbound(ctx, text(org.ID, "wamid.w1", "5511444444444", "X", c.Now())); err != nil {
		t.Fatal(err)
	}
	cnt.items.Store(0)
	cnt.requests.Store(0)
	// The common case: a known contact writing into their open conversation.
	if _, err := s.RecordInbound(ctx, text(org.ID, "wamid.w2", "5511444444444", "X", c.Now())); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkEventsSent(ctx, org.ID, "wamid.w2"); err != nil {
		t.Fatal(err)
	}
	// wamid item + message + conversation update, then clearing events_pending.
	if got := cnt.items.Load(); got != 4 {
		t.Fatalf("item writes per inbound text = %d, want 4", got)
	}
	if got := cnt.requests.Load(); got != 2 {
		t.Fatalf("write requests per inbound text = %d, want 2", got)
	}
	t.Logf("inbound text, known contact: %d item writes in %d requests", cnt.items.Load(), cnt.requests.Load())
}

func outbound(t *testing.T, s *store.Store, org string, c *clock, wamid string) store.Message {
	t.Helper()
	ctx := context.Background()
	in, err := s.RecordInbound(ctx, text(org, "wamid.in."+wamid, "5511333333333", "Y", c.Now()))
	if err != nil {
		t.Fatal(err)
	}
	m := store.Message{
		ID: id.New(id.Message, c.Now()), OrgID: org, ConversationID: in.Conversation.ID, ContactID: in.Contact.ID,
		Direction: store.Outbound, WAMID: wamid, Type: "text", Content: json.RawMessage(`{"text":"hi"}`),
		Status: store.StatusAccepted, Timestamp: c.Now(), CreatedAt: c.Now(),
	}
	if err := s.InsertMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestStatusesOnlyMoveForward(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	t0 := c.Now()
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	tests := []struct {
		name                    string
		arrivals                []string
		final                   string
		applied                 int
		delivered, read, failed bool
	}{
		{"in order", []string{"sent", "delivered", "read"}, "read", 3, true, true, false},
		{"reversed", []string{"read", "delivered", "sent"}, "read", 3, true, true, false},
		{"read implies delivered", []string{"sent", "read"}, "read", 2, true, true, false},
		{"duplicates", []string{"sent", "sent", "delivered", "delivered"}, "delivered", 2, true, false, false},
		{"failed is kept after late delivered", []string{"sent", "failed", "delivered"}, "failed", 3, true, false, true},
		{"failed erases nothing", []string{"delivered", "failed"}, "failed", 2, true, false, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := outbound(t, s, org.ID, c, "wamid.out."+string(rune('a'+i)))
			applied := 0
			for j, st := range tt.arrivals {
				u := store.StatusUpdate{OrgID: org.ID, WAMID: m.WAMID, Status: st, Timestamp: at(j + 1), PricingCategory: "utility"}
				if st == "failed" {
					u.Error = &store.MessageError{Code: 131026, Title: "Message undeliverable", Details: "x"}
				}
				r, err := s.ApplyStatus(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				if r.Applied {
					applied++
					if err := s.MarkStatusEventsSent(ctx, org.ID, m.ID, st); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, err := s.Message(ctx, org.ID, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.final || applied != tt.applied || len(got.Timeline) != tt.applied {
				t.Fatalf("status %s applied %d timeline %d; want %s %d", got.Status, applied, len(got.Timeline), tt.final, tt.applied)
			}
			if (got.DeliveredAt != nil) != tt.delivered || (got.ReadAt != nil) != tt.read || (got.FailedAt != nil) != tt.failed {
				t.Fatalf("timestamps: %+v", got)
			}
			if tt.failed && (got.Error == nil || got.Error.Code != 131026) {
				t.Fatalf("failure not recorded: %+v", got.Error)
			}
			if got.PricingCategory != "utility" {
				t.Fatalf("pricing category: %q", got.PricingCategory)
			}
		})
	}
}

func TestConcurrentStatusesSettleOnHighest(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	m := outbound(t, s, org.ID, c, "wamid.conc")
	var wg sync.WaitGroup
	for _, st := range []string{"read", "sent", "delivered", "sent", "read", "delivered"} {
		wg.Add(1)
		go func(st string) {
			defer wg.Done()
			_, _ = s.ApplyStatus(ctx, store.StatusUpdate{OrgID: org.ID, WAMID: m.WAMID, Status: st, Timestamp: c.Now()})
		}(st)
	}
	wg.Wait()
	got, _ := s.Message(ctx, org.ID, m.ID)
	if got.Status != "read" || len(got.Timeline) != 3 {
		t.Fatalf("status %s timeline %d", got.Status, len(got.Timeline))
	}
}

func TestUnknownWamidStatusIsRecorded(t *testing.T) {
	s, c, _ := newStore(t)
	org, _ := s.CreateOrganization(context.Background(), "A")
	r, err := s.ApplyStatus(context.Background(), store.StatusUpdate{OrgID: org.ID, WAMID: "wamid.nobody", Status: "sent", Timestamp: c.Now()})
	if err != nil || !r.Unknown || r.Applied {
		t.Fatalf("unknown wamid: %+v %v", r, err)
	}
}

func TestCursorFromAnotherConversationIsRefused(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	a, _ := s.CreateOrganization(ctx, "A")
	b, _ := s.CreateOrganization(ctx, "B")
	ra, _ := s.RecordInbound(ctx, text(a.ID, "wamid.c1", "551100", "A", c.Now()))
	_, _ = s.RecordInbound(ctx, text(a.ID, "wamid.c2", "551100", "A", c.Now()))
	rb, _ := s.RecordInbound(ctx, text(b.ID, "wamid.c3", "551100", "B", c.Now()))
	page, _ := s.ConversationMessages(ctx, a.ID, ra.Conversation.ID, "", 1)
	if page.NextCursor == "" {
		t.Fatal("no cursor")
	}
	_, err := s.ConversationMessages(ctx, b.ID, rb.Conversation.ID, page.NextCursor, 1)
	if !apperr.Is(err, apperr.Unprocessable) {
		t.Fatalf("foreign cursor: %v", err)
	}
	if _, err := s.ConversationMessages(ctx, b.ID, ra.Conversation.ID, "", 1); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("B reads A's conversation: %v", err)
	}
	if _, err := s.Message(ctx, b.ID, ra.Message.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("B reads A's message: %v", err)
	}
}

// A status whose event was never confirmed published is handed out again
// to a later redelivery (after the lease), so the event is not lost.
func TestStatusEventsPendingAreRedelivered(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	m := outbound(t, s, org.ID, c, "wamid.pending")
	u := store.StatusUpdate{OrgID: org.ID, WAMID: m.WAMID, Status: "delivered", Timestamp: c.Now()}
	if r, err := s.ApplyStatus(ctx, u); err != nil || !r.Applied {
		t.Fatalf("first: %+v %v", r, err)
	}
	// The publish failed; Meta retries at once: the first may still be publishing.
	if _, err := s.ApplyStatus(ctx, u); apperr.KindOf(err) != apperr.Unavailable {
		t.Fatalf("retry within the lease: %v", err)
	}
	c.Add(store.EventLease + time.Second)
	r, err := s.ApplyStatus(ctx, u)
	if err != nil || !r.Applied || r.Message.ID != m.ID {
		t.Fatalf("retry after the lease: %+v %v", r, err)
	}
	if err := s.MarkStatusEventsSent(ctx, org.ID, m.ID, "delivered"); err != nil {
		t.Fatal(err)
	}
	if r, err := s.ApplyStatus(ctx, u); err != nil || r.Applied {
		t.Fatalf("after publishing: %+v %v", r, err)
	}
}
