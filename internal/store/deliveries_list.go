package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
)

// listConcurrency bounds the shard queries of a listing in flight (a
// webhook's deliveries, an event's samples).
const listConcurrency = 32

// deliveriesCursor is a deliveries listing's cursor: the list it belongs
// to (a hash of organisation and webhook) and the sort key of the last
// delivery listed; the next page holds the deliveries below it, in every
// shard. Delivery ids are unique and never made older than the newest, so
// pages neither repeat nor skip a delivery as new ones arrive.
type deliveriesCursor struct {
	List string `json:"l"`
	SK   string `json:"sk"`
}

func deliveriesListID(org, webhookID string) string {
	sum := sha256.Sum256([]byte("deliveries\x00" + org + "\x00" + webhookID))
	return hex.EncodeToString(sum[:8])
}

// shardList is one partition's part of a listing: the items read and not
// yet listed, newest first, and where its next read starts.
type shardList struct {
	pk    string
	buf   []deliveryItem
	start map[string]types.AttributeValue
	done  bool
}

// Deliveries lists a webhook's deliveries, newest first, in bounded pages:
// a merge of its DeliveryShards shards (and the legacy partition), each
// read a few items at a time (about limit/DeliveryShards each: a page reads
// little more than it lists, in one query a shard plus a refill of a shard
// that runs out).
func (s *Store) Deliveries(ctx context.Context, org, webhookID, cursor string, limit int) (Page[Delivery], error) {
	out := Page[Delivery]{Items: []Delivery{}}
	list := deliveriesListID(org, webhookID)
	before := ""
	if cursor != "" {
		var c deliveriesCursor
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err == nil {
			err = json.Unmarshal(b, &c)
		}
		if err != nil || c.List != list || !strings.HasPrefix(c.SK, deliverySKPrefix) || len(c.SK) > 200 {
			return out, apperr.Field("cursor", "is not a cursor of this list").WithCode("invalid_cursor")
		}
		before = c.SK
	}
	if limit < 1 {
		limit = 1
	}
	shards := make([]*shardList, 0, DeliveryShards+1)
	for i := range DeliveryShards {
		shards = append(shards, &shardList{pk: deliveryShardPK(org, webhookID, i)})
	}
	shards = append(shards, &shardList{pk: legacyDeliveriesPK(org, webhookID)})
	first := max(2, 2*limit/DeliveryShards+1)
	now := s.now().Unix()
	for len(out.Items) < limit {
		// Every shard not done has an item to compare (readShards reads
		// those that ran out until they have one or end).
		var empty []*shardList
		for _, sh := range shards {
			if len(sh.buf) == 0 && !sh.done {
				empty = append(empty, sh)
			}
		}
		n := first
		if len(out.Items) > 0 {
			n = limit - len(out.Items) + 1
		}
		if err := s.readShards(ctx, empty, before, n, now); err != nil {
			return out, err
		}
		var best *shardList
		for _, sh := range shards {
			if len(sh.buf) > 0 && (best == nil || sh.buf[0].SK > best.buf[0].SK) {
				best = sh
			}
		}
		if best == nil {
			return out, nil // every shard read to its end
		}
		out.Items = append(out.Items, best.buf[0].model())
		best.buf = best.buf[1:]
	}
	for _, sh := range shards {
		if len(sh.buf) > 0 || !sh.done {
			b, _ := json.Marshal(deliveriesCursor{List: list, SK: deliverySK(out.Items[len(out.Items)-1].ID)})
			out.NextCursor = base64.RawURLEncoding.EncodeToString(b)
			break
		}
	}
	return out, nil
}

// readShards reads the next items (at most n a shard, below before when
// set, unexpired) of the shards, concurrently; a shard whose read ends its
// partition is done.
func (s *Store) readShards(ctx context.Context, shards []*shardList, before string, n int, now int64) error {
	reads := make([]func(context.Context) error, len(shards))
	for i, sh := range shards {
		reads[i] = func(ctx context.Context) error { return s.readShard(ctx, sh, before, n, now) }
	}
	return parallel(ctx, listConcurrency, reads)
}

func (s *Store) readShard(ctx context.Context, sh *shardList, before string, n int, now int64) error {
	for len(sh.buf) == 0 && !sh.done {
		in := &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :dlv)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(sh.pk), ":dlv": str(deliverySKPrefix)},
			ScanIndexForward:          aws.Bool(false),
			Limit:                     aws.Int32(int32(n)),
			ExclusiveStartKey:         sh.start,
		}
		if before != "" {
			// Below the cursor's delivery: sk in [DLV#, cursor), the
			// cursor's own item skipped (BETWEEN includes it).
			in.KeyConditionExpression = aws.String("pk = :pk AND sk BETWEEN :dlv AND :before")
			in.ExpressionAttributeValues[":before"] = str(before)
		}
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return unavailable("query deliveries", err)
		}
		for _, item := range res.Items {
			var it deliveryItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return fmt.Errorf("store: decode delivery: %w", err)
			}
			if it.SK == before || it.ExpiresAt != 0 && it.ExpiresAt < now { // TTL deletes late
				continue
			}
			sh.buf = append(sh.buf, it)
		}
		sh.start = res.LastEvaluatedKey
		sh.done = len(res.LastEvaluatedKey) == 0
	}
	return nil
}
