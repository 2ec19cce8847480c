package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
)

// MaxWebhooks bounds an organisation's subscriptions, so fan-out and
// listing are one bounded Query.
const MaxWebhooks = 50

// Webhook is an outbound webhook subscription. Its signing secrets live in
// Secrets Manager, never here.
type Webhook struct {
	ID             string     `json:"id"`
	OrgID          string     `json:"-"`
	Name           string     `json:"name"`
	URL            string     `json:"url"`
	Events         []string   `json:"events"`
	Active         bool       `json:"active"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	FailingSince   *time.Time `json:"failing_since,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	// SecretVersion changes whenever the signing secrets do (creation,
	// rotation): a dispatcher that cached an older version re-reads them.
	SecretVersion int `json:"-"`
}

type webhookItem struct {
	key
	Type           string   `dynamodbav:"type"`
	ID             string   `dynamodbav:"id"`
	OrgID          string   `dynamodbav:"org_id"`
	Name           string   `dynamodbav:"name"`
	URL            string   `dynamodbav:"url"`
	Events         []string `dynamodbav:"events,stringset"`
	Active         bool     `dynamodbav:"active"`
	DisabledReason string   `dynamodbav:"disabled_reason,omitempty"`
	FailingSince   string   `dynamodbav:"failing_since,omitempty"`
	CreatedAt      string   `dynamodbav:"created_at"`
	UpdatedAt      string   `dynamodbav:"updated_at"`
	SecretVersion  int      `dynamodbav:"secret_version,omitempty"`
}

func (it webhookItem) model() Webhook {
	w := Webhook{
		ID: it.ID, OrgID: it.OrgID, Name: it.Name, URL: it.URL, Events: it.Events, Active: it.Active,
		DisabledReason: it.DisabledReason, FailingSince: parseTime(it.FailingSince),
		CreatedAt: mustTime(it.CreatedAt), UpdatedAt: mustTime(it.UpdatedAt), SecretVersion: it.SecretVersion,
	}
	if w.Events == nil {
		w.Events = []string{}
	}
	return w
}

// CreateWebhook stores a new subscription, at most MaxWebhooks per
// organisation: the organisation's webhook counter is incremented, on the
// condition that it is below the limit, in the same transaction that puts
// the subscription, so concurrent creates cannot overshoot it.
func (s *Store) CreateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	if err := s.ensureWebhookCount(ctx, w.OrgID); err != nil {
		return Webhook{}, err
	}
	now := s.now()
	w.ID, w.CreatedAt, w.UpdatedAt = id.New(id.Webhook, now), now, now
	if w.SecretVersion == 0 {
		w.SecretVersion = 1
	}
	av, err := marshal(s.webhookItem(w))
	if err != nil {
		return Webhook{}, err
	}
	count := types.TransactWriteItem{Update: &types.Update{
		TableName:           aws.String(s.table),
		Key:                 key{orgPK(w.OrgID), webhookCountSK()}.av(),
		UpdateExpression:    aws.String("SET n = n + :one"),
		ConditionExpression: aws.String("n < :max"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num("1"), ":max": num(strconv.Itoa(MaxWebhooks)),
		},
	}}
	err = s.transact(ctx, "create webhook", []types.TransactWriteItem{count, s.put(av, "attribute_not_exists(pk)")}, func(failed []bool) error {
		if failed[0] {
			return conditionErr(apperr.Unprocessable, fmt.Sprintf("an organization can have at most %d webhooks", MaxWebhooks)).WithCode("too_many_webhooks")
		}
		return conditionErr(apperr.Conflict, "webhook id collision, retry")
	})
	if err != nil {
		return Webhook{}, err
	}
	return w, nil
}

// ensureWebhookCount creates the organisation's webhook counter when it is
// missing (organisations whose webhooks predate it), from a count of its
// subscriptions. Two concurrent first creates both count; one counter wins
// and the other's conditional put is a no-op.
func (s *Store) ensureWebhookCount(ctx context.Context, org string) error {
	var it struct {
		N *int `dynamodbav:"n"`
	}
	found, err := s.getItem(ctx, key{orgPK(org), webhookCountSK()}, &it)
	if err != nil || (found && it.N != nil) {
		return err
	}
	n, err := s.countWebhooks(ctx, org)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, putInput(s.table, map[string]types.AttributeValue{
		attrPK: str(orgPK(org)), attrSK: str(webhookCountSK()), attrType: str(typeWebhookCount),
		"n": num(strconv.Itoa(n)),
	}, "attribute_not_exists(pk)"))
	if err != nil && !isConditionFailed(err) {
		return unavailable("count webhooks", err)
	}
	return nil
}

