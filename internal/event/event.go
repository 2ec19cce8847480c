// Package event is what PyTake tells integrators: the event envelope (the
// integrations guide's format plus a stable id) and the publisher that puts
// events on the events queue for the dispatcher.
package event

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pytake/pytake/internal/apperr"
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

// SQSAPI is the part of the SQS client the publisher uses.
type SQSAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Publisher sends events to the events queue.
type Publisher struct {
	sqs   SQSAPI
	queue string
}

// NewPublisher returns a publisher for the queue URL.
func NewPublisher(c SQSAPI, queueURL string) *Publisher { return &Publisher{sqs: c, queue: queueURL} }

// Publish sends every event, ten per request. It fails if any event could
// not be sent, so the caller can answer 5xx and have its input retried.
func (p *Publisher) Publish(ctx context.Context, events ...Event) error {
	for start := 0; start < len(events); start += 10 {
		end := min(start+10, len(events))
		entries := make([]sqstypes.SendMessageBatchRequestEntry, 0, end-start)
		for i, e := range events[start:end] {
			body, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("event: encode %s: %w", e.ID, err)
			}
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{
				Id:          aws.String(strconv.Itoa(i)),
				MessageBody: aws.String(string(body)),
				MessageAttributes: map[string]sqstypes.MessageAttributeValue{
					"event":           {DataType: aws.String("String"), StringValue: aws.String(e.Event)},
					"organization_id": {DataType: aws.String("String"), StringValue: aws.String(e.OrganizationID)},
				},
			})
		}
		out, err := p.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(p.queue), Entries: entries})
		if err != nil {
			return unavailable(fmt.Errorf("event: send batch: %w", err))
		}
		if len(out.Failed) > 0 {
			f := out.Failed[0]
			return unavailable(fmt.Errorf("event: %d of %d not sent: %s %s", len(out.Failed), len(entries), aws.ToString(f.Code), aws.ToString(f.Message)))
		}
	}
	return nil
}

func unavailable(err error) error {
	return apperr.New(apperr.Unavailable, "the event queue is unavailable, retry").WithCause(err)
}
