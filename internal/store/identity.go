package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/phone"
)

// Identity is who wrote, as Meta reports it.
type Identity struct {
	WaID         string // phone, digits; may be empty for username users
	UserID       string // BSUID
	ParentUserID string
	ProfileName  string
}

type identItem struct {
	key
	Type      string `dynamodbav:"type"`
	ContactID string `dynamodbav:"contact_id"`
}

// ChangeIdentity moves a contact to a new phone number or BSUID
// (user_changed_number / user_changed_user_id): the old identity item is
// released and the new one claimed in one transaction, so the person stays
// one contact. It answers the updated contact; NotFound when nobody has the
// old identity.
func (s *Store) ChangeIdentity(ctx context.Context, org string, old, updated Identity) (Contact, error) {
	c, _, _, found, err := s.resolveContact(ctx, org, old)
	if err != nil {
		return Contact{}, err
	}
	if !found {
		return Contact{}, apperr.New(apperr.NotFound, "no contact has the old identity")
	}
	values := map[string]types.AttributeValue{":now": str(timestamp(s.now()))}
	set := "SET updated_at = :now"
	var items []types.TransactWriteItem
	swap := func(attr string, oldPK, newPK string, v string) error {
		set += ", " + attr + " = :" + attr
		values[":"+attr] = str(v)
		av, err := marshal(identItem{key: key{newPK, identSK()}, Type: typeIdentity, ContactID: c.ID})
		if err != nil {
			return err
		}
		w := s.put(av, "attribute_not_exists(pk) OR contact_id = :cid")
		w.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":cid": str(c.ID)}
		items = append(items, w)
		if oldPK != "" && oldPK != newPK {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{
				TableName: aws.String(s.table), Key: key{oldPK, identSK()}.av(),
				ConditionExpression:       aws.String("attribute_not_exists(pk) OR contact_id = :cid"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":cid": str(c.ID)},
			}})
		}
		return nil
	}
	if updated.WaID != "" && updated.WaID != c.WhatsAppID {
		// Every form of the new number is claimed; the old number's items
		// this contact holds are released (a form of the old number that is
		// also a form of the new one stays claimed).
		owned, err := s.ownedIdentities(ctx, org, Contact{ID: c.ID, WhatsAppID: c.WhatsAppID})
		if err != nil {
			return Contact{}, err
		}
		newKeys := phoneKeys(org, updated.WaID)
		set += ", wa_id = :wa_id"
		values[":wa_id"] = str(updated.WaID)
		claims, err := s.claimPhone(org, updated.WaID, c.ID, "attribute_not_exists(pk) OR contact_id = :cid")
		if err != nil {
			return Contact{}, err
		}
		items = append(items, claims...)
		for _, k := range owned {
			if slices.Contains(newKeys, k) {
				continue
			}
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{
				TableName: aws.String(s.table), Key: k.av(),
				ConditionExpression:       aws.String("attribute_not_exists(pk) OR contact_id = :cid"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":cid": str(c.ID)},
			}})
		}
		c.WhatsAppID = updated.WaID
	}
	if updated.UserID != "" && updated.UserID != c.UserID {
		oldPK := ""
		if c.UserID != "" {
			oldPK = identBSUIDPK(org, c.UserID)
		}
		if err := swap("user_id", oldPK, identBSUIDPK(org, updated.UserID), updated.UserID); err != nil {
			return Contact{}, err
		}
		c.UserID = updated.UserID
	}
	if len(items) == 0 {
		return c, nil
	}
	items = append(items, types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(s.table), Key: key{orgPK(org), contactSK(c.ID)}.av(),
		UpdateExpression: aws.String(set), ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(merged_into)"),
		ExpressionAttributeValues: values,
	}})
	err = s.transact(ctx, "change identity", items, func([]bool) error {
		return conditionErr(apperr.Conflict, "the new identity belongs to another contact").WithCode("identity_taken")
	})
	if err != nil {
		return Contact{}, err
	}
	return c, nil
}

// phoneKeys are the identity keys of every form of a WhatsApp number
// (phone.Variants), the form given first.
func phoneKeys(org, waID string) []key {
	if waID == "" {
		return nil
	}
	forms := phone.Variants(waID)
	keys := make([]key, len(forms))
	for i, f := range forms {
		keys[i] = key{identWAPK(org, f), identSK()}
	}
	return keys
}

// claimPhone writes the identity items of every form of waID for a contact
// under condition (":cid" is the contact's id), as transaction actions.
func (s *Store) claimPhone(org, waID, contactID, condition string) ([]types.TransactWriteItem, error) {
	var items []types.TransactWriteItem
	for _, k := range phoneKeys(org, waID) {
		av, err := marshal(identItem{key: k, Type: typeIdentity, ContactID: contactID})
		if err != nil {
			return nil, err
		}
		w := s.put(av, condition)
		if strings.Contains(condition, ":cid") {
			w.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":cid": str(contactID)}
		}
		items = append(items, w)
	}
	return items, nil
}

// identityHolders reads identity items and answers, for each key found,
// the contact holding it.
func (s *Store) identityHolders(ctx context.Context, keys []key) (map[key]string, error) {
	got, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[key]string, len(got))
	for k, item := range got {
		var it identItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("store: decode identity: %w", err)
		}
		out[k] = it.ContactID
	}
	return out, nil
}

// phoneHolders lists the distinct contacts holding a form of waID, the
// holder of the form given first.
func (s *Store) phoneHolders(ctx context.Context, org, waID string) ([]string, error) {
	keys := phoneKeys(org, waID)
	held, err := s.identityHolders(ctx, keys)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range keys {
		if h, ok := held[k]; ok && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out, nil
}

// ownedIdentities lists the identity items of c's number (every form) and
// BSUID that c holds.
func (s *Store) ownedIdentities(ctx context.Context, org string, c Contact) ([]key, error) {
	keys := phoneKeys(org, c.WhatsAppID)
	if c.UserID != "" {
		keys = append(keys, key{identBSUIDPK(org, c.UserID), identSK()})
	}
	held, err := s.identityHolders(ctx, keys)
	if err != nil {
		return nil, err
	}
	var out []key
	for _, k := range keys {
		if held[k] == c.ID {
			out = append(out, k)
		}
	}
	return out, nil
}
