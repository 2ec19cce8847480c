package queue

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/awsapi"
)

type fakeSNS struct {
	batches [][]awsapi.PublishEntry
	fail    error
	failN   int
}

func (f *fakeSNS) PublishBatch(_ context.Context, in *awsapi.PublishBatchInput) (*awsapi.BatchOutput, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	if len(in.Entries) > MaxBatch {
		return nil, errors.New("too many entries")
	}
	f.batches = append(f.batches, in.Entries)
	out := &awsapi.BatchOutput{}
	for i, e := range in.Entries {
		if i < f.failN {
			out.Failed = append(out.Failed, awsapi.BatchFailure{ID: e.ID, Code: "InternalError"})
		}
	}
	return out, nil
}

const topicARN = "arn:aws:sns:us-east-1:123456789012:pytake-dev-EventsTopic"

func TestTopicPublishesInBatchesWithAttributes(t *testing.T) {
	f := &fakeSNS{}
	var msgs []Message
	for i := 0; i < 12; i++ {
		msgs = append(msgs, Message{Body: map[string]int{"n": i}, Attributes: map[string]string{"event": "message.received"}})
	}
	require.NoError(t, NewTopic(f, topicARN, "event").Send(context.Background(), msgs...))
	require.Len(t, f.batches, 2)
	assert.Len(t, f.batches[0], 10)
	assert.Len(t, f.batches[1], 2)
	assert.Equal(t, `{"n":11}`, f.batches[1][1].Message)
	assert.Equal(t, "message.received", f.batches[0][0].Attributes["event"])
	assert.Equal(t, "pytake-dev-EventsTopic", NewTopic(f, topicARN, "event").Name())
}

func TestTopicFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    *fakeSNS
		msg  Message
	}{
		{"call fails", &fakeSNS{fail: errors.New("boom")}, Message{Body: 1}},
		{"an entry fails", &fakeSNS{failN: 1}, Message{Body: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := NewTopic(tc.f, topicARN, "event").Send(context.Background(), tc.msg)
			assert.True(t, apperr.Is(err, apperr.Unavailable), "%v", err)
		})
	}
	err := NewTopic(&fakeSNS{}, topicARN, "event").Send(context.Background(), Message{Body: 1, Group: "g"})
	assert.ErrorContains(t, err, "standard topic")
}

// sizedSNS refuses a PublishBatch whose messages and attributes add up to
// more than SNS takes in one request (256 KiB), as SNS does.
type sizedSNS struct{ fakeSNS }

func (f *sizedSNS) PublishBatch(ctx context.Context, in *awsapi.PublishBatchInput) (*awsapi.BatchOutput, error) {
	n := 0
	for _, e := range in.Entries {
		n += len(e.Message)
		for k, v := range e.Attributes {
			n += len(k) + len("String") + len(v)
		}
	}
	if n > MaxPublishBytes {
		return nil, errors.New("BatchRequestTooLong: the batch request is too long")
	}
	return f.fakeSNS.PublishBatch(ctx, in)
}

// Issue 13 review: an outbox item's events that fit one by one but not
// together in one PublishBatch were refused on every retry (the relay's
// record a poison pill, its events lost to the on-failure destination).
func TestTopicSplitsBatchesBySize(t *testing.T) {
	f := &sizedSNS{}
	var msgs []Message
	for i := 0; i < 4; i++ {
		msgs = append(msgs, Message{Body: map[string]string{"pad": strings.Repeat("x", 100<<10)}, Attributes: map[string]string{"event": "contact.updated"}})
	}
	require.NoError(t, NewTopic(f, topicARN, "event").Send(context.Background(), msgs...))
	n := 0
	for _, b := range f.batches {
		n += len(b)
	}
	require.Equal(t, 4, n, "every message published once")
	require.Len(t, f.batches, 2, "two per request")
	// One message SNS can never take is refused as such, not as unavailable.
	err := NewTopic(f, topicARN, "event").Send(context.Background(), Message{Body: strings.Repeat("x", MaxPublishBytes)})
	require.Error(t, err)
	assert.False(t, apperr.Is(err, apperr.Unavailable), "%v", err)
}
