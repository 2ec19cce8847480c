package store

import (
	"context"
	"errors"

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
