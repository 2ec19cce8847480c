//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/stack"
)

// Every sample in events/ is accepted by its function under the emulator,
// as `sam local invoke -e` would feed it (a scheduled function, such as
// template-sync, by returning without an error).
func TestEventSamplesInvoke(t *testing.T) {
	for _, f := range st.Functions {
		files, _ := filepath.Glob(filepath.Join(root, "events", f.Dir, "*.json"))
		assert.NotEmpty(t, files, "%s has no samples in events/%s", f.LogicalID, f.Dir)
		for _, file := range files {
			payload, err := os.ReadFile(file)
			require.NoError(t, err)
			inv := st.Invoke(context.Background(), f.LogicalID, payload)
			if inv.Err != nil {
				t.Errorf("%s: %v", file, inv.Err)
				continue
			}
			if len(f.Streams) > 0 { // a stream consumer answers batch item failures: none for the sample
				var resp events.DynamoDBEventResponse
				assert.NoError(t, json.Unmarshal(inv.Payload, &resp), "%s: %s", file, inv.Payload)
				assert.Empty(t, resp.BatchItemFailures, "%s: %s", file, inv.Payload)
				continue
			}
			if len(f.Routes) == 0 && len(f.Queues) == 0 { // a scheduled function: no error is its answer
				continue
			}
			if len(f.Queues) > 0 { // an SQS consumer answers batch item failures
				var resp events.SQSEventResponse
				assert.NoError(t, json.Unmarshal(inv.Payload, &resp), "%s: %s", file, inv.Payload)
				continue
			}
			var resp events.APIGatewayV2HTTPResponse
			err = json.Unmarshal(inv.Payload, &resp)
			assert.NoError(t, err, "%s: %s", file, inv.Payload)
			assert.NotEqual(t, 0, resp.StatusCode, "%s: %s", file, inv.Payload)
			assert.Less(t, resp.StatusCode, 500, "%s: %s", file, inv.Payload)
		}
	}
}

// The poller against moto's SQS: failed items come back after the
// visibility timeout, the rest are deleted.
type scripted struct{ fail map[string]bool }

func (s scripted) Invoke(_ context.Context, _ string, payload []byte) stack.Invocation {
	var ev events.SQSEvent
	_ = json.Unmarshal(payload, &ev)
	var resp events.SQSEventResponse
	for _, r := range ev.Records {
		if s.fail[r.Body] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	b, _ := json.Marshal(resp)
	return stack.Invocation{Payload: b}
}

func TestPollerAgainstSQS(t *testing.T) {
	ctx := context.Background()
	c := sqs.NewFromConfig(st.AWS)
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("e2e-poller"), Attributes: map[string]string{"VisibilityTimeout": "1"}})
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("m" + strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	p := &stack.Poller{SQS: c, Invoker: scripted{fail: map[string]bool{"m1": true}}, Function: "F", QueueURL: aws.ToString(q.QueueUrl),
		Event: stack.QueueEvent{Queue: "Q", BatchSize: 10, ReportFailures: true}, Region: st.Region, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	total := 0
	for deadline := time.Now().Add(5 * time.Second); total < 3 && time.Now().Before(deadline); {
		n, err := p.Once(ctx)
		require.NoError(t, err)
		total += n
	}
	require.Equal(t, 3, total, "received %d of 3", total)
	time.Sleep(1500 * time.Millisecond)
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount}})
	require.NoError(t, err)
	require.Len(t, out.Messages, 1, "left on the queue: %+v", out.Messages)
	require.Equal(t, "m1", aws.ToString(out.Messages[0].Body), "left on the queue")
	require.Equal(t, "2", out.Messages[0].Attributes["ApproximateReceiveCount"], "left on the queue")
}
