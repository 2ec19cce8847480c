package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/store"
)

func newDelivery(org, wh, eventID string, at time.Time) store.Delivery {
	return store.Delivery{ID: store.DeliveryID(at, eventID, wh), OrgID: org, WebhookID: wh, EventID: eventID, Event: "message.sent", Body: `{"id":"` + eventID + `"}`}
}

// deliveryPartitions are the partition keys holding the webhook's items.
func deliveryPartitions(t *testing.T, db *dynamodb.Client, table, org, wh string) map[string]int {
	t.Helper()
	out := map[string]int{}
	var start map[string]types.AttributeValue
	for {
		res, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), ExclusiveStartKey: start})
		require.NoError(t, err)
		for _, it := range res.Items {
			pk := it["pk"].(*types.AttributeValueMemberS).Value
			if strings.HasPrefix(pk, "ORG#"+org+"#WEBHOOK#"+wh) || wh == "" && strings.HasPrefix(pk, "ORG#"+org+"#") {
				out[pk]++
			}
		}
		if start = res.LastEvaluatedKey; len(start) == 0 {
			return out
		}
	}
}

// Issue 15: a webhook's deliveries are spread over its shards (a claim
// with its delivery), and listed newest first across them, in pages whose
// cursor neither repeats nor skips a delivery while new ones arrive; a
// cursor of another organisation or webhook is refused.
func TestDeliveriesShardedListing(t *testing.T) {
	s, c, tbl := newStore(t)
	ctx := context.Background()
	const org, wh, n = "org_a", "wh_1", 60
	var want []string
	for i := range n {
		c.Add(time.Millisecond)
		d, created, err := s.CreateDelivery(ctx, newDelivery(org, wh, fmt.Sprintf("evt_%04d", i), c.Now()))
		require.NoError(t, err)
		require.True(t, created)
		want = append([]string{d.ID}, want...) // newest first
	}
	parts := deliveryPartitions(t, tbl.Client, tbl.Name, org, wh)
	require.Greater(t, len(parts), 45, "spread over the shards")
	for pk, items := range parts {
		require.Regexp(t, `^ORG#org_a#WEBHOOK#wh_1#\d{3}$`, pk)
		require.Equal(t, 0, items%2, "%s: each claim with its delivery", pk)
	}
	start := time.Now()
	first, err := s.Deliveries(ctx, org, wh, "", 1)
	require.NoError(t, err)
	t.Logf("a page: %s", time.Since(start))
	second, err := s.Deliveries(ctx, org, wh, first.NextCursor, 1)
	require.NoError(t, err)
	require.Equal(t, want[:2], []string{first.Items[0].ID, second.Items[0].ID})
	for _, limit := range []int{7, 25, 100} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			var got []string
			cursor := ""
			for page := 0; ; page++ {
				p, err := s.Deliveries(ctx, org, wh, cursor, limit)
				require.NoError(t, err)
				require.LessOrEqual(t, len(p.Items), limit)
				for _, d := range p.Items {
					got = append(got, d.ID)
					require.Equal(t, wh, d.WebhookID)
				}
				if page == 0 && limit == 7 {
					// Deliveries made after the first page are not in the next ones.
					c.Add(time.Millisecond)
					_, _, err := s.CreateDelivery(ctx, newDelivery(org, wh, "evt_late", c.Now()))
					require.NoError(t, err)
					want = append([]string{store.DeliveryID(c.Now(), "evt_late", wh)}, want...)
				}
				if p.NextCursor == "" {
					break
				}
				require.Len(t, p.Items, limit, "a page before the last is full")
				cursor = p.NextCursor
			}
			if limit == 7 {
				require.Equal(t, want[1:], got)
			} else {
				require.Equal(t, want, got)
			}
		})
	}
	p, err := s.Deliveries(ctx, org, wh, "", 10)
	require.NoError(t, err)
	require.NotEmpty(t, p.NextCursor)
	for name, list := range map[string]func() (store.Page[store.Delivery], error){
		"other organisation": func() (store.Page[store.Delivery], error) { return s.Deliveries(ctx, "org_b", wh, p.NextCursor, 10) },
		"other webhook":      func() (store.Page[store.Delivery], error) { return s.Deliveries(ctx, org, "wh_2", p.NextCursor, 10) },
		"garbage":            func() (store.Page[store.Delivery], error) { return s.Deliveries(ctx, org, wh, "eyJsIjoiIn0", 10) },
		"not base64":         func() (store.Page[store.Delivery], error) { return s.Deliveries(ctx, org, wh, "%%%", 10) },
	} {
		_, err := list()
		require.True(t, apperr.Is(err, apperr.Unprocessable) || apperr.Is(err, apperr.Invalid), "%s: %v", name, err)
	}
	empty, err := s.Deliveries(ctx, org, "wh_none", "", 10)
	require.NoError(t, err)
	require.Empty(t, empty.Items)
	require.Empty(t, empty.NextCursor)
}

