package event

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/metrics"
	"github.com/pytake/pytake/internal/metrics/metricstest"
	"github.com/pytake/pytake/internal/queue"
)

type fakeSQS struct {
	queue.API // the publisher only sends
	bodies    []string
	fail      error
	failN     int
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *awsapi.SendMessageBatchInput) (*awsapi.BatchOutput, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	if len(in.Entries) > 10 {
		return nil, fmt.Errorf("batch of %d", len(in.Entries))
	}
	out := &awsapi.BatchOutput{}
	for i, e := range in.Entries {
		if i < f.failN {
			out.Failed = append(out.Failed, awsapi.BatchFailure{ID: e.ID, Code: "InternalError"})
			continue
		}
		f.bodies = append(f.bodies, e.Body)
	}
	return out, nil
}

func TestPublish(t *testing.T) {
	at := time.Date(2025, 10, 3, 16, 30, 0, 0, time.UTC)
	var evs []Event
	for i := 0; i < 23; i++ {
		e, err := New(fmt.Sprintf("evt_%d", i), MessageReceived, "org_1", at, map[string]any{"message": map[string]any{"id": i}})
		require.NoError(t, err)
		evs = append(evs, e)
	}
	f := &fakeSQS{}
	require.NoError(t, NewPublisher(queue.New(f, "q", "event")).Publish(context.Background(), evs...))
	require.Len(t, f.bodies, 23, "sent %d", len(f.bodies))
	var got map[string]any
	_ = json.Unmarshal([]byte(f.bodies[0]), &got)
	if got["event"] != "message.received" || got["timestamp"] != "2025-10-03T16:30:00Z" || got["organization_id"] != "org_1" || got["id"] != "evt_0" {
		t.Fatalf("envelope = %v", got)
	}

	for name, f := range map[string]*fakeSQS{"request fails": {fail: errors.New("down")}, "entry fails": {failN: 1}} {
		t.Run(name, func(t *testing.T) {
			err := NewPublisher(queue.New(f, "q", "event")).Publish(context.Background(), evs[0])
			require.True(t, apperr.Is(err, apperr.Unavailable), "err = %v", err)
		})
	}
}

// Published events are counted in the invocation's metrics; events that
// were not published are not.
func TestPublishCountsEvents(t *testing.T) {
	ev, err := New("evt_1", MessageSent, "org_1", time.Now(), map[string]any{})
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		sqs  *fakeSQS
		want float64
	}{
		{"published", &fakeSQS{}, 3},
		{"not published", &fakeSQS{fail: errors.New("down")}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := metricstest.New(t, "sender")
			p := NewPublisher(queue.New(tc.sqs, "q", "event"))
			h := metricstest.Wrap(t, c, func(ctx context.Context, _ int) (int, error) {
				return 0, p.Publish(ctx, ev, ev, ev)
			})
			_, _ = h(context.Background(), 0)
			require.Equal(t, tc.want, c.Sum(t, metrics.EventsPublished, map[string]string{"Function": "sender"}))
		})
	}
}

// sinkFunc is a Sink that does not answer per message.
type sinkFunc func(msgs ...queue.Message) error

func (f sinkFunc) Send(_ context.Context, msgs ...queue.Message) error { return f(msgs...) }

// PublishEach answers each event's error (the entries the queue answered
// failed), counts only the published ones, and with a Sink that answers
// for the whole send gives every event that one error.
func TestPublishEach(t *testing.T) {
	var evs []Event
	for i := 0; i < 12; i++ {
		e, err := New(fmt.Sprintf("evt_%d", i), MessageSent, "org_1", time.Now(), map[string]any{})
		require.NoError(t, err)
		evs = append(evs, e)
	}
	c := metricstest.New(t, "outbox-relay")
	f := &fakeSQS{failN: 1}
	var errs []error
	h := metricstest.Wrap(t, c, func(ctx context.Context, _ int) (int, error) {
		errs = NewPublisher(queue.New(f, "q", "event")).PublishEach(ctx, evs...)
		return 0, nil
	})
	_, _ = h(context.Background(), 0)
	for i, err := range errs {
		require.Equal(t, i == 0 || i == 10, apperr.Is(err, apperr.Unavailable), "%d: %v", i, err)
	}
	require.Len(t, f.bodies, 10)
	require.Equal(t, 10.0, c.Sum(t, metrics.EventsPublished, map[string]string{"Function": "outbox-relay"}))

	down := errors.New("down")
	errs = NewPublisher(sinkFunc(func(...queue.Message) error { return down })).PublishEach(context.Background(), evs[:2]...)
	require.Equal(t, []error{down, down}, errs)
}
