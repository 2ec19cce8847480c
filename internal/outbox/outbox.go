// Package outbox is the relay of the transactional outbox (see
// store/outbox.go): it consumes the table's stream, filtered on outbox item
// inserts, and turns each outbox item into publishes: its events to the
// events topic, its outbound job to the outbound FIFO queue through
// sender.Enqueuer (which chooses the message group and deduplication id).
//
// A contact's outbox items share a partition key, so they are in one
// shard, in the order written. The relay keeps that order per key and no
// other: it relays a batch in waves, each taking the next record of every
// partition key that is not stopped, their events in PublishBatch requests
// and their jobs in SendMessageBatch requests of up to 10 (a record's
// events before its job; up to 10 requests at once). A key's next record
// goes only after its previous one was relayed, so one flooding contact
// holds up only itself, and a flood of many contacts goes 10 to 25 records
// a round trip instead of one. (The event source mapping's
// ParallelizationFactor also splits a shard by partition key into batches
// relayed at once, each in order.)
//
// At a record that cannot be relayed its key stops: no later record of it
// is relayed; the other keys go on. A passing failure (apperr.Unavailable:
// the topic or the queue down, or an entry of a batch refused) is retried
// within the invocation after a backoff, while the others go on. The
// failed record of lowest sequence number is reported as the batch's
// failure (ReportBatchItemFailures): Lambda retries from it, so the
// records after it are relayed again, those of other keys included,
// always in their key's order. No wave starts within deadlineMargin of the
// invocation's deadline, and a wave's calls are cut a second before it:
// the records not reached are reported the same way, instead of a
// timed-out invocation's whole batch being retried and bisected. A record
// relayed again (after a failure before it, a crash mid-wave or before the batch was acknowledged, a
// publish that timed out after SNS took it) publishes the same event ids
// and the same message id: the dispatcher claims one delivery per event id
// and webhook, the FIFO queue drops a repeated deduplication id within
// 5 minutes, the sender's claim sends a message once, and the contact's
// lane is answered as recorded the first time. A record's job goes only
// after its events, and a key's record only after the one before it, so
// what was queued is always a prefix of each key's records, never a later
// record without an earlier one.
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
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
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

// BatchPublisher publishes events and answers each one's error, nil for
// the published (event.Publisher): a partial failure fails only the
// records whose events failed.
type BatchPublisher interface {
	PublishEach(ctx context.Context, events ...event.Event) []error
}

