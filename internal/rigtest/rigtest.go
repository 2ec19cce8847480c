// Package rigtest builds PyTake in one process for tests that run its
// functions together (the cost model's request counts, the fault suite):
// the real store on the in-process table (storetest) behind the table's
// stream of outbox items (storetest.Stream), an organisation with a
// WhatsApp number, an API key and a subscription to every event, and the
// functions' handlers wired as their main packages wire them (the WhatsApp
// webhook, the sender, the dispatcher with the chatbot, the outbox relay,
// the /v1 API). What stands for AWS and Meta (SQS, the events topic,
// Secrets Manager, the Graph API, the subscriber's endpoint) is the
// caller's: a test that counts requests and one that injects faults bring
// their own.
//
// Only tests import it; no function binary links it.
package rigtest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/botrun"
	"github.com/pytake/pytake/internal/delivery"
	"github.com/pytake/pytake/internal/dispatch"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/inbound"
	"github.com/pytake/pytake/internal/outbox"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/sender"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
	"github.com/pytake/pytake/internal/whatsapp"
)

// The organisation's WhatsApp number and credentials.
const (
	PhoneID      = "106540352242922"
	WABAID       = "102290129340398"
	VerifyToken  = "verify-token-0123456789"
	AccessToken  = "EAAG-rig"
	GraphVersion = "v26.0"
)

// The queues, by name (QueueURL, QueueARN), as in a stack named pytake.
const (
	EventsQueue     = "pytake-EventsQueue"
	EventsDLQ       = "pytake-EventsDLQ"
	DeliveriesQueue = "pytake-DeliveriesQueue"
	DeliveriesDLQ   = "pytake-DeliveriesDLQ"
	OutboundQueue   = "pytake-outbound.fifo"
	OutboundDLQ     = "pytake-outbound-dlq.fifo"
	region, account = "us-east-1", "123456789012"
)

// QueueURL is the URL of the queue named name.
func QueueURL(name string) string {
	return "https://sqs." + region + ".amazonaws.com/" + account + "/" + name
}

// QueueARN is the ARN of the queue named name (an SQS record's
// EventSourceARN).
func QueueARN(name string) string { return "arn:aws:sqs:" + region + ":" + account + ":" + name }

// Secrets reads an organisation's secrets (secrets.Store,
// secretstest.Store).
type Secrets interface {
	Get(ctx context.Context, orgID, provider string, v any) error
	Forget(orgID, provider string)
}

// Options is what stands for AWS and Meta, and what a test changes in the
// functions' wiring.
type Options struct {
	Name string // the organisation's (and its API key's)
	// Client is the table's client under the stream (a client that
	// counts requests, say); nil: the table's own.
	Client func(*storetest.Table) store.DB
	// Wrap, when set, stands between the store and the stream (faults
	// injected on the store's calls); the rig's Raw store bypasses it.
	Wrap func(store.DB) store.DB
	Now  func() time.Time // nil: time.Now
	Log  *slog.Logger     // nil: discarded
	// SetSecret stores a secret of the organisation; Secrets is the
	// secrets reader of a function ("whatsapp-webhook", "sender",
	// "dispatcher", "api"): each its own cache, or one for all.
	SetSecret func(orgID, provider string, v any)
	Secrets   func(function string) Secrets
	AppSecret string
	SQS       queue.API
	// Events is where events are published: the events topic; nil:
	// straight onto the events queue.
	Events event.Sink
	Graph  sender.Graph
	// Endpoint is the URL of the organisation's subscription to every
	// event.
	Endpoint string
	// Chatbot: the dispatcher runs the chatbot (botrun) on every event it
	// fans out, as in main.
	Chatbot bool
	// Sender, Dispatch and API, when set, change a function's wiring
	// before it is built (the API's is given the rig built so far).
	Sender   func(*sender.Deps)
	Dispatch func(*dispatch.Deps)
	API      func(*Rig, *api.Deps)
	// Relay, when set, changes the outbox relay's Enqueuer (main gives it
	// the organisations' admission and the contacts' lanes on the table).
	Relay func(*Rig, *sender.Enqueuer)
}

// Rig is PyTake in one process.
type Rig struct {
	Table  *storetest.Table
	Stream *storetest.Stream // the table's stream of outbox items
	Store  *store.Store
	Raw    *store.Store // the same table without Options.Wrap
	Org    string
	Key    string // a live API key with the admin scope
	Hook   store.Webhook
	Events *event.Publisher
	// The functions.
	WhatsApp   *inbound.Webhook
	Sender     *sender.Sender
	Dispatcher *dispatch.Dispatcher
	Relay      *outbox.Relay
	API        *api.Server
}

