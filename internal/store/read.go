package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
)

// Contact reads one contact of an organisation.
func (s *Store) Contact(ctx context.Context, org, contactID string) (Contact, error) {
	var it contactItem
	found, err := s.getItem(ctx, key{orgPK(org), contactSK(contactID)}, &it)
	if err != nil {
		return Contact{}, err
	}
	if !found {
		return Contact{}, apperr.New(apperr.NotFound, "contact not found")
	}
	return it.model(), nil
}

// Conversation reads one conversation of an organisation.
func (s *Store) Conversation(ctx context.Context, org, convID string) (Conversation, error) {
	var it convItem
	found, err := s.getItem(ctx, key{orgPK(org), convSK(convID)}, &it)
	if err != nil {
		return Conversation{}, err
	}
	if !found {
		return Conversation{}, apperr.New(apperr.NotFound, "conversation not found")
	}
	return it.model(), nil
}

// Message reads one message of an organisation with its status timeline.
func (s *Store) Message(ctx context.Context, org, msgID string) (Message, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(msgPK(org, msgID))},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return Message{}, unavailable("get message", err)
	}
	var m Message
	found := false
	for _, item := range res.Items {
		var k struct {
			SK string `dynamodbav:"sk"`
		}
		_ = attributevalue.UnmarshalMap(item, &k)
		switch {
		case k.SK == msgSK():
			var it msgItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return Message{}, fmt.Errorf("store: decode message: %w", err)
			}
			m, found = it.model(), true
		default:
			var st statusItem
			if err := attributevalue.UnmarshalMap(item, &st); err != nil {
				return Message{}, fmt.Errorf("store: decode status: %w", err)
			}
			m.Timeline = append(m.Timeline, st.entry())
		}
	}
	if !found {
		return Message{}, apperr.New(apperr.NotFound, "message not found")
	}
	sortTimeline(m.Timeline)
	return m, nil
}

// Page is one page of a list and the cursor of the next (empty at the end).
type Page[T any] struct {
	Items      []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

// ConversationMessages lists a conversation's messages, oldest first.
func (s *Store) ConversationMessages(ctx context.Context, org, convID, cursor string, limit int) (Page[Message], error) {
	if _, err := s.Conversation(ctx, org, convID); err != nil {
		return Page[Message]{}, err
	}
	part := convMsgsPK(org, convID)
	cond := expression.Key(attrGSI1PK).Equal(expression.Value(part))
	var out Page[Message]
	items, next, err := s.queryPage(ctx, IndexGSI1, cond, attrGSI1PK, part, cursor, limit, true)
	if err != nil {
		return out, err
	}
	for _, item := range items {
		var it msgItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return out, fmt.Errorf("store: decode message: %w", err)
		}
		out.Items = append(out.Items, it.model())
	}
	if out.Items == nil {
		out.Items = []Message{}
	}
	out.NextCursor = next
	return out, nil
}

// queryPage runs one bounded Query page. The cursor is the page's last key,
// base64 JSON; it is only accepted for the same partition, so a cursor from
// another organisation or list is refused rather than obeyed.
func (s *Store) queryPage(ctx context.Context, index string, cond expression.KeyConditionBuilder, partAttr, part, cursor string, limit int, forward bool) ([]map[string]types.AttributeValue, string, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(cond).Build()
	if err != nil {
		return nil, "", fmt.Errorf("store: build query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		Limit:                     aws.Int32(int32(limit)),
		ScanIndexForward:          aws.Bool(forward),
	}
	if index != "" {
		in.IndexName = aws.String(index)
	}
	if cursor != "" {
		start, err := decodeCursor(cursor)
		if err != nil || start[partAttr] != part {
			return nil, "", apperr.Field("cursor", "is not a cursor of this list").WithCode("invalid_cursor")
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{}
		for k, v := range start {
			in.ExclusiveStartKey[k] = str(v)
		}
	}
	res, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", unavailable("query", err)
	}
	next := ""
	if len(res.LastEvaluatedKey) > 0 {
		next = encodeCursor(res.LastEvaluatedKey)
	}
	return res.Items, next, nil
}

func encodeCursor(k map[string]types.AttributeValue) string {
	m := map[string]string{}
	for name, v := range k {
		if sv, ok := v.(*types.AttributeValueMemberS); ok {
			m[name] = sv.Value
		}
	}
	b, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string) (map[string]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, err
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k := range m {
		switch k {
		case attrPK, attrSK, attrGSI1PK, attrGSI1SK:
		default:
			return nil, fmt.Errorf("unexpected key %q", k)
		}
	}
	return m, nil
}
