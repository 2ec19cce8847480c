//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/stack"
	"github.com/pytake/pytake/internal/store"
)

// A contact created through the API reaches a subscriber as
// contact.created once: the API writes the event as an outbox item of the
// contact's transaction, the table's stream carries it to the outbox relay
// (the local stack polls moto's stream as Lambda's event source mapping
// does, with the template's filter), which publishes it to the events
// topic; the dispatcher delivers it.
func TestContactCreatedReachesSubscriberThroughTheOutbox(t *testing.T) {
	sub := newSubscriber(t)
	subscribe(t, sub, "contact.created")
	r := do(t, "POST", "/v1/contacts", demo.APIKey.Key, []byte(`{"whatsapp_id":"+5511966660077","name":"Outbox"}`))
	require.Equal(t, 201, r.Status, "create: %d %s", r.Status, r.Body)
	var c struct{ ID string }
	r.json(t, &c)
	got := sub.wait(t, 1, 60*time.Second)
	require.NoError(t, got[0].verified)
	var ev struct {
		ID    string `json:"id"`
		Event string `json:"event"`
		Data  struct {
			Contact struct{ ID, Name string } `json:"contact"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(got[0].body, &ev), "%s", got[0].body)
	require.Equal(t, "contact.created", ev.Event)
	require.Equal(t, c.ID, ev.Data.Contact.ID)
	require.Equal(t, "Outbox", ev.Data.Contact.Name)
	// Nothing else arrives for it (the relay publishes it once; a
	// redelivery would carry the same id).
	time.Sleep(3 * time.Second)
	sub.mu.Lock()
	defer sub.mu.Unlock()
	for _, g := range sub.got {
		require.Equal(t, got[0].header.Get("webhook-id"), g.header.Get("webhook-id"), "a second contact.created: %s", g.body)
	}
}

// relayScript answers stream batches as the relay does: it records the
// records it saw and names failing[seq] (once each) as the batch's failure.
type relayScript struct {
	mu      sync.Mutex
	seen    []string // the item's sk, in the order handed over
	failing map[string]bool
}

func (r *relayScript) Invoke(_ context.Context, _ string, payload []byte) stack.Invocation {
	var ev events.DynamoDBEvent
	_ = json.Unmarshal(payload, &ev)
	r.mu.Lock()
	defer r.mu.Unlock()
	var resp events.DynamoDBEventResponse
	for _, rec := range ev.Records {
		sk := rec.Change.NewImage["sk"].String()
		if r.failing[sk] {
			delete(r.failing, sk)
			resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: rec.Change.SequenceNumber}}
			break
		}
		r.seen = append(r.seen, sk)
	}
	b, _ := json.Marshal(resp)
	return stack.Invocation{Payload: b}
}

// moto's stream, through the project's own TransactWriteItems
// (moto_serial.py), and the local stream poller: a committed transaction's
// items are on the stream, a cancelled one's are not; only outbox inserts
// reach the function (other items' records are not kept by moto_serial.py,
// updates and TTL deletes of outbox items are left out by the template's
// filter); a record the function names as failed is handed over again,
// with the records after it, in order.
func TestStreamPollerOnMotoTransactions(t *testing.T) {
	ctx := context.Background()
	db := dynamodb.NewFromConfig(st.AWS)
	in := store.CreateTableInput("e2e-stream")
	out, err := db.CreateTable(ctx, in)
	require.NoError(t, err)
	arn := aws.ToString(out.TableDescription.LatestStreamArn)
	require.NotEmpty(t, arn, "the table has no stream")
	item := func(pk, sk, typ string) map[string]dtypes.AttributeValue {
		return map[string]dtypes.AttributeValue{"pk": &dtypes.AttributeValueMemberS{Value: pk}, "sk": &dtypes.AttributeValueMemberS{Value: sk},
			"type": &dtypes.AttributeValueMemberS{Value: typ}}
	}
	put := func(it map[string]dtypes.AttributeValue) dtypes.TransactWriteItem {
		return dtypes.TransactWriteItem{Put: &dtypes.Put{TableName: in.TableName, Item: it, ConditionExpression: aws.String("attribute_not_exists(pk)")}}
	}
	// Committed: a contact and its outbox item.
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []dtypes.TransactWriteItem{
		put(item("ORG#o", "CONTACT#c1", "contact")), put(item("ORG#o#OUTBOX#c1", "OUTBOX#1", "outbox"))}})
	require.NoError(t, err)
	// Cancelled (the contact exists): neither is on the stream.
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []dtypes.TransactWriteItem{
		put(item("ORG#o", "CONTACT#c1", "contact")), put(item("ORG#o#OUTBOX#c1", "OUTBOX#cancelled", "outbox"))}})
	require.Error(t, err, "the second transaction should be cancelled")
	for _, sk := range []string{"OUTBOX#2", "OUTBOX#3"} {
		_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []dtypes.TransactWriteItem{
			put(item("ORG#o#OUTBOX#c1", sk, "outbox"))}})
		require.NoError(t, err)
	}
	// An update and a delete of an outbox item (its TTL expiry) are not inserts.
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: in.TableName, Key: map[string]dtypes.AttributeValue{
		"pk": &dtypes.AttributeValueMemberS{Value: "ORG#o#OUTBOX#c1"}, "sk": &dtypes.AttributeValueMemberS{Value: "OUTBOX#1"}},
		UpdateExpression: aws.String("SET n = :n"), ExpressionAttributeValues: map[string]dtypes.AttributeValue{":n": &dtypes.AttributeValueMemberN{Value: "1"}}})
	require.NoError(t, err)
	_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: in.TableName, Key: map[string]dtypes.AttributeValue{
		"pk": &dtypes.AttributeValueMemberS{Value: "ORG#o#OUTBOX#c1"}, "sk": &dtypes.AttributeValueMemberS{Value: "OUTBOX#1"}}})
	require.NoError(t, err)

	fns, err := st.Template.Functions(filepath.Join(root, "Makefile"))
	require.NoError(t, err)
	var ev stack.StreamEvent
	for _, f := range fns {
		if f.LogicalID == "OutboxRelayFunction" {
			require.Len(t, f.Streams, 1)
			ev = f.Streams[0]
		}
	}
	require.NotEmpty(t, ev.Filters, "the relay's event source mapping has no filter")
	script := &relayScript{failing: map[string]bool{"OUTBOX#2": true}}
	p := &stack.StreamPoller{Streams: dynamodbstreams.NewFromConfig(st.AWS), Invoker: script, Function: "F", Event: ev,
		StreamARN: arn, Region: st.Region, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Backoff: time.Millisecond}
	for i := 0; i < 5; i++ {
		_, err := p.Once(ctx)
		require.NoError(t, err)
	}
	script.mu.Lock()
	defer script.mu.Unlock()
	require.Equal(t, []string{"OUTBOX#1", "OUTBOX#2", "OUTBOX#3"}, script.seen,
		"the outbox inserts, in order, OUTBOX#2 and what follows it again after its failure")
}
