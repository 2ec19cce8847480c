package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
)

// APIKey describes a key without its secret.
type APIKey struct {
	ID         string     `json:"id"`
	OrgID      string     `json:"-"`
	Name       string     `json:"name"`
	Mode       string     `json:"mode"`
	Prefix     string     `json:"prefix"`
	Last4      string     `json:"last4"`
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	// Scopes the key holds (apikey.Scope*), sorted. nil only for keys
	// issued before scopes existed, until MigrateKeyScopes gives them some.
	Scopes []string `json:"scopes"`
}

// Revoked reports whether the key has been revoked.
func (k APIKey) Revoked() bool { return k.RevokedAt != nil }

type apiKeyItem struct {
	key
	Type       string   `dynamodbav:"type"`
	ID         string   `dynamodbav:"id"`
	OrgID      string   `dynamodbav:"org_id"`
	Name       string   `dynamodbav:"name,omitempty"`
	Mode       string   `dynamodbav:"mode"`
	Prefix     string   `dynamodbav:"prefix"`
	Last4      string   `dynamodbav:"last4"`
	Hash       string   `dynamodbav:"hash"`
	CreatedAt  string   `dynamodbav:"created_at"`
	LastUsedAt string   `dynamodbav:"last_used_at,omitempty"`
	RevokedAt  string   `dynamodbav:"revoked_at,omitempty"`
	Scopes     []string `dynamodbav:"scopes,omitempty"`
}

func (it apiKeyItem) model() APIKey {
	k := APIKey{
		ID: it.ID, OrgID: it.OrgID, Name: it.Name, Mode: it.Mode, Prefix: it.Prefix, Last4: it.Last4,
		Hash: it.Hash, LastUsedAt: parseTime(it.LastUsedAt), RevokedAt: parseTime(it.RevokedAt), Scopes: it.Scopes,
	}
	if t := parseTime(it.CreatedAt); t != nil {
		k.CreatedAt = *t
	}
	return k
}

// IssueKey creates a key for an existing organisation and returns it with its
// plaintext, which is never stored and cannot be read again. scopes are the
// key's scopes (apikey.Scope*); with none, the organisation's first key gets
// apikey.FirstKeyScopes (admin) and any later one apikey.DefaultScopes
// (everything but admin). "First" is decided by a conditional write of
// first_key_id on the organisation item in the key's own transaction, so two
// concurrent first keys cannot both be admin.
func (s *Store) IssueKey(ctx context.Context, orgID, name, mode string, scopes ...string) (APIKey, string, error) {
	if len(scopes) > 0 {
		norm, _, err := apikey.NormalizeScopes(scopes)
		if err != nil {
			return APIKey{}, "", apperr.Field("scopes", err.Error())
		}
		return s.issueKey(ctx, orgID, name, mode, norm, false)
	}
	k, plain, err := s.issueKey(ctx, orgID, name, mode, apikey.FirstKeyScopes(), true)
	if errors.Is(err, errNotFirstKey) {
		return s.issueKey(ctx, orgID, name, mode, apikey.DefaultScopes(), false)
	}
	return k, plain, err
}

// errNotFirstKey: the organisation has issued a key already.
var errNotFirstKey = errors.New("store: not the organization's first key")

func (s *Store) issueKey(ctx context.Context, orgID, name, mode string, scopes []string, first bool) (APIKey, string, error) {
	gen, err := apikey.Generate(mode)
	if err != nil {
		return APIKey{}, "", apperr.Field("mode", "must be live or test")
	}
	now := s.now()
	it := apiKeyItem{
		ID: id.New(id.APIKey, now), OrgID: orgID, Name: strings.TrimSpace(name), Mode: gen.Mode,
		Prefix: gen.Prefix, Last4: gen.Last4, Hash: gen.Hash, CreatedAt: timestamp(now), Scopes: scopes,
	}
	byHash, inOrg := it, it
	byHash.key, byHash.Type = key{keyHashPK(gen.Hash), keyHashSK()}, typeKeyHash
	inOrg.key, inOrg.Type = key{orgPK(orgID), apiKeySK(it.ID)}, typeAPIKey
	a, err := marshal(byHash)
	if err != nil {
		return APIKey{}, "", err
	}
	b, err := marshal(inOrg)
	if err != nil {
		return APIKey{}, "", err
	}
	org := s.mustExist(key{orgPK(orgID), orgSK()})
	if first {
		org = types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(s.table),
			Key:                       key{orgPK(orgID), orgSK()}.av(),
			UpdateExpression:          aws.String("SET first_key_id = :id"),
			ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(first_key_id)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(it.ID)},
		}}
	}
	err = s.transact(ctx, "issue api key", []types.TransactWriteItem{
		org,
		s.put(a, "attribute_not_exists(pk)"),
		s.put(b, "attribute_not_exists(pk)"),
	}, func(failed []bool) error {
		if failed[0] && first {
			return errNotFirstKey // or no organisation: the retry's check tells
		}
		if failed[0] {
			return conditionErr(apperr.NotFound, "organization not found")
		}
		return conditionErr(apperr.Conflict, "api key collision, retry")
	})
	if err != nil {
		return APIKey{}, "", err
	}
	return inOrg.model(), gen.Plaintext, nil
}

