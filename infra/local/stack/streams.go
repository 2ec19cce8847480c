package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	st "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// StreamsAPI is what a stream poller needs from DynamoDB Streams.
type StreamsAPI interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// SQSSender sends the on-failure destination's messages.
type SQSSender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// StreamPoller does what Lambda's DynamoDB stream event source mapping
// does, on moto's DynamoDB Streams: per shard, in order, it reads records
// (GetShardIterator from the trim horizon, then GetRecords), keeps those
// matching the filter criteria, and invokes the function with batches of
// them. A batch that fails is retried: from the record the function names
// (ReportBatchItemFailures; the records before it are done), or whole when
// the invocation fails. After MaxRetries retries of one batch its
// description (shard and sequence numbers, as Lambda's) goes to the
// on-failure queue and the shard moves on. Bisecting on a function error is
// not emulated: the relay reports failures per record and never errors.
type StreamPoller struct {
	Streams   StreamsAPI
	SQS       SQSSender
	Invoker   Invoker
	Function  string
	Event     StreamEvent
	StreamARN string
	// OnFailureURL is the on-failure destination queue's URL ("" none).
	OnFailureURL string
	Region       string
	Log          *slog.Logger
	Idle         time.Duration // wait when a shard has nothing new (default 200 ms)
	Backoff      time.Duration // wait before retrying a failed batch (default 1 s)

	filters []map[string]any
	pos     map[string]*shardPos
}

type shardPos struct {
	iterator string
	pending  []events.DynamoDBEventRecord // read, matching the filter, not yet relayed
	retries  int
	closed   bool
}

// Run polls until ctx ends.
func (p *StreamPoller) Run(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := p.Once(ctx)
		if err != nil && ctx.Err() == nil {
			p.Log.Warn("stream poll failed", "function", p.Function, "error", err.Error())
			sleep(ctx, time.Second)
			continue
		}
		if n == 0 {
			idle := p.Idle
			if idle <= 0 {
				idle = 200 * time.Millisecond
			}
			sleep(ctx, idle)
		}
	}
}

// Once reads each shard once and relays what it has; it returns how many
// records it handed to the function.
func (p *StreamPoller) Once(ctx context.Context) (int, error) {
	if p.filters == nil {
		p.filters = []map[string]any{}
		for _, f := range p.Event.Filters {
			var m map[string]any
			if err := json.Unmarshal([]byte(f), &m); err != nil {
				return 0, fmt.Errorf("filter %s: %w", f, err)
			}
			p.filters = append(p.filters, m)
		}
		p.pos = map[string]*shardPos{}
	}
	desc, err := p.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(p.StreamARN)})
	if err != nil {
		return 0, fmt.Errorf("describe stream: %w", err)
	}
	shards := desc.StreamDescription.Shards
	sort.Slice(shards, func(i, j int) bool { return aws.ToString(shards[i].ShardId) < aws.ToString(shards[j].ShardId) })
	total := 0
	for _, sh := range shards {
		id := aws.ToString(sh.ShardId)
		pos := p.pos[id]
		if pos == nil {
			it, err := p.Streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(p.StreamARN),
				ShardId: aws.String(id), ShardIteratorType: st.ShardIteratorTypeTrimHorizon})
			if err != nil {
				return total, fmt.Errorf("shard %s iterator: %w", id, err)
			}
			pos = &shardPos{iterator: aws.ToString(it.ShardIterator)}
			p.pos[id] = pos
		}
		n, err := p.shard(ctx, id, pos)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// shard reads what is new on one shard and relays its pending records.