// countWebhooks counts every subscription of an organisation, however many
// (Webhooks stops at MaxWebhooks+1, and organisations from before the
// counter may hold more: a counter started from that would go below zero
// as they are deleted, and let the limit be exceeded again).
func (s *Store) countWebhooks(ctx context.Context, org string) (int, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(orgPK(org)), ":p": str(webhookSKPrefix),
		},
		ConsistentRead: aws.Bool(true),
		Select:         types.SelectCount,
	}
	n := 0
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, unavailable("count webhooks", err)
		}
		n += int(out.Count)
		if len(out.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func (s *Store) webhookItem(w Webhook) webhookItem {
	it := webhookItem{
		key: key{orgPK(w.OrgID), webhookSK(w.ID)}, Type: typeWebhook, ID: w.ID, OrgID: w.OrgID, Name: w.Name,
		URL: w.URL, Events: w.Events, Active: w.Active, DisabledReason: w.DisabledReason,
		CreatedAt: timestamp(w.CreatedAt), UpdatedAt: timestamp(w.UpdatedAt), SecretVersion: w.SecretVersion,
	}
	if w.FailingSince != nil {
		it.FailingSince = timestamp(*w.FailingSince)
	}
	return it
}

// Webhook reads one subscription of an organisation.
func (s *Store) Webhook(ctx context.Context, org, webhookID string) (Webhook, error) {
	return getModel[webhookItem](ctx, s, key{orgPK(org), webhookSK(webhookID)}, apperr.New(apperr.NotFound, "webhook not found"))
}

// Webhooks lists an organisation's subscriptions, oldest first: one Query,
// bounded by MaxWebhooks.
func (s *Store) Webhooks(ctx context.Context, org string) ([]Webhook, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(orgPK(org)), ":p": str(webhookSKPrefix),
		},
		ConsistentRead: aws.Bool(true),
		Limit:          aws.Int32(MaxWebhooks + 1),
	})
	if err != nil {
		return nil, unavailable("list webhooks", err)
	}
	return decodeModels[webhookItem](out.Items, nil)
}

// UpdateWebhook replaces a subscription's editable fields (name, url,
// events, active); re-activating clears the disabled reason and failure
// streak. Other attributes (the secret version, written by rotations) are
// left as they are.
func (s *Store) UpdateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	old, err := s.Webhook(ctx, w.OrgID, w.ID)
	if err != nil {
		return Webhook{}, err
	}
	w.CreatedAt, w.UpdatedAt, w.SecretVersion = old.CreatedAt, s.now(), old.SecretVersion
	update := "SET #name = :name, #url = :url, active = :active, updated_at = :now"
	values := map[string]types.AttributeValue{
		":name": str(w.Name), ":url": str(w.URL), ":active": &types.AttributeValueMemberBOOL{Value: w.Active},
		":now": str(timestamp(w.UpdatedAt)),
	}
	if len(w.Events) > 0 { // an empty string set cannot be stored; the API never sends one
		update += ", events = :events"
		values[":events"] = &types.AttributeValueMemberSS{Value: w.Events}
	}
	if w.Active {
		// Empty strings read back as no reason and no failure streak.
		w.DisabledReason, w.FailingSince = "", nil
		update += ", disabled_reason = :empty, failing_since = :empty"
		values[":empty"] = str("")
	} else {
		if w.DisabledReason == "" {
			w.DisabledReason = old.DisabledReason
		}
		w.FailingSince = old.FailingSince
	}
	in := updateInput(s.table, key{orgPK(w.OrgID), webhookSK(w.ID)}, update, "attribute_exists(pk)", values)
	in.ExpressionAttributeNames = map[string]string{"#name": "name", "#url": "url"}
	if _, err := s.db.UpdateItem(ctx, in); err != nil {
		if isConditionFailed(err) {
			return Webhook{}, apperr.New(apperr.NotFound, "webhook not found")
		}
		return Webhook{}, unavailable("update webhook", err)
	}
	return w, nil
}

// SetWebhookSecretVersion records that the subscription's signing secrets
// changed (after they were written), so dispatchers holding an older copy
// re-read them on their next delivery.
func (s *Store) SetWebhookSecretVersion(ctx context.Context, org, webhookID string, version int) error {
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{orgPK(org), webhookSK(webhookID)},
		"SET secret_version = :v", "attribute_exists(pk)", map[string]types.AttributeValue{":v": num(strconv.Itoa(version))}))
	if isConditionFailed(err) {
		return apperr.New(apperr.NotFound, "webhook not found")
	}
	if err != nil {
		return unavailable("set webhook secret version", err)
	}
	return nil
}

// DeleteWebhook removes a subscription and gives its place back (the
// counter is decremented in the same transaction).
func (s *Store) DeleteWebhook(ctx context.Context, org, webhookID string) error {
	if err := s.ensureWebhookCount(ctx, org); err != nil {
		return err
	}
	return s.transact(ctx, "delete webhook", []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: key{orgPK(org), webhookSK(webhookID)}.av(),
			ConditionExpression: aws.String("attribute_exists(pk)"),
		}},
		{Update: &types.Update{
			TableName: aws.String(s.table), Key: key{orgPK(org), webhookCountSK()}.av(),
			UpdateExpression:          aws.String("SET n = n - :one"),
			ConditionExpression:       aws.String("attribute_exists(n)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num("1")},
		}},
	}, func(failed []bool) error {
		if failed[0] {
			return conditionErr(apperr.NotFound, "webhook not found")
		}
		return conditionErr(apperr.Conflict, "the webhook count changed concurrently, retry")
	})
}
