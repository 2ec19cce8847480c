package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/outbox"
	"github.com/pytake/pytake/internal/store"
)

// Latencies of the calls the relay makes, as measured from a Lambda in
// the same region (a PublishBatch or SendMessageBatch of up to 10).
const (
	snsLatency = 20 * time.Millisecond
	sqsLatency = 15 * time.Millisecond
)

// slowAWS answers each call after the latency of one SNS or SQS request
// (a batch of up to 10 entries is one request), and records when each
// message was queued.
type slowAWS struct {
	mu     sync.Mutex
	queued map[string]time.Time
}

func (s *slowAWS) Publish(ctx context.Context, evs ...event.Event) error {
	return errors.Join(s.PublishEach(ctx, evs...)...)
}

func (s *slowAWS) PublishEach(_ context.Context, evs ...event.Event) []error {
	time.Sleep(snsLatency * time.Duration((len(evs)+9)/10))
	return make([]error, len(evs))
}

func (s *slowAWS) Enqueue(ctx context.Context, org, contactID, messageID string, bulk bool) error {
	return errors.Join(s.EnqueueJobs(ctx, store.OutboxJob{OrgID: org, ContactID: contactID, MessageID: messageID, Bulk: bulk})...)
}

// EnqueueJobs takes one SQS round trip: sender.Enqueuer sends a call's
// requests (10 jobs each) at once.
func (s *slowAWS) EnqueueJobs(_ context.Context, jobs ...store.OutboxJob) []error {
	time.Sleep(sqsLatency)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queued != nil {
		for _, j := range jobs {
			s.queued[j.MessageID] = time.Now()
		}
	}
	return make([]error, len(jobs))
}

// outboxRecord is the stream record of an outbox item with one
// message.sent event and the message's job, built without a table.
func outboxRecord(tb testing.TB, seq int, org, contact string, bulk bool) events.DynamoDBEventRecord {
	tb.Helper()
	id := "obx_" + strconv.Itoa(seq)
	ev, err := event.New("evt_"+strconv.Itoa(seq), event.MessageSent, org, time.Now(), map[string]string{"contact_id": contact})
	if err != nil {
		tb.Fatal(err)
	}
	evs, _ := json.Marshal([]any{ev})
	job, _ := json.Marshal(store.OutboxJob{OrgID: org, ContactID: contact, MessageID: "msg_" + strconv.Itoa(seq), Bulk: bulk})
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	return outbox.Record(strconv.Itoa(seq), map[string]types.AttributeValue{
		"pk": s("ORG#" + org + "#OUTBOX#" + contact), "sk": s("OUTBOX#" + id), "type": s(store.OutboxType),
		"outbox_id": s(id), "org_id": s(org), "events": s(string(evs)), "job": s(string(job)),
	})
}

// BenchmarkRelay relays a batch of 25 records (the event source mapping's
// BatchSize) against SNS and SQS answering after 20 ms and 15 ms a call:
// all of one contact (relayed one after the other, in order), or of 25
// contacts (relayed together).
//
//	go test -run '^$' -bench BenchmarkRelay -benchtime 20x ./internal/outbox/
func BenchmarkRelay(b *testing.B) {
	for _, contacts := range []int{1, 25} {
		b.Run(fmt.Sprintf("contacts=%d", contacts), func(b *testing.B) {
			var ev events.DynamoDBEvent
			for i := 0; i < 25; i++ {
				ev.Records = append(ev.Records, outboxRecord(b, i, "org_1", "ct_"+strconv.Itoa(i%contacts), true))
			}
			aws := &slowAWS{}
			r := outbox.New(aws, aws, slog.New(slog.NewTextHandler(io.Discard, nil)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if resp, err := r.Handle(context.Background(), ev); err != nil || len(resp.BatchItemFailures) > 0 {
					b.Fatal(err, resp)
				}
			}
			b.ReportMetric(float64(25*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkFlood models one stream shard holding org A's 10,000-message
// bulk send (10,000 contacts) with org B's single message behind it, and
// reports how long until B's job is queued. With a ParallelizationFactor
// of pf, Lambda hashes each record's partition key to one of pf
// sub-streams of the shard and relays each sub-stream's batches (25
// records) one after the other, the pf sub-streams at once: modelled so
// here (FNV hash of the partition key), with SNS and SQS answering after
// 20 ms and 15 ms a call; Lambda's own overhead per invocation is left
// out.
//
//	go test -run '^$' -bench BenchmarkFlood -benchtime 1x ./internal/outbox/
func BenchmarkFlood(b *testing.B) {
	const flood = 10000
	var recs []events.DynamoDBEventRecord
	for i := 0; i < flood; i++ {
		recs = append(recs, outboxRecord(b, i, "org_a", "ct_"+strconv.Itoa(i), true))
	}
	recs = append(recs, outboxRecord(b, flood, "org_b", "ct_b", false))
	for _, pf := range []int{1, 10} {
		b.Run(fmt.Sprintf("pf=%d", pf), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.ReportMetric(floodUntilB(b, recs, pf, "msg_"+strconv.Itoa(flood)).Seconds(), "s-until-B")
			}
		})
	}
}

// floodUntilB relays recs as one shard at parallelization factor pf and
// answers how long until the job of message b was queued.
func floodUntilB(tb testing.TB, recs []events.DynamoDBEventRecord, pf int, b string) time.Duration {
	subs := make([][]events.DynamoDBEventRecord, pf)
	for _, rec := range recs {
		h := fnv.New32a()
		h.Write([]byte(rec.Change.Keys["pk"].String()))
		n := int(h.Sum32() % uint32(pf))
		subs[n] = append(subs[n], rec)
	}
	aws := &slowAWS{queued: map[string]time.Time{}}
	r := outbox.New(aws, aws, slog.New(slog.NewTextHandler(io.Discard, nil)))
	start := time.Now()
	var wg sync.WaitGroup
	for _, sub := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for from := 0; from < len(sub); from += 25 {
				batch := events.DynamoDBEvent{Records: sub[from:min(from+25, len(sub))]}
				if resp, err := r.Handle(context.Background(), batch); err != nil || len(resp.BatchItemFailures) > 0 {
					tb.Error(err, resp)
					return
				}
				aws.mu.Lock()
				_, done := aws.queued[b]
				aws.mu.Unlock()
				if done {
					return
				}
			}
		}()
	}
	wg.Wait()
	at, ok := aws.queued[b]
	if !ok {
		tb.Fatal("B's message was not queued")
	}
	return at.Sub(start)
}
