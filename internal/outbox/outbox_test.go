package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/outbox"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// jobs records queued message ids; fail makes the next calls fail.
type jobs struct {
	mu   sync.Mutex
	ids  []string
	bulk []string // the ids queued on the bulk lane
	fail int
	// expected: what each batch announced (Expect), "org=n".
	expected []string
}

func (j *jobs) Enqueue(_ context.Context, org, contactID, messageID string, bulk bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fail > 0 {
		j.fail--
		return errors.New("the outbound queue is unavailable")
	}
	j.ids = append(j.ids, org+"/"+contactID+"/"+messageID)
	if bulk {
		j.bulk = append(j.bulk, messageID)
	}
	return nil
}

// Expect records what the relay expects of each batch (outbox.Expecter).
func (j *jobs) Expect(org string, n int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.expected = append(j.expected, org+"="+strconv.Itoa(n))
}

type fixture struct {
	st     *store.Store
	stream *storetest.Stream
	pub    *eventtest.Recorder
	jobs   *jobs
	relay  *outbox.Relay
}

func newFixture(t *testing.T) *fixture {
	tbl := storetest.New(t)
	f := &fixture{stream: storetest.NewStream(tbl.Client), pub: &eventtest.Recorder{}, jobs: &jobs{}}
	f.st = store.New(f.stream, tbl.Name, time.Now)
	f.relay = outbox.New(f.pub, f.jobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return f
}

func (f *fixture) write(t *testing.T, org, contact string, job bool, names ...string) []string {
	t.Helper()
	o := store.Outbox{OrgID: org, ContactID: contact}
	var ids []string
	for _, n := range names {
		id := "evt_" + n + "_" + strconv.Itoa(len(f.stream.Records(0)))
		ev, err := event.New(id, n, org, time.Now(), map[string]string{"contact_id": contact})
		require.NoError(t, err)
		b, _ := json.Marshal(ev)
		o.Events = append(o.Events, b)
		ids = append(ids, id)
	}
	if job {
		o.Job = &store.OutboxJob{OrgID: org, ContactID: contact, MessageID: "msg_" + strconv.Itoa(len(f.stream.Records(0)))}
	}
	require.NoError(t, f.st.WriteOutbox(context.Background(), o))
	return ids
}

// batch is the stream's records from position from, as Lambda hands them.
func (f *fixture) batch(from int) events.DynamoDBEvent {
	var ev events.DynamoDBEvent
	for i, r := range f.stream.Records(from) {
		ev.Records = append(ev.Records, outbox.Record(strconv.Itoa(from+i), r))
	}
	return ev
}

func TestRelayPublishesEventsAndQueuesJobsInOrder(t *testing.T) {
	f := newFixture(t)
	a := f.write(t, "org_1", "ct_1", true, event.ContactCreated, event.ConversationCreated)
	b := f.write(t, "org_1", "ct_1", false, event.ContactUpdated)
	f.write(t, "org_1", "ct_2", true)
	resp, err := f.relay.Handle(context.Background(), f.batch(0))
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	var got []string
	for _, e := range f.pub.All() {
		got = append(got, e.ID)
	}
	require.Equal(t, append(a, b...), got)
	// Contacts' records are relayed concurrently: no order between them.
	require.ElementsMatch(t, []string{"org_1/ct_1/msg_0", "org_1/ct_2/msg_2"}, f.jobs.ids)
}

// A publish that fails stops the batch at its record, which is reported so
// the event source mapping retries from it: the records before it are not
// relayed again, the ones after it wait (a contact's order is kept). The
// retry publishes the same event ids.
func TestRelayStopsAtTheFirstFailureAndRetriesFromIt(t *testing.T) {
	f := newFixture(t)
	f.write(t, "org_1", "ct_1", false, event.ContactCreated)
	second := f.write(t, "org_1", "ct_1", true, event.ConversationResolved)
	f.write(t, "org_1", "ct_1", false, event.ContactUpdated)
	f.jobs.fail = 1
	resp, err := f.relay.Handle(context.Background(), f.batch(0))
	require.NoError(t, err)
	require.Equal(t, []events.DynamoDBBatchItemFailure{{ItemIdentifier: "1"}}, resp.BatchItemFailures)
	require.Len(t, f.pub.Named(event.ContactUpdated), 0, "a record after the failed one was relayed")
	resp, err = f.relay.Handle(context.Background(), f.batch(1))
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Len(t, f.pub.Named(event.ContactCreated), 1)
	res := f.pub.Named(event.ConversationResolved)
	require.Len(t, res, 2, "published before the job failed, and again")
	require.Equal(t, second[0], res[0].ID)
	require.Equal(t, second[0], res[1].ID, "a redelivered record publishes the same id")
	require.Len(t, f.pub.Distinct(event.ConversationResolved), 1)
	require.Len(t, f.jobs.ids, 1)
	require.Len(t, f.pub.Named(event.ContactUpdated), 1)
}

// Records that are not outbox inserts are skipped: the TTL's REMOVE of an
// outbox item (already relayed at its insert) and other items' changes
// (the filter lets none through, the relay does not depend on it).
func TestRelaySkipsWhatIsNotAnOutboxInsert(t *testing.T) {
	f := newFixture(t)
	f.write(t, "org_1", "ct_1", true, event.ContactCreated)
	ev := f.batch(0)
	ins := ev.Records[0]
	removed := ins
	removed.EventName = "REMOVE"
	removed.Change.OldImage, removed.Change.NewImage = ins.Change.NewImage, nil
	modified := ins
	modified.EventName = "MODIFY"
	contact := outbox.Record("9", map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ORG#org_1"},
		"sk": &types.AttributeValueMemberS{Value: "CONTACT#ct_1"}, "type": &types.AttributeValueMemberS{Value: "contact"}})
	resp, err := f.relay.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{removed, modified, contact}})
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Empty(t, f.pub.All())
	require.Empty(t, f.jobs.ids)
}

