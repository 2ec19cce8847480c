package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Route is the lane a non-bulk outbound message was queued in, and the
// contact's message queued before it when that one went to the other lane
// (After): the sender holds the message until After is no longer queued,
// so a recipient's later message never overtakes its earlier one across
// the lanes.
type Route struct {
	Bulk  bool   // queued on the bulk lane (the organisation's transactional share used up)
	After string // the contact's previous message, in the other lane; "" when the same lane or none
}

// routeTTL is how long a contact's route is kept after its last message:
// longer than any outbound queue message lives (SQS keeps them at most 14
// days), so a message still queued is never forgotten.
const routeTTL = 15 * 24 * time.Hour

type routeItem struct {
	Msg      string `dynamodbav:"msg"`
	Bulk     bool   `dynamodbav:"bulk"`
	PrevMsg  string `dynamodbav:"prev_msg"`
	PrevBulk bool   `dynamodbav:"prev_bulk"`
}

// RouteOutbound answers the lane of the contact's non-bulk message msgID,
// queued in the bulk lane (bulk) or the transactional one, and records it
// when a later message needs it. The item (ORG#<org>#ROUTE#<contact>) is
// read on every call (one strongly consistent read) and written only
// when the lane changes from the contact's last one, or the message is
// bulk (an overflow: each is recorded, so a later transactional message
// waits for the latest). A transactional message after a transactional
// one (or none) writes nothing: the common case, an organisation within
// its share, costs no write.
//
// So the item does not name every transactional message, and an overflow
// after them finds the latest one in the contact's outbox partition (the
// outbox items, kept OutboxTTL, of the messages accepted before it; only
// at that change). After names the previous message only when it is older
// (ids sort by creation) and was queued in the other lane.
//
// A repeat for the message the item names (the relay retrying the record)
// changes nothing and answers the route recorded the first time, whatever
// bulk says now. A repeat of a transactional message that was not recorded
// asks again: if it overflows now, the message is queued in both lanes,
// and the sender's claim sends it once; the later messages wait for it.
// Writes are conditioned on the item as read (a contact's records are
// relayed one at a time, in order; the condition covers a shard handed to
// another invocation mid-batch): a lost race reads again.
func (s *Store) RouteOutbound(ctx context.Context, org, contactID, msgID string, bulk bool) (Route, error) {
	if org == "" || contactID == "" || msgID == "" {
		return Route{}, errors.New("store: route outbound: organisation, contact and message are required")
	}
	k := key{routePK(org, contactID), routeSK()}
	for attempt := 0; attempt < 3; attempt++ {
		got, err := s.db.GetItem(ctx, getInput(s.table, k))
		if err != nil {
			return Route{}, unavailable("read outbound route", err)
		}
		var it routeItem
		if err := attributevalue.UnmarshalMap(got.Item, &it); err != nil {
			return Route{}, fmt.Errorf("store: decode outbound route: %w", err)
		}
		switch {
		case it.Msg == msgID:
			return it.route(), nil
		case !bulk && !it.Bulk:
			return Route{}, nil
		}
		next := routeItem{Msg: msgID, Bulk: bulk, PrevMsg: it.Msg, PrevBulk: it.Bulk}
		if bulk && !it.Bulk {
			// From the transactional lane: its latest message is not
			// recorded; the outbox names it.
			if next.PrevMsg, err = s.previousJob(ctx, org, contactID, msgID); err != nil {
				return Route{}, err
			}
		}
		cond, vals := "attribute_not_exists(msg)", map[string]types.AttributeValue{}
		if len(got.Item) > 0 {
			cond, vals[":old"] = "msg = :old", str(it.Msg)
		}
		for n, v := range map[string]types.AttributeValue{
			":m": str(next.Msg), ":b": &types.AttributeValueMemberBOOL{Value: next.Bulk}, ":p": str(next.PrevMsg),
			":pb": &types.AttributeValueMemberBOOL{Value: next.PrevBulk}, ":type": str(typeRoute),
			":ttl": num(strconv.FormatInt(s.now().Add(routeTTL).Unix(), 10)),
		} {
			vals[n] = v
		}
		in := updateInput(s.table, k, "SET msg = :m, #b = :b, prev_msg = :p, prev_bulk = :pb, #t = :type, expires_at = :ttl", cond, vals)
		in.ExpressionAttributeNames = map[string]string{"#t": attrType, "#b": "bulk"}
		_, err = s.db.UpdateItem(ctx, in)
		switch {
		case err == nil:
			return next.route(), nil
		case !isConditionFailed(err):
			return Route{}, unavailable("route outbound message", err)
		}
		// Another invocation routed this contact in between: read again.
	}
	return Route{}, unavailable("route outbound message", errors.New("the route kept changing"))
}

func (it routeItem) route() Route {
	r := Route{Bulk: it.Bulk}
	if it.PrevMsg != "" && it.PrevBulk != it.Bulk && it.PrevMsg < it.Msg {
		r.After = it.PrevMsg
	}
	return r
}

// previousJob is the contact's latest non-bulk message accepted before
// msgID ("" when none within OutboxTTL): from its outbox partition, newest
// first, the items whose id is not later than msgID's millisecond (ids
// begin with it: 10 base32 digits) and whose job is an older non-bulk
// message. Eventually consistent: those items were written before msgID's.
func (s *Store) previousJob(ctx context.Context, org, contactID, msgID string) (string, error) {
	upper := outboxSK("obx_~")
	if _, body, ok := strings.Cut(msgID, "_"); ok && len(body) >= 10 {
		upper = outboxSK("obx_" + body[:10] + "~")
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(outboxPK(org, contactID)), ":lo": str(outboxSK("")), ":hi": str(upper),
		},
		ProjectionExpression:     aws.String("#j"),
		ExpressionAttributeNames: map[string]string{"#j": "job"},
		ScanIndexForward:         aws.Bool(false),
		Limit:                    aws.Int32(25),
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return "", unavailable("read the contact's previous message", err)
		}
		for _, item := range out.Items {
			var it struct {
				Job string `dynamodbav:"job"`
			}
			if err := attributevalue.UnmarshalMap(item, &it); err != nil || it.Job == "" {
				continue
			}
			var j OutboxJob
			if err := json.Unmarshal([]byte(it.Job), &j); err != nil {
				continue
			}
			if !j.Bulk && j.MessageID < msgID {
				return j.MessageID, nil
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return "", nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func getInput(table string, k key) *dynamodb.GetItemInput {
	return &dynamodb.GetItemInput{TableName: aws.String(table), Key: k.av(), ConsistentRead: aws.Bool(true)}
}
