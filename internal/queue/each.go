package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/pytake/pytake/internal/awsapi"
)

// SendEach sends the messages, MaxBatch per request, and answers each
// one's error (nil: sent), so a caller relaying many inputs fails exactly
// those whose messages were not sent: a request that fails fails its
// messages (an apperr.Unavailable), an entry SQS answers failed (or does
// not answer) fails its message. Unlike Send it goes on after a failure,
// so the messages of one FIFO message group must be sent in separate calls
// (a later message of a group could be sent while an earlier one was not).
func (q *Queue) SendEach(ctx context.Context, msgs ...Message) []error {
	errs := make([]error, len(msgs))
	for start := 0; start < len(msgs); start += MaxBatch {
		var entries []awsapi.SendMessageEntry
		var ids []string
		for i := start; i < min(start+MaxBatch, len(msgs)); i++ {
			e, err := entry(strconv.Itoa(i), msgs[i])
			if err != nil {
				errs[i] = err
				continue
			}
			entries, ids = append(entries, e), append(ids, e.ID)
		}
		if len(entries) == 0 {
			continue
		}
		out, err := q.api.SendMessageBatch(ctx, &awsapi.SendMessageBatchInput{QueueURL: q.url, Entries: entries})
		if err != nil {
			err = q.unavailable(fmt.Errorf("queue: send to %s: %w", q.what, err))
		}
		answer(errs, ids, out, err, func(f awsapi.BatchFailure) error {
			return q.unavailable(fmt.Errorf("queue: a message not sent to %s: %s %s", q.what, f.Code, f.Message))
		})
	}
	return errs
}

// SendEach publishes the messages, at most MaxBatch and MaxPublishBytes
// per request, each body encoded as JSON and its Attributes as string
// message attributes (what subscriptions filter on), and answers each
// one's error (nil: published), as Queue.SendEach does. A message too
// large for the topic, or with a message group or deduplication id (a
// standard topic has none), fails alone and not as a passing outage.
func (t *Topic) SendEach(ctx context.Context, msgs ...Message) []error {
	errs := make([]error, len(msgs))
	var entries []awsapi.PublishEntry
	var ids []string
	size := 0
	flush := func() {
		if len(entries) == 0 {
			return
		}
		out, err := t.api.PublishBatch(ctx, &awsapi.PublishBatchInput{TopicARN: t.arn, Entries: entries})
		if err != nil {
			err = t.unavailable(fmt.Errorf("queue: publish to %s: %w", t.what, err))
		}
		answer(errs, ids, out, err, func(f awsapi.BatchFailure) error {
			return t.unavailable(fmt.Errorf("queue: a message not published to %s: %s %s", t.what, f.Code, f.Message))
		})
		entries, ids, size = nil, nil, 0
	}
	for i, m := range msgs {
		if m.Group != "" || m.DedupID != "" {
			errs[i] = fmt.Errorf("queue: the %s topic is a standard topic: no message group or deduplication id", t.what)
			continue
		}
		body, err := json.Marshal(m.Body)
		if err != nil {
			errs[i] = fmt.Errorf("queue: encode %T: %w", m.Body, err)
			continue
		}
		n := len(body)
		for k, v := range m.Attributes {
			n += len(k) + len("String") + len(v)
		}
		if n > MaxPublishBytes {
			// SNS refuses it on every retry: not a passing outage.
			errs[i] = fmt.Errorf("queue: a %s message of %d bytes is more than the %d bytes a topic takes", t.what, n, MaxPublishBytes)
			continue
		}
		if len(entries) == MaxBatch || size+n > MaxPublishBytes {
			flush()
		}
		id := strconv.Itoa(i)
		entries = append(entries, awsapi.PublishEntry{ID: id, Message: string(body), Attributes: m.Attributes})
		ids, size = append(ids, id), size+n
	}
	flush()
	return errs
}

// answer sets the errors of one request's entries (ids: the messages'
// indices): the request's error, or each failed entry's.
func answer(errs []error, ids []string, out *awsapi.BatchOutput, err error, failed func(awsapi.BatchFailure) error) {
	byID := map[string]awsapi.BatchFailure{}
	if err == nil && out != nil {
		for _, f := range out.Failed {
			byID[f.ID] = f
		}
	}
	for _, id := range ids {
		i, _ := strconv.Atoi(id)
		if err != nil {
			errs[i] = err
		} else if f, ok := byID[id]; ok {
			errs[i] = failed(f)
		}
	}
}
