// Package store is PyTake's single-table DynamoDB adapter. keys.go documents
// the key design and every access pattern. Conditional-write failures come
// back as apperr kinds (Conflict, NotFound), other failures as Unavailable, so
// callers can answer 409/404 or ask the sender to retry.
//
// One file for each aggregate holds its model, its item mapping, its reads
// and its writes: organization.go, apikey.go, whatsapp.go, contacts.go (and
// identity.go for a contact's WhatsApp identities), conversations.go,
// messages.go (and status.go for their status updates), webhooks.go,
// deliveries.go, chatbots.go, shop.go. inbound.go and outbound.go are the
// transactions that record a received message and accept one to send;
// page.go is paging and the generic readers beside Page[T] (getModel: get
// an item, NotFound, convert; queryModels: query a page, decode, convert);
// records.go keeps inputs for inspection.
package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
)

// DB is the part of the DynamoDB client the store uses.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Store reads and writes PyTake's items in one table.
type Store struct {
	db    DB
	table string
	now   func() time.Time

	mu           sync.Mutex
	unroutedFull map[string]bool // unrouted counters known to be at their cap
}

// New returns a Store over table. now is the clock (time.Now in production).
func New(db DB, table string, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, table: table, now: now}
}

// ErrConditionFailed is the cause carried by errors that come from a failed
// condition expression, whichever domain kind they were translated to.
var ErrConditionFailed = errors.New("store: condition failed")

// key is a primary key.
type key struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`
}

func (k key) av() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: k.PK},
		attrSK: &types.AttributeValueMemberS{Value: k.SK},
	}
}

// getItem reads one item into out; found is false when it does not exist.
func (s *Store) getItem(ctx context.Context, k key, out any) (found bool, err error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            k.av(),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, unavailable("get item", err)
	}
	if len(res.Item) == 0 {
		return false, nil
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return false, fmt.Errorf("store: decode %s/%s: %w", k.PK, k.SK, err)
	}
	return true, nil
}

// marshal turns an item struct into attributes.
func marshal(v any) (map[string]types.AttributeValue, error) {
	m, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, fmt.Errorf("store: encode %T: %w", v, err)
	}
	return m, nil
}

// unavailable wraps an unexpected DynamoDB failure.
func unavailable(op string, err error) error {
	return apperr.New(apperr.Unavailable, "the data store is unavailable, retry").WithCause(fmt.Errorf("store: %s: %w", op, err))
}

// parallel runs fs (a sync's writes, a listing's shard reads), at most n
// at a time; the first error stops the functions not yet started and is
// returned.
func parallel(ctx context.Context, n int, fs []func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	slots := make(chan struct{}, n)
	for _, f := range fs {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if err := f(ctx); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	// Only the caller's context ends it without an error of ours.
	return ctx.Err()
}

// isConditionFailed reports whether err is a failed single-item condition.
func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// cancelledAt returns, for a cancelled transaction, which actions' conditions
// failed. ok is false when err is not a transaction cancellation.
func cancelledAt(err error) (failed []bool, ok bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil, false
	}
	failed = make([]bool, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		failed[i] = aws.ToString(r.Code) == "ConditionalCheckFailed"
	}
	return failed, true
}

// transact runs a transaction. When it is cancelled by a condition, onFail is
// given which actions failed and returns the domain error to report.
func (s *Store) transact(ctx context.Context, op string, items []types.TransactWriteItem, onFail func(failed []bool) error) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	if failed, ok := cancelledAt(err); ok {
		for _, f := range failed {
			if f {
				return onFail(failed)
			}
		}
	}
	return unavailable(op, err)
}

// retryRaces runs a transaction that can lose a race to a concurrent
// update of the same contact (try answers retry) up to four times.
func retryRaces[T any](try func() (T, bool, error)) (T, error) {
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		res, retry, err := try()
		if !retry {
			return res, err
		}
		lastErr = err
	}
	var zero T
	return zero, apperr.New(apperr.Unavailable, "concurrent updates to this contact, retry").WithCause(lastErr)
}

// put builds a transactional Put of item into the table with a condition.
func (s *Store) put(item map[string]types.AttributeValue, condition string) types.TransactWriteItem {
	p := &types.Put{TableName: aws.String(s.table), Item: item}
	if condition != "" {
		p.ConditionExpression = aws.String(condition)
	}
	return types.TransactWriteItem{Put: p}
}

// mustExist builds a transactional check that an item exists.
func (s *Store) mustExist(k key) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:           aws.String(s.table),
		Key:                 k.av(),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	}}
}

// conditionErr builds a domain error caused by a failed condition.
func conditionErr(kind apperr.Kind, msg string) *apperr.Error {
	return apperr.New(kind, msg).WithCause(ErrConditionFailed)
}

// timestamp formats t as stored: RFC 3339 UTC with milliseconds, sortable.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

func updateInput(table string, k key, update, condition string, values map[string]types.AttributeValue) *dynamodb.UpdateItemInput {
	in := &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       k.av(),
		UpdateExpression:          aws.String(update),
		ExpressionAttributeValues: values,
	}
	if condition != "" {
		in.ConditionExpression = aws.String(condition)
	}
	return in
}

func putInput(table string, item map[string]types.AttributeValue, condition string) *dynamodb.PutItemInput {
	in := &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}
	if condition != "" {
		in.ConditionExpression = aws.String(condition)
	}
	return in
}

func parseTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	return &t
}

func mustTime(s string) time.Time {
	if t := parseTime(s); t != nil {
		return *t
	}
	return time.Time{}
}