func (p *StreamPoller) shard(ctx context.Context, id string, pos *shardPos) (int, error) {
	if len(pos.pending) < p.batchSize() && !pos.closed && pos.iterator != "" {
		out, err := p.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(pos.iterator), Limit: aws.Int32(1000)})
		if err != nil {
			return 0, fmt.Errorf("shard %s records: %w", id, err)
		}
		pos.iterator = aws.ToString(out.NextShardIterator)
		pos.closed = pos.iterator == ""
		for _, r := range out.Records {
			rec, err := lambdaRecord(r, p.StreamARN)
			if err != nil {
				return 0, err
			}
			if p.matches(rec) {
				pos.pending = append(pos.pending, rec)
			}
		}
	}
	if len(pos.pending) == 0 {
		return 0, nil
	}
	batch := pos.pending[:min(len(pos.pending), p.batchSize())]
	done, err := p.invoke(ctx, batch)
	pos.pending = pos.pending[done:]
	if err == nil {
		pos.retries = 0
		return len(batch), nil
	}
	pos.retries++
	p.Log.Warn("stream batch failed; retrying from its first failed record", "function", p.Function, "shard", id,
		"done", done, "batch", len(batch), "retry", pos.retries, "error", err.Error())
	if p.Event.MaxRetries >= 0 && pos.retries > p.Event.MaxRetries {
		failed := pos.pending[:min(len(pos.pending), len(batch)-done)]
		if err := p.onFailure(ctx, id, failed); err != nil {
			return len(batch), err
		}
		pos.pending = pos.pending[len(failed):]
		pos.retries = 0
		return len(batch), nil
	}
	backoff := p.Backoff
	if backoff <= 0 {
		backoff = time.Second
	}
	sleep(ctx, backoff)
	return len(batch), nil
}

func (p *StreamPoller) batchSize() int {
	if p.Event.BatchSize <= 0 {
		return 100
	}
	return p.Event.BatchSize
}

// invoke hands a batch to the function; done is how many of its records
// are relayed (all but the first failed one and those after it).
func (p *StreamPoller) invoke(ctx context.Context, batch []events.DynamoDBEventRecord) (done int, err error) {
	payload, err := json.Marshal(events.DynamoDBEvent{Records: batch})
	if err != nil {
		return 0, err
	}
	inv := p.Invoker.Invoke(ctx, p.Function, payload)
	if inv.Err != nil {
		return 0, inv.Err
	}
	if !p.Event.ReportFailures || len(inv.Payload) == 0 || string(inv.Payload) == "null" {
		return len(batch), nil
	}
	var resp events.DynamoDBEventResponse
	if err := json.Unmarshal(inv.Payload, &resp); err != nil {
		return 0, fmt.Errorf("invalid batch response: %w", err)
	}
	done = len(batch)
	for _, f := range resp.BatchItemFailures {
		i := -1
		for j, r := range batch {
			if r.Change.SequenceNumber == f.ItemIdentifier {
				i = j
			}
		}
		if i < 0 {
			// As Lambda does: an identifier not in the batch fails it whole.
			return 0, errors.New("batchItemFailures names " + strconv.Quote(f.ItemIdentifier) + ", which is not in the batch")
		}
		done = min(done, i)
	}
	if done < len(batch) {
		return done, fmt.Errorf("record %s failed", batch[done].Change.SequenceNumber)
	}
	return done, nil
}

// onFailure sends a batch's description to the on-failure destination, in
// the shape Lambda gives it.
func (p *StreamPoller) onFailure(ctx context.Context, shard string, failed []events.DynamoDBEventRecord) error {
	if len(failed) == 0 {
		return nil
	}
	p.Log.Error("stream batch given up after its retries", "function", p.Function, "shard", shard, "records", len(failed))
	if p.OnFailureURL == "" {
		return nil
	}
	body, _ := json.Marshal(map[string]any{
		"requestContext":  map[string]any{"condition": "RetryAttemptsExhausted", "functionArn": p.Function, "approximateInvokeCount": p.Event.MaxRetries + 1},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST"},
		"version":         "1.0",
		"timestamp":       time.Now().UTC().Format(time.RFC3339Nano),
		"DDBStreamBatchInfo": map[string]any{"shardId": shard, "startSequenceNumber": failed[0].Change.SequenceNumber,
			"endSequenceNumber": failed[len(failed)-1].Change.SequenceNumber, "batchSize": len(failed), "streamArn": p.StreamARN},
	})
	_, err := p.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(p.OnFailureURL), MessageBody: aws.String(string(body))})
	return err
}