// New builds a rig. The organisation is set up through Store (with
// Options.Wrap in the way: a test injecting faults holds them off until
// New returns).
func New(t testing.TB, o Options) *Rig {
	t.Helper()
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tbl := storetest.New(t)
	var db store.DB = tbl.Client
	if o.Client != nil {
		db = o.Client(tbl)
	}
	r := &Rig{Table: tbl, Stream: storetest.NewStream(db)}
	var st store.DB = r.Stream
	if o.Wrap != nil {
		st = o.Wrap(st)
	}
	r.Store = store.New(st, tbl.Name, o.Now)
	r.Raw = store.New(tbl.Client, tbl.Name, o.Now)

	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("rigtest: %v", err)
		}
	}
	org, err := r.Store.CreateOrganization(ctx, o.Name)
	must(err)
	r.Org = org.ID
	_, r.Key, err = r.Store.IssueKey(ctx, org.ID, o.Name, apikey.Live, apikey.ScopeAdmin)
	must(err)
	_, err = r.Store.PutWhatsAppAccount(ctx, store.WhatsAppAccount{OrgID: org.ID, PhoneNumberID: PhoneID, WABAID: WABAID,
		VerifyTokenHash: whatsapp.HashVerifyToken(VerifyToken)})
	must(err)
	o.SetSecret(org.ID, secrets.ProviderWhatsApp, inbound.Credentials{PhoneNumberID: PhoneID, AppSecret: o.AppSecret,
		VerifyToken: VerifyToken, AccessToken: AccessToken})
	r.Hook, err = r.Store.CreateWebhook(ctx, store.Webhook{OrgID: org.ID, URL: o.Endpoint, Events: []string{"*"}, Active: true})
	must(err)
	whsec, err := delivery.NewSecret()
	must(err)
	o.SetSecret(org.ID, secrets.ProviderWebhook(r.Hook.ID), secrets.WebhookSecrets{Version: r.Hook.SecretVersion,
		Secrets: []secrets.SigningSecret{{Secret: whsec, CreatedAt: o.Now().Add(-time.Hour)}}})

	events := queue.New(o.SQS, QueueURL(EventsQueue), "event")
	sink := o.Events
	if sink == nil {
		sink = events
	}
	r.Events = event.NewPublisher(sink)
	outQ := queue.New(o.SQS, QueueURL(OutboundQueue), "outbound")

	r.WhatsApp = inbound.New(r.Store, o.Secrets("whatsapp-webhook"), r.Events, log, o.Now)

	sd := sender.Deps{Store: r.Store, Secrets: o.Secrets("sender"), Graph: o.Graph, Queue: outQ, Events: r.Events,
		DeadLetter: queue.New(o.SQS, QueueURL(OutboundDLQ), "outbound dead-letter"), GraphVersion: GraphVersion,
		RatePerSecond: 1000, Log: log, Now: o.Now}
	if o.Sender != nil {
		o.Sender(&sd)
	}
	r.Sender = sender.New(sd)

	dd := dispatch.Deps{Store: r.Store, Secrets: o.Secrets("dispatcher"), Events: events,
		Deliveries:     queue.New(o.SQS, QueueURL(DeliveriesQueue), "deliveries"),
		DeadDeliveries: queue.New(o.SQS, QueueURL(DeliveriesDLQ), "deliveries dead-letter"),
		HTTP:           delivery.NewClient(delivery.ClientOptions{AllowLoopback: true, Timeout: 5 * time.Second}),
		Log:            log, Now: o.Now}
	if o.Chatbot {
		bots := botrun.New(r.Store, r.Events, log, o.Now)
		dd.React = func(ctx context.Context, ev event.Event) error {
			_, err := bots.React(ctx, ev)
			return err
		}
	}
	if o.Dispatch != nil {
		o.Dispatch(&dd)
	}
	r.Dispatcher = dispatch.New(dd)

	enq := sender.Enqueuer{Queue: outQ}
	if o.Relay != nil {
		o.Relay(r, &enq)
	}
	r.Relay = outbox.New(r.Events, enq, log)

	ad := api.Deps{Store: r.Store, Secrets: o.Secrets("api"), Contacts: r.Store, Conversations: r.Store, Events: r.Events,
		Sending: true, Log: log, Now: o.Now}
	if o.API != nil {
		o.API(r, &ad)
	}
	r.API = api.New(ad)
	return r
}
