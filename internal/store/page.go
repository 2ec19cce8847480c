package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
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

// modeler is an item type that converts to its model (apiKeyItem to
// APIKey, ...); getModel, decodeModels and queryModels work on any of them.
type modeler[M any] interface{ model() M }

// getModel reads the item at k and converts it; notFound is the error when
// there is no such item (a NotFound naming what is missing).
func getModel[I modeler[M], M any](ctx context.Context, s *Store, k key, notFound error) (M, error) {
	var (
		it   I
		zero M
	)
	found, err := s.getItem(ctx, k, &it)
	if err != nil {
		return zero, err
	}
	if !found {
		return zero, notFound
	}
	return it.model(), nil
}

// decodeModels decodes queried items and converts those keep accepts (nil
// keeps all); the result is never nil, so a list encodes as [].
func decodeModels[I modeler[M], M any](items []map[string]types.AttributeValue, keep func(I) bool) ([]M, error) {
	out := make([]M, 0, len(items))
	for _, item := range items {
		var it I
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return out, fmt.Errorf("store: decode %T: %w", it, err)
		}
		if keep == nil || keep(it) {
			out = append(out, it.model())
		}
	}
	return out, nil
}

// pageQuery is one page of a list: the key condition on the table (index
// "") or an index, the partition it names (attribute and value, which a
// cursor must match), the caller's cursor and limit, and the order.
type pageQuery struct {
	index          string
	cond           expression.KeyConditionBuilder
	partAttr, part string
	sortAttr       string // the sort key of the table or index queried
	prefix         string // which the sort key of every item listed begins with
	cursor         string
	limit          int
	forward        bool
}

// keyPrefix is the query of a partition's items whose sort key (sk, or
// gsi1sk on IndexGSI1) begins with prefix ("" for the whole partition).
func keyPrefix(index, part, prefix, cursor string, limit int, forward bool) pageQuery {
	pkAttr, skAttr := attrPK, attrSK
	if index == IndexGSI1 {
		pkAttr, skAttr = attrGSI1PK, attrGSI1SK
	}
	cond := expression.Key(pkAttr).Equal(expression.Value(part))
	if prefix != "" {
		cond = cond.And(expression.Key(skAttr).BeginsWith(prefix))
	}
	return pageQuery{index: index, cond: cond, partAttr: pkAttr, part: part, sortAttr: skAttr, prefix: prefix,
		cursor: cursor, limit: limit, forward: forward}
}

// queryModels reads one page of a list and converts the items keep accepts
// (nil keeps all; a filtered page may hold fewer than limit items).
func queryModels[I modeler[M], M any](ctx context.Context, s *Store, q pageQuery, keep func(I) bool) (Page[M], error) {
	out := Page[M]{Items: []M{}}
	items, next, err := s.queryPage(ctx, q)
	if err != nil {
		return out, err
	}
	if out.Items, err = decodeModels(items, keep); err != nil {
		return out, err
	}
	out.NextCursor = next
	return out, nil
}

// queryPage runs one bounded Query page. The cursor is the page's last key
// and the list it belongs to (a hash of the index and the key condition's
// values: partition and sort-key prefix), base64 JSON; it is only accepted
// by the same list, so a cursor from another organisation or another list
// in the same partition (contacts and API keys share ORG#<org>) is refused
// rather than obeyed.
func (s *Store) queryPage(ctx context.Context, q pageQuery) ([]map[string]types.AttributeValue, string, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(q.cond).Build()
	if err != nil {
		return nil, "", fmt.Errorf("store: build query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		Limit:                     aws.Int32(int32(q.limit)),
		ScanIndexForward:          aws.Bool(q.forward),
	}
	if q.index != "" {
		in.IndexName = aws.String(q.index)
	}
	list := listID(q.index, expr.Values())
	if q.cursor != "" {
		start, err := decodeCursor(q.cursor)
		if err != nil || start[q.partAttr] != q.part || start[cursorList] != list || !q.startsInList(start) {
			return nil, "", apperr.Field("cursor", "is not a cursor of this list").WithCode("invalid_cursor")
		}
		delete(start, cursorList)
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
		next = encodeCursor(res.LastEvaluatedKey, list)
	}
	return res.Items, next, nil
}

// startsInList reports whether a decoded cursor is a key of the list's
// table or index (exactly its key attributes: the table's, plus the
// index's for an index) whose sort key is in the list. The list hash alone
// is no proof (it is not secret), and DynamoDB refuses, with an error that
// would be a 5xx, a start key of another shape or outside the key
// condition.
func (q pageQuery) startsInList(start map[string]string) bool {
	want := []string{attrPK, attrSK, cursorList}
	if q.index == IndexGSI1 {
		want = append(want, attrGSI1PK, attrGSI1SK)
	}
	if len(start) != len(want) {
		return false
	}
	for _, a := range want {
		if _, ok := start[a]; !ok {
			return false
		}
	}
	return strings.HasPrefix(start[q.sortAttr], q.prefix)
}

// cursorList is the cursor member naming its list.
const cursorList = "l"

// listID names a list: the index and the key condition's values, hashed.
func listID(index string, values map[string]types.AttributeValue) string {
	var parts []string
	for name, v := range values {
		if sv, ok := v.(*types.AttributeValueMemberS); ok {
			parts = append(parts, name+"="+sv.Value)
		}
	}
	sort.Strings(parts)
	sum := sha256.Sum256([]byte(index + "\x00" + strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:8])
}

func encodeCursor(k map[string]types.AttributeValue, list string) string {
	m := map[string]string{cursorList: list}
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
		case attrPK, attrSK, attrGSI1PK, attrGSI1SK, cursorList:
		default:
			return nil, fmt.Errorf("unexpected key %q", k)
		}
	}
	return m, nil
}
