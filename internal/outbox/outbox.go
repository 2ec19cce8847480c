// Package outbox is the relay of the transactional outbox (see
// store/outbox.go): it consumes the table's stream, filtered on outbox item
// inserts, and turns each outbox item into publishes: its events to the
// events topic, its outbound job to the outbound FIFO queue through
// sender.Enqueuer (which chooses the message group and deduplication id).
//
// Records are relayed in order. At the first record that cannot be relayed
// the batch stops and that record is reported as the batch's failure
// (ReportBatchItemFailures): Lambda retries from it, so the records of a
// shard after it wait (a contact's outbox items share a partition, hence a
// shard, and keep their order). A record relayed again (a retry after a
// later record failed, a crash before the batch was acknowledged) publishes
// the same event ids and the same message id again: the dispatcher claims
// one delivery per event id and webhook, the FIFO queue drops a repeated
// deduplication id and the sender's claim sends a message once.
//
// A record that cannot be decoded can never be relayed: it fails like the
// others, the event source mapping bisects the batch down to it, retries it
// a bounded number of times and hands it to the on-failure destination
// (a dead-letter queue whose alarm notifies the operators), and the shard
// moves on.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/ctxsleep"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/store"
)

// Publisher publishes events (event.Publisher).
type Publisher interface {
	Publish(ctx context.Context, events ...event.Event) error
}

// Enqueuer puts an accepted message on the outbound queue (sender.Enqueuer).
type Enqueuer interface {
	Enqueue(ctx context.Context, org, contactID, messageID string, bulk bool) error
}

// Expecter is told, before a batch is relayed, how many non-bulk jobs of
// each organisation it holds (sender.Enqueuer: its admission leases that
// many tokens at once).
type Expecter interface {
	Expect(org string, n int)
}

// JobEnqueuer queues an outbox job whole (sender.Enqueuer): preferred
// to Enqueuer.Enqueue when the queue offers it.
type JobEnqueuer interface {
	EnqueueJob(ctx context.Context, j store.OutboxJob) error
}

// Relay relays outbox items.
type Relay struct {
	events Publisher
	jobs   Enqueuer
	log    *slog.Logger
	now    func() time.Time
	wait   func(ctx context.Context, d time.Duration) error
}

// New returns a relay publishing to p and queueing jobs with q.
func New(p Publisher, q Enqueuer, log *slog.Logger) *Relay {
	return &Relay{events: p, jobs: q, log: log, now: time.Now, wait: ctxsleep.Sleep}
}

// WithClock sets the relay's clock and how it waits between attempts.
func (r *Relay) WithClock(now func() time.Time, wait func(ctx context.Context, d time.Duration) error) *Relay {
	r.now, r.wait = now, wait
	return r
}

// Retrying a passing failure (an apperr.Unavailable: the topic or the
// queue down for a while) within the invocation: from firstBackoff,
// doubling up to maxBackoff, while the invocation's deadline leaves
// deadlineMargin after the wait. So each of the event source mapping's
// bounded retries spans most of an invocation (50 of them about 20
// minutes of outage at the 30 s timeout), instead of going by in the time
// of a few failed calls and handing accepted messages' jobs and events to
// the on-failure destination.
const (
	firstBackoff   = 500 * time.Millisecond
	maxBackoff     = 8 * time.Second
	deadlineMargin = 5 * time.Second
)

// relayRetrying relays one record, retrying a passing failure while the
// invocation's time allows (never without a deadline).
func (r *Relay) relayRetrying(ctx context.Context, rec events.DynamoDBEventRecord) error {
	backoff := firstBackoff
	for {
		err := r.relay(ctx, rec)
		if err == nil || !apperr.Is(err, apperr.Unavailable) {
			return err
		}
		deadline, ok := ctx.Deadline()
		if !ok || r.now().Add(backoff+deadlineMargin).After(deadline) {
			return err
		}
		r.log.WarnContext(ctx, "outbox record not relayed; retrying", "sequence_number", rec.Change.SequenceNumber,
			"backoff", backoff.String(), "error", err.Error())
		if werr := r.wait(ctx, backoff); werr != nil {
			return err
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// Handle relays a batch of stream records (see the package doc).
func (r *Relay) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	if x, ok := r.jobs.(Expecter); ok {
		for org, n := range expected(ev.Records) {
			x.Expect(org, n)
		}
	}
	for _, rec := range ev.Records {
		if err := r.relayRetrying(ctx, rec); err != nil {
			r.log.ErrorContext(ctx, "outbox record not relayed; it and the records after it are retried",
				"event_id", rec.EventID, "sequence_number", rec.Change.SequenceNumber, "error", err.Error())
			resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: rec.Change.SequenceNumber}}
			return resp, nil
		}
	}
	return resp, nil
}

