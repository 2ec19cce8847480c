package sender

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pytake/pytake/internal/apperr"
)

// SQSSender is the part of the SQS client enqueuing needs.
type SQSSender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Enqueuer puts accepted messages on the outbound FIFO queue.
type Enqueuer struct {
	SQS      SQSSender
	QueueURL string
}

// Enqueue queues one message. The message group is the organisation and
// recipient (a recipient's messages go out in the order accepted; other
// recipients are not held up), and the deduplication id is the message id
// (a repeated enqueue within SQS's five minutes is dropped; later ones find
// the message already claimed or sent).
func (e Enqueuer) Enqueue(ctx context.Context, org, contactID, messageID string) error {
	body, err := json.Marshal(Job{OrgID: org, MessageID: messageID})
	if err != nil {
		return fmt.Errorf("sender: encode job: %w", err)
	}
	_, err = e.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:               aws.String(e.QueueURL),
		MessageBody:            aws.String(string(body)),
		MessageGroupId:         aws.String(org + ":" + contactID),
		MessageDeduplicationId: aws.String(messageID),
	})
	if err != nil {
		return apperr.New(apperr.Unavailable, "the outbound queue is unavailable, retry").WithCause(err)
	}
	return nil
}
