package store

import (
	"context"
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
}

func (it webhookItem) model() Webhook {
	w := Webhook{
		ID: it.ID, OrgID: it.OrgID, Name: it.Name, URL: it.URL, Events: it.Events, Active: it.Active,
		DisabledReason: it.DisabledReason, FailingSince: parseTime(it.FailingSince),
		CreatedAt: mustTime(it.CreatedAt), UpdatedAt: mustTime(it.UpdatedAt),
	}
	if w.Events == nil {
		w.Events = []string{}
	}
	return w
}

// CreateWebhook stores a new subscription (at most MaxWebhooks per
// organisation).
func (s *Store) CreateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	existing, err := s.Webhooks(ctx, w.OrgID)
	if err != nil {
		return Webhook{}, err
	}
	if len(existing) >= MaxWebhooks {
		return Webhook{}, apperr.Newf(apperr.Unprocessable, "an organization can have at most %d webhooks", MaxWebhooks).WithCode("too_many_webhooks")
	}
	now := s.now()
	w.ID, w.CreatedAt, w.UpdatedAt = id.New(id.Webhook, now), now, now
	av, err := marshal(s.webhookItem(w))
	if err != nil {
		return Webhook{}, err
	}
	if _, err := s.db.PutItem(ctx, putInput(s.table, av, "attribute_not_exists(pk)")); err != nil {
		if isConditionFailed(err) {
			return Webhook{}, conditionErr(apperr.Conflict, "webhook id collision, retry")
		}
		return Webhook{}, unavailable("create webhook", err)
	}
	return w, nil
}

func (s *Store) webhookItem(w Webhook) webhookItem {
	it := webhookItem{
		key: key{orgPK(w.OrgID), webhookSK(w.ID)}, Type: typeWebhook, ID: w.ID, OrgID: w.OrgID, Name: w.Name,
		URL: w.URL, Events: w.Events, Active: w.Active, DisabledReason: w.DisabledReason,
		CreatedAt: timestamp(w.CreatedAt), UpdatedAt: timestamp(w.UpdatedAt),
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

// UpdateWebhook replaces a subscription's editable fields; re-activating
// clears the disabled reason and failure streak.
func (s *Store) UpdateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	old, err := s.Webhook(ctx, w.OrgID, w.ID)
	if err != nil {
		return Webhook{}, err
	}
	w.CreatedAt, w.UpdatedAt = old.CreatedAt, s.now()
	if w.Active {
		w.DisabledReason, w.FailingSince = "", nil
	} else if w.DisabledReason == "" {
		w.DisabledReason = old.DisabledReason
	}
	av, err := marshal(s.webhookItem(w))
	if err != nil {
		return Webhook{}, err
	}
	if _, err := s.db.PutItem(ctx, putInput(s.table, av, "attribute_exists(pk)")); err != nil {
		if isConditionFailed(err) {
			return Webhook{}, apperr.New(apperr.NotFound, "webhook not found")
		}
		return Webhook{}, unavailable("update webhook", err)
	}
	return w, nil
}

// DeleteWebhook removes a subscription.
func (s *Store) DeleteWebhook(ctx context.Context, org, webhookID string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key{orgPK(org), webhookSK(webhookID)}.av(),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	if isConditionFailed(err) {
		return apperr.New(apperr.NotFound, "webhook not found")
	}
	if err != nil {
		return unavailable("delete webhook", err)
	}
	return nil
}
