package queue

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
)

// SendEach answers each message's error: the entries SQS answers failed
// fail their messages only (failN: the first of each request), a failed
// request fails its own messages, a message that cannot be encoded fails
// alone, and the sending goes on after a failure.
func TestQueueSendEachFailsOnlyTheFailedEntries(t *testing.T) {
	msgs := make([]Message, 12)
	for i := range msgs {
		msgs[i] = Message{Body: i, Group: "g" + string(rune('a'+i)), DedupID: "d"}
	}
	msgs[5].Body = func() {} // not JSON
	f := &fakeSQS{failN: 1}
	errs := New(f, url, "outbound").SendEach(context.Background(), msgs...)
	require.Len(t, f.batches, 2)
	assert.Len(t, f.batches[0], 9)
	for i, err := range errs {
		switch i {
		case 0, 10: // the first entry of each request
			assert.True(t, apperr.Is(err, apperr.Unavailable), "%d: %v", i, err)
		case 5:
			assert.ErrorContains(t, err, "encode")
		default:
			assert.NoError(t, err, i)
		}
	}

	errs = New(&fakeSQS{fail: errors.New("boom")}, url, "outbound").SendEach(context.Background(), msgs[:3]...)
	for _, err := range errs {
		assert.True(t, apperr.Is(err, apperr.Unavailable), "%v", err)
	}
}

// Topic.SendEach: the same, and a message too large for the topic fails
// alone, not as a passing outage.
func TestTopicSendEachFailsOnlyTheFailedEntries(t *testing.T) {
	msgs := make([]Message, 14)
	for i := range msgs {
		msgs[i] = Message{Body: i, Attributes: map[string]string{"event": "message.sent"}}
	}
	msgs[3].Body = strings.Repeat("x", MaxPublishBytes)
	msgs[4].Group = "g"
	f := &fakeSNS{failN: 1}
	errs := NewTopic(f, topicARN, "event").SendEach(context.Background(), msgs...)
	require.Len(t, f.batches, 2)
	for i, err := range errs {
		switch i {
		case 0, 12: // the first entry of each request (3 and 4 are not sent)
			assert.True(t, apperr.Is(err, apperr.Unavailable), "%d: %v", i, err)
		case 3:
			assert.ErrorContains(t, err, "more than")
			assert.False(t, apperr.Is(err, apperr.Unavailable))
		case 4:
			assert.ErrorContains(t, err, "standard topic")
		default:
			assert.NoError(t, err, i)
		}
	}
	errs = NewTopic(&fakeSNS{fail: errors.New("boom")}, topicARN, "event").SendEach(context.Background(), msgs[:2]...)
	for _, err := range errs {
		assert.True(t, apperr.Is(err, apperr.Unavailable), "%v", err)
	}
}
