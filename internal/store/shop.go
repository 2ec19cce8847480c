package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
)

// E-commerce integrations (Shopify, WooCommerce): the settings, the
// source → organisation lookup, the orders their webhooks report, the
// once-per-trigger notification markers and the webhook dedupe items. The
// keys are in keys.go.

// Integration is an organisation's e-commerce integration without its
// webhook secret (Secrets Manager holds it). Config is the platform's
// settings as internal/shopconfig writes them; the store does not read it.
type Integration struct {
	OrgID     string
	Platform  string // shopify | woocommerce
	Source    string // the shop domain or site URL, as shown
	SourceKey string // the normalised source: unique across organisations
	Config    []byte
	Health    IntegrationHealth
	CreatedAt time.Time
	UpdatedAt time.Time
}

// IntegrationHealth is set when a platform refused the integration's
// credentials (a revoked token); saving the integration again clears it.
type IntegrationHealth struct {
	Unhealthy bool
	Reason    string
	At        time.Time
}

type integrationItem struct {
	key
	Type      string `dynamodbav:"type"`
	OrgID     string `dynamodbav:"org_id"`
	Platform  string `dynamodbav:"platform"`
	Source    string `dynamodbav:"source"`
	SourceKey string `dynamodbav:"source_key"`
	Config    string `dynamodbav:"config"`
	Unhealthy string `dynamodbav:"unhealthy,omitempty"` // the reason
	CheckedAt string `dynamodbav:"checked_at,omitempty"`
	CreatedAt string `dynamodbav:"created_at"`
	UpdatedAt string `dynamodbav:"updated_at"`
}

func (it integrationItem) model() Integration {
	in := Integration{OrgID: it.OrgID, Platform: it.Platform, Source: it.Source, SourceKey: it.SourceKey,
		Config: []byte(it.Config), CreatedAt: mustTime(it.CreatedAt), UpdatedAt: mustTime(it.UpdatedAt)}
	if it.Unhealthy != "" {
		in.Health = IntegrationHealth{Unhealthy: true, Reason: it.Unhealthy, At: mustTime(it.CheckedAt)}
	}
	return in
}

// MarkIntegrationUnhealthy records why a platform refused an integration's
// credentials, unless the integration was saved again since configuredAt
// (its updated_at when the credentials were read): new credentials are
// not blamed for the old ones' failure. Gone or changed: nothing happens.
func (s *Store) MarkIntegrationUnhealthy(ctx context.Context, org, platform string, configuredAt time.Time, reason string) error {
	in := updateInput(s.table, key{orgPK(org), integrationSK(platform)}, "SET unhealthy = :r, checked_at = :now",
		"attribute_exists(pk) AND updated_at = :prev",
		map[string]types.AttributeValue{":r": str(reason), ":now": str(timestamp(s.now())), ":prev": str(timestamp(configuredAt))})
	if _, err := s.db.UpdateItem(ctx, in); err != nil && !isConditionFailed(err) {
		return unavailable("mark integration unhealthy", err)
	}
	return nil
}

// ErrSourceTaken is the cause of the Conflict PutIntegration answers when
// another organisation holds the shop domain or site URL.
var ErrSourceTaken = errors.New("store: the integration source belongs to another organization")

// Integration reads an organisation's integration of a platform.
func (s *Store) Integration(ctx context.Context, org, platform string) (Integration, error) {
	return getModel[integrationItem](ctx, s, key{orgPK(org), integrationSK(platform)},
		apperr.New(apperr.NotFound, "the "+platform+" integration is not configured for this organization").
			WithCode("integration_not_configured"))
}