// One delivery is read, reset and attempted in its shard, by its id alone;
// an id that is not one, or another webhook's, is not found.
func TestDeliveryByIDInItsShard(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	d, _, err := s.CreateDelivery(ctx, newDelivery("org_a", "wh_1", "evt_1", c.Now()))
	require.NoError(t, err)
	got, err := s.Delivery(ctx, "org_a", "wh_1", d.ID)
	require.NoError(t, err)
	require.Equal(t, d.ID, got.ID)
	require.NoError(t, s.ClaimAttempt(ctx, got, c.Now().Add(time.Minute)))
	got, err = s.RecordAttempt(ctx, got, store.Attempt{At: c.Now(), StatusCode: 200}, store.DeliveryDelivered)
	require.NoError(t, err)
	reset, err := s.ResetDelivery(ctx, "org_a", "wh_1", d.ID)
	require.NoError(t, err)
	require.Equal(t, store.DeliveryPending, reset.Status)
	require.Len(t, reset.Attempts, 1)
	for _, id := range []string{"dlv_x", "", "dlv_20261128T120000.000_zzzzzzzzzzzzzzzzzzzz", d.ID + "0", "../" + d.ID} {
		_, err := s.Delivery(ctx, "org_a", "wh_1", id)
		require.True(t, apperr.Is(err, apperr.NotFound), "%q: %v", id, err)
	}
	_, err = s.Delivery(ctx, "org_a", "wh_2", d.ID)
	require.True(t, apperr.Is(err, apperr.NotFound), "another webhook's: %v", err)
	_, err = s.Delivery(ctx, "org_b", "wh_1", d.ID)
	require.True(t, apperr.Is(err, apperr.NotFound), "another organisation's: %v", err)
	_, _, err = s.CreateDelivery(ctx, store.Delivery{ID: store.DeliveryID(c.Now(), "evt_other", "wh_1"), OrgID: "org_a", WebhookID: "wh_1", EventID: "evt_2"})
	require.Error(t, err, "an id not of its event")
}