// expected counts the non-bulk jobs of each admission share in a batch
// (records that cannot be decoded are counted by relay, not here).
func expected(recs []events.DynamoDBEventRecord) map[string]int {
	n := map[string]int{}
	for _, rec := range recs {
		if rec.EventName != "INSERT" {
			continue
		}
		av, err := Attributes(rec.Change.NewImage)
		if err != nil {
			continue
		}
		if o, ok, err := store.DecodeOutbox(av); err == nil && ok && o.Job != nil && !o.Job.Bulk {
			n[o.Job.AdmitKey()]++
		}
	}
	return n
}

// relay relays one record. Records other than outbox inserts (the event
// source mapping's filter lets none through; a REMOVE is the item's TTL
// expiry) are skipped.
func (r *Relay) relay(ctx context.Context, rec events.DynamoDBEventRecord) error {
	if rec.EventName != "INSERT" {
		return nil
	}
	av, err := Attributes(rec.Change.NewImage)
	if err != nil {
		return err
	}
	o, ok, err := store.DecodeOutbox(av)
	if err != nil || !ok {
		return err
	}
	if len(o.Events) > 0 {
		evs := make([]event.Event, len(o.Events))
		for i, raw := range o.Events {
			if err := json.Unmarshal(raw, &evs[i]); err != nil {
				return fmt.Errorf("outbox %s: decode event %d: %w", o.ID, i, err)
			}
			if evs[i].ID == "" || evs[i].Event == "" || evs[i].OrganizationID != o.OrgID {
				return fmt.Errorf("outbox %s: event %d has no id or name, or another organisation", o.ID, i)
			}
		}
		if err := r.events.Publish(ctx, evs...); err != nil {
			return fmt.Errorf("outbox %s: publish %d events: %w", o.ID, len(evs), err)
		}
	}
	if j := o.Job; j != nil {
		if j.OrgID != o.OrgID {
			return fmt.Errorf("outbox %s: job of another organisation", o.ID)
		}
		enqueue := func() error { return r.jobs.Enqueue(ctx, j.OrgID, j.ContactID, j.MessageID, j.Bulk) }
		if je, ok := r.jobs.(JobEnqueuer); ok {
			enqueue = func() error { return je.EnqueueJob(ctx, *j) }
		}
		if err := enqueue(); err != nil {
			return fmt.Errorf("outbox %s: queue message %s: %w", o.ID, j.MessageID, err)
		}
	}
	r.log.InfoContext(ctx, "outbox relayed", "outbox_id", o.ID, "organization_id", o.OrgID, "events", len(o.Events), "job", o.Job != nil)
	return nil
}

// Attributes converts a stream image to the SDK's attribute values.
func Attributes(img map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(img))
	for k, v := range img {
		a, err := attribute(v)
		if err != nil {
			return nil, fmt.Errorf("outbox: attribute %s: %w", k, err)
		}
		out[k] = a
	}
	return out, nil
}

func attribute(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		l := v.List()
		out := make([]types.AttributeValue, len(l))
		for i, e := range l {
			a, err := attribute(e)
			if err != nil {
				return nil, err
			}
			out[i] = a
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case events.DataTypeMap:
		m, err := Attributes(v.Map())
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unknown attribute type %d", v.DataType())
}

// Image converts SDK attribute values to a stream image (what Lambda hands
// the relay): for tests and the local stack's stream poller.
func Image(av map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	out := make(map[string]events.DynamoDBAttributeValue, len(av))
	for k, v := range av {
		out[k] = image(v)
	}
	return out
}

func image(v types.AttributeValue) events.DynamoDBAttributeValue {
	switch t := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(t.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(t.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(t.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(t.Value)
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(t.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(t.Value)
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(t.Value)
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(t.Value))
		for i, e := range t.Value {
			l[i] = image(e)
		}
		return events.NewListAttribute(l)
	case *types.AttributeValueMemberM:
		return events.NewMapAttribute(Image(t.Value))
	}
	return events.NewNullAttribute()
}

// Record builds the stream record of an outbox item's insert, as the
// event source mapping hands it over.
func Record(seq string, item map[string]types.AttributeValue) events.DynamoDBEventRecord {
	return events.DynamoDBEventRecord{EventName: "INSERT", EventSource: "aws:dynamodb", EventVersion: "1.1", AWSRegion: "us-east-1",
		Change: events.DynamoDBStreamRecord{SequenceNumber: seq, NewImage: Image(item), StreamViewType: "NEW_IMAGE",
			Keys: Image(map[string]types.AttributeValue{"pk": item["pk"], "sk": item["sk"]})}}
}