// PutIntegration saves an integration. Its source (shop domain, site URL)
// is claimed with a conditional put of a lookup item, unique across
// organisations (a Conflict caused by ErrSourceTaken otherwise); a changed
// source releases the old lookup item in the same transaction. created says
// whether the integration is new.
func (s *Store) PutIntegration(ctx context.Context, in Integration) (Integration, bool, error) {
	var old integrationItem
	had, err := s.getItem(ctx, key{orgPK(in.OrgID), integrationSK(in.Platform)}, &old)
	if err != nil {
		return Integration{}, false, err
	}
	now := s.now()
	it := integrationItem{
		key: key{orgPK(in.OrgID), integrationSK(in.Platform)}, Type: typeIntegration, OrgID: in.OrgID,
		Platform: in.Platform, Source: in.Source, SourceKey: in.SourceKey, Config: string(in.Config),
		CreatedAt: timestamp(now), UpdatedAt: timestamp(now),
	}
	if had {
		it.CreatedAt = old.CreatedAt
		if it.UpdatedAt == old.UpdatedAt {
			it.UpdatedAt = timestamp(now.Add(time.Millisecond))
		}
	}
	av, err := marshal(it)
	if err != nil {
		return Integration{}, false, err
	}
	ptr, err := marshal(pointerItem{key: key{integrationSourcePK(in.Platform, in.SourceKey), integrationSourceSK()}, Type: typeIntegrationSource, OrgID: in.OrgID})
	if err != nil {
		return Integration{}, false, err
	}
	orgVal := map[string]types.AttributeValue{":org": str(in.OrgID)}
	claim := s.put(ptr, "attribute_not_exists(pk) OR org_id = :org")
	claim.Put.ExpressionAttributeValues = orgVal
	save := s.put(av, "attribute_not_exists(pk)")
	if had {
		save = s.put(av, "updated_at = :prev")
		save.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": str(old.UpdatedAt)}
	}
	items := []types.TransactWriteItem{claim, save}
	if had && old.SourceKey != in.SourceKey {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: key{integrationSourcePK(in.Platform, old.SourceKey), integrationSourceSK()}.av(),
			ConditionExpression: aws.String("attribute_not_exists(pk) OR org_id = :org"), ExpressionAttributeValues: orgVal,
		}})
	}
	err = s.transact(ctx, "put integration", items, func(failed []bool) error {
		if failed[0] {
			return apperr.New(apperr.Conflict, "another organization has this "+in.Platform+" source").WithCause(ErrSourceTaken)
		}
		return conditionErr(apperr.Conflict, "the integration settings changed concurrently, retry")
	})
	if err != nil {
		return Integration{}, false, err
	}
	return it.model(), !had, nil
}

// DeleteIntegration removes an integration and its lookup item in one
// transaction and returns what was removed.
func (s *Store) DeleteIntegration(ctx context.Context, org, platform string) (Integration, error) {
	cur, err := s.Integration(ctx, org, platform)
	if err != nil {
		return Integration{}, err
	}
	items := []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: key{orgPK(org), integrationSK(platform)}.av(),
			ConditionExpression:       aws.String("updated_at = :prev"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":prev": str(timestamp(cur.UpdatedAt))},
		}},
		{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: key{integrationSourcePK(platform, cur.SourceKey), integrationSourceSK()}.av(),
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR org_id = :org"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":org": str(org)},
		}},
	}
	err = s.transact(ctx, "delete integration", items, func([]bool) error {
		return conditionErr(apperr.Conflict, "the integration settings changed concurrently, retry")
	})
	if err != nil {
		return Integration{}, err
	}
	return cur, nil
}

// OrgByIntegrationSource finds the organisation whose integration of a
// platform has this normalised source (shop domain, site URL).
func (s *Store) OrgByIntegrationSource(ctx context.Context, platform, sourceKey string) (string, error) {
	return s.pointer(ctx, key{integrationSourcePK(platform, sourceKey), integrationSourceSK()}, "no organization has this "+platform+" source")
}

// ---------------------------------------------------------------- orders

// NoPhone is an order's phone source when none of its phones is usable.
const NoPhone = "none"