// matches applies the filter criteria (the subset the template uses:
// nested objects whose leaves are lists of exact values) to a record as
// Lambda sees it, its JSON.
func (p *StreamPoller) matches(rec events.DynamoDBEventRecord) bool {
	if len(p.filters) == 0 {
		return true
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return false
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return false
	}
	for _, f := range p.filters {
		if matchPattern(f, doc) {
			return true
		}
	}
	return false
}

func matchPattern(pattern, doc map[string]any) bool {
	for k, want := range pattern {
		got, ok := doc[k]
		if !ok {
			return false
		}
		switch w := want.(type) {
		case map[string]any:
			d, ok := got.(map[string]any)
			if !ok || !matchPattern(w, d) {
				return false
			}
		case []any:
			hit := false
			for _, v := range w {
				if fmt.Sprint(v) == fmt.Sprint(got) {
					hit = true
				}
			}
			if !hit {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// lambdaRecord converts a DynamoDB Streams record to Lambda's event record.
func lambdaRecord(r st.Record, streamARN string) (events.DynamoDBEventRecord, error) {
	// The two share DynamoDB's JSON shape for attribute values; going
	// through JSON keeps the conversion exact.
	out := events.DynamoDBEventRecord{EventID: aws.ToString(r.EventID), EventName: string(r.EventName), EventVersion: aws.ToString(r.EventVersion),
		EventSource: aws.ToString(r.EventSource), AWSRegion: aws.ToString(r.AwsRegion), EventSourceArn: streamARN}
	if r.Dynamodb == nil {
		return out, errors.New("a stream record without its dynamodb part")
	}
	d := r.Dynamodb
	out.Change.SequenceNumber = aws.ToString(d.SequenceNumber)
	out.Change.StreamViewType = string(d.StreamViewType)
	out.Change.SizeBytes = aws.ToInt64(d.SizeBytes)
	if d.ApproximateCreationDateTime != nil {
		out.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
	}
	var err error
	if out.Change.Keys, err = image(d.Keys); err != nil {
		return out, err
	}
	if out.Change.NewImage, err = image(d.NewImage); err != nil {
		return out, err
	}
	if out.Change.OldImage, err = image(d.OldImage); err != nil {
		return out, err
	}
	return out, nil
}

func image(av map[string]st.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	if av == nil {
		return nil, nil
	}
	j := map[string]any{}
	for k, v := range av {
		x, err := attrJSON(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		j[k] = x
	}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	var out map[string]events.DynamoDBAttributeValue
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func attrJSON(v st.AttributeValue) (any, error) {
	switch t := v.(type) {
	case *st.AttributeValueMemberS:
		return map[string]any{"S": t.Value}, nil
	case *st.AttributeValueMemberN:
		return map[string]any{"N": t.Value}, nil
	case *st.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": t.Value}, nil
	case *st.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}, nil
	case *st.AttributeValueMemberB:
		return map[string]any{"B": t.Value}, nil
	case *st.AttributeValueMemberSS:
		return map[string]any{"SS": t.Value}, nil
	case *st.AttributeValueMemberNS:
		return map[string]any{"NS": t.Value}, nil
	case *st.AttributeValueMemberBS:
		return map[string]any{"BS": t.Value}, nil
	case *st.AttributeValueMemberL:
		l := make([]any, len(t.Value))
		for i, e := range t.Value {
			x, err := attrJSON(e)
			if err != nil {
				return nil, err
			}
			l[i] = x
		}
		return map[string]any{"L": l}, nil
	case *st.AttributeValueMemberM:
		m := map[string]any{}
		for k, e := range t.Value {
			x, err := attrJSON(e)
			if err != nil {
				return nil, err
			}
			m[k] = x
		}
		return map[string]any{"M": m}, nil
	}
	return nil, fmt.Errorf("unknown attribute type %T", v)
}
