package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
)

// DeliveryTTL is how long delivery records (and their attempts) are kept.
const DeliveryTTL = 30 * 24 * time.Hour

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is one event for one webhook, with every attempt.
type Delivery struct {
	ID        string `json:"id"`
	OrgID     string `json:"-"`
	WebhookID string `json:"webhook_id"`
	EventID   string `json:"event_id"`
	Event     string `json:"event"`
	Body      string `json:"-"` // the exact bytes sent (and signed)
	// JobQueued: its delivery job reached the deliveries queue (a fan-out
	// that finds it false queues it again).
	JobQueued bool       `json:"-"`
	Status    string     `json:"status"`
	Attempts  []Attempt  `json:"attempts"`
	NextAt    *time.Time `json:"next_attempt_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Attempt is one POST to the endpoint.
type Attempt struct {
	At         time.Time  `json:"at" dynamodbav:"at"`
	StatusCode int        `json:"status_code,omitempty" dynamodbav:"status_code,omitempty"`
	LatencyMS  int64      `json:"latency_ms" dynamodbav:"latency_ms"`
	Error      string     `json:"error,omitempty" dynamodbav:"error,omitempty"`
	Response   string     `json:"response,omitempty" dynamodbav:"response,omitempty"` // at most 1 KB
	NextAt     *time.Time `json:"next_attempt_at,omitempty" dynamodbav:"next_at,omitempty"`
}

type deliveryItem struct {
	key
	Type      string    `dynamodbav:"type"`
	ID        string    `dynamodbav:"id"`
	OrgID     string    `dynamodbav:"org_id"`
	WebhookID string    `dynamodbav:"webhook_id"`
	EventID   string    `dynamodbav:"event_id"`
	Event     string    `dynamodbav:"event"`
	Body      string    `dynamodbav:"body"`
	Status    string    `dynamodbav:"status"`
	Attempts  []Attempt `dynamodbav:"attempts,omitempty"`
	NextAt    string    `dynamodbav:"next_at,omitempty"`
	CreatedAt string    `dynamodbav:"created_at"`
	UpdatedAt string    `dynamodbav:"updated_at"`
	JobQueued bool      `dynamodbav:"job_queued,omitempty"`
	ExpiresAt int64     `dynamodbav:"expires_at"`
}

// deliveryEventItem claims (event, webhook) for one delivery.
type deliveryEventItem struct {
	key
	Type       string `dynamodbav:"type"`
	DeliveryID string `dynamodbav:"delivery_id"`
	ExpiresAt  int64  `dynamodbav:"expires_at"`
}

func (it deliveryItem) model() Delivery {
	d := Delivery{ID: it.ID, OrgID: it.OrgID, WebhookID: it.WebhookID, EventID: it.EventID, Event: it.Event, Body: it.Body, JobQueued: it.JobQueued,
		Status: it.Status, Attempts: it.Attempts, NextAt: parseTime(it.NextAt), CreatedAt: mustTime(it.CreatedAt), UpdatedAt: mustTime(it.UpdatedAt)}
	if d.Attempts == nil {
		d.Attempts = []Attempt{}
	}
	return d
}

// DeliveryID names a new delivery of an event to a webhook. It sorts after
// earlier deliveries (its prefix is the time it is made); which event and
// webhook it is for is decided by CreateDelivery, from their ids alone.
func DeliveryID(at time.Time, eventID, webhookID string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + webhookID))
	return "dlv_" + at.UTC().Format("20060102T150405.000") + "_" + hex.EncodeToString(sum[:10])
}

// CreateDelivery records a pending delivery once per (event id, webhook):
// created is false when one exists already (a redelivered or republished
// event, whatever its timestamp), with the stored one returned.
func (s *Store) CreateDelivery(ctx context.Context, d Delivery) (Delivery, bool, error) {
	now := s.now()
	d.Status, d.CreatedAt, d.UpdatedAt = DeliveryPending, now, now
	expires := now.Add(DeliveryTTL).Unix()
	it := deliveryItem{
		key: key{deliveriesPK(d.OrgID, d.WebhookID), deliverySK(d.ID)}, Type: typeDelivery, ID: d.ID, OrgID: d.OrgID,
		WebhookID: d.WebhookID, EventID: d.EventID, Event: d.Event, Body: d.Body, Status: d.Status,
		CreatedAt: timestamp(now), UpdatedAt: timestamp(now), ExpiresAt: expires,
	}
	av, err := marshal(it)
	if err != nil {
		return Delivery{}, false, err
	}
	claim, err := marshal(deliveryEventItem{
		key: key{deliveriesPK(d.OrgID, d.WebhookID), deliveryEventSK(d.EventID)}, Type: typeDeliveryEvent,
		DeliveryID: d.ID, ExpiresAt: expires,
	})
	if err != nil {
		return Delivery{}, false, err
	}
	exists := false
	items := []types.TransactWriteItem{
		s.put(claim, "attribute_not_exists(pk) OR expires_at < :now"),
		s.put(av, "attribute_not_exists(pk)"),
	}
	items[0].Put.ExpressionAttributeValues = map[string]types.AttributeValue{":now": num(fmt.Sprint(now.Unix()))}
	err = s.transact(ctx, "create delivery", items, func([]bool) error {
		exists = true
		return nil
	})
	if err != nil {
		return Delivery{}, false, err
	}
	if exists {
		var c deliveryEventItem
		found, err := s.getItem(ctx, key{deliveriesPK(d.OrgID, d.WebhookID), deliveryEventSK(d.EventID)}, &c)
		if err != nil {
			return Delivery{}, false, err
		}
		if !found {
			return Delivery{}, false, apperr.New(apperr.Unavailable, "delivery is being written, retry")
		}
		old, err := s.Delivery(ctx, d.OrgID, d.WebhookID, c.DeliveryID)
		return old, false, err
	}
	d.Attempts = []Attempt{}
	return d, true, nil
}

// MarkDeliveryQueued records that a delivery's job reached the queue.
func (s *Store) MarkDeliveryQueued(ctx context.Context, org, webhookID, id string) error {
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{deliveriesPK(org, webhookID), deliverySK(id)},
		"SET job_queued = :t", "attribute_exists(pk)",
		map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}}))
	if err != nil && !isConditionFailed(err) {
		return unavailable("mark delivery queued", err)
	}
	return nil
}

// Delivery reads one delivery of a webhook.
func (s *Store) Delivery(ctx context.Context, org, webhookID, id string) (Delivery, error) {
	return getModel[deliveryItem](ctx, s, key{deliveriesPK(org, webhookID), deliverySK(id)}, apperr.New(apperr.NotFound, "delivery not found"))
}

// RecordAttempt appends an attempt and sets the delivery's state, only while
// it has exactly the attempts the caller saw (two deliverers racing on a
// redelivered job cannot both record).
func (s *Store) RecordAttempt(ctx context.Context, d Delivery, a Attempt, status string) (Delivery, error) {
	av, err := attributevalue.Marshal([]Attempt{a})
	if err != nil {
		return Delivery{}, fmt.Errorf("store: encode attempt: %w", err)
	}
	now := timestamp(s.now())
	next := ""
	if a.NextAt != nil {
		next = timestamp(*a.NextAt)
	}
	in := updateInput(s.table, key{deliveriesPK(d.OrgID, d.WebhookID), deliverySK(d.ID)},
		"SET attempts = list_append(if_not_exists(attempts, :empty), :a), #st = :s, next_at = :n, updated_at = :now, attempt_count = :c, "+
			"attempt_lease = :free",
		"attribute_exists(pk) AND (attribute_not_exists(attempt_count) OR attempt_count = :seen)",
		map[string]types.AttributeValue{
			":a": av, ":empty": &types.AttributeValueMemberL{Value: []types.AttributeValue{}}, ":s": str(status), ":n": str(next),
			":now": str(now), ":c": num(fmt.Sprint(len(d.Attempts) + 1)), ":seen": num(fmt.Sprint(len(d.Attempts))),
			":free": str(""),
		})
	in.ExpressionAttributeNames = map[string]string{"#st": "status"}
	if _, err := s.db.UpdateItem(ctx, in); err != nil {
		if isConditionFailed(err) {
			return Delivery{}, conditionErr(apperr.Conflict, "the delivery was attempted concurrently")
		}
		return Delivery{}, unavailable("record attempt", err)
	}
	d.Attempts = append(d.Attempts, a)
	d.Status, d.NextAt = status, a.NextAt
	return d, nil
}

// ErrAttemptTaken: another deliverer holds or made this attempt.
var ErrAttemptTaken = errors.New("store: the delivery attempt is taken")

// ClaimAttempt takes the delivery's next attempt until until, before its
// POST: a second job for the same delivery (SQS delivers at least once)
// finds it taken (ErrAttemptTaken) instead of POSTing it again. The claim
// holds only while the delivery is pending with exactly the attempts the
// caller saw; RecordAttempt releases it.
func (s *Store) ClaimAttempt(ctx context.Context, d Delivery, until time.Time) error {
	now := timestamp(s.now())
	in := updateInput(s.table, key{deliveriesPK(d.OrgID, d.WebhookID), deliverySK(d.ID)},
		"SET attempt_lease = :until",
		"attribute_exists(pk) AND #st = :p AND (attribute_not_exists(attempt_count) OR attempt_count = :seen) AND "+
			"(attribute_not_exists(attempt_lease) OR attempt_lease < :now)",
		map[string]types.AttributeValue{":until": str(timestamp(until)), ":p": str(DeliveryPending),
			":seen": num(fmt.Sprint(len(d.Attempts))), ":now": str(now)})
	in.ExpressionAttributeNames = map[string]string{"#st": "status"}
	if _, err := s.db.UpdateItem(ctx, in); err != nil {
		if isConditionFailed(err) {
			return ErrAttemptTaken
		}
		return unavailable("claim delivery attempt", err)
	}
	return nil
}

// ResetDelivery makes a finished delivery pending again (a manual retry).
func (s *Store) ResetDelivery(ctx context.Context, org, webhookID, id string) (Delivery, error) {
	in := updateInput(s.table, key{deliveriesPK(org, webhookID), deliverySK(id)},
		"SET #st = :p, updated_at = :now", "attribute_exists(pk)",
		map[string]types.AttributeValue{":p": str(DeliveryPending), ":now": str(timestamp(s.now()))})
	in.ExpressionAttributeNames = map[string]string{"#st": "status"}
	if _, err := s.db.UpdateItem(ctx, in); err != nil {
		if isConditionFailed(err) {
			return Delivery{}, apperr.New(apperr.NotFound, "delivery not found")
		}
		return Delivery{}, unavailable("reset delivery", err)
	}
	return s.Delivery(ctx, org, webhookID, id)
}

// Deliveries lists a webhook's deliveries, newest first, in bounded pages.
func (s *Store) Deliveries(ctx context.Context, org, webhookID, cursor string, limit int) (Page[Delivery], error) {
	now := s.now().Unix()
	return queryModels(ctx, s, keyPrefix("", deliveriesPK(org, webhookID), deliverySKPrefix, cursor, limit, false),
		func(it deliveryItem) bool { return it.ExpiresAt == 0 || it.ExpiresAt >= now }) // TTL deletes late
}

// ---------------------------------------------------------------- samples

// EventSampleTTL is how long recent events are kept for Zapier samples.
const EventSampleTTL = 7 * 24 * time.Hour

type sampleItem struct {
	key
	Type      string `dynamodbav:"type"`
	Body      string `dynamodbav:"body"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

// RecordEventSample keeps an emitted event (its exact bytes) so samples can
// show real, recent items.
func (s *Store) RecordEventSample(ctx context.Context, org, name, eventID string, at time.Time, body []byte) error {
	av, err := marshal(sampleItem{
		key:  key{eventSamplesPK(org, name), eventSampleSK(at, eventID)},
		Type: typeEventSample, Body: string(body), ExpiresAt: s.now().Add(EventSampleTTL).Unix(),
	})
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av}); err != nil {
		return unavailable("record event sample", err)
	}
	return nil
}

