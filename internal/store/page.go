package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
)

// Page is one page of a list and the cursor of the next (empty at the end).
type Page[T any] struct {
	Items      []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
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
