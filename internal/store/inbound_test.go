package store_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
	"github.com/pytake/pytake/internal/store"
)

// counting wraps the client and counts item writes (a transaction counts
// each of its items) and write requests.
type counting struct {
	store.DB
	items, requests atomic.Int64
	reads           atomic.Int64 // GetItem requests
}

func (c *counting) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.reads.Add(1)
	return c.DB.GetItem(ctx, in, o...)
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
	require.NoError(t, err)
	require.True(t, first.ContactCreated, "first = %+v", first)
	require.True(t, first.ConversationCreated, "first")
	require.False(t, first.Duplicate, "first")
	require.True(t, first.EventsPending, "first")
	require.Equal(t, "5511888888888", first.Contact.WhatsAppID, "contact = %+v", first.Contact)
	require.Equal(t, "João", first.Contact.ProfileName, "contact")
	c.Add(time.Minute)
	second, err := s.RecordInbound(ctx, text(org.ID, "wamid.2", "5511888888888", "João S.", c.Now()))
	require.NoError(t, err)
	require.False(t, second.ContactCreated, "second = %+v", second)
	require.False(t, second.ConversationCreated, "second")
	require.Equal(t, first.Contact.ID, second.Contact.ID, "second")
	require.Equal(t, first.Conversation.ID, second.Conversation.ID, "second")
	conv, _ := s.Conversation(ctx, org.ID, first.Conversation.ID)
	require.Equal(t, 2, conv.MessageCount, "conversation = %+v", conv)
	require.True(t, conv.LastInboundAt.Equal(c.Now()), "conversation")
	ct, _ := s.Contact(ctx, org.ID, first.Contact.ID)
	require.Equal(t, "João S.", ct.ProfileName, "profile name not updated: %+v", ct)
	page, err := s.ConversationMessages(ctx, org.ID, conv.ID, "", 1)
	require.NoError(t, err, "page 1 = %+v %v", page, err)
	require.Len(t, page.Items, 1, "page 1")
	require.Equal(t, "wamid.1", page.Items[0].WAMID, "page 1")
	require.NotEmpty(t, page.NextCursor, "page 1")
	page2, err := s.ConversationMessages(ctx, org.ID, conv.ID, page.NextCursor, 1)
	require.NoError(t, err, "page 2 = %+v %v", page2, err)
	require.Len(t, page2.Items, 1, "page 2")
	require.Equal(t, "wamid.2", page2.Items[0].WAMID, "page 2")
	require.NotEmpty(t, string(page2.Items[0].Raw), "raw JSON not kept")
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
	require.Equal(t, int32(1), stored.Load(), "stored %d times", stored.Load())

	// With events pending, the duplicate carries what is needed to publish
	// them (by the same ids: deduplicated downstream).
	r, err := s.RecordInbound(ctx, in)
	require.NoError(t, err, "duplicate after lease = %+v %v", r, err)
	require.True(t, r.Duplicate, "duplicate after lease")
	require.True(t, r.EventsPending, "duplicate after lease")
	require.Equal(t, "wamid.dup", r.Message.WAMID, "duplicate after lease")
	require.NotEmpty(t, r.Contact.ID, "duplicate after lease")
	require.NoError(t, s.MarkEventsSent(ctx, org.ID, in.WAMID))
	r, err = s.RecordInbound(ctx, in)
	require.NoError(t, err, "duplicate after events sent = %+v %v", r, err)
	require.True(t, r.Duplicate, "duplicate after events sent")
	require.False(t, r.EventsPending, "duplicate after events sent")
}

func TestIdentityIsNotThePhoneAlone(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	// A username user: BSUID only.
	in := text(org.ID, "wamid.b1", "", "User", c.Now())
	in.From.UserID = "US.13491208655302741918"
	a, err := s.RecordInbound(ctx, in)
	require.NoError(t, err, "bsuid-only: %+v %v", a, err)
	require.True(t, a.ContactCreated, "bsuid-only")
	// The same person later seen with a phone: same contact, phone added.
	in2 := text(org.ID, "wamid.b2", "5511666666666", "User", c.Now())
	in2.From.UserID = "US.13491208655302741918"
	b, err := s.RecordInbound(ctx, in2)
	require.NoError(t, err, "phone added: %+v %v", b, err)
	require.False(t, b.ContactCreated, "phone added")
	require.Equal(t, a.Contact.ID, b.Contact.ID, "phone added")
	require.Equal(t, "5511666666666", b.Contact.WhatsAppID, "phone added")
	// Found by phone alone now too.
	c3, err := s.RecordInbound(ctx, text(org.ID, "wamid.b3", "5511666666666", "User", c.Now()))
	require.NoError(t, err, "by phone: %+v %v", c3, err)
	require.Equal(t, a.Contact.ID, c3.Contact.ID, "by phone")
	// user_changed_number: the same contact moves to the new number.
	moved, err := s.ChangeIdentity(ctx, org.ID, store.Identity{WaID: "5511666666666"}, store.Identity{WaID: "5511555555555"})
	require.NoError(t, err, "change number: %+v %v", moved, err)
	require.Equal(t, a.Contact.ID, moved.ID, "change number")
	require.Equal(t, "5511555555555", moved.WhatsAppID, "change number")
	d, err := s.RecordInbound(ctx, text(org.ID, "wamid.b4", "5511555555555", "User", c.Now()))
	require.NoError(t, err, "after number change: %+v %v", d, err)
	require.False(t, d.ContactCreated, "after number change")
	require.Equal(t, a.Contact.ID, d.Contact.ID, "after number change")
	// The old number is free: writing from it is a new person.
	e, err := s.RecordInbound(ctx, text(org.ID, "wamid.b5", "5511666666666", "Other", c.Now()))
	require.NoError(t, err, "old number reused: %+v %v", e, err)
	require.True(t, e.ContactCreated, "old number reused")
	_, err = s.ChangeIdentity(ctx, org.ID, store.Identity{WaID: "000"}, store.Identity{WaID: "111"})
	require.True(t, apperr.Is(err, apperr.NotFound), "unknown old identity: %v", err)
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
	_, err := s.RecordInbound(ctx, text(org.ID, "wamid.w2", "5511444444444", "X", c.Now()))
	require.NoError(t, err)
	require.NoError(t, s.MarkEventsSent(ctx, org.ID, "wamid.w2"))
	// wamid item + message + conversation update, then clearing events_pending.
	if got := cnt.items.Load(); got != 4 {
		t.Fatalf("item writes per inbound text = %d, want 4", got)
	}
	got := cnt.requests.Load()
	require.Equal(t, int64(2), got, "write requests per inbound text = %d, want 2", got)
	t.Logf("inbound text, known contact: %d item writes in %d requests", cnt.items.Load(), cnt.requests.Load())
}

