package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
)

// CreateContact creates a contact from the API. Its WhatsApp number is
// claimed (the same identity item inbound messages use), so a number that
// already has a contact is a Conflict naming that contact.
func (s *Store) CreateContact(ctx context.Context, c Contact) (Contact, error) {
	now := s.now()
	c.ID, c.CreatedAt, c.UpdatedAt = id.New(id.Contact, now), now, now
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	ci, err := marshal(newContactItem(c))
	if err != nil {
		return Contact{}, err
	}
	ident, err := marshal(identItem{key: key{identWAPK(c.OrgID, c.WhatsAppID), identSK()}, Type: typeIdentity, ContactID: c.ID})
	if err != nil {
		return Contact{}, err
	}
	dup := false
	err = s.transact(ctx, "create contact", []types.TransactWriteItem{
		s.put(ident, "attribute_not_exists(pk)"),
		s.put(ci, "attribute_not_exists(pk)"),
	}, func(failed []bool) error {
		if failed[0] {
			dup = true
			return nil
		}
		return conditionErr(apperr.Conflict, "contact id collision, retry")
	})
	if err != nil {
		return Contact{}, err
	}
	if dup {
		var it identItem
		if _, err := s.getItem(ctx, key{identWAPK(c.OrgID, c.WhatsAppID), identSK()}, &it); err != nil {
			return Contact{}, err
		}
		return Contact{}, conditionErr(apperr.Conflict, "a contact with this whatsapp_id exists: "+it.ContactID).
			WithCode("contact_exists").With("existing_id", it.ContactID).
			WithDetails(apperr.Detail{Field: "whatsapp_id", Issue: "belongs to contact " + it.ContactID})
	}
	return c, nil
}

// ErrContactChanged means a contact changed between read and write.
var ErrContactChanged = errors.New("store: contact changed concurrently")

// SaveContact writes a contact read earlier (name, email, tags,
// attributes) only if nobody changed it since (its updated_at), so
// read-modify-write edits such as adding a tag never lose a concurrent one.
func (s *Store) SaveContact(ctx context.Context, c Contact) (Contact, error) {
	prev := timestamp(c.UpdatedAt)
	c.UpdatedAt = s.now()
	if timestamp(c.UpdatedAt) == prev {
		c.UpdatedAt = c.UpdatedAt.Add(1e6) // a millisecond: the version must move
	}
	av, err := marshal(newContactItem(c))
	if err != nil {
		return Contact{}, err
	}
	in := putInput(s.table, av, "attribute_exists(pk) AND updated_at = :prev")
	in.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": str(prev)}
	if _, err := s.db.PutItem(ctx, in); err != nil {
		if isConditionFailed(err) {
			return Contact{}, conditionErr(apperr.Conflict, "the contact changed meanwhile, retry").WithCause(ErrContactChanged)
		}
		return Contact{}, unavailable("save contact", err)
	}
	return c, nil
}

// Contacts lists an organisation's contacts, oldest first, in bounded
// pages; tag filters within each page (follow next_cursor), whatsapp_id is
// an exact lookup through the identity item.
func (s *Store) Contacts(ctx context.Context, org, tag, waID, cursor string, limit int) (Page[Contact], error) {
	out := Page[Contact]{Items: []Contact{}}
	if waID != "" {
		var it identItem
		found, err := s.getItem(ctx, key{identWAPK(org, waID), identSK()}, &it)
		if err != nil || !found {
			return out, err
		}
		c, err := s.Contact(ctx, org, it.ContactID)
		if apperr.Is(err, apperr.NotFound) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if tag == "" || hasTag(c, tag) {
			out.Items = append(out.Items, c)
		}
		return out, nil
	}
	part := orgPK(org)
	cond := expression.Key(attrPK).Equal(expression.Value(part)).And(expression.Key(attrSK).BeginsWith(contactSKPrefix))
	items, next, err := s.queryPage(ctx, "", cond, attrPK, part, cursor, limit, true)
	if err != nil {
		return out, err
	}
	for _, item := range items {
		var it contactItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return out, fmt.Errorf("store: decode contact: %w", err)
		}
		c := it.model()
		if tag == "" || hasTag(c, tag) {
			out.Items = append(out.Items, c)
		}
	}
	out.NextCursor = next
	return out, nil
}

func hasTag(c Contact, tag string) bool {
	for _, t := range c.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// DeleteContact removes a contact with its identity items and open
// conversation pointer (its messages and conversations stay, for history);
// the same number writing again becomes a new contact.
func (s *Store) DeleteContact(ctx context.Context, org, id string) error {
	c, err := s.Contact(ctx, org, id)
	if err != nil {
		return err
	}
	del := func(k key) types.TransactWriteItem {
		return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: k.av()}}
	}
	items := []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: key{orgPK(org), contactSK(id)}.av(),
			ConditionExpression: aws.String("attribute_exists(pk)")}},
		del(key{contactConvsPK(org, id), openConvSK()}),
	}
	if c.WhatsAppID != "" {
		items = append(items, del(key{identWAPK(org, c.WhatsAppID), identSK()}))
	}
	if c.UserID != "" {
		items = append(items, del(key{identBSUIDPK(org, c.UserID), identSK()}))
	}
	return s.transact(ctx, "delete contact", items, func([]bool) error {
		return apperr.New(apperr.NotFound, "contact not found")
	})
}