// Order is an e-commerce order as its webhooks reported it, with the
// outcome of each notification trigger.
type Order struct {
	OrgID       string
	Platform    string
	ID          string // the platform's order id, decimal
	Number      string
	Name        string
	Status      string // the latest status reported
	Total       string // exactly as sent
	Currency    string
	Phone       string // E.164 digits, "" when none is usable
	PhoneSource string // where Phone came from, or NoPhone
	ContactID   string
	PlacedAt    string // the order's creation time as sent
	LastTopic   string
	// Counted: the order was added to its contact's purchase attributes
	// (total_spent, last_purchase); CountedTotal is what was added, or the
	// reason nothing was ("currency_mismatch", "invalid_total").
	Counted      bool
	CountedTotal string
	// CreatedContactID: this order's processing created that contact
	// (its contact.created is emitted again by a retry that finds it).
	CreatedContactID string
	FirstSeenAt      time.Time
	UpdatedAt        time.Time
	Notifications    []OrderNotification
}

type orderItem struct {
	key
	Type         string `dynamodbav:"type"`
	OrgID        string `dynamodbav:"org_id"`
	Platform     string `dynamodbav:"platform"`
	OrderID      string `dynamodbav:"order_id"`
	Number       string `dynamodbav:"number"`
	Name         string `dynamodbav:"name"`
	Status       string `dynamodbav:"status"`
	Total        string `dynamodbav:"total"`
	Currency     string `dynamodbav:"currency"`
	Phone        string `dynamodbav:"phone"`
	PhoneSource  string `dynamodbav:"phone_source"`
	ContactID    string `dynamodbav:"contact_id,omitempty"`
	PlacedAt     string `dynamodbav:"placed_at"`
	LastTopic    string `dynamodbav:"last_topic"`
	Counted      bool   `dynamodbav:"counted,omitempty"`
	CountedTotal string `dynamodbav:"counted_total,omitempty"`
	// CreatedContact: the contact this order's processing created.
	CreatedContact string `dynamodbav:"created_contact,omitempty"`
	FirstSeenAt    string `dynamodbav:"first_seen_at"`
	UpdatedAt      string `dynamodbav:"updated_at"`
}

func (it orderItem) model() Order {
	return Order{OrgID: it.OrgID, Platform: it.Platform, ID: it.OrderID, Number: it.Number, Name: it.Name, Status: it.Status,
		Total: it.Total, Currency: it.Currency, Phone: it.Phone, PhoneSource: it.PhoneSource, ContactID: it.ContactID,
		PlacedAt: it.PlacedAt, LastTopic: it.LastTopic, Counted: it.Counted, CountedTotal: it.CountedTotal,
		CreatedContactID: it.CreatedContact, FirstSeenAt: mustTime(it.FirstSeenAt), UpdatedAt: mustTime(it.UpdatedAt)}
}

// Notification trigger states and results.
const (
	TriggerPending = "pending"
	TriggerDone    = "done"
)

// OrderNotification is one trigger of an order (a Shopify topic, a
// WooCommerce status): claimed once, then done with its result, so each
// trigger has its effects (message, events) once however often, and
// however concurrently, the webhooks repeat it.
type OrderNotification struct {
	Key        string     `json:"key"`
	Event      string     `json:"event,omitempty"` // the event the trigger emits
	State      string     `json:"state"`           // pending | done
	Result     string     `json:"result,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	MessageID  string     `json:"message_id,omitempty"`
	Enqueued   bool       `json:"enqueued,omitempty"`
	Attempts   int        `json:"attempts"`
	LeaseUntil *time.Time `json:"lease_until,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

type triggerItem struct {
	key
	Type       string `dynamodbav:"type"`
	Event      string `dynamodbav:"event,omitempty"`
	State      string `dynamodbav:"state"`
	Result     string `dynamodbav:"result,omitempty"`
	Reason     string `dynamodbav:"reason,omitempty"`
	MessageID  string `dynamodbav:"message_id,omitempty"`
	Enqueued   bool   `dynamodbav:"enqueued,omitempty"`
	Attempts   int    `dynamodbav:"attempts"`
	LeaseUntil string `dynamodbav:"lease_until"`
	CreatedAt  string `dynamodbav:"created_at"`
	UpdatedAt  string `dynamodbav:"updated_at"`
	ExpiresAt  int64  `dynamodbav:"expires_at,omitempty"`
}

func (it triggerItem) notification() OrderNotification {
	return OrderNotification{Key: strings.TrimPrefix(it.SK, triggerSKPrefix), Event: it.Event, State: it.State, Result: it.Result,
		Reason: it.Reason, MessageID: it.MessageID, Enqueued: it.Enqueued, Attempts: it.Attempts,
		LeaseUntil: parseTime(it.LeaseUntil), CreatedAt: mustTime(it.CreatedAt), UpdatedAt: mustTime(it.UpdatedAt)}
}

// Order reads an order with its notifications (one strongly consistent
// Query of the order's item collection).
func (s *Store) Order(ctx context.Context, org, platform, orderID string) (Order, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(orderPK(org, platform, orderID))},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return Order{}, unavailable("get order", err)
	}
	var o Order
	found := false
	for _, item := range res.Items {
		var k key
		_ = attributevalue.UnmarshalMap(item, &k)
		if k.SK == orderSK() {
			var it orderItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return Order{}, fmt.Errorf("store: decode order: %w", err)
			}
			notes := o.Notifications
			o, found = it.model(), true
			o.Notifications = notes
			continue
		}
		var it triggerItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return Order{}, fmt.Errorf("store: decode order notification: %w", err)
		}
		o.Notifications = append(o.Notifications, it.notification())
	}
	if !found {
		return Order{}, apperr.New(apperr.NotFound, "order not found")
	}
	sort.Slice(o.Notifications, func(i, j int) bool { return o.Notifications[i].CreatedAt.Before(o.Notifications[j].CreatedAt) })
	return o, nil
}

