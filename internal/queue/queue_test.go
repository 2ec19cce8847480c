package queue

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/awsapi"
)

// fakeSQS records what it is asked, as SQS would take it.
type fakeSQS struct {
	batches    [][]awsapi.SendMessageEntry
	urls       []string
	fail       error
	failN      int // entries of each batch answered failed
	visibility map[string]int32
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *awsapi.SendMessageBatchInput) (*awsapi.BatchOutput, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	if len(in.Entries) > MaxBatch {
		return nil, fmt.Errorf("batch of %d", len(in.Entries))
	}
	f.batches = append(f.batches, in.Entries)
	f.urls = append(f.urls, in.QueueURL)
	out := &awsapi.BatchOutput{}
	for i, e := range in.Entries {
		if i < f.failN {
			out.Failed = append(out.Failed, awsapi.BatchFailure{ID: e.ID, Code: "InternalError"})
		}
	}
	return out, nil
}

func (f *fakeSQS) ChangeMessageVisibility(_ context.Context, in *awsapi.ChangeMessageVisibilityInput) error {
	if f.fail != nil {
		return f.fail
	}
	f.visibility[in.ReceiptHandle] = in.VisibilityTimeout
	return nil
}

const url = "https://sqs.us-east-1.amazonaws.com/123456789012/pytake-dev-EventsQueue"

func TestSendBatchesInOrder(t *testing.T) {
	f := &fakeSQS{}
	var msgs []Message
	for i := 0; i < 23; i++ {
		msgs = append(msgs, Message{Body: map[string]int{"n": i}})
	}
	require.NoError(t, New(f, url, "event").Send(context.Background(), msgs...))
	require.Len(t, f.batches, 3, "batches: %d", len(f.batches))
	require.Len(t, f.batches[0], 10, "batches")
	require.Len(t, f.batches[2], 3, "batches")
	got := f.batches[2][2].Body
	require.Equal(t, `{"n":22}`, got, "last body %s to %s", got, f.urls[2])
	require.Equal(t, url, f.urls[2], "last body %s to %s", got, f.urls[2])
	id := f.batches[1][0].ID
	require.Equal(t, "0", id, "entry ids restart per batch: %s", id)
}

func TestSendEntry(t *testing.T) {
	tests := []struct {
		name  string
		msg   Message
		check func(e awsapi.SendMessageEntry) bool
	}{
		{"standard", Message{Body: "x"}, func(e awsapi.SendMessageEntry) bool {
			return e.GroupID == "" && e.DedupID == "" && e.Attributes == nil
		}},
		{"fifo", Message{Body: "x", Group: "org_1:ct_1", DedupID: "msg_1"}, func(e awsapi.SendMessageEntry) bool {
			return e.GroupID == "org_1:ct_1" && e.DedupID == "msg_1"
		}},
		{"attributes", Message{Body: "x", Attributes: map[string]string{"event": "message.received"}}, func(e awsapi.SendMessageEntry) bool {
			return e.Attributes["event"] == "message.received"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSQS{}
			require.NoError(t, New(f, url, "event").Send(context.Background(), tt.msg))
			e := f.batches[0][0]
			require.True(t, tt.check(e), "entry %+v", e)
			require.Equal(t, `"x"`, e.Body, "entry %+v", e)
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
			e, ok := apperr.As(err)
			require.True(t, ok, "err = %v", err)
			require.Equal(t, tt.kind, e.Kind, "err")
			require.Equal(t, "the event queue is unavailable, retry", e.Message, "err")
		})
	}
	err := New(&fakeSQS{}, url, "event").Send(context.Background(), Message{Body: make(chan int)})
	require.Error(t, err, "a body that does not encode: %v", err)
	require.False(t, apperr.Is(err, apperr.Unavailable), "a body that does not encode")
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
		require.NoError(t, New(f, url, "deliveries").Delay(context.Background(), "rh", tt.d))
		got := f.visibility["rh"]
		assert.Equal(t, tt.want, got, "Delay(%v) = %d s, want %d", tt.d, got, tt.want)
	}
	err := New(&fakeSQS{fail: errors.New("down")}, url, "deliveries").Delay(context.Background(), "rh", time.Second)
	require.Error(t, err, "a failed ChangeMessageVisibility is not reported")
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
		got := q.IsSource(tt.arn)
		assert.Equal(t, tt.want, got, "IsSource(%q) = %v", tt.arn, got)
	}
	require.False(t, New(&fakeSQS{}, "", "event").IsSource("arn:aws:sqs:us-east-1:1:"), "an unconfigured queue claims a record")
}