// A delivery made before deliveries were sharded (the webhook's one
// partition) is still read, listed, attempted and reset until it expires.
func TestLegacyDeliveryStillServed(t *testing.T) {
	s, c, tbl := newStore(t)
	ctx := context.Background()
	old := store.DeliveryID(c.Now().Add(-time.Hour), "evt_old", "wh_1")
	_, err := tbl.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tbl.Name), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "ORG#org_a#WEBHOOK#wh_1"}, "sk": &types.AttributeValueMemberS{Value: "DLV#" + old},
		"type": &types.AttributeValueMemberS{Value: "webhook_delivery"}, "id": &types.AttributeValueMemberS{Value: old},
		"org_id": &types.AttributeValueMemberS{Value: "org_a"}, "webhook_id": &types.AttributeValueMemberS{Value: "wh_1"},
		"event_id": &types.AttributeValueMemberS{Value: "evt_old"}, "event": &types.AttributeValueMemberS{Value: "message.sent"},
		"body": &types.AttributeValueMemberS{Value: "{}"}, "status": &types.AttributeValueMemberS{Value: "pending"},
		"created_at": &types.AttributeValueMemberS{Value: c.Now().Add(-time.Hour).Format(time.RFC3339Nano)},
		"updated_at": &types.AttributeValueMemberS{Value: c.Now().Add(-time.Hour).Format(time.RFC3339Nano)},
		"expires_at": &types.AttributeValueMemberN{Value: fmt.Sprint(c.Now().Add(24 * time.Hour).Unix())},
	}})
	require.NoError(t, err)
	d, _, err := s.CreateDelivery(ctx, newDelivery("org_a", "wh_1", "evt_new", c.Now()))
	require.NoError(t, err)
	p, err := s.Deliveries(ctx, "org_a", "wh_1", "", 10)
	require.NoError(t, err)
	require.Len(t, p.Items, 2)
	require.Equal(t, []string{d.ID, old}, []string{p.Items[0].ID, p.Items[1].ID})
	got, err := s.Delivery(ctx, "org_a", "wh_1", old)
	require.NoError(t, err)
	require.NoError(t, s.ClaimAttempt(ctx, got, c.Now().Add(time.Minute)))
	_, err = s.RecordAttempt(ctx, got, store.Attempt{At: c.Now(), StatusCode: 200}, store.DeliveryDelivered)
	require.NoError(t, err)
	got, err = s.Delivery(ctx, "org_a", "wh_1", old)
	require.NoError(t, err)
	require.Equal(t, store.DeliveryDelivered, got.Status)
	got, err = s.ResetDelivery(ctx, "org_a", "wh_1", old)
	require.NoError(t, err)
	require.Equal(t, store.DeliveryPending, got.Status)
	require.Equal(t, 1, deliveryPartitions(t, tbl.Client, tbl.Name, "org_a", "wh_1")["ORG#org_a#WEBHOOK#wh_1"], "kept where it was")
}

// failPut fails the PutItem calls whose item's sort key begins with prefix,
// n times (a throttled write, a crash between writes).
type failPut struct {
	store.DB
	prefix string
	n      atomic.Int32
}

func (f *failPut) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if sk, ok := in.Item["sk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(sk.Value, f.prefix) && f.n.Add(-1) >= 0 {
		return nil, errors.New("ProvisionedThroughputExceededException: throttled")
	}
	return f.DB.PutItem(ctx, in, o...)
}

// A fan-out stopped between the claim and its delivery (the delivery's
// write throttled, or the function ended) leaves the claim; the event's
// next fan-out, later and with another delivery time, writes the delivery
// the claim names: one delivery, not lost, not two.
func TestCreateDeliveryAfterAStopBetweenItsWrites(t *testing.T) {
	tbl, c := newTable(t)
	db := &failPut{DB: tbl.Client, prefix: "DLV#"}
	db.n.Store(1)
	s := store.New(db, tbl.Name, c.Now)
	ctx := context.Background()
	first := newDelivery("org_a", "wh_1", "evt_1", c.Now())
	_, _, err := s.CreateDelivery(ctx, first)
	require.Error(t, err)
	p, err := s.Deliveries(ctx, "org_a", "wh_1", "", 10)
	require.NoError(t, err)
	require.Empty(t, p.Items)
	c.Add(40 * time.Second)
	d, created, err := s.CreateDelivery(ctx, newDelivery("org_a", "wh_1", "evt_1", c.Now()))
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, first.ID, d.ID, "the claim's delivery")
	require.Equal(t, store.DeliveryPending, d.Status)
	require.False(t, d.JobQueued, "its job is still to be queued")
	require.Equal(t, first.Body, d.Body)
	again, created, err := s.CreateDelivery(ctx, newDelivery("org_a", "wh_1", "evt_1", c.Now()))
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, first.ID, again.ID)
	require.NoError(t, s.MarkDeliveryQueued(ctx, "org_a", "wh_1", "evt_1"))
	again, _, err = s.CreateDelivery(ctx, newDelivery("org_a", "wh_1", "evt_1", c.Now()))
	require.NoError(t, err)
	require.True(t, again.JobQueued, "the claim's mark")
	p, err = s.Deliveries(ctx, "org_a", "wh_1", "", 10)
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
}

