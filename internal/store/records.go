package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/pytake/pytake/internal/id"
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

// RecordUnroutable keeps input that can never be processed (bad JSON, a
// phone number id no organisation owns) for 14 days, for inspection.
func (s *Store) RecordUnroutable(ctx context.Context, reason string, body []byte) (string, error) {
	now := s.now()
	return s.record(ctx, key{unroutedPK(now.UTC().Format("2006-01-02")), id.New("unr", now)}, typeUnrouted, "", reason, body, unroutedTTL)
}
