package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
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
	// that finds it false queues it again); kept on its event's claim.
	JobQueued bool       `json:"-"`
	Status    string     `json:"status"`
	Attempts  []Attempt  `json:"attempts"`
	NextAt    *time.Time `json:"next_attempt_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	pk        string     // the partition it was read from
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

// deliveryEventItem claims (event, webhook) for one delivery, in the
// delivery's shard; JobQueued: its delivery job reached the deliveries queue
// (a fan-out that finds it false queues it again). The claim, small, holds
// the mark rather than the delivery (whose body makes every write of it
// bigger).
type deliveryEventItem struct {
	key
	Type       string `dynamodbav:"type"`
	DeliveryID string `dynamodbav:"delivery_id"`
	JobQueued  bool   `dynamodbav:"job_queued,omitempty"`
	ExpiresAt  int64  `dynamodbav:"expires_at"`
}

func (it deliveryItem) model() Delivery {
	d := Delivery{ID: it.ID, OrgID: it.OrgID, WebhookID: it.WebhookID, EventID: it.EventID, Event: it.Event, Body: it.Body, JobQueued: it.JobQueued,
		Status: it.Status, Attempts: it.Attempts, NextAt: parseTime(it.NextAt), CreatedAt: mustTime(it.CreatedAt), UpdatedAt: mustTime(it.UpdatedAt),
		pk: it.PK}
	if d.Attempts == nil {
		d.Attempts = []Attempt{}
	}
	return d
}

// DeliveryShards is how many partitions a webhook's deliveries (and their
// events' claims) are spread over: ORG#<org>#WEBHOOK#<wh>#000 to #255, the
// shard taken from the hash of (event id, webhook id) that ends the
// delivery's id, so a claim and its delivery share a partition and a
// delivery's id names its partition. One subscription receiving every
// event at 10,000 sends/s (30,000 status events/s) takes 5 write units per
// event (claim, delivery, queued mark, attempt claim, attempt): 150,000/s,
// about 590 a shard, under a partition's ~1,000 (README, Capacity). A
// listing queries every shard (Deliveries).
const DeliveryShards = 256

// deliveryHash is the hash a delivery's id ends with and its shard comes from.
func deliveryHash(eventID, webhookID string) []byte {
	sum := sha256.Sum256([]byte(eventID + "\x00" + webhookID))
	return sum[:10]
}

func shardOf(hash []byte) int { return int(binary.BigEndian.Uint16(hash[:2])) % DeliveryShards }

func deliveryShardPK(org, webhookID string, shard int) string {
	return fmt.Sprintf("ORG#%s#WEBHOOK#%s#%03d", org, webhookID, shard)
}

// legacyDeliveriesPK is the one partition deliveries had before they were
// sharded: read (one delivery, listings) until its items expire (TTL 30 d).
func legacyDeliveriesPK(org, webhookID string) string { return "ORG#" + org + "#WEBHOOK#" + webhookID }

// deliveryEventPK is the shard of an event's delivery to a webhook.
func deliveryEventPK(org, webhookID, eventID string) string {
	return deliveryShardPK(org, webhookID, shardOf(deliveryHash(eventID, webhookID)))
}

// deliveryIDPK is the shard of a delivery, from the hash its id ends with;
// false for a string that is no delivery id.
func deliveryIDPK(org, webhookID, id string) (string, bool) {
	i := strings.LastIndexByte(id, '_')
	if !strings.HasPrefix(id, "dlv_") || i < 0 || len(id)-i-1 != 20 {
		return "", false
	}
	h, err := hex.DecodeString(id[i+1:])
	if err != nil {
		return "", false
	}
	return deliveryShardPK(org, webhookID, shardOf(h)), true
}

// key of a delivery read from the store (its partition as read: a shard,
// or the legacy partition), else of its id's shard.
func (d Delivery) key() key {
	pk := d.pk
	if pk == "" {
		pk, _ = deliveryIDPK(d.OrgID, d.WebhookID, d.ID)
	}
	return key{pk, deliverySK(d.ID)}
}

// DeliveryID names a new delivery of an event to a webhook. It sorts after
// earlier deliveries (its prefix is the time it is made); which event and
// webhook it is for is decided by CreateDelivery, from their ids alone, and
// its shard by the hash it ends with.
func DeliveryID(at time.Time, eventID, webhookID string) string {
	return "dlv_" + at.UTC().Format("20060102T150405.000") + "_" + hex.EncodeToString(deliveryHash(eventID, webhookID))
}

// CreateDelivery records a pending delivery once per (event id, webhook):
// created is false when one exists already (a redelivered or republished
// event, whatever its timestamp), with the stored one returned.
//
// Two single-item writes, not a transaction (half its write units): the
// claim of (event, webhook), then the delivery under the id the claim
// names. A fan-out stopped between them (a crash, a throttled write) leaves
// a claim without its delivery; the event comes back (its fan-out failed)
// and this writes the delivery the claim names, so it is neither lost nor
// made twice. Two fan-outs of the same event at once may both report it
// to queue (the attempt claim keeps its POST single).
func (s *Store) CreateDelivery(ctx context.Context, d Delivery) (Delivery, bool, error) {
	now := s.now()
	pk := deliveryEventPK(d.OrgID, d.WebhookID, d.EventID)
	if idPK, ok := deliveryIDPK(d.OrgID, d.WebhookID, d.ID); !ok || idPK != pk {
		return Delivery{}, false, fmt.Errorf("store: delivery id %q is not one of event %s to webhook %s (use DeliveryID)", d.ID, d.EventID, d.WebhookID)
	}
	expires := now.Add(DeliveryTTL).Unix()
	claim, err := marshal(deliveryEventItem{
		key: key{pk, deliveryEventSK(d.EventID)}, Type: typeDeliveryEvent, DeliveryID: d.ID, ExpiresAt: expires,
	})
	if err != nil {
		return Delivery{}, false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: claim,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR expires_at < :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(fmt.Sprint(now.Unix()))},
	})
	switch {
	case isConditionFailed(err):
		return s.claimedDelivery(ctx, d, now)
	case err != nil:
		return Delivery{}, false, unavailable("claim delivery", err)
	}
	d.Status, d.CreatedAt, d.UpdatedAt, d.JobQueued, d.pk = DeliveryPending, now, now, false, pk
	if err := s.putDelivery(ctx, d); err != nil {
		if isConditionFailed(err) { // another fan-out of the event wrote it from this claim
			old, err := s.Delivery(ctx, d.OrgID, d.WebhookID, d.ID)
			return old, false, err
		}
		return Delivery{}, false, unavailable("create delivery", err)
	}
	d.Attempts = []Attempt{}
	return d, true, nil
}

// claimedDelivery is the delivery an existing claim names, written now if
// the fan-out that claimed it stopped before writing it.
func (s *Store) claimedDelivery(ctx context.Context, d Delivery, now time.Time) (Delivery, bool, error) {
	var c deliveryEventItem
	found, err := s.getItem(ctx, key{deliveryEventPK(d.OrgID, d.WebhookID, d.EventID), deliveryEventSK(d.EventID)}, &c)
	if err != nil {
		return Delivery{}, false, err
	}
	if !found { // expired and removed since the put: the event comes back
		return Delivery{}, false, apperr.New(apperr.Unavailable, "delivery claim changed, retry")
	}
	old, err := s.Delivery(ctx, d.OrgID, d.WebhookID, c.DeliveryID)
	if err == nil {
		old.JobQueued = old.JobQueued || c.JobQueued
		return old, false, nil
	}
	if !apperr.Is(err, apperr.NotFound) {
		return Delivery{}, false, err
	}
	d.ID = c.DeliveryID
	d.Status, d.CreatedAt, d.UpdatedAt, d.JobQueued = DeliveryPending, now, now, false
	d.pk, _ = deliveryIDPK(d.OrgID, d.WebhookID, d.ID)
	if err := s.putDelivery(ctx, d); err != nil {
		if isConditionFailed(err) {
			old, err := s.Delivery(ctx, d.OrgID, d.WebhookID, d.ID)
			return old, false, err
		}
		return Delivery{}, false, unavailable("create claimed delivery", err)
	}
	d.Attempts = []Attempt{}
	return d, false, nil
}

// putDelivery writes a new pending delivery (none with its id before).
func (s *Store) putDelivery(ctx context.Context, d Delivery) error {
	av, err := marshal(deliveryItem{
		key: d.key(), Type: typeDelivery, ID: d.ID, OrgID: d.OrgID,
		WebhookID: d.WebhookID, EventID: d.EventID, Event: d.Event, Body: d.Body, Status: d.Status,
		CreatedAt: timestamp(d.CreatedAt), UpdatedAt: timestamp(d.UpdatedAt), ExpiresAt: d.CreatedAt.Add(DeliveryTTL).Unix(),
	})
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av,
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	return err
}

// MarkDeliveryQueued records, on its event's claim, that the delivery of
// an event to a webhook had its job queued.
func (s *Store) MarkDeliveryQueued(ctx context.Context, org, webhookID, eventID string) error {
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{deliveryEventPK(org, webhookID, eventID), deliveryEventSK(eventID)},
		"SET job_queued = :t", "attribute_exists(pk)",
		map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}}))
	if err != nil && !isConditionFailed(err) {
		return unavailable("mark delivery queued", err)
	}
	return nil
}

// Delivery reads one delivery of a webhook: in its shard, else (made
// before deliveries were sharded) in the webhook's one legacy partition.
func (s *Store) Delivery(ctx context.Context, org, webhookID, id string) (Delivery, error) {
	notFound := apperr.New(apperr.NotFound, "delivery not found")
	pk, ok := deliveryIDPK(org, webhookID, id)
	if !ok {
		return Delivery{}, notFound
	}
	d, err := getModel[deliveryItem](ctx, s, key{pk, deliverySK(id)}, notFound)
	if apperr.Is(err, apperr.NotFound) {
		return getModel[deliveryItem](ctx, s, key{legacyDeliveriesPK(org, webhookID), deliverySK(id)}, notFound)
	}
	return d, err
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
	in := updateInput(s.table, d.key(),
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
	in := updateInput(s.table, d.key(),
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
	d, err := s.Delivery(ctx, org, webhookID, id)
	if err != nil {
		return Delivery{}, err
	}
	in := updateInput(s.table, d.key(),
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

// ---------------------------------------------------------------- samples

// EventSampleTTL is how long recent events are kept for Zapier samples.
const EventSampleTTL = 7 * 24 * time.Hour

type sampleItem struct {
	key
	Type      string `dynamodbav:"type"`
	Body      string `dynamodbav:"body"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