// BatchEnqueuer queues outbox jobs of distinct contacts and answers each
// one's error, nil for the queued (sender.Enqueuer): preferred to
// JobEnqueuer.
type BatchEnqueuer interface {
	EnqueueJobs(ctx context.Context, jobs ...store.OutboxJob) []error
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
// the on-failure destination. Only the failed record's partition key
// waits: the other keys go on relaying meanwhile.
const (
	firstBackoff   = 500 * time.Millisecond
	maxBackoff     = 8 * time.Second
	deadlineMargin = 5 * time.Second
	// answerMargin is kept between the end of a wave's calls and the
	// invocation's deadline, for the relay to answer.
	answerMargin = time.Second
)

// errNearDeadline stops a batch whose invocation has less than
// deadlineMargin left.
var errNearDeadline = errors.New("outbox: the invocation's deadline is near; the rest is left to Lambda's retry")

// maxCalls bounds the publish and queue calls a wave makes at once.
const maxCalls = 10

// callBatch is how many events one publish of a wave carries (SNS takes
// 10 entries a request).
const callBatch = 10

// key is one partition key's records in a batch, in stream order, and
// where its relay stands.
type key struct {
	recs      []int // indices into the batch
	next      int   // recs[next] is the key's next record to relay
	stopped   bool  // failed: none of its later records is relayed
	backoff   time.Duration
	notBefore time.Time // a passing failure: its record retried then
}

// Handle relays a batch of stream records (see the package doc): in
// waves, each relaying the next record of every partition key that is not
// stopped or waiting out a backoff, so the records of one key go in order
// and other keys do not wait for it.
func (r *Relay) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	if x, ok := r.jobs.(Expecter); ok {
		for org, n := range expected(ev.Records) {
			x.Expect(org, n)
		}
	}
	keys := partitions(ev.Records)
	failed := -1 // the failed record of lowest sequence number
	stop := func(k *key) {
		i := k.recs[k.next]
		k.stopped = true
		if failed < 0 || lowerSequence(ev.Records[i].Change.SequenceNumber, ev.Records[failed].Change.SequenceNumber) {
			failed = i
		}
	}
	fail := func(k *key, err error) {
		rec := ev.Records[k.recs[k.next]]
		r.log.ErrorContext(ctx, "outbox record not relayed; it and the records after it are retried",
			"event_id", rec.EventID, "sequence_number", rec.Change.SequenceNumber, "error", err.Error())
		stop(k)
	}
	lastErr := map[*key]error{}
	// The waves' calls end answerMargin before the invocation: a call that
	// hangs still leaves the relay time to report what it did not relay.
	calls := ctx
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		var cancel context.CancelFunc
		calls, cancel = context.WithDeadline(ctx, deadline.Add(-answerMargin))
		defer cancel()
	}
	for {
		now := r.now()
		if hasDeadline && now.Add(deadlineMargin).After(deadline) {
			// Too near the end to start a wave: Lambda's retry goes on
			// from the lowest record not relayed, rather than the whole
			// batch timing out and being bisected.
			// A key that failed before (waiting out a backoff) is logged
			// as failed; the others were only not reached, in one line.
			left := 0
			for _, k := range keys {
				switch {
				case k.stopped || k.next == len(k.recs):
				case lastErr[k] != nil:
					fail(k, errors.Join(lastErr[k], errNearDeadline))
				default:
					left += len(k.recs) - k.next
					stop(k)
				}
			}
			if left > 0 {
				r.log.WarnContext(ctx, "outbox relay stopped near the invocation's deadline; the rest is retried",
					"records_left", left, "margin", deadlineMargin.String())
			}
			break
		}
		var wave []*key
		var waiting time.Time
		for _, k := range keys {
			switch {
			case k.stopped || k.next == len(k.recs):
			case k.notBefore.After(now):
				if waiting.IsZero() || k.notBefore.Before(waiting) {
					waiting = k.notBefore
				}
			default:
				wave = append(wave, k)
			}
		}
		if len(wave) == 0 {
			if waiting.IsZero() {
				break
			}
			if err := r.wait(ctx, waiting.Sub(now)); err != nil {
				for _, k := range keys {
					if !k.stopped && k.next < len(k.recs) {
						fail(k, errors.Join(lastErr[k], err))
					}
				}
				break
			}
			continue
		}
		recs := make([]events.DynamoDBEventRecord, len(wave))
		for i, k := range wave {
			recs[i] = ev.Records[k.recs[k.next]]
		}
		errs := r.relayWave(calls, recs)
		now = r.now()
		for i, k := range wave {
			err := errs[i]
			if err == nil {
				k.next++
				k.backoff, lastErr[k] = 0, nil
				continue
			}
			if k.backoff == 0 {
				k.backoff = firstBackoff
			}
			if !apperr.Is(err, apperr.Unavailable) || !hasDeadline || now.Add(k.backoff+deadlineMargin).After(deadline) {
				fail(k, err)
				continue
			}
			r.log.WarnContext(ctx, "outbox record not relayed; retrying", "sequence_number", recs[i].Change.SequenceNumber,
				"backoff", k.backoff.String(), "error", err.Error())
			k.notBefore, lastErr[k] = now.Add(k.backoff), err
			k.backoff = min(2*k.backoff, maxBackoff)
		}
	}
	if failed >= 0 {
		resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: ev.Records[failed].Change.SequenceNumber}}
	}
	return resp, nil
}

// partitions groups a batch's records by partition key (a contact's outbox
// items share one), each key's in stream order. A record without a key
// (never, from Lambda) goes with the others without one.
func partitions(recs []events.DynamoDBEventRecord) []*key {
	var keys []*key
	byPK := map[string]*key{}
	for i, rec := range recs {
		pk := ""
		if v, ok := rec.Change.Keys["pk"]; ok && v.DataType() == events.DataTypeString {
			pk = v.String()
		}
		k := byPK[pk]
		if k == nil {
			k = &key{}
			byPK[pk] = k
			keys = append(keys, k)
		}
		k.recs = append(k.recs, i)
	}
	return keys
}

