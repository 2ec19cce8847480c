package sender

import (
	"context"
	"errors"

	"github.com/pytake/pytake/internal/queue"
)

// Enqueuer puts accepted messages on the outbound FIFO queues: the
// transactional queue, or the bulk queue for a bulk message (a campaign's).
// Two queues, two lanes: a campaign's thousands of queued messages never
// stand in front of an order confirmation, whatever the queue's order, and
// the sender's event source mappings give each lane its own concurrency.
// It is the one place that routes a message to its lane.
type Enqueuer struct {
	Queue *queue.Queue
	Bulk  *queue.Queue
}

// NewEnqueuer returns the Enqueuer of the two queues at these URLs
// (OUTBOUND_QUEUE_URL and OUTBOUND_BULK_QUEUE_URL).
func NewEnqueuer(api queue.API, transactionalURL, bulkURL string) Enqueuer {
	return Enqueuer{Queue: queue.New(api, transactionalURL, "outbound"), Bulk: queue.New(api, bulkURL, "outbound bulk")}
}

// Enqueue queues one message. The message group is the organisation and
// recipient (a recipient's messages go out in the order accepted; other
// recipients are not held up), and the deduplication id is the message id
// (a repeated enqueue within SQS's five minutes is dropped; later ones find
// the message already claimed or sent). A recipient's bulk and
// transactional messages are in different queues, so one does not wait
// for the other.
func (e Enqueuer) Enqueue(ctx context.Context, org, contactID, messageID string, bulk bool) error {
	q := e.Queue
	if bulk {
		if e.Bulk == nil {
			return errors.New("sender: no bulk outbound queue to enqueue a bulk message on")
		}
		q = e.Bulk
	}
	return q.Send(ctx, queue.Message{
		Body:    Job{OrgID: org, MessageID: messageID},
		Group:   org + ":" + contactID,
		DedupID: messageID,
	})
}
