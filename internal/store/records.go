package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/id"
	"github.com/pytake/pytake/internal/textcut"
)

const (
	waFieldTTL  = 30 * 24 * time.Hour
	unroutedTTL = 14 * 24 * time.Hour
	// maxRecordedBody bounds what is kept of input we cannot process, well
	// under DynamoDB's 400 KB item limit.
	maxRecordedBody = 256 << 10
)

type recordItem struct {
	key
	Type      string `dynamodbav:"type"`
	Field     string `dynamodbav:"field,omitempty"`
	Reason    string `dynamodbav:"reason,omitempty"`
	Body      string `dynamodbav:"body"`
	Size      int    `dynamodbav:"size"`
	SHA256    string `dynamodbav:"sha256"`
	Truncated bool   `dynamodbav:"truncated,omitempty"`
	CreatedAt string `dynamodbav:"created_at"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

func (s *Store) record(ctx context.Context, k key, typ, field, reason string, body []byte, ttl time.Duration) (string, error) {
	now := s.now()
	sum := sha256.Sum256(body)
	it := recordItem{
		key: k, Type: typ, Field: field, Reason: reason, Size: len(body), SHA256: hex.EncodeToString(sum[:]),
		CreatedAt: timestamp(now), ExpiresAt: now.Add(ttl).Unix(),
	}
	if len(body) > maxRecordedBody {
		body, it.Truncated = body[:maxRecordedBody], true
	}
	it.Body = string(body)
	av, err := marshal(it)
	if err != nil {
		return "", err
	}
	if _, err := s.db.PutItem(ctx, putInput(s.table, av, "")); err != nil {
		return "", unavailable("record "+typ, err)
	}
	return k.SK, nil
}

// RecordWebhookField keeps a non-message Meta webhook change (template
// status, quality, account alerts, value.errors) for 30 days.
func (s *Store) RecordWebhookField(ctx context.Context, org, field string, value json.RawMessage) (string, error) {
	return s.record(ctx, key{waFieldPK(org), id.New("waf", s.now())}, typeWAField, field, "", value, waFieldTTL)
}

// Unauthenticated input (a body naming no organisation's number, not JSON,
// a shop no organisation configured) is kept as a digest, never whole: its
// SHA-256, its size and its first UnroutedPrefix bytes, at most
// UnroutedPerHour records per source per hour.
const (
	UnroutedPrefix  = 512
	UnroutedPerHour = 1000
)

type unroutedItem struct {
	key
	Type      string `dynamodbav:"type"`
	Source    string `dynamodbav:"source"`
	Reason    string `dynamodbav:"reason"`
	Size      int    `dynamodbav:"size"`
	SHA256    string `dynamodbav:"sha256"`
	Prefix    []byte `dynamodbav:"prefix"` // binary: the cut may split a character
	CreatedAt string `dynamodbav:"created_at"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

// RecordUnroutable keeps a digest of input that could not be authenticated
// (source: "whatsapp", "shopify", "woocommerce") for 14 days, for
// inspection. recorded is false when the source's hourly cap is spent: a
// conditional increment of the hour's counter decides, and the store then
// remembers the full hour so a flood costs no more writes.
func (s *Store) RecordUnroutable(ctx context.Context, source, reason string, body []byte) (rec string, recorded bool, err error) {
	now := s.now().UTC()
	hour := now.Format("2006-01-02T15")
	pk := unroutedPK(source, hour)
	s.mu.Lock()
	full := s.unroutedFull[pk]
	s.mu.Unlock()
	if full {
		return "", false, nil
	}
	in := updateInput(s.table, key{pk, unroutedCountSK()},
		"SET #t = :type, expires_at = :exp ADD n :one", "attribute_not_exists(n) OR n < :cap",
		map[string]types.AttributeValue{
			":type": str(typeUnroutedCount), ":exp": num(strconv.FormatInt(now.Add(unroutedTTL).Unix(), 10)),
			":one": num("1"), ":cap": num(strconv.Itoa(UnroutedPerHour)),
		})
	in.ExpressionAttributeNames = map[string]string{"#t": "type"}
	_, err = s.db.UpdateItem(ctx, in)
	if isConditionFailed(err) {
		s.mu.Lock()
		if s.unroutedFull == nil || len(s.unroutedFull) > 64 {
			s.unroutedFull = map[string]bool{} // only the current hours matter
		}
		s.unroutedFull[pk] = true
		s.mu.Unlock()
		return "", false, nil
	}
	if err != nil {
		return "", false, unavailable("count unrouted input", err)
	}
	sum := sha256.Sum256(body)
	it := unroutedItem{
		key: key{pk, id.New("unr", now)}, Type: typeUnrouted, Source: source, Reason: textcut.Bytes(reason, 512),
		Size: len(body), SHA256: hex.EncodeToString(sum[:]), Prefix: body[:min(len(body), UnroutedPrefix)],
		CreatedAt: timestamp(now), ExpiresAt: now.Add(unroutedTTL).Unix(),
	}
	if len(it.Prefix) == 0 {
		it.Prefix = nil
	}
	av, err := marshal(it)
	if err != nil {
		return "", false, err
	}
	if _, err := s.db.PutItem(ctx, putInput(s.table, av, "")); err != nil {
		return "", false, unavailable("record unrouted input", err)
	}
	return it.SK, true, nil
}
