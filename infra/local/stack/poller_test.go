package stack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sort"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"
)

type fakeSQS struct {
	msgs    []sqstypes.Message
	deleted []string
}

func (f *fakeSQS) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	n := min(int(in.MaxNumberOfMessages), len(f.msgs))
	out := f.msgs[:n]
	f.msgs = f.msgs[n:]
	return &sqs.ReceiveMessageOutput{Messages: out}, nil
}

func (f *fakeSQS) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	for _, e := range in.Entries {
		f.deleted = append(f.deleted, aws.ToString(e.ReceiptHandle))
	}
	return &sqs.DeleteMessageBatchOutput{}, nil
}

func messages(ids ...string) []sqstypes.Message {
	var out []sqstypes.Message
	for _, id := range ids {
		out = append(out, sqstypes.Message{MessageId: aws.String(id), ReceiptHandle: aws.String("rh-" + id), Body: aws.String("body-" + id),
			Attributes: map[string]string{"ApproximateReceiveCount": "1"}})
	}
	return out
}

func TestPollerHonoursBatchItemFailures(t *testing.T) {
	failures := func(ids ...string) []byte {
		var r events.SQSEventResponse
		for _, id := range ids {
			r.BatchItemFailures = append(r.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
		}
		b, _ := json.Marshal(r)
		return b
	}
	for _, c := range []struct {
		name    string
		report  bool
		answer  Invocation
		deleted []string
	}{
		{"all succeed", true, Invocation{Payload: failures()}, []string{"rh-a", "rh-b", "rh-c"}},
		{"null answer", true, Invocation{Payload: []byte("null")}, []string{"rh-a", "rh-b", "rh-c"}},
		{"one fails", true, Invocation{Payload: failures("b")}, []string{"rh-a", "rh-c"}},
		{"unknown id fails the batch", true, Invocation{Payload: failures("zzz")}, nil},
		{"function error keeps the batch", true, Invocation{Err: errors.New("crash")}, nil},
		{"without reporting, success deletes all", false, Invocation{Payload: failures("b")}, []string{"rh-a", "rh-b", "rh-c"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := &fakeSQS{msgs: messages("a", "b", "c")}
			inv := &fakeInvoker{answer: c.answer}
			p := &Poller{SQS: q, Invoker: inv, Function: "F", Event: QueueEvent{Queue: "Q", BatchSize: 10, ReportFailures: c.report},
				QueueURL: "u", QueueARN: "arn:q", Region: "us-east-1", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			n, err := p.Once(context.Background())
			require.NoError(t, err, "Once = %d, %v", n, err)
			require.Equal(t, 3, n, "Once")
			sort.Strings(q.deleted)
			require.Len(t, q.deleted, len(c.deleted), "deleted %v, want %v", q.deleted, c.deleted)
			for i := range c.deleted {
				require.Equal(t, c.deleted[i], q.deleted[i], "deleted %v, want %v", q.deleted, c.deleted)
			}
			var ev events.SQSEvent
			err = json.Unmarshal(inv.payload, &ev)
			require.NoError(t, err, "event %+v %v", ev, err)
			require.Len(t, ev.Records, 3, "event %+v %v", ev, err)
			require.Equal(t, "aws:sqs", ev.Records[0].EventSource, "event %+v %v", ev, err)
			require.Equal(t, "arn:q", ev.Records[0].EventSourceARN, "event %+v %v", ev, err)
			require.Equal(t, "body-b", ev.Records[1].Body, "event %+v %v", ev, err)
			require.Equal(t, "1", ev.Records[0].Attributes["ApproximateReceiveCount"], "event %+v %v", ev, err)
			require.NotEmpty(t, ev.Records[0].Md5OfBody, "event %+v %v", ev, err)
		})
	}
}

func TestPollerBatchSize(t *testing.T) {
	q := &fakeSQS{msgs: messages("a", "b", "c")}
	p := &Poller{SQS: q, Invoker: &fakeInvoker{}, Function: "F", Event: QueueEvent{BatchSize: 2}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if n, _ := p.Once(context.Background()); n != 2 {
		t.Fatalf("first batch %d", n)
	}
	n, _ := p.Once(context.Background())
	require.Equal(t, 1, n, "second batch %d", n)
}
