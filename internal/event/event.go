// Package event is what PyTake tells integrators: the event envelope (the
// integrations guide's format plus a stable id) and the publisher that puts
// events on the events queue for the dispatcher.
package event

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pytake/pytake/internal/metrics"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/store"
)

// Event names.
const (
	MessageReceived      = "message.received"
	MessageSent          = "message.sent"
	MessageDelivered     = "message.delivered"
	MessageRead          = "message.read"
	MessageFailed        = "message.failed"
	ContactCreated       = "contact.created"
	ContactUpdated       = "contact.updated"
	ContactMerged        = "contact.merged" // Meta showed two contacts are one person
	ContactOptedOut      = "contact.opted_out"
	CampaignStarted      = "campaign.started"
	CampaignCompleted    = "campaign.completed"
	ConversationCreated  = "conversation.created"
	ConversationResolved = "conversation.resolved"
	ConversationHandoff  = "conversation.handoff"
	WebhookTest          = "webhook.test"
	OrderCreated         = "order.created" // a Shopify or WooCommerce order, first seen
	OrderUpdated         = "order.updated" // a handled Shopify topic or a WooCommerce status change
	// WhatsAppPrefix prefixes events for other Meta webhook fields
	// (whatsapp.message_template_status_update, ...).
	WhatsAppPrefix = "whatsapp."
)

// Event is one thing that happened, exactly as integrators receive it:
// {"id","event","timestamp","organization_id","data":{...}}.
type Event struct {
	ID             string          `json:"id"`
	Event          string          `json:"event"`
	Timestamp      time.Time       `json:"timestamp"`
	OrganizationID string          `json:"organization_id"`
	Data           json.RawMessage `json:"data"`
}

// New builds an event, serialising data once.
func New(id, name, org string, at time.Time, data any) (Event, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("event: encode %s data: %w", name, err)
	}
	return Event{ID: id, Event: name, Timestamp: at.UTC().Truncate(time.Second), OrganizationID: org, Data: b}, nil
}

// Sink is where events are handed over: the events topic (a
// queue.Topic), which fans them out to each consumer's own queue (the
// dispatcher's, each CRM's), or a single queue.
type Sink interface {
	Send(ctx context.Context, msgs ...queue.Message) error
}

// Publisher sends events to the events topic.
type Publisher struct{ queue Sink }

// NewPublisher returns a publisher handing events to s.
func NewPublisher(s Sink) *Publisher { return &Publisher{queue: s} }

// EachSink is a Sink that answers each message's error (queue.Topic,
// queue.Queue: SendEach).
type EachSink interface {
	SendEach(ctx context.Context, msgs ...queue.Message) []error
}

// Publish sends every event (with its name and organisation as message
// attributes, which the consumers' subscriptions filter on). It fails if any event could not be sent, so the caller can
// answer 5xx and have its input retried.
func (p *Publisher) Publish(ctx context.Context, events ...Event) error {
	if err := p.queue.Send(ctx, messages(events)...); err != nil {
		return err
	}
	metrics.From(ctx).Count(metrics.EventsPublished, len(events))
	return nil
}

// PublishEach sends every event as Publish does and answers each one's
// error, nil for the sent (outbox.BatchPublisher): with a Sink that is
// not an EachSink, every event has the one error of the whole send.
func (p *Publisher) PublishEach(ctx context.Context, events ...Event) []error {
	var errs []error
	if s, ok := p.queue.(EachSink); ok {
		errs = s.SendEach(ctx, messages(events)...)
	} else {
		err := p.queue.Send(ctx, messages(events)...)
		errs = make([]error, len(events))
		for i := range errs {
			errs[i] = err
		}
	}
	sent := 0
	for _, err := range errs {
		if err == nil {
			sent++
		}
	}
	metrics.From(ctx).Count(metrics.EventsPublished, sent)
	return errs
}

// messages are the events as messages to the topic.
func messages(events []Event) []queue.Message {
	msgs := make([]queue.Message, len(events))
	for i, e := range events {
		msgs[i] = queue.Message{Body: e, Attributes: map[string]string{"event": e.Event, "organization_id": e.OrganizationID}}
	}
	return msgs
}

// Outbox encodes events for an outbox item (what a store.Emit answers), so
// they are published by the outbox relay once the change that emits them
// is committed, in the same transaction.
func Outbox(events ...Event) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(events))
	for i, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("event: encode %s for the outbox: %w", e.Event, err)
		}
		out[i] = b
	}
	return out, nil
}

// ContactEmit emits name (contact.created, contact.updated) for the
// contact a change leaves, stamped at now().
func ContactEmit(name string, now func() time.Time) store.Emit[store.Contact] {
	return func(c store.Contact) ([]json.RawMessage, error) {
		ev, err := New(StableID(c.OrgID, name, c.ID, c.UpdatedAt.String()), name, c.OrgID, now(), map[string]any{"contact": ViewContact(c)})
		if err != nil {
			return nil, err
		}
		return Outbox(ev)
	}
}