// UpsertOrder records what a webhook says about an order (creating it the
// first time) and returns the order as stored now. The contact link and the
// counted flag are left as they are.
func (s *Store) UpsertOrder(ctx context.Context, o Order) (Order, error) {
	now := timestamp(s.now())
	if o.PhoneSource == "" {
		o.PhoneSource = NoPhone
	}
	// Every attribute goes through a name placeholder: several (total,
	// number, name, status, ...) are DynamoDB reserved words.
	fields := []struct {
		attr string
		val  types.AttributeValue
	}{
		{attrType, str(typeOrder)}, {"org_id", str(o.OrgID)}, {"platform", str(o.Platform)}, {"order_id", str(o.ID)},
		{"number", str(o.Number)}, {"name", str(o.Name)}, {"status", str(o.Status)}, {"total", str(o.Total)},
		{"currency", str(o.Currency)}, {"phone", str(o.Phone)}, {"phone_source", str(o.PhoneSource)},
		{"placed_at", str(o.PlacedAt)}, {"last_topic", str(o.LastTopic)}, {"updated_at", str(now)},
	}
	names := map[string]string{"#first": "first_seen_at"}
	vals := map[string]types.AttributeValue{":now": str(now)}
	sets := make([]string, 0, len(fields)+1)
	for i, fl := range fields {
		n, v := "#a"+strconv.Itoa(i), ":v"+strconv.Itoa(i)
		names[n], vals[v] = fl.attr, fl.val
		sets = append(sets, n+" = "+v)
	}
	sets = append(sets, "#first = if_not_exists(#first, :now)")
	in := updateInput(s.table, key{orderPK(o.OrgID, o.Platform, o.ID), orderSK()}, "SET "+strings.Join(sets, ", "), "", vals)
	in.ExpressionAttributeNames = names
	in.ReturnValues = types.ReturnValueAllNew
	out, err := s.db.UpdateItem(ctx, in)
	if err != nil {
		return Order{}, unavailable("upsert order", err)
	}
	var it orderItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return Order{}, fmt.Errorf("store: decode order: %w", err)
	}
	return it.model(), nil
}

// SetOrderContact links an order to its customer's contact.
func (s *Store) SetOrderContact(ctx context.Context, org, platform, orderID, contactID string) error {
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{orderPK(org, platform, orderID), orderSK()},
		"SET contact_id = :c", "attribute_exists(pk)", map[string]types.AttributeValue{":c": str(contactID)}))
	if isConditionFailed(err) {
		return apperr.New(apperr.NotFound, "order not found")
	}
	if err != nil {
		return unavailable("set order contact", err)
	}
	return nil
}