// MigrateKeyScopes gives a key issued before scopes existed its scopes, once,
// and returns them: the organisation's oldest key that is not revoked (its
// first key, for every organisation made by create-org or make run) gets
// apikey.FirstKeyScopes (admin), as every key could do everything before;
// any other gets apikey.DefaultScopes. Both of the key's items are written
// only if they still have no scopes, so concurrent first uses agree.
func (s *Store) MigrateKeyScopes(ctx context.Context, k APIKey) ([]string, error) {
	if k.Scopes != nil {
		return k.Scopes, nil
	}
	page, err := s.Keys(ctx, k.OrgID, "", 100)
	if err != nil {
		return nil, err
	}
	scopes := apikey.DefaultScopes()
	for _, other := range page.Items {
		if other.Revoked() {
			continue
		}
		if other.ID == k.ID {
			scopes = apikey.FirstKeyScopes()
		}
		break
	}
	// The listed item first: once it has scopes they are the key's, and
	// the item authentication reads is given the same (also when an earlier
	// migration wrote the first and lost the second).
	for i, kk := range []key{{orgPK(k.OrgID), apiKeySK(k.ID)}, {keyHashPK(k.Hash), keyHashSK()}} {
		av, err := attributevalue.Marshal(scopes)
		if err != nil {
			return nil, fmt.Errorf("store: encode scopes: %w", err)
		}
		_, err = s.db.UpdateItem(ctx, updateInput(s.table, kk, "SET scopes = :s", "attribute_exists(pk) AND attribute_not_exists(scopes)",
			map[string]types.AttributeValue{":s": av}))
		if isConditionFailed(err) && i == 0 {
			// Migrated already (concurrently, or half before): keep what
			// won.
			cur, rerr := s.APIKey(ctx, k.OrgID, k.ID)
			if rerr != nil {
				return nil, rerr
			}
			if cur.Scopes != nil {
				scopes = cur.Scopes
			}
			continue
		}
		if err != nil && !isConditionFailed(err) {
			return nil, unavailable("migrate api key scopes", err)
		}
	}
	return scopes, nil
}

// KeyByHash finds a key by the SHA-256 of its plaintext (authentication). It
// answers NotFound when no key has that hash; revoked keys are returned with
// RevokedAt set, and the caller refuses them.
func (s *Store) KeyByHash(ctx context.Context, hash string) (APIKey, error) {
	var it apiKeyItem
	found, err := s.getItem(ctx, key{keyHashPK(hash), keyHashSK()}, &it)
	if err != nil {
		return APIKey{}, err
	}
	if !found || !apikey.Equal(it.Hash, hash) {
		return APIKey{}, apperr.New(apperr.NotFound, "api key not found")
	}
	return it.model(), nil
}

// APIKey reads one key of an organisation.
func (s *Store) APIKey(ctx context.Context, orgID, keyID string) (APIKey, error) {
	return getModel[apiKeyItem](ctx, s, key{orgPK(orgID), apiKeySK(keyID)}, apperr.New(apperr.NotFound, "api key not found"))
}

// Keys lists one page of an organisation's keys, oldest first, revoked ones
// included (with revoked_at).
func (s *Store) Keys(ctx context.Context, orgID, cursor string, limit int) (Page[APIKey], error) {
	return queryModels[apiKeyItem](ctx, s, keyPrefix("", orgPK(orgID), apiKeySKPrefix(), cursor, limit, true), nil)
}

// RevokeKey revokes a key at once: both of its items are marked in one
// transaction, conditional on neither being revoked already.
func (s *Store) RevokeKey(ctx context.Context, orgID, keyID string) (APIKey, error) {
	k, err := s.APIKey(ctx, orgID, keyID)
	if err != nil {
		return APIKey{}, err
	}
	now := timestamp(s.now())
	upd := func(kk key) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(s.table),
			Key:                       kk.av(),
			UpdateExpression:          aws.String("SET revoked_at = :now"),
			ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(revoked_at)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberS{Value: now}},
		}}
	}
	err = s.transact(ctx, "revoke api key", []types.TransactWriteItem{
		upd(key{orgPK(orgID), apiKeySK(keyID)}),
		upd(key{keyHashPK(k.Hash), keyHashSK()}),
	}, func([]bool) error {
		return conditionErr(apperr.Conflict, "api key is already revoked").WithCode("already_revoked")
	})
	if err != nil {
		return APIKey{}, err
	}
	k.RevokedAt = parseTime(now)
	return k, nil
}

// TouchKey records that a key was used, at most once a minute per key so
// authentication stays one read on the hot path most of the time. A lost race
// is not an error.
func (s *Store) TouchKey(ctx context.Context, k APIKey) error {
	now := s.now()
	if k.LastUsedAt != nil && now.Sub(*k.LastUsedAt) < time.Minute {
		return nil
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key{orgPK(k.OrgID), apiKeySK(k.ID)}.av(),
		UpdateExpression:    aws.String("SET last_used_at = :now"),
		ConditionExpression: aws.String("attribute_exists(pk) AND (attribute_not_exists(last_used_at) OR last_used_at < :cut)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": &types.AttributeValueMemberS{Value: timestamp(now)},
			":cut": &types.AttributeValueMemberS{Value: timestamp(now.Add(-time.Minute))},
		},
	})
	if err != nil && !isConditionFailed(err) {
		return unavailable("touch api key", err)
	}
	// Mirror on the auth item so the next lookup can skip the write.
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key{keyHashPK(k.Hash), keyHashSK()}.av(),
		UpdateExpression:          aws.String("SET last_used_at = :now"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberS{Value: timestamp(now)}},
	})
	if err != nil && !isConditionFailed(err) {
		return unavailable("touch api key", err)
	}
	return nil
}
