package sender_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/sender"
)

type sentTo struct {
	queue.API
	mu   sync.Mutex
	urls []string
}

func (s *sentTo) SendMessageBatch(_ context.Context, in *awsapi.SendMessageBatchInput) (*awsapi.BatchOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.urls = append(s.urls, in.QueueURL)
	return &awsapi.BatchOutput{}, nil
}

// The Enqueuer routes a bulk message to the bulk queue, every other to the
// transactional one; without a bulk queue, a bulk message is refused, not
// put in the transactional lane.
func TestEnqueuerLanes(t *testing.T) {
	api := &sentTo{}
	e := sender.NewEnqueuer(api, "https://sqs/outbound.fifo", "https://sqs/outbound-bulk.fifo")
	ctx := context.Background()
	for _, tc := range []struct {
		bulk bool
		want string
	}{{false, "https://sqs/outbound.fifo"}, {true, "https://sqs/outbound-bulk.fifo"}} {
		api.urls = nil
		require.NoError(t, e.Enqueue(ctx, "org_1", "ct_1", "msg_1", tc.bulk))
		require.Equal(t, []string{tc.want}, api.urls, "bulk=%v", tc.bulk)
	}
	api.urls = nil
	err := sender.Enqueuer{Queue: queue.New(api, "https://sqs/outbound.fifo", "outbound")}.Enqueue(ctx, "org_1", "ct_1", "msg_1", true)
	require.Error(t, err)
	require.Empty(t, api.urls)
}