// ClaimOrderNotification claims an order's trigger for this webhook: a new
// trigger, or a pending one whose previous holder's lease ran out (it
// failed half-way; what it recorded, such as its message id, is kept). The
// trigger as found is returned with claimed false when it is done or held.
func (s *Store) ClaimOrderNotification(ctx context.Context, org, platform, orderID, trigger, eventName string, lease time.Duration) (OrderNotification, bool, error) {
	it, claimed, err := s.claim(ctx, key{orderPK(org, platform, orderID), triggerSK(trigger)}, typeOrderTrigger, eventName, lease, 0)
	return it.notification(), claimed, err
}

// RecordOrderMessage notes on a claimed trigger the message it accepted,
// before the message is enqueued, so a retry after a failure enqueues that
// message rather than accepting another.
func (s *Store) RecordOrderMessage(ctx context.Context, org, platform, orderID, trigger, messageID string) error {
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{orderPK(org, platform, orderID), triggerSK(trigger)},
		"SET message_id = :m, updated_at = :now", "attribute_exists(pk)",
		map[string]types.AttributeValue{":m": str(messageID), ":now": str(timestamp(s.now()))}))
	if err != nil && !isConditionFailed(err) {
		return unavailable("record order message", err)
	}
	return nil
}

// CompleteOrderNotification marks a trigger done with its result.
func (s *Store) CompleteOrderNotification(ctx context.Context, org, platform, orderID string, n OrderNotification) error {
	in := updateInput(s.table, key{orderPK(org, platform, orderID), triggerSK(n.Key)},
		"SET #state = :done, #result = :r, reason = :why, enqueued = :enq, updated_at = :now", "attribute_exists(pk)",
		map[string]types.AttributeValue{":done": str(TriggerDone), ":r": str(n.Result), ":why": str(n.Reason),
			":enq": &types.AttributeValueMemberBOOL{Value: n.Enqueued}, ":now": str(timestamp(s.now()))})
	in.ExpressionAttributeNames = map[string]string{"#state": "state", "#result": "result"}
	if n.MessageID != "" {
		*in.UpdateExpression += ", message_id = :m"
		in.ExpressionAttributeValues[":m"] = str(n.MessageID)
	}
	if _, err := s.db.UpdateItem(ctx, in); err != nil && !isConditionFailed(err) {
		return unavailable("complete order notification", err)
	}
	return nil
}

// ReleaseOrderNotification ends a failed holder's lease at once, so the
// platform's retry can take the trigger over without waiting.
func (s *Store) ReleaseOrderNotification(ctx context.Context, org, platform, orderID, trigger string) error {
	return s.release(ctx, key{orderPK(org, platform, orderID), triggerSK(trigger)})
}

// ErrOrderCounted means the order was already added to its contact's
// purchase attributes.
var ErrOrderCounted = errors.New("store: the order was already counted")

// OrderContact is what an order does to its customer's contact: the
// contact to create (Create) or to save (read earlier; saved only if nobody
// changed it since, as SaveContact), and, when Count is set, the order
// marked counted in the same transaction, so the contact's purchase
// attributes move once per order.
type OrderContact struct {
	Contact      Contact
	Create       bool
	Count        bool
	Platform     string
	OrderID      string
	CountedTotal string // what the order added (or why it added nothing)
}

