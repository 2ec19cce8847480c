package storetest

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/store"
)

// Stream is a store.DB that records, in commit order, the outbox items its
// successful writes inserted: what the table's stream, filtered on outbox
// inserts as the relay's event source mapping is, would carry (minidyn has
// no streams). Records are kept as a stream keeps them: a reader holds its
// own position.
type Stream struct {
	store.DB
	// Relay, when set, is handed each outbox item as soon as it is
	// committed: an outbox relay that never fails (eventtest.Recorder's
	// Outbox records its events), for tests of what a change emits.
	Relay   func(store.Outbox)
	mu      sync.Mutex
	records []map[string]types.AttributeValue
}

// NewStream wraps db.
func NewStream(db store.DB) *Stream { return &Stream{DB: db} }

// TransactWriteItems writes, then records the outbox items it put.
func (s *Stream) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	out, err := s.DB.TransactWriteItems(ctx, in, opts...)
	if err == nil {
		for _, it := range in.TransactItems {
			if it.Put != nil {
				s.record(it.Put.Item)
			}
		}
	}
	return out, err
}

// PutItem writes, then records the item if it is an outbox item.
func (s *Stream) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := s.DB.PutItem(ctx, in, opts...)
	if err == nil {
		s.record(in.Item)
	}
	return out, err
}

func (s *Stream) record(item map[string]types.AttributeValue) {
	t, ok := item["type"].(*types.AttributeValueMemberS)
	if !ok || t.Value != store.OutboxType {
		return
	}
	s.mu.Lock()
	s.records = append(s.records, item)
	relay := s.Relay
	s.mu.Unlock()
	if relay != nil {
		o, _, err := store.DecodeOutbox(item)
		if err != nil {
			panic(err) // the store wrote an item it cannot read: a bug
		}
		relay(o)
	}
}

// Records returns the records from position from on.
func (s *Stream) Records(from int) []map[string]types.AttributeValue {
	s.mu.Lock()
	defer s.mu.Unlock()
	if from >= len(s.records) {
		return nil
	}
	return append([]map[string]types.AttributeValue(nil), s.records[from:]...)
}

// Outboxes decodes every record from position from on.
func (s *Stream) Outboxes(from int) ([]store.Outbox, error) {
	var out []store.Outbox
	for _, r := range s.Records(from) {
		o, _, err := store.DecodeOutbox(r)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// QueuedIDs returns the message ids of the outbound jobs in every record, in
// commit order: what the relay puts on the outbound queue. It panics if a
// record does not decode (the store wrote an item it cannot read: a bug).
func (s *Stream) QueuedIDs() []string {
	obs, err := s.Outboxes(0)
	if err != nil {
		panic(err)
	}
	var ids []string
	for _, ob := range obs {
		if ob.Job != nil {
			ids = append(ids, ob.Job.MessageID)
		}
	}
	return ids
}
