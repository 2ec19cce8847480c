package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/pytake/pytake/internal/apperr"
)

// TopicAPI is the part of the SNS client topics use.
type TopicAPI interface {
	PublishBatch(ctx context.Context, in *sns.PublishBatchInput, opts ...func(*sns.Options)) (*sns.PublishBatchOutput, error)
}

var _ TopicAPI = (*sns.Client)(nil)

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

// Send publishes the messages, MaxBatch per request, each body encoded as
// JSON and its Attributes as string message attributes (what subscriptions
// filter on). A standard topic has no message groups: Group and DedupID must
// be empty. It fails (an apperr.Unavailable) if any message was not
// published.
func (t *Topic) Send(ctx context.Context, msgs ...Message) error {
	for start := 0; start < len(msgs); start += MaxBatch {
		batch := msgs[start:min(start+MaxBatch, len(msgs))]
		entries := make([]snstypes.PublishBatchRequestEntry, 0, len(batch))
		for i, m := range batch {
			if m.Group != "" || m.DedupID != "" {
				return fmt.Errorf("queue: the %s topic is a standard topic: no message group or deduplication id", t.what)
			}
			body, err := json.Marshal(m.Body)
			if err != nil {
				return fmt.Errorf("queue: encode %T: %w", m.Body, err)
			}
			e := snstypes.PublishBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), Message: aws.String(string(body))}
			if len(m.Attributes) > 0 {
				e.MessageAttributes = make(map[string]snstypes.MessageAttributeValue, len(m.Attributes))
				for k, v := range m.Attributes {
					e.MessageAttributes[k] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
				}
			}
			entries = append(entries, e)
		}
		out, err := t.api.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(t.arn), PublishBatchRequestEntries: entries})
		if err != nil {
			return t.unavailable(fmt.Errorf("queue: publish to %s: %w", t.what, err))
		}
		if len(out.Failed) > 0 {
			f := out.Failed[0]
			return t.unavailable(fmt.Errorf("queue: %d of %d not published to %s: %s %s", len(out.Failed), len(entries), t.what,
				aws.ToString(f.Code), aws.ToString(f.Message)))
		}
	}
	return nil
}

func (t *Topic) unavailable(err error) error {
	return apperr.New(apperr.Unavailable, "the "+t.what+" topic is unavailable, retry").WithCause(err)
}