// SaveOrderContact applies an OrderContact. Errors: a Conflict with
// existing_id when another request created the number's contact first, a
// Conflict caused by ErrContactChanged when the contact moved, and one
// caused by ErrOrderCounted when the order was counted meanwhile; each
// means: read again and redo.
func (s *Store) SaveOrderContact(ctx context.Context, oc OrderContact) (Contact, error) {
	c := oc.Contact
	now := s.now()
	var items []types.TransactWriteItem
	nClaims := 0
	if oc.Create {
		c.ID, c.CreatedAt, c.UpdatedAt = id.New(id.Contact, now), now, now
		claims, err := s.claimPhone(c.OrgID, c.WhatsAppID, c.ID, "attribute_not_exists(pk)")
		if err != nil {
			return Contact{}, err
		}
		ci, err := marshal(newContactItem(c))
		if err != nil {
			return Contact{}, err
		}
		items = append(items, claims...)
		items = append(items, s.put(ci, "attribute_not_exists(pk)"))
		nClaims = len(claims)
	} else {
		prev := timestamp(c.UpdatedAt)
		c.UpdatedAt = now
		if timestamp(c.UpdatedAt) == prev {
			c.UpdatedAt = c.UpdatedAt.Add(time.Millisecond)
		}
		ci, err := marshal(newContactItem(c))
		if err != nil {
			return Contact{}, err
		}
		p := s.put(ci, "attribute_exists(pk) AND updated_at = :prev AND attribute_not_exists(merged_into)")
		p.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": str(prev)}
		items = append(items, p)
	}
	orderIdx := -1
	// A created contact is recorded on the order in the same transaction,
	// so a retry of the order (its events not published) emits
	// contact.created again.
	created := ""
	if oc.Create {
		created = ", created_contact = :c"
	}
	if oc.Count {
		orderIdx = len(items)
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(s.table), Key: key{orderPK(c.OrgID, oc.Platform, oc.OrderID), orderSK()}.av(),
			UpdateExpression:    aws.String("SET counted = :t, counted_total = :amt, contact_id = :c" + created),
			ConditionExpression: aws.String("attribute_exists(pk) AND (attribute_not_exists(counted) OR counted = :f)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":t": &types.AttributeValueMemberBOOL{Value: true}, ":f": &types.AttributeValueMemberBOOL{Value: false},
				":amt": str(oc.CountedTotal), ":c": str(c.ID),
			},
		}})
	} else if oc.Create {
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(s.table), Key: key{orderPK(c.OrgID, oc.Platform, oc.OrderID), orderSK()}.av(),
			UpdateExpression:          aws.String("SET contact_id = :c, created_contact = :c"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(c.ID)},
		}})
	}
	err := s.transact(ctx, "save order contact", items, func(failed []bool) error {
		switch {
		case oc.Create && slices.Contains(failed[:nClaims], true):
			return conditionErr(apperr.Conflict, "a contact with this whatsapp_id exists").WithCode("contact_exists")
		case orderIdx >= 0 && failed[orderIdx]:
			return conditionErr(apperr.Conflict, "the order was counted meanwhile").WithCause(ErrOrderCounted)
		case !oc.Create && failed[0]:
			return conditionErr(apperr.Conflict, "the contact changed meanwhile, retry").WithCause(ErrContactChanged)
		}
		return conditionErr(apperr.Conflict, "contact id collision, retry")
	})
	if err != nil {
		return Contact{}, err
	}
	return c, nil
}

// ---------------------------------------------------------------- shop webhook receipts

// ShopWebhookReceiptTTL is how long a platform's webhook id is remembered
// (Shopify retries for 4 hours).
const ShopWebhookReceiptTTL = 7 * 24 * time.Hour

// ClaimShopWebhook claims the receipt of a platform's webhook id (Shopify's
// X-Shopify-Webhook-Id) for processing: a new id, one whose earlier attempt
// failed (released or its lease ran out), or one remembered past its TTL. When not claimed, state
// says why: done (a duplicate) or pending (another attempt holds it now).
func (s *Store) ClaimShopWebhook(ctx context.Context, org, platform, webhookID string, lease time.Duration) (state string, claimed bool, err error) {
	it, claimed, err := s.claim(ctx, key{shopReceiptPK(org, platform, webhookID), shopReceiptSK()}, typeShopReceipt, "", lease, ShopWebhookReceiptTTL)
	return it.State, claimed, err
}

