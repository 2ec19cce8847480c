package stack

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSAPI is what a poller needs from SQS.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// Poller does what Lambda's SQS event source mapping does: it long-polls a
// queue, invokes the consumer with a batch, deletes what succeeded and
// leaves the rest to come back after the visibility timeout (and reach the
// dead-letter queue after maxReceiveCount). With ReportBatchItemFailures
// only the items the function names are kept; without it, a function error
// keeps the whole batch.
type Poller struct {
	SQS      SQSAPI
	Invoker  Invoker
	Function string
	Event    QueueEvent
	QueueURL string
	QueueARN string
	Region   string
	Log      *slog.Logger
	Wait     time.Duration // long-poll wait (default 1 s)
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := p.Once(ctx)
		if err != nil && ctx.Err() == nil {
			p.Log.Warn("poll failed", "queue", p.Event.Queue, "error", err.Error())
			sleep(ctx, time.Second)
		}
		_ = n
	}
}

// Once receives one batch and handles it; it returns how many messages it
// received.
func (p *Poller) Once(ctx context.Context) (int, error) {
	wait := p.Wait
	if wait <= 0 {
		wait = time.Second
	}
	batch := p.Event.BatchSize
	if batch <= 0 || batch > 10 {
		batch = 10
	}
	out, err := p.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(p.QueueURL),
		MaxNumberOfMessages:         int32(batch),
		WaitTimeSeconds:             int32(wait / time.Second),
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return 0, err
	}
	if len(out.Messages) == 0 {
		return 0, nil
	}
	ev := p.event(out.Messages)
	payload, err := json.Marshal(ev)
	if err != nil {
		return len(out.Messages), err
	}
	inv := p.Invoker.Invoke(ctx, p.Function, payload)
	keep := map[string]bool{}
	if inv.Err != nil {
		p.Log.Warn("consumer failed; batch returns after the visibility timeout", "function", p.Function, "messages", len(ev.Records), "error", inv.Err.Error())
		return len(out.Messages), nil
	}
	if p.Event.ReportFailures {
		failed, err := batchFailures(inv.Payload, ev)
		if err != nil {
			p.Log.Warn("consumer answered an invalid batch response; keeping the batch", "function", p.Function, "error", err.Error())
			return len(out.Messages), nil
		}
		keep = failed
	}
	var del []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range out.Messages {
		if keep[aws.ToString(m.MessageId)] {
			continue
		}
		del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	if len(del) > 0 {
		if _, err := p.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: del}); err != nil {
			return len(out.Messages), err
		}
	}
	return len(out.Messages), nil
}

// batchFailures reads {"batchItemFailures":[{"itemIdentifier":...}]}. As
// Lambda does, an identifier that is empty or not in the batch fails the
// whole batch.
func batchFailures(payload []byte, ev events.SQSEvent) (map[string]bool, error) {
	out := map[string]bool{}
	if len(payload) == 0 || string(payload) == "null" {
		return out, nil
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, r := range ev.Records {
		ids[r.MessageId] = true
	}
	for _, f := range resp.BatchItemFailures {
		if !ids[f.ItemIdentifier] {
			return nil, errors.New("batchItemFailures names " + strconv.Quote(f.ItemIdentifier) + ", which is not in the batch")
		}
		out[f.ItemIdentifier] = true
	}
	return out, nil
}

func (p *Poller) event(msgs []sqstypes.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		attrs := map[string]string{}
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		mattrs := map[string]events.SQSMessageAttribute{}
		for k, v := range m.MessageAttributes {
			mattrs[k] = events.SQSMessageAttribute{StringValue: v.StringValue, BinaryValue: v.BinaryValue, DataType: aws.ToString(v.DataType),
				StringListValues: []string{}, BinaryListValues: [][]byte{}}
		}
		sum := md5.Sum([]byte(aws.ToString(m.Body)))
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              hex.EncodeToString(sum[:]),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             attrs,
			MessageAttributes:      mattrs,
			EventSourceARN:         p.QueueARN,
			EventSource:            "aws:sqs",
			AWSRegion:              p.Region,
		})
	}
	return ev
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