func outbound(t *testing.T, s *store.Store, org string, c *clock, wamid string) store.Message {
	t.Helper()
	ctx := context.Background()
	in, err := s.RecordInbound(ctx, text(org, "wamid.in."+wamid, "5511333333333", "Y", c.Now()))
	require.NoError(t, err)
	m := store.Message{
		ID: id.New(id.Message, c.Now()), OrgID: org, ConversationID: in.Conversation.ID, ContactID: in.Contact.ID,
		Direction: store.Outbound, WAMID: wamid, Type: "text", Content: json.RawMessage(`{"text":"hi"}`),
		Status: store.StatusAccepted, Timestamp: c.Now(), CreatedAt: c.Now(),
	}
	require.NoError(t, s.InsertMessage(ctx, m))
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
				require.NoError(t, err)
				if r.Applied {
					applied++
					require.NoError(t, s.MarkStatusEventsSent(ctx, org.ID, m.ID, st))
				}
			}
			got, err := s.Message(ctx, org.ID, m.ID)
			require.NoError(t, err)
			require.Equal(t, tt.final, got.Status, "status %s applied %d timeline %d; want %s %d", got.Status, applied, len(got.Timeline), tt.final, tt.applied)
			require.Equal(t, tt.applied, applied, "status %s applied %d timeline %d; want %s %d", got.Status, applied, len(got.Timeline), tt.final, tt.applied)
			require.Len(t, got.Timeline, tt.applied, "status %s applied %d timeline %d; want %s %d", got.Status, applied, len(got.Timeline), tt.final, tt.applied)
			require.Equal(t, tt.delivered, got.DeliveredAt != nil, "timestamps: %+v", got)
			require.Equal(t, tt.read, got.ReadAt != nil, "timestamps")
			require.Equal(t, tt.failed, got.FailedAt != nil, "timestamps")
			if tt.failed && (got.Error == nil || got.Error.Code != 131026) {
				t.Fatalf("failure not recorded: %+v", got.Error)
			}
			require.Equal(t, "utility", got.PricingCategory, "pricing category: %q", got.PricingCategory)
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
	require.Equal(t, "read", got.Status, "status %s timeline %d", got.Status, len(got.Timeline))
	require.Len(t, got.Timeline, 3, "status %s timeline %d", got.Status, len(got.Timeline))
}

func TestUnknownWamidStatusIsRecorded(t *testing.T) {
	s, c, _ := newStore(t)
	org, _ := s.CreateOrganization(context.Background(), "A")
	r, err := s.ApplyStatus(context.Background(), store.StatusUpdate{OrgID: org.ID, WAMID: "wamid.nobody", Status: "sent", Timestamp: c.Now()})
	require.NoError(t, err, "unknown wamid: %+v %v", r, err)
	require.True(t, r.Unknown, "unknown wamid")
	require.False(t, r.Applied, "unknown wamid")
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
	require.NotEmpty(t, page.NextCursor, "no cursor")
	_, err := s.ConversationMessages(ctx, b.ID, rb.Conversation.ID, page.NextCursor, 1)
	require.True(t, apperr.Is(err, apperr.Unprocessable), "foreign cursor: %v", err)
	_, err = s.ConversationMessages(ctx, b.ID, ra.Conversation.ID, "", 1)
	require.True(t, apperr.Is(err, apperr.NotFound), "B reads A's conversation: %v", err)
	_, err = s.Message(ctx, b.ID, ra.Message.ID)
	require.True(t, apperr.Is(err, apperr.NotFound), "B reads A's message: %v", err)
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
	// The publish failed (or is under way); Meta retries at once: the retry
	// publishes the status's events (by the same ids).
	r, err := s.ApplyStatus(ctx, u)
	require.NoError(t, err, "retry after the lease: %+v %v", r, err)
	require.True(t, r.Applied, "retry after the lease")
	require.Equal(t, m.ID, r.Message.ID, "retry after the lease")
	require.NoError(t, s.MarkStatusEventsSent(ctx, org.ID, m.ID, "delivered"))
	r, err = s.ApplyStatus(ctx, u)
	require.NoError(t, err, "after publishing: %+v %v", r, err)
	require.False(t, r.Applied, "after publishing")
}
