package queue

import (
	"context"
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

// Send publishes the messages as SendEach does (each body encoded as JSON,
// its Attributes as string message attributes; a standard topic has no
// message groups: Group and DedupID must be empty). It fails (an
// apperr.Unavailable, unless a message could never be published) if any
// message was not published.
func (t *Topic) Send(ctx context.Context, msgs ...Message) error {
	for _, err := range t.SendEach(ctx, msgs...) {
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *Topic) unavailable(err error) error {
	return apperr.New(apperr.Unavailable, "the "+t.what+" topic is unavailable, retry").WithCause(err)
}