// lowerSequence reports whether stream sequence number a is lower than b:
// decimal strings of up to 40 digits, compared as numbers.
func lowerSequence(a, b string) bool {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
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

// item is a record decoded for relaying: nil events and job for a record
// that is not an outbox insert.
type item struct {
	id     string
	org    string
	events []event.Event
	job    *store.OutboxJob
}

// decode decodes a record. Records other than outbox inserts (the event
// source mapping's filter lets none through; a REMOVE is the item's TTL
// expiry) decode to nothing to relay.
func decode(rec events.DynamoDBEventRecord) (item, error) {
	if rec.EventName != "INSERT" {
		return item{}, nil
	}
	av, err := Attributes(rec.Change.NewImage)
	if err != nil {
		return item{}, err
	}
	o, ok, err := store.DecodeOutbox(av)
	if err != nil || !ok {
		return item{}, err
	}
	it := item{id: o.ID, org: o.OrgID, job: o.Job}
	if len(o.Events) > 0 {
		it.events = make([]event.Event, len(o.Events))
		for i, raw := range o.Events {
			if err := json.Unmarshal(raw, &it.events[i]); err != nil {
				return item{}, fmt.Errorf("outbox %s: decode event %d: %w", o.ID, i, err)
			}
			e := it.events[i]
			if e.ID == "" || e.Event == "" || e.OrganizationID != o.OrgID {
				return item{}, fmt.Errorf("outbox %s: event %d has no id or name, or another organisation", o.ID, i)
			}
		}
	}
	if o.Job != nil && o.Job.OrgID != o.OrgID {
		return item{}, fmt.Errorf("outbox %s: job of another organisation", o.ID)
	}
	return it, nil
}

// relayWave relays records of distinct partition keys together: their
// events first, in publishes of up to callBatch events (up to maxCalls
// at once), then the jobs of the records whose events were all published,
// in one call of the enqueuer (which sends them 10 to a request). errs[i] is records[i]'s:
// a record fails if any of its events or its job was not taken.
func (r *Relay) relayWave(ctx context.Context, recs []events.DynamoDBEventRecord) []error {
	errs := make([]error, len(recs))
	items := make([]item, len(recs))
	for i, rec := range recs {
		items[i], errs[i] = decode(rec)
	}

	// Events: flattened, each remembering its record.
	var evs []event.Event
	var owner []int
	for i, it := range items {
		if errs[i] == nil {
			for _, e := range it.events {
				evs, owner = append(evs, e), append(owner, i)
			}
		}
	}
	evErrs := r.publish(ctx, evs, owner)
	for n, err := range evErrs {
		if i := owner[n]; err != nil && errs[i] == nil {
			errs[i] = fmt.Errorf("outbox %s: publish %d events: %w", items[i].id, len(items[i].events), err)
		}
	}

	// Jobs of the records whose events are out.
	var jobs []store.OutboxJob
	var jobOwner []int
	for i, it := range items {
		if errs[i] == nil && it.job != nil {
			jobs, jobOwner = append(jobs, *it.job), append(jobOwner, i)
		}
	}
	for n, err := range r.enqueue(ctx, jobs) {
		if i := jobOwner[n]; err != nil {
			errs[i] = fmt.Errorf("outbox %s: queue message %s: %w", items[i].id, jobs[n].MessageID, err)
		}
	}

	for i, it := range items {
		if errs[i] == nil && it.id != "" {
			r.log.InfoContext(ctx, "outbox relayed", "outbox_id", it.id, "organization_id", it.org,
				"events", len(it.events), "job", it.job != nil)
		}
	}
	return errs
}

// publish publishes events (owner[n] is events[n]'s record) and answers
// each one's error: through BatchPublisher in chunks of callBatch events,
// otherwise a Publish per record.
func (r *Relay) publish(ctx context.Context, evs []event.Event, owner []int) []error {
	errs := make([]error, len(evs))
	if bp, ok := r.events.(BatchPublisher); ok {
		chunks(len(evs), callBatch, func(from, to int) {
			copy(errs[from:to], bp.PublishEach(ctx, evs[from:to]...))
		})
		return errs
	}
	// One Publish per record: its events together.
	var spans [][2]int
	for n := range evs {
		if n == 0 || owner[n] != owner[n-1] {
			spans = append(spans, [2]int{n, n})
		}
		spans[len(spans)-1][1] = n + 1
	}
	parallel(len(spans), func(s int) {
		from, to := spans[s][0], spans[s][1]
		err := r.events.Publish(ctx, evs[from:to]...)
		for n := from; n < to; n++ {
			errs[n] = err
		}
	})
	return errs
}

// enqueue queues jobs and answers each one's error: through BatchEnqueuer
// in one call (it batches its requests itself, and admits the jobs one
// after the other against the batch's one lease: calls at once would each
// lease from the organisation's bucket, and all but the last lease would
// be lost), otherwise one call per job.
func (r *Relay) enqueue(ctx context.Context, jobs []store.OutboxJob) []error {
	errs := make([]error, len(jobs))
	if be, ok := r.jobs.(BatchEnqueuer); ok {
		copy(errs, be.EnqueueJobs(ctx, jobs...))
		return errs
	}
	parallel(len(jobs), func(n int) {
		j := jobs[n]
		if je, ok := r.jobs.(JobEnqueuer); ok {
			errs[n] = je.EnqueueJob(ctx, j)
		} else {
			errs[n] = r.jobs.Enqueue(ctx, j.OrgID, j.ContactID, j.MessageID, j.Bulk)
		}
	})
	return errs
}

// chunks calls f on [from, to) chunks of n of at most size, in parallel.
func chunks(n, size int, f func(from, to int)) {
	parallel((n+size-1)/size, func(c int) { f(c*size, min((c+1)*size, n)) })
}

// parallel calls f(0..n-1), at most maxCalls at once, and waits for them.
func parallel(n int, f func(i int)) {
	if n == 1 {
		f(0)
		return
	}
	sem := make(chan struct{}, maxCalls)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
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
