// Package queue is PyTake's SQS adapter, as store is its DynamoDB one: every
// message PyTake puts on a queue (events, outbound messages, webhook
// delivery jobs) and every retry delay it sets on a received one goes
// through a Queue. A Queue also says whether an SQS record came from it, by
// the record's EventSourceARN, so a function fed by two queues tells them
// apart without reading the bodies.
package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/awsapi"
)

// API is the part of the SQS client queues use.
type API interface {
	SendMessageBatch(ctx context.Context, in *awsapi.SendMessageBatchInput) (*awsapi.BatchOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *awsapi.ChangeMessageVisibilityInput) error
}

var _ API = (*awsapi.SQS)(nil)

// MaxBatch is how many messages SQS takes in one request.
const MaxBatch = 10

// MaxDelay is the longest SQS keeps a received message invisible (12 hours).
const MaxDelay = 12 * time.Hour

// Queue is one SQS queue.
type Queue struct {
	api  API
	url  string
	what string
}

// New returns the queue at url; what names it in errors ("events" for "the
// events queue is unavailable, retry").
func New(api API, url, what string) *Queue {
	return &Queue{api: api, url: url, what: what}
}

// Name is the queue's name: the last part of its URL
// (https://sqs.<region>.amazonaws.com/<account>/<name>).
func (q *Queue) Name() string { return q.url[strings.LastIndexByte(q.url, '/')+1:] }

// IsSource reports whether a record's EventSourceARN
// (arn:<partition>:sqs:<region>:<account>:<name>) is this queue.
func (q *Queue) IsSource(arn string) bool {
	name := q.Name()
	return name != "" && strings.HasSuffix(arn, ":"+name) && strings.Contains(arn, ":sqs:")
}

// Message is one message to send: Body is encoded as JSON. Group and DedupID
// are a FIFO queue's message group and deduplication id; Attributes are
// string message attributes.
type Message struct {
	Body       any
	Group      string
	DedupID    string
	Attributes map[string]string
}

// Send sends the messages in order, MaxBatch per request. It fails (an
// apperr.Unavailable) if any message was not sent, so the caller can fail
// and have its own input retried.
func (q *Queue) Send(ctx context.Context, msgs ...Message) error {
	for start := 0; start < len(msgs); start += MaxBatch {
		batch := msgs[start:min(start+MaxBatch, len(msgs))]
		entries := make([]awsapi.SendMessageEntry, 0, len(batch))
		for i, m := range batch {
			e, err := entry(strconv.Itoa(i), m)
			if err != nil {
				return err
			}
			entries = append(entries, e)
		}
		out, err := q.api.SendMessageBatch(ctx, &awsapi.SendMessageBatchInput{QueueURL: q.url, Entries: entries})
		if err != nil {
			return q.unavailable(fmt.Errorf("queue: send to %s: %w", q.what, err))
		}
		if len(out.Failed) > 0 {
			f := out.Failed[0]
			return q.unavailable(fmt.Errorf("queue: %d of %d not sent to %s: %s %s", len(out.Failed), len(entries), q.what,
				f.Code, f.Message))
		}
	}
	return nil
}

func entry(id string, m Message) (awsapi.SendMessageEntry, error) {
	body, err := json.Marshal(m.Body)
	if err != nil {
		return awsapi.SendMessageEntry{}, fmt.Errorf("queue: encode %T: %w", m.Body, err)
	}
	return awsapi.SendMessageEntry{ID: id, Body: string(body), GroupID: m.Group, DedupID: m.DedupID, Attributes: m.Attributes}, nil
}

// Delay makes a received message (its receipt handle) visible again after
// d, at least a second and at most MaxDelay: a retry that nothing waits for.
func (q *Queue) Delay(ctx context.Context, receiptHandle string, d time.Duration) error {
	secs := int32(min(max(d, time.Second), MaxDelay) / time.Second)
	err := q.api.ChangeMessageVisibility(ctx, &awsapi.ChangeMessageVisibilityInput{
		QueueURL: q.url, ReceiptHandle: receiptHandle, VisibilityTimeout: secs,
	})
	if err != nil {
		return fmt.Errorf("queue: delay a message of %s: %w", q.what, err)
	}
	return nil
}

func (q *Queue) unavailable(err error) error {
	return apperr.New(apperr.Unavailable, "the "+q.what+" queue is unavailable, retry").WithCause(err)
}
