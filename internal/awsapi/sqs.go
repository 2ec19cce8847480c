package awsapi

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// SQS calls Amazon SQS (AWS JSON 1.0).
type SQS struct{ c jsonCaller }

// NewSQS returns an SQS client for cfg's region, credentials, endpoint and
// HTTP client.
func NewSQS(cfg aws.Config) *SQS {
	return &SQS{c: jsonCaller{caller: newCaller(cfg, "sqs", parseJSONError), contentType: "application/x-amz-json-1.0", prefix: "AmazonSQS"}}
}

// SendMessageBatchInput is up to ten messages for one queue.
type SendMessageBatchInput struct {
	QueueURL string
	Entries  []SendMessageEntry
}

// SendMessageEntry is one message of a batch; Attributes are String
// message attributes, GroupID and DedupID a FIFO queue's.
type SendMessageEntry struct {
	ID           string
	Body         string
	GroupID      string
	DedupID      string
	DelaySeconds int32
	Attributes   map[string]string
}

// BatchOutput is a batch request's per-entry results. An entry the
// response names neither as done nor as failed is added to Failed (code
// MissingResult): nothing vouches that it was sent.
type BatchOutput struct {
	Successful []BatchSuccess
	Failed     []BatchFailure
}

// BatchSuccess is an entry that was sent or published.
type BatchSuccess struct {
	ID        string `json:"Id"`
	MessageID string `json:"MessageId"`
}

// BatchFailure is an entry that was not.
type BatchFailure struct {
	ID          string `json:"Id"`
	Code        string `json:"Code"`
	Message     string `json:"Message"`
	SenderFault bool   `json:"SenderFault"`
}

type attrValue struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue"`
}

type sqsEntry struct {
	ID           string               `json:"Id"`
	Body         string               `json:"MessageBody"`
	GroupID      string               `json:"MessageGroupId,omitempty"`
	DedupID      string               `json:"MessageDeduplicationId,omitempty"`
	DelaySeconds int32                `json:"DelaySeconds,omitempty"`
	Attributes   map[string]attrValue `json:"MessageAttributes,omitempty"`
}

// SendMessageBatch sends the entries.
func (s *SQS) SendMessageBatch(ctx context.Context, in *SendMessageBatchInput) (*BatchOutput, error) {
	req := struct {
		QueueURL string     `json:"QueueUrl"`
		Entries  []sqsEntry `json:"Entries"`
	}{QueueURL: in.QueueURL, Entries: make([]sqsEntry, len(in.Entries))}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		req.Entries[i] = sqsEntry{ID: e.ID, Body: e.Body, GroupID: e.GroupID, DedupID: e.DedupID, DelaySeconds: e.DelaySeconds, Attributes: stringAttrs(e.Attributes)}
		ids[i] = e.ID
	}
	var out BatchOutput
	if err := s.c.do(ctx, "SendMessageBatch", req, &out); err != nil {
		return nil, err
	}
	out.account(ids)
	return &out, nil
}

// ChangeMessageVisibilityInput sets a received message's visibility
// timeout.
type ChangeMessageVisibilityInput struct {
	QueueURL          string
	ReceiptHandle     string
	VisibilityTimeout int32
}

// ChangeMessageVisibility makes a received message visible again after
// VisibilityTimeout seconds.
func (s *SQS) ChangeMessageVisibility(ctx context.Context, in *ChangeMessageVisibilityInput) error {
	req := struct {
		QueueURL          string `json:"QueueUrl"`
		ReceiptHandle     string `json:"ReceiptHandle"`
		VisibilityTimeout int32  `json:"VisibilityTimeout"`
	}{in.QueueURL, in.ReceiptHandle, in.VisibilityTimeout}
	return s.c.do(ctx, "ChangeMessageVisibility", req, nil)
}

func stringAttrs(m map[string]string) map[string]attrValue {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]attrValue, len(m))
	for k, v := range m {
		out[k] = attrValue{DataType: "String", StringValue: v}
	}
	return out
}

// account adds a MissingResult failure for every sent id the response did
// not mention.
func (o *BatchOutput) account(ids []string) {
	seen := make(map[string]bool, len(o.Successful)+len(o.Failed))
	for _, s := range o.Successful {
		seen[s.ID] = true
	}
	for _, f := range o.Failed {
		seen[f.ID] = true
	}
	for _, id := range ids {
		if !seen[id] {
			o.Failed = append(o.Failed, BatchFailure{ID: id, Code: "MissingResult", Message: fmt.Sprintf("the response has no result for entry %q", id)})
		}
	}
}