// CompleteShopWebhook marks a webhook id's receipt done: repeats are
// duplicates.
func (s *Store) CompleteShopWebhook(ctx context.Context, org, platform, webhookID, result string) error {
	in := updateInput(s.table, key{shopReceiptPK(org, platform, webhookID), shopReceiptSK()},
		"SET #state = :done, #result = :r, updated_at = :now", "attribute_exists(pk)",
		map[string]types.AttributeValue{":done": str(TriggerDone), ":r": str(result), ":now": str(timestamp(s.now()))})
	in.ExpressionAttributeNames = map[string]string{"#state": "state", "#result": "result"}
	if _, err := s.db.UpdateItem(ctx, in); err != nil && !isConditionFailed(err) {
		return unavailable("complete shop webhook receipt", err)
	}
	return nil
}

// ReleaseShopWebhook ends a failed attempt's lease at once.
func (s *Store) ReleaseShopWebhook(ctx context.Context, org, platform, webhookID string) error {
	return s.release(ctx, key{shopReceiptPK(org, platform, webhookID), shopReceiptSK()})
}

// claim takes a pending/done item: created pending, or taken over when it
// is pending with an expired lease or past its TTL (ttl > 0 sets one).
func (s *Store) claim(ctx context.Context, k key, typ, eventName string, lease, ttl time.Duration) (triggerItem, bool, error) {
	now := s.now()
	update := "SET #t = :type, #state = :pending, lease_until = :until, updated_at = :now, created_at = if_not_exists(created_at, :now) " +
		"ADD attempts :one"
	cond := "attribute_not_exists(pk) OR (#state = :pending AND lease_until < :now)"
	vals := map[string]types.AttributeValue{
		":type": str(typ), ":pending": str(TriggerPending), ":until": str(timestamp(now.Add(lease))), ":now": str(timestamp(now)),
		":one": num("1"),
	}
	if eventName != "" {
		update = strings.Replace(update, "SET ", "SET event = if_not_exists(event, :ev), ", 1)
		vals[":ev"] = str(eventName)
	}
	if ttl > 0 {
		update = strings.Replace(update, "SET ", "SET expires_at = :exp, ", 1)
		cond += " OR expires_at < :unix"
		vals[":exp"] = num(strconv.FormatInt(now.Add(ttl).Unix(), 10))
		vals[":unix"] = num(strconv.FormatInt(now.Unix(), 10))
	}
	in := updateInput(s.table, k, update, cond, vals)
	in.ExpressionAttributeNames = map[string]string{"#t": attrType, "#state": "state"}
	in.ReturnValues = types.ReturnValueAllNew
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	out, err := s.db.UpdateItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		var it triggerItem
		if len(ccf.Item) == 0 {
			// Some emulators omit the old item: read it.
			if _, err := s.getItem(ctx, k, &it); err != nil {
				return it, false, err
			}
			return it, false, nil
		}
		if err := attributevalue.UnmarshalMap(ccf.Item, &it); err != nil {
			return it, false, fmt.Errorf("store: decode claim: %w", err)
		}
		return it, false, nil
	}
	if err != nil {
		return triggerItem{}, false, unavailable("claim", err)
	}
	var it triggerItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return triggerItem{}, false, fmt.Errorf("store: decode claim: %w", err)
	}
	return it, true, nil
}

// release ends a pending item's lease.
func (s *Store) release(ctx context.Context, k key) error {
	in := updateInput(s.table, k, "SET lease_until = :past", "#state = :pending",
		map[string]types.AttributeValue{":past": str(timestamp(time.Unix(0, 0))), ":pending": str(TriggerPending)})
	in.ExpressionAttributeNames = map[string]string{"#state": "state"}
	if _, err := s.db.UpdateItem(ctx, in); err != nil && !isConditionFailed(err) {
		return unavailable("release", err)
	}
	return nil
}

// ---------------------------------------------------------------- records

const shopRecordTTL = 30 * 24 * time.Hour

// RecordShopWebhook keeps, for 30 days, a verified platform webhook
// that was acknowledged without being acted on (a topic PyTake does not
// handle, a body it cannot read), for inspection.
func (s *Store) RecordShopWebhook(ctx context.Context, org, platform, topic, reason string, body []byte) (string, error) {
	return s.record(ctx, key{shopRecordPK(org, platform), id.New("cwh", s.now())}, typeShopRecord, topic, reason, body, shopRecordTTL)
}