// The claim's write throttled: nothing is written, the next fan-out makes
// the delivery.
func TestCreateDeliveryClaimThrottled(t *testing.T) {
	tbl, c := newTable(t)
	db := &failPut{DB: tbl.Client, prefix: "DLVEVT#"}
	db.n.Store(1)
	s := store.New(db, tbl.Name, c.Now)
	ctx := context.Background()
	_, _, err := s.CreateDelivery(ctx, newDelivery("org_a", "wh_1", "evt_1", c.Now()))
	require.True(t, apperr.Is(err, apperr.Unavailable), "%v", err)
	require.Empty(t, deliveryPartitions(t, tbl.Client, tbl.Name, "org_a", "wh_1"))
	_, created, err := s.CreateDelivery(ctx, newDelivery("org_a", "wh_1", "evt_1", c.Now()))
	require.NoError(t, err)
	require.True(t, created)
}

// Fan-outs of one event at once make one delivery.
func TestCreateDeliveryConcurrent(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	ids := make(chan string, 8)
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			d, _, err := s.CreateDelivery(ctx, newDelivery("org_a", "wh_1", "evt_1", c.Now().Add(time.Duration(i)*time.Millisecond)))
			errs <- err
			ids <- d.ID
		}()
	}
	seen := map[string]bool{}
	for range 8 {
		if err := <-errs; err != nil {
			require.True(t, apperr.Is(err, apperr.Unavailable), "%v", err)
			<-ids
			continue
		}
		seen[<-ids] = true
	}
	require.Len(t, seen, 1)
	p, err := s.Deliveries(ctx, "org_a", "wh_1", "", 10)
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
}

// Event samples are spread over their shards (and the legacy partition is
// still read): the latest are returned newest first, at most limit.
func TestEventSamplesAcrossShards(t *testing.T) {
	s, c, tbl := newStore(t)
	ctx := context.Background()
	_, err := tbl.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tbl.Name), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "ORG#org_a#EVENTS#message.sent"}, "sk": &types.AttributeValueMemberS{Value: "2026-11-28T11:00:00.000Z#evt_legacy"},
		"type": &types.AttributeValueMemberS{Value: "event_sample"}, "body": &types.AttributeValueMemberS{Value: "legacy"},
		"expires_at": &types.AttributeValueMemberN{Value: fmt.Sprint(c.Now().Add(time.Hour).Unix())},
	}})
	require.NoError(t, err)
	for i := range 40 {
		c.Add(time.Millisecond)
		require.NoError(t, s.RecordEventSample(ctx, "org_a", "message.sent", fmt.Sprintf("evt_%02d", i), c.Now(), []byte(fmt.Sprint(i))))
	}
	parts := 0
	for pk := range deliveryPartitions(t, tbl.Client, tbl.Name, "org_a", "") {
		if strings.HasPrefix(pk, "ORG#org_a#EVENTS#message.sent#") {
			parts++
		}
	}
	require.Greater(t, parts, 8)
	got, err := s.EventSamples(ctx, "org_a", "message.sent", 5)
	require.NoError(t, err)
	require.Equal(t, [][]byte{[]byte("39"), []byte("38"), []byte("37"), []byte("36"), []byte("35")}, got)
	all, err := s.EventSamples(ctx, "org_a", "message.sent", 100)
	require.NoError(t, err)
	require.Len(t, all, 41)
	require.Equal(t, "legacy", string(all[40]))
}
