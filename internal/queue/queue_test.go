package queue

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pytake/pytake/internal/apperr"
)

// fakeSQS records what it is asked, as SQS would take it.
type fakeSQS struct {
	batches    [][]sqstypes.SendMessageBatchRequestEntry
	urls       []string
	fail       error
	failN      int // entries of each batch answered failed
	visibility map[string]int32
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	if len(in.Entries) > MaxBatch {
		return nil, fmt.Errorf("batch of %d", len(in.Entries))
	}
	f.batches = append(f.batches, in.Entries)
	f.urls = append(f.urls, aws.ToString(in.QueueUrl))
	out := &sqs.SendMessageBatchOutput{}
	for i, e := range in.Entries {
		if i < f.failN {
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError")})
		}
	}
	return out, nil
}

func (f *fakeSQS) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	f.visibility[aws.ToString(in.ReceiptHandle)] = in.VisibilityTimeout
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

const url = "https://sqs.us-east-1.amazonaws.com/123456789012/pytake-dev-EventsQueue"

func TestSendBatchesInOrder(t *testing.T) {
	f := &fakeSQS{}
	var msgs []Message
	for i := 0; i < 23; i++ {
		msgs = append(msgs, Message{Body: map[string]int{"n": i}})
	}
	if err := New(f, url, "event").Send(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	if len(f.batches) != 3 || len(f.batches[0]) != 10 || len(f.batches[2]) != 3 {
		t.Fatalf("batches: %d", len(f.batches))
	}
	if got := aws.ToString(f.batches[2][2].MessageBody); got != `{"n":22}` || f.urls[2] != url {
		t.Fatalf("last body %s to %s", got, f.urls[2])
	}
	if id := aws.ToString(f.batches[1][0].Id); id != "0" {
		t.Fatalf("entry ids restart per batch: %s", id)
	}
}

func TestSendEntry(t *testing.T) {
	tests := []struct {
		name  string
		msg   Message
		check func(e sqstypes.SendMessageBatchRequestEntry) bool
	}{
		{"standard", Message{Body: "x"}, func(e sqstypes.SendMessageBatchRequestEntry) bool {
			return e.MessageGroupId == nil && e.MessageDeduplicationId == nil && e.MessageAttributes == nil
		}},
		{"fifo", Message{Body: "x", Group: "org_1:ct_1", DedupID: "msg_1"}, func(e sqstypes.SendMessageBatchRequestEntry) bool {
			return aws.ToString(e.MessageGroupId) == "org_1:ct_1" && aws.ToString(e.MessageDeduplicationId) == "msg_1"
		}},
		{"attributes", Message{Body: "x", Attributes: map[string]string{"event": "message.received"}}, func(e sqstypes.SendMessageBatchRequestEntry) bool {
			a := e.MessageAttributes["event"]
			return aws.ToString(a.DataType) == "String" && aws.ToString(a.StringValue) == "message.received"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSQS{}
			if err := New(f, url, "event").Send(context.Background(), tt.msg); err != nil {
				t.Fatal(err)
			}
			if e := f.batches[0][0]; !tt.check(e) || aws.ToString(e.MessageBody) != `"x"` {
				t.Fatalf("entry %+v", e)
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	tests := []struct {
		name string
		f    *fakeSQS
		msg  Message
		kind apperr.Kind
	}{
		{"request fails", &fakeSQS{fail: errors.New("down")}, Message{Body: 1}, apperr.Unavailable},
		{"an entry fails", &fakeSQS{failN: 1}, Message{Body: 1}, apperr.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New(tt.f, url, "event").Send(context.Background(), tt.msg)
			if e, ok := apperr.As(err); !ok || e.Kind != tt.kind || e.Message != "the event queue is unavailable, retry" {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if err := New(&fakeSQS{}, url, "event").Send(context.Background(), Message{Body: make(chan int)}); err == nil || apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("a body that does not encode: %v", err)
	}
}

func TestDelayBounds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int32
	}{
		{0, 1}, {400 * time.Millisecond, 1}, {5 * time.Second, 5}, {90500 * time.Millisecond, 90}, {13 * time.Hour, 43200},
	}
	for _, tt := range tests {
		f := &fakeSQS{visibility: map[string]int32{}}
		if err := New(f, url, "deliveries").Delay(context.Background(), "rh", tt.d); err != nil {
			t.Fatal(err)
		}
		if got := f.visibility["rh"]; got != tt.want {
			t.Errorf("Delay(%v) = %d s, want %d", tt.d, got, tt.want)
		}
	}
	if err := New(&fakeSQS{fail: errors.New("down")}, url, "deliveries").Delay(context.Background(), "rh", time.Second); err == nil {
		t.Fatal("a failed ChangeMessageVisibility is not reported")
	}
}

func TestIsSource(t *testing.T) {
	q := New(&fakeSQS{}, url, "event")
	tests := []struct {
		arn  string
		want bool
	}{
		{"arn:aws:sqs:us-east-1:123456789012:pytake-dev-EventsQueue", true},
		{"arn:aws:sqs:us-east-1:123456789012:pytake-dev-DeliveriesQueue", false},
		{"arn:aws:sqs:us-east-1:123456789012:dev-EventsQueue", false},
		{"arn:aws:sqs:us-east-1:123456789012:pytake-dev-EventsQueue-2", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := q.IsSource(tt.arn); got != tt.want {
			t.Errorf("IsSource(%q) = %v", tt.arn, got)
		}
	}
	if New(&fakeSQS{}, "", "event").IsSource("arn:aws:sqs:us-east-1:1:") {
		t.Fatal("an unconfigured queue claims a record")
	}
}
