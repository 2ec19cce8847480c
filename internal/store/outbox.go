package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
)

// The transactional outbox. A state change that must be told (an event) or
// acted on (an outbound message to queue) writes an outbox item in the same
// TransactWriteItems as the change itself: a change without its outbox item,
// or an outbox item without its change, cannot exist. The table's stream
// (NEW_IMAGE) carries each outbox item's INSERT to the relay
// (internal/outbox, functions/outbox-relay), which publishes the events to
// the events topic and puts the job on the outbound queue; consumers
// deduplicate by event id and by message id, so a stream record relayed
// twice changes nothing.
//
// The item is keyed by organisation and contact, so the outbox items of one
// contact are in one partition, hence one stream shard, relayed in the
// order they were written (a recipient's messages reach the FIFO queue in
// the order accepted). It expires after OutboxTTL, longer than the stream
// keeps records (24 hours): the item is only read from the stream, and
// kept for inspection.

// OutboxTTL is how long an outbox item is kept after it is written.
const OutboxTTL = 48 * time.Hour

// MaxEventBytes is the largest event an outbox item carries: the events
// topic takes 256 KiB per message, its attributes included, and an event
// it refuses would be refused on every retry of the relay (its stream
// shard held up, then the event lost to the on-failure destination). A
// change whose event is larger is refused (413), nothing written.
const MaxEventBytes = 240 << 10

// maxOutboxBytes bounds an outbox item's events and job together, under
// DynamoDB's 400 KB per item.
const maxOutboxBytes = 360 << 10

// OutboxType is the `type` of outbox items, which the stream's event source
// mapping filters on.
const OutboxType = "outbox"

// OutboxJob is an accepted message for the outbound queue: what
// sender.Enqueuer needs to queue it in its recipient's message group.
type OutboxJob struct {
	OrgID     string `json:"org_id"`
	ContactID string `json:"contact_id"`
	MessageID string `json:"message_id"`
	// Bulk: the message is in the bulk lane (a campaign's): the relay
	// queues it on the bulk outbound queue.
	Bulk bool `json:"bulk,omitempty"`
	// Test: accepted with a test key (never sent to Meta): admitted to the
	// transactional lane under the organisation's test share, not its live
	// one (AdmitKey).
	Test bool `json:"test,omitempty"`
}

// AdmitKey is the admission share a non-bulk job takes
// (sendlimit.Admission): its organisation's, or for a test key's message
// the organisation's test share, so test traffic never uses up what the
// organisation's live messages are admitted with.
func (j OutboxJob) AdmitKey() string {
	if j.Test {
		return j.OrgID + "#test"
	}
	return j.OrgID
}

// Outbox is what one state change hands to the relay: events (each an
// event.Event as JSON, with its final id) and at most one outbound job.
type Outbox struct {
	ID        string
	OrgID     string
	ContactID string // the partition: "" for changes not about a contact
	Events    []json.RawMessage
	Job       *OutboxJob
}

