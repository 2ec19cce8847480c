package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
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
	c, _, found, err := s.resolveContact(ctx, org, old)
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
		oldPK := ""
		if c.WhatsAppID != "" {
			oldPK = identWAPK(org, c.WhatsAppID)
		}
		if err := swap("wa_id", oldPK, identWAPK(org, updated.WaID), updated.WaID); err != nil {
			return Contact{}, err
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
		UpdateExpression: aws.String(set), ConditionExpression: aws.String("attribute_exists(pk)"),
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