// A poison record (an outbox item that cannot be decoded, or whose events
// claim another organisation) is reported, never skipped: the mapping
// bisects down to it, retries it a bounded number of times and hands it to
// the on-failure destination, whose alarm notifies.
func TestRelayReportsPoisonRecords(t *testing.T) {
	f := newFixture(t)
	f.write(t, "org_1", "ct_1", false, event.ContactCreated)
	good := f.batch(0).Records[0]
	bad := func(mutate func(img map[string]events.DynamoDBAttributeValue)) events.DynamoDBEventRecord {
		r := good
		img := map[string]events.DynamoDBAttributeValue{}
		for k, v := range good.Change.NewImage {
			img[k] = v
		}
		mutate(img)
		r.Change.NewImage = img
		r.Change.SequenceNumber = "7"
		return r
	}
	for name, rec := range map[string]events.DynamoDBEventRecord{
		"events not JSON": bad(func(img map[string]events.DynamoDBAttributeValue) { img["events"] = events.NewStringAttribute("[{") }),
		"no org":          bad(func(img map[string]events.DynamoDBAttributeValue) { delete(img, "org_id") }),
		"another org's event": bad(func(img map[string]events.DynamoDBAttributeValue) {
			img["org_id"] = events.NewStringAttribute("org_2")
		}),
		"job not JSON": bad(func(img map[string]events.DynamoDBAttributeValue) { img["job"] = events.NewStringAttribute("x") }),
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := f.relay.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}})
			require.NoError(t, err)
			require.Equal(t, []events.DynamoDBBatchItemFailure{{ItemIdentifier: "7"}}, resp.BatchItemFailures)
		})
	}
	require.Empty(t, f.pub.All())
}

// The stream image round-trips through Lambda's JSON: what the relay reads
// is what the store wrote.
func TestRecordRoundTripsThroughLambdaJSON(t *testing.T) {
	f := newFixture(t)
	ids := f.write(t, "org_1", "ct_1", true, event.ContactCreated)
	b, err := json.Marshal(f.batch(0))
	require.NoError(t, err)
	var ev events.DynamoDBEvent
	require.NoError(t, json.Unmarshal(b, &ev))
	_, err = f.relay.Handle(context.Background(), ev)
	require.NoError(t, err)
	require.Equal(t, ids[0], f.pub.All()[0].ID)
	require.Len(t, f.jobs.ids, 1)
}

// outage fails its first n calls as a passing outage does (Unavailable).
type outage struct {
	jobs
	n int
}

func (o *outage) Enqueue(ctx context.Context, org, contactID, messageID string, bulk bool) error {
	o.mu.Lock()
	if o.n > 0 {
		o.n--
		o.mu.Unlock()
		return apperr.New(apperr.Unavailable, "the outbound queue is unavailable, retry")
	}
	o.mu.Unlock()
	return o.jobs.Enqueue(ctx, org, contactID, messageID, false)
}