// EventSamples returns the organisation's latest events of a name, newest
// first, as the exact bytes sent.
func (s *Store) EventSamples(ctx context.Context, org, name string, limit int) ([][]byte, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(eventSamplesPK(org, name))},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, unavailable("event samples", err)
	}
	var out [][]byte
	for _, item := range res.Items {
		var it sampleItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("store: decode sample: %w", err)
		}
		if it.ExpiresAt >= s.now().Unix() {
			out = append(out, []byte(it.Body))
		}
	}
	return out, nil
}

// MarkWebhookFailing records the start of a failure streak (kept if one is
// running) and answers when it started.
func (s *Store) MarkWebhookFailing(ctx context.Context, org, webhookID string) (time.Time, error) {
	in := updateInput(s.table, key{orgPK(org), webhookSK(webhookID)},
		"SET failing_since = if_not_exists(failing_since, :now)", "attribute_exists(pk)",
		map[string]types.AttributeValue{":now": str(timestamp(s.now()))})
	in.ReturnValues = types.ReturnValueAllNew
	out, err := s.db.UpdateItem(ctx, in)
	if isConditionFailed(err) {
		return time.Time{}, apperr.New(apperr.NotFound, "webhook not found")
	}
	if err != nil {
		return time.Time{}, unavailable("mark webhook failing", err)
	}
	var it webhookItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return time.Time{}, fmt.Errorf("store: decode webhook: %w", err)
	}
	return mustTime(it.FailingSince), nil
}

// MarkWebhookHealthy ends a failure streak.
func (s *Store) MarkWebhookHealthy(ctx context.Context, org, webhookID string) error {
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{orgPK(org), webhookSK(webhookID)},
		"SET failing_since = :none", "attribute_exists(pk) AND attribute_exists(failing_since) AND failing_since <> :none",
		map[string]types.AttributeValue{":none": str("")}))
	if err != nil && !isConditionFailed(err) {
		return unavailable("mark webhook healthy", err)
	}
	return nil
}

// DisableWebhook stops deliveries to a subscription, with the reason.
func (s *Store) DisableWebhook(ctx context.Context, org, webhookID, reason string) error {
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{orgPK(org), webhookSK(webhookID)},
		"SET active = :f, disabled_reason = :r, updated_at = :now", "attribute_exists(pk)",
		map[string]types.AttributeValue{":f": &types.AttributeValueMemberBOOL{Value: false}, ":r": str(reason), ":now": str(timestamp(s.now()))}))
	if err != nil && !isConditionFailed(err) {
		return unavailable("disable webhook", err)
	}
	return nil
}
