package sender

import (
	"context"

	"github.com/pytake/pytake/internal/queue"
)

// Enqueuer puts accepted messages on the outbound FIFO queue.
type Enqueuer struct {
	Queue *queue.Queue
}

// Enqueue queues one message. The message group is the organisation and
// recipient (a recipient's messages go out in the order accepted; other
// recipients are not held up), and the deduplication id is the message id
// (a repeated enqueue within SQS's five minutes is dropped; later ones find
// the message already claimed or sent).
func (e Enqueuer) Enqueue(ctx context.Context, org, contactID, messageID string) error {
	return e.Queue.Send(ctx, queue.Message{
		Body:    Job{OrgID: org, MessageID: messageID},
		Group:   org + ":" + contactID,
		DedupID: messageID,
	})
}