// Issue 13 review: a failed record was handed back at once, so the event
// source mapping's 50 retries went by in the minute or two of a passing
// outage of the topic or the queue, and the records (accepted messages'
// jobs, events) went to the on-failure destination, which nothing reads:
// messages queued for ever, events lost. A passing failure is now retried
// within the invocation, with backoff, while its time allows (so each of
// the mapping's retries spans most of an invocation); a record that can
// never be relayed is still reported at once.
func TestRelayRidesOutAPassingOutage(t *testing.T) {
	f := newFixture(t)
	q := &outage{n: 3}
	now := time.Now() // the contexts' deadlines are real ones
	var waits []time.Duration
	relay := outbox.New(f.pub, q, slog.New(slog.NewTextHandler(io.Discard, nil))).WithClock(
		func() time.Time { return now },
		func(_ context.Context, d time.Duration) error { waits = append(waits, d); now = now.Add(d); return nil })
	f.write(t, "org_1", "ct_1", true, event.ContactCreated)
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(30*time.Second))
	defer cancel()
	resp, err := relay.Handle(ctx, f.batch(0))
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures, "relayed once the outage passed")
	require.Len(t, q.ids, 1)
	require.Len(t, waits, 3)
	require.Len(t, f.pub.Distinct(event.ContactCreated), 1)

	// An outage longer than the invocation: reported before its deadline.
	q.n, waits = 1000, nil
	f.write(t, "org_1", "ct_1", true)
	resp, err = relay.Handle(ctx, f.batch(1))
	require.NoError(t, err)
	require.Len(t, resp.BatchItemFailures, 1)
	require.NotEmpty(t, waits)
	d, _ := ctx.Deadline()
	require.True(t, now.Before(d), "reported before the invocation's deadline")

	// A record that can never be relayed: reported without waiting.
	waits = nil
	bad := f.batch(1).Records[0]
	bad.Change.NewImage = map[string]events.DynamoDBAttributeValue{}
	for k, v := range f.batch(1).Records[0].Change.NewImage {
		bad.Change.NewImage[k] = v
	}
	bad.Change.NewImage["job"] = events.NewStringAttribute("x")
	resp, err = relay.Handle(ctx, events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{bad}})
	require.NoError(t, err)
	require.Len(t, resp.BatchItemFailures, 1)
	require.Empty(t, waits)
}

// The bulk lane survives the outbox: a campaign's message accepted as bulk
// is queued on the bulk queue by the relay, through Lambda's JSON.
func TestRelayKeepsTheBulkLane(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	require.NoError(t, f.st.WriteOutbox(ctx, store.Outbox{OrgID: "org_1", ContactID: "ct_1",
		Job: &store.OutboxJob{OrgID: "org_1", ContactID: "ct_1", MessageID: "msg_bulk", Bulk: true}}))
	require.NoError(t, f.st.WriteOutbox(ctx, store.Outbox{OrgID: "org_1", ContactID: "ct_1",
		Job: &store.OutboxJob{OrgID: "org_1", ContactID: "ct_1", MessageID: "msg_tx"}}))
	b, err := json.Marshal(f.batch(0))
	require.NoError(t, err)
	var ev events.DynamoDBEvent
	require.NoError(t, json.Unmarshal(b, &ev))
	resp, err := f.relay.Handle(ctx, ev)
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	require.Equal(t, []string{"org_1/ct_1/msg_bulk", "org_1/ct_1/msg_tx"}, f.jobs.ids)
	require.Equal(t, []string{"msg_bulk"}, f.jobs.bulk)
}

// Before relaying a batch, the relay tells the queue how many non-bulk
// jobs of each organisation it holds, so admission leases them in one
// write: campaign jobs and records without a job are not counted; a test
// key's jobs count in the organisation's test share.
func TestRelayExpectsTheBatchsJobs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.write(t, "org_1", "ct_1", true)
	f.write(t, "org_1", "ct_2", true, event.ContactUpdated)
	f.write(t, "org_1", "ct_2", false, event.ContactUpdated)
	f.write(t, "org_2", "ct_3", true)
	require.NoError(t, f.st.WriteOutbox(ctx, store.Outbox{OrgID: "org_2", ContactID: "ct_3",
		Job: &store.OutboxJob{OrgID: "org_2", ContactID: "ct_3", MessageID: "msg_bulk", Bulk: true}}))
	require.NoError(t, f.st.WriteOutbox(ctx, store.Outbox{OrgID: "org_2", ContactID: "ct_3",
		Job: &store.OutboxJob{OrgID: "org_2", ContactID: "ct_3", MessageID: "msg_test", Test: true}}))
	resp, err := f.relay.Handle(ctx, f.batch(0))
	require.NoError(t, err)
	require.Empty(t, resp.BatchItemFailures)
	sort.Strings(f.jobs.expected)
	require.Equal(t, []string{"org_1=2", "org_2#test=1", "org_2=1"}, f.jobs.expected, "a test key's job in its organisation's test share")
}