// EventSampleShards is how many partitions an organisation's samples of
// one event name are spread over (ORG#<org>#EVENTS#<name>#00 to #15, from
// a hash of the event id): every event is kept, one write each, so at
// 10,000 sends/s of one organisation (10,000 message.sent a second) a
// shard takes ~625 write units a second, under a partition's ~1,000.
const EventSampleShards = 16

func eventSampleShardPK(org, name, eventID string) string {
	sum := sha256.Sum256([]byte(eventID))
	return fmt.Sprintf("%s#%02d", eventSamplesPK(org, name), int(sum[0])%EventSampleShards)
}

// RecordEventSample keeps an emitted event (its exact bytes) so samples can
// show real, recent items.
func (s *Store) RecordEventSample(ctx context.Context, org, name, eventID string, at time.Time, body []byte) error {
	av, err := marshal(sampleItem{
		key:  key{eventSampleShardPK(org, name, eventID), eventSampleSK(at, eventID)},
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
// first, as the exact bytes sent: the newest limit of each shard (and of
// the one partition samples had before they were sharded, until it
// expires), merged.
func (s *Store) EventSamples(ctx context.Context, org, name string, limit int) ([][]byte, error) {
	pks := []string{eventSamplesPK(org, name)}
	for i := range EventSampleShards {
		pks = append(pks, fmt.Sprintf("%s#%02d", eventSamplesPK(org, name), i))
	}
	shards := make([][]sampleItem, len(pks))
	reads := make([]func(context.Context) error, len(pks))
	for i, pk := range pks {
		reads[i] = func(ctx context.Context) error {
			res, err := s.db.Query(ctx, &dynamodb.QueryInput{
				TableName:                 aws.String(s.table),
				KeyConditionExpression:    aws.String("pk = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
				ScanIndexForward:          aws.Bool(false),
				Limit:                     aws.Int32(int32(limit)),
			})
			if err != nil {
				return unavailable("event samples", err)
			}
			if err := attributevalue.UnmarshalListOfMaps(res.Items, &shards[i]); err != nil {
				return fmt.Errorf("store: decode sample: %w", err)
			}
			return nil
		}
	}
	if err := parallel(ctx, listConcurrency, reads); err != nil {
		return nil, err
	}
	items := slices.Concat(shards...)
	sort.Slice(items, func(i, j int) bool { return items[i].SK > items[j].SK })
	var out [][]byte
	now := s.now().Unix()
	for _, it := range items {
		if len(out) == limit {
			break
		}
		if it.ExpiresAt >= now {
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
