package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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

// RouteOutbound records that the contact's non-bulk message msgID is
// queued in the bulk lane (bulk) or the transactional one, and answers its
// Route. One write per message, on an item of the contact's own. A repeat
// for the message the item already names (the outbox relay retrying the
// record) changes nothing and answers the route recorded the first time,
// whatever bulk says now: a message is queued in one lane. After names the
// previous message only when it is older (ids sort by creation) and was
// queued in the other lane.
func (s *Store) RouteOutbound(ctx context.Context, org, contactID, msgID string, bulk bool) (Route, error) {
	if org == "" || contactID == "" || msgID == "" {
		return Route{}, errors.New("store: route outbound: organisation, contact and message are required")
	}
	k := key{routePK(org, contactID), routeSK()}
	in := updateInput(s.table, k,
		"SET prev_msg = if_not_exists(msg, :none), prev_bulk = if_not_exists(#b, :false), msg = :m, #b = :b, #t = :type, expires_at = :ttl",
		"attribute_not_exists(msg) OR msg <> :m", map[string]types.AttributeValue{
			":m": str(msgID), ":b": &types.AttributeValueMemberBOOL{Value: bulk}, ":none": str(""),
			":false": &types.AttributeValueMemberBOOL{Value: false}, ":type": str(typeRoute),
			":ttl": num(strconv.FormatInt(s.now().Add(routeTTL).Unix(), 10)),
		})
	in.ExpressionAttributeNames = map[string]string{"#t": attrType, "#b": "bulk"}
	in.ReturnValues = types.ReturnValueAllNew
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	out, err := s.db.UpdateItem(ctx, in)
	attrs := map[string]types.AttributeValue(nil)
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		attrs = ccf.Item
		if len(attrs) == 0 {
			// Some emulators leave the old item out: read it.
			got, gerr := s.db.GetItem(ctx, getInput(s.table, k))
			if gerr != nil {
				return Route{}, unavailable("read outbound route", gerr)
			}
			attrs = got.Item
		}
	case err != nil:
		return Route{}, unavailable("route outbound message", err)
	default:
		attrs = out.Attributes
	}
	var it routeItem
	if err := attributevalue.UnmarshalMap(attrs, &it); err != nil {
		return Route{}, fmt.Errorf("store: decode outbound route: %w", err)
	}
	r := Route{Bulk: it.Bulk}
	if it.PrevMsg != "" && it.PrevBulk != it.Bulk && it.PrevMsg < it.Msg {
		r.After = it.PrevMsg
	}
	return r, nil
}

func getInput(table string, k key) *dynamodb.GetItemInput {
	return &dynamodb.GetItemInput{TableName: aws.String(table), Key: k.av(), ConsistentRead: aws.Bool(true)}
}