type outboxItem struct {
	key
	Type      string `dynamodbav:"type"`
	ID        string `dynamodbav:"outbox_id"`
	OrgID     string `dynamodbav:"org_id"`
	Events    string `dynamodbav:"events,omitempty"` // a JSON array of events
	Job       string `dynamodbav:"job,omitempty"`    // an OutboxJob as JSON
	CreatedAt string `dynamodbav:"created_at"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

func outboxPK(org, contactID string) string { return "ORG#" + org + "#OUTBOX#" + contactID }
func outboxSK(id string) string             { return "OUTBOX#" + id }

// outboxPut builds the transactional Put of an outbox item (nil when it
// carries nothing). The item's id is set when empty.
func (s *Store) outboxPut(o Outbox) (*types.TransactWriteItem, error) {
	if len(o.Events) == 0 && o.Job == nil {
		return nil, nil
	}
	now := s.now()
	if o.ID == "" {
		o.ID = id.New("obx", now)
	}
	it := outboxItem{key: key{outboxPK(o.OrgID, o.ContactID), outboxSK(o.ID)}, Type: OutboxType, ID: o.ID, OrgID: o.OrgID,
		CreatedAt: timestamp(now), ExpiresAt: now.Add(OutboxTTL).Unix()}
	if len(o.Events) > 0 {
		for _, e := range o.Events {
			if len(e) > MaxEventBytes {
				return nil, apperr.New(apperr.TooLarge, fmt.Sprintf(
					"this change's event would be %d bytes, more than the %d an event carries: make it smaller (fewer or shorter attributes, tags, names)",
					len(e), MaxEventBytes)).WithCode("event_too_large")
			}
		}
		b, err := json.Marshal(o.Events)
		if err != nil {
			return nil, fmt.Errorf("store: encode outbox events: %w", err)
		}
		it.Events = string(b)
	}
	if o.Job != nil {
		b, err := json.Marshal(o.Job)
		if err != nil {
			return nil, fmt.Errorf("store: encode outbox job: %w", err)
		}
		it.Job = string(b)
	}
	if n := len(it.Events) + len(it.Job); n > maxOutboxBytes {
		return nil, apperr.New(apperr.TooLarge, fmt.Sprintf(
			"this change's events would be %d bytes together, more than the %d a change's events carry: make it smaller", n, maxOutboxBytes)).
			WithCode("event_too_large")
	}
	av, err := marshal(it)
	if err != nil {
		return nil, err
	}
	w := s.put(av, "attribute_not_exists(pk)")
	return &w, nil
}

// withOutbox appends o's outbox item (if it carries anything) to items.
func (s *Store) withOutbox(items []types.TransactWriteItem, o Outbox) ([]types.TransactWriteItem, error) {
	w, err := s.outboxPut(o)
	if err != nil || w == nil {
		return items, err
	}
	return append(items, *w), nil
}

// WriteOutbox writes an outbox item on its own: for a change that is a
// single write already made (its events then follow the change at least
// once, since the caller retries until this succeeds), or a message whose
// job must be queued again.
func (s *Store) WriteOutbox(ctx context.Context, o Outbox) error {
	w, err := s.outboxPut(o)
	if err != nil || w == nil {
		return err
	}
	return s.transact(ctx, "write outbox", []types.TransactWriteItem{*w}, func([]bool) error {
		return conditionErr(apperr.Conflict, "outbox item already written")
	})
}

// Emit builds, from the state a change leaves, the events it emits (each
// an event.Event as JSON); they are written as an outbox item of the
// change's transaction. A nil Emit emits nothing.
type Emit[T any] func(T) ([]json.RawMessage, error)

// emitted runs emit on v and appends the outbox item of what it built.
func emitted[T any](s *Store, items []types.TransactWriteItem, emit Emit[T], org, contactID string, v T) ([]types.TransactWriteItem, error) {
	if emit == nil {
		return items, nil
	}
	evs, err := emit(v)
	if err != nil {
		return items, err
	}
	return s.withOutbox(items, Outbox{OrgID: org, ContactID: contactID, Events: evs})
}

// DecodeOutbox reads an outbox item from its attributes (a stream record's
// NewImage). ok is false for an item of another type.
func DecodeOutbox(av map[string]types.AttributeValue) (o Outbox, ok bool, err error) {
	var it outboxItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Outbox{}, false, fmt.Errorf("store: decode outbox item: %w", err)
	}
	if it.Type != OutboxType {
		return Outbox{}, false, nil
	}
	if it.ID == "" || it.OrgID == "" {
		return Outbox{}, true, fmt.Errorf("store: outbox item %s/%s has no id or organisation", it.PK, it.SK)
	}
	o = Outbox{ID: it.ID, OrgID: it.OrgID}
	if it.Events != "" {
		if err := json.Unmarshal([]byte(it.Events), &o.Events); err != nil {
			return Outbox{}, true, fmt.Errorf("store: decode outbox %s events: %w", it.ID, err)
		}
	}
	if it.Job != "" {
		var j OutboxJob
		if err := json.Unmarshal([]byte(it.Job), &j); err != nil {
			return Outbox{}, true, fmt.Errorf("store: decode outbox %s job: %w", it.ID, err)
		}
		if j.OrgID == "" || j.MessageID == "" {
			return Outbox{}, true, fmt.Errorf("store: outbox %s job has no organisation or message", it.ID)
		}
		o.Job = &j
	}
	return o, true, nil
}
