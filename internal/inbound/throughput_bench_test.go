package inbound_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/inbound"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
	"github.com/pytake/pytake/internal/whatsapp"
)

// latencyStore is the store with the status path's calls costing what
// DynamoDB costs (storeLatency each) and every status applied (moving
// forward): the benchmark measures the path's calls, not a database.
type latencyStore struct {
	*store.Store
	calls atomic.Int64
}

const (
	storeLatency   = 5 * time.Millisecond
	publishLatency = 10 * time.Millisecond // SNS
)

func (s *latencyStore) ApplyStatus(_ context.Context, u store.StatusUpdate) (store.StatusResult, error) {
	time.Sleep(storeLatency)
	s.calls.Add(1)
	return store.StatusResult{Applied: true, Message: store.Message{ID: "msg_1", OrgID: u.OrgID, ContactID: "ct_1",
		ConversationID: "cv_1", Direction: store.Outbound, WAMID: u.WAMID, Status: u.Status,
		// The copy of its contact and conversation a message keeps since
		// it was accepted: the event reads only what rare operations
		// changed since (EventContext, below).
		Context: &store.MessageContext{Contact: store.Contact{ID: "ct_1"}, Conversation: store.Conversation{ID: "cv_1"}}}}, nil
}

// EventContext is the copy with its conversation's event view and its
// contact's merge redirect: one BatchGetItem.
func (s *latencyStore) EventContext(_ context.Context, m store.Message) (store.Contact, store.Conversation, error) {
	time.Sleep(storeLatency)
	s.calls.Add(1)
	return m.Context.Contact, m.Context.Conversation, nil
}

func (s *latencyStore) MarkStatusEventsSent(context.Context, string, string, string) error {
	time.Sleep(storeLatency)
	s.calls.Add(1)
	return nil
}

type slowPublisher struct{}

func (slowPublisher) Publish(context.Context, ...event.Event) error {
	time.Sleep(publishLatency)
	return nil
}

// BenchmarkStatusThroughput: Meta's status webhooks through the whole
// handler (signature, routing, parse, apply, the event published), each
// store call 5 ms and the SNS publish 10 ms; one body at a time, as one
// function instance takes them. statuses/s is per invocation, hence per
// concurrent instance.
//
//	go test -run '^$' -bench StatusThroughput -benchtime 40x ./internal/inbound/
func BenchmarkStatusThroughput(b *testing.B) {
	tbl := storetest.New(b)
	st := store.New(tbl.Client, tbl.Name, time.Now)
	ctx := context.Background()
	org, err := st.CreateOrganization(ctx, "Bench")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.PutWhatsAppAccount(ctx, store.WhatsAppAccount{OrgID: org.ID, PhoneNumberID: phoneID, WABAID: wabaID,
		VerifyTokenHash: whatsapp.HashVerifyToken(verifyToken)}); err != nil {
		b.Fatal(err)
	}
	sec := secretstest.New()
	sec.Set(org.ID, inbound.Provider, inbound.Credentials{PhoneNumberID: phoneID, AppSecret: appSecret, VerifyToken: verifyToken, AccessToken: "EAAG"})
	ls := &latencyStore{Store: st}
	router := inbound.New(ls, sec, slowPublisher{}, slog.New(slog.NewJSONHandler(io.Discard, nil)), time.Now).Router()
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("%d_per_body", n), func(b *testing.B) {
			body := statusesBody(n)
			f := &fixture{t: &testing.T{}, router: router}
			_ = f.postSigned(body) // routes and secret cached, as in a warm instance
			ls.calls.Store(0)
			start := time.Now()
			for b.Loop() {
				if resp := f.postSigned(body); resp.StatusCode != 200 {
					b.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
				}
			}
			el := time.Since(start)
			b.ReportMetric(float64(b.N*n)/el.Seconds(), "statuses/s")
			b.ReportMetric(float64(ls.calls.Load())/float64(b.N*n), "store-calls/status")
		})
	}
}

// statusesBody is one webhook body with n statuses (sent, delivered, read
// of one message, as Meta may batch them).
func statusesBody(n int) []byte {
	sts := ""
	for i, s := range []string{"sent", "delivered", "read"}[:n] {
		if i > 0 {
			sts += ","
		}
		sts += `{"id":"wamid.BENCH","status":"` + s + `","timestamp":"` + fmt.Sprint(1764700000+i) + `","recipient_id":"5511777777777"}`
	}
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"` + wabaID + `","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":"` + phoneID + `"},"statuses":[` + sts + `]}}]}]}`)
}
