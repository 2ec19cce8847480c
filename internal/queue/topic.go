package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/awsapi"
)

// TopicAPI is the part of the SNS client topics use.
type TopicAPI interface {
	PublishBatch(ctx context.Context, in *awsapi.PublishBatchInput) (*awsapi.BatchOutput, error)
}

var _ TopicAPI = (*awsapi.SNS)(nil)

// Topic is one SNS topic in front of several consumers' queues: a message
// sent to it reaches every subscribed queue whose filter policy (on the
// message attributes) matches, so a new consumer is a new subscription and
// a slow one never holds back the others.
type Topic struct {
	api  TopicAPI
	arn  string
	what string
}

// NewTopic returns the topic with this ARN; what names it in errors.
func NewTopic(api TopicAPI, arn, what string) *Topic {
	return &Topic{api: api, arn: arn, what: what}
}

// Name is the topic's name: the last part of its ARN.
func (t *Topic) Name() string { return t.arn[strings.LastIndexByte(t.arn, ':')+1:] }

// MaxPublishBytes is the most SNS takes in one publish request: the
// messages and their attributes together (256 KiB).
const MaxPublishBytes = 256 << 10

// Send publishes the messages, at most MaxBatch and MaxPublishBytes per
// request, each body encoded as
// JSON and its Attributes as string message attributes (what subscriptions
// filter on). A standard topic has no message groups: Group and DedupID must
// be empty. It fails (an apperr.Unavailable) if any message was not
// published.
func (t *Topic) Send(ctx context.Context, msgs ...Message) error {
	var entries []awsapi.PublishEntry
	size := 0
	for _, m := range msgs {
		if m.Group != "" || m.DedupID != "" {
			return fmt.Errorf("queue: the %s topic is a standard topic: no message group or deduplication id", t.what)
		}
		body, err := json.Marshal(m.Body)
		if err != nil {
			return fmt.Errorf("queue: encode %T: %w", m.Body, err)
		}
		e := awsapi.PublishEntry{Message: string(body), Attributes: m.Attributes}
		n := len(body)
		for k, v := range m.Attributes {
			n += len(k) + len("String") + len(v)
		}
		if n > MaxPublishBytes {
			// SNS refuses it on every retry: not a passing outage.
			return fmt.Errorf("queue: a %s message of %d bytes is more than the %d bytes a topic takes", t.what, n, MaxPublishBytes)
		}
		if len(entries) == MaxBatch || size+n > MaxPublishBytes {
			if err := t.publish(ctx, entries); err != nil {
				return err
			}
			entries, size = nil, 0
		}
		e.ID = strconv.Itoa(len(entries))
		entries = append(entries, e)
		size += n
	}
	if len(entries) > 0 {
		return t.publish(ctx, entries)
	}
	return nil
}

// publish publishes one batch.
func (t *Topic) publish(ctx context.Context, entries []awsapi.PublishEntry) error {
	out, err := t.api.PublishBatch(ctx, &awsapi.PublishBatchInput{TopicARN: t.arn, Entries: entries})
	if err != nil {
		return t.unavailable(fmt.Errorf("queue: publish to %s: %w", t.what, err))
	}
	if len(out.Failed) > 0 {
		f := out.Failed[0]
		return t.unavailable(fmt.Errorf("queue: %d of %d not published to %s: %s %s", len(out.Failed), len(entries), t.what,
			f.Code, f.Message))
	}
	return nil
}

func (t *Topic) unavailable(err error) error {
	return apperr.New(apperr.Unavailable, "the "+t.what+" topic is unavailable, retry").WithCause(err)
}
