package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
)

// Contact is a person an organisation talks to. Identity is the WhatsApp
// phone (wa_id) and/or the business-scoped user id (BSUID); neither alone is
// the key.
type Contact struct {
	ID           string         `json:"id"`
	OrgID        string         `json:"-"`
	WhatsAppID   string         `json:"whatsapp_id,omitempty"` // digits with country code, no '+'
	UserID       string         `json:"user_id,omitempty"`     // BSUID
	ParentUserID string         `json:"parent_user_id,omitempty"`
	Name         string         `json:"name,omitempty"`
	ProfileName  string         `json:"profile_name,omitempty"`
	Email        string         `json:"email,omitempty"`
	Tags         []string       `json:"tags"`
	Attributes   map[string]any `json:"attributes"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	// MergedInto is set on a contact merged into another (MergeContacts):
	// the item stays as a pointer to the survivor, which Contact answers.
	MergedInto string `json:"-"`
	// OptOut is set while the contact has opted out of marketing messages
	// (an opt-out keyword, Meta's error 131050); OptedInAt is the last
	// consent recorded with POST /v1/contacts/{id}/opt-in.
	OptOut    *OptOut    `json:"-"`
	OptedInAt *time.Time `json:"-"`
	// Partial: a message's copy of the contact for its events (see
	// Store.EventContext) that left its tags and attributes out, to keep
	// the message item within DynamoDB's item size.
	Partial bool `json:"-"`
}

// DisplayName is the name to show: the one set by the organisation, else
// the WhatsApp profile name.
func (c Contact) DisplayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.ProfileName
}

type contactItem struct {
	key
	Type         string         `dynamodbav:"type"`
	ID           string         `dynamodbav:"id"`
	OrgID        string         `dynamodbav:"org_id"`
	WhatsAppID   string         `dynamodbav:"wa_id,omitempty"`
	UserID       string         `dynamodbav:"user_id,omitempty"`
	ParentUserID string         `dynamodbav:"parent_user_id,omitempty"`
	Name         string         `dynamodbav:"name,omitempty"`
	ProfileName  string         `dynamodbav:"profile_name,omitempty"`
	Email        string         `dynamodbav:"email,omitempty"`
	Tags         []string       `dynamodbav:"tags,omitempty"`
	Attributes   map[string]any `dynamodbav:"attributes,omitempty"`
	CreatedAt    string         `dynamodbav:"created_at"`
	UpdatedAt    string         `dynamodbav:"updated_at"`
	MergedInto   string         `dynamodbav:"merged_into,omitempty"`
	MergedAt     string         `dynamodbav:"merged_at,omitempty"`
	OptedOutAt   string         `dynamodbav:"opted_out_at,omitempty"`
	OptOutReason string         `dynamodbav:"opt_out_reason,omitempty"`
	OptOutDetail string         `dynamodbav:"opt_out_detail,omitempty"`
	OptOutMsgID  string         `dynamodbav:"opt_out_message_id,omitempty"`
	OptedInAt    string         `dynamodbav:"opted_in_at,omitempty"`
	// Partial: only on a message's event copy (eventCopies).
	Partial bool `dynamodbav:"partial,omitempty"`
}

func (it contactItem) model() Contact {
	c := Contact{
		ID: it.ID, OrgID: it.OrgID, WhatsAppID: it.WhatsAppID, UserID: it.UserID, ParentUserID: it.ParentUserID,
		Name: it.Name, ProfileName: it.ProfileName, Email: it.Email, Tags: it.Tags, Attributes: it.Attributes,
		CreatedAt: mustTime(it.CreatedAt), UpdatedAt: mustTime(it.UpdatedAt), MergedInto: it.MergedInto,
		OptedInAt: parseTime(it.OptedInAt), Partial: it.Partial,
	}
	if t := parseTime(it.OptedOutAt); t != nil {
		c.OptOut = &OptOut{At: *t, Reason: it.OptOutReason, Detail: it.OptOutDetail, MessageID: it.OptOutMsgID}
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	return c
}

func newContactItem(c Contact) contactItem {
	// Empty collections are stored absent (and read back empty).
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
	if len(c.Attributes) == 0 {
		c.Attributes = nil
	}
	it := contactItem{
		key: key{orgPK(c.OrgID), contactSK(c.ID)}, Type: typeContact, ID: c.ID, OrgID: c.OrgID,
		WhatsAppID: c.WhatsAppID, UserID: c.UserID, ParentUserID: c.ParentUserID, Name: c.Name,
		ProfileName: c.ProfileName, Email: c.Email, Tags: c.Tags, Attributes: c.Attributes,
		CreatedAt: timestamp(c.CreatedAt), UpdatedAt: timestamp(c.UpdatedAt), MergedInto: c.MergedInto,
	}
	if c.OptOut != nil {
		it.OptedOutAt, it.OptOutReason, it.OptOutDetail, it.OptOutMsgID = timestamp(c.OptOut.At), c.OptOut.Reason, c.OptOut.Detail, c.OptOut.MessageID
	}
	if c.OptedInAt != nil {
		it.OptedInAt = timestamp(*c.OptedInAt)
	}
	return it
}

// maxMergeHops bounds how many merged contacts Contact follows.
const maxMergeHops = 8

// Contact reads one contact of an organisation. A contact merged into
// another answers the surviving contact (its id is the survivor's).
func (s *Store) Contact(ctx context.Context, org, contactID string) (Contact, error) {
	for hop := 0; hop < maxMergeHops; hop++ {
		c, err := s.contactRecord(ctx, org, contactID)
		if err != nil || c.MergedInto == "" {
			return c, err
		}
		contactID = c.MergedInto
	}
	return Contact{}, apperr.New(apperr.Unavailable, "contact merges are settling, retry")
}

// contactRecord reads a contact item as stored, a merged one included.
func (s *Store) contactRecord(ctx context.Context, org, contactID string) (Contact, error) {
	return getModel[contactItem](ctx, s, key{orgPK(org), contactSK(contactID)}, apperr.New(apperr.NotFound, "contact not found"))
}

// CreateContact creates a contact from the API. Its WhatsApp number is
// claimed (the same identity item inbound messages use), so a number that
// already has a contact is a Conflict naming that contact. emit's events
// (contact.created) are written in the same transaction.
func (s *Store) CreateContact(ctx context.Context, c Contact, emit Emit[Contact]) (Contact, error) {
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
	items := []types.TransactWriteItem{s.put(ci, "attribute_not_exists(pk)")}
	claims, err := s.claimPhone(c.OrgID, c.WhatsAppID, c.ID, "attribute_not_exists(pk)")
	if err != nil {
		return Contact{}, err
	}
	items = append(items, claims...)
	if items, err = emitted(s, items, emit, c.OrgID, c.ID, c); err != nil {
		return Contact{}, err
	}
	dup := false
	err = s.transact(ctx, "create contact", items, func(failed []bool) error {
		if slices.Contains(failed[1:1+len(claims)], true) {
			dup = true
			return nil
		}
		return conditionErr(apperr.Conflict, "contact id collision, retry")
	})
	if err != nil {
		return Contact{}, err
	}
	if dup {
		holders, err := s.phoneHolders(ctx, c.OrgID, c.WhatsAppID)
		if err != nil {
			return Contact{}, err
		}
		// Items of a contact that is gone (a merge's survivor deleted)
		// are claimed over.
		var live []string
		gone := map[string]bool{}
		for _, h := range holders {
			_, err := s.Contact(ctx, c.OrgID, h)
			if apperr.Is(err, apperr.NotFound) {
				gone[h] = true
				continue
			}
			if err != nil {
				return Contact{}, err
			}
			live = append(live, h)
		}
		if len(holders) > 0 && len(live) == 0 {
			return s.createContactOver(ctx, c, ci, gone, emit)
		}
		if len(live) == 0 {
			return Contact{}, apperr.New(apperr.Unavailable, "the number's contact is being created or deleted, retry")
		}
		existing := live[0]
		return Contact{}, conditionErr(apperr.Conflict, "a contact with this whatsapp_id exists: "+existing).
			WithCode("contact_exists").With("existing_id", existing).
			WithDetails(apperr.Detail{Field: "whatsapp_id", Issue: "belongs to contact " + existing})
	}
	return c, nil
}

// createContactOver writes contact c (item ci), claiming the forms of its
// number over the items the gone contacts left (a form held by anyone else
// meanwhile is a retry).
func (s *Store) createContactOver(ctx context.Context, c Contact, ci map[string]types.AttributeValue, gone map[string]bool, emit Emit[Contact]) (Contact, error) {
	keys := phoneKeys(c.OrgID, c.WhatsAppID)
	held, err := s.identityHolders(ctx, keys)
	if err != nil {
		return Contact{}, err
	}
	items := []types.TransactWriteItem{s.put(ci, "attribute_not_exists(pk)")}
	for _, k := range keys {
		if h, ok := held[k]; ok && !gone[h] {
			return Contact{}, apperr.New(apperr.Unavailable, "the number's contact is being created or deleted, retry")
		}
		w, err := s.claimIdent(identClaim{k: k, was: held[k]}, c.ID)
		if err != nil {
			return Contact{}, err
		}
		items = append(items, w)
	}
	if items, err = emitted(s, items, emit, c.OrgID, c.ID, c); err != nil {
		return Contact{}, err
	}
	err = s.transact(ctx, "create contact", items, func([]bool) error {
		return conditionErr(apperr.Unavailable, "the number's contact is being created or deleted, retry")
	})
	if err != nil {
		return Contact{}, err
	}
	return c, nil
}

// ErrContactChanged means a contact changed between read and write.
var ErrContactChanged = errors.New("store: contact changed concurrently")

// SaveContact writes a contact read earlier (name, email, tags,
// attributes) only if nobody changed it since (its updated_at), so
// read-modify-write edits such as adding a tag never lose a concurrent one.
// emit's events (contact.updated) are written in the same transaction.
func (s *Store) SaveContact(ctx context.Context, c Contact, emit Emit[Contact]) (Contact, error) {
	prev := timestamp(c.UpdatedAt)
	c.UpdatedAt = s.now()
	if timestamp(c.UpdatedAt) == prev {
		c.UpdatedAt = c.UpdatedAt.Add(1e6) // a millisecond: the version must move
	}
	av, err := marshal(newContactItem(c))
	if err != nil {
		return Contact{}, err
	}
	in := putInput(s.table, av, "attribute_exists(pk) AND updated_at = :prev AND attribute_not_exists(merged_into)")
	in.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": str(prev)}
	if emit != nil {
		items := []types.TransactWriteItem{{Put: &types.Put{TableName: in.TableName, Item: in.Item, ConditionExpression: in.ConditionExpression,
			ExpressionAttributeValues: in.ExpressionAttributeValues}}}
		if items, err = emitted(s, items, emit, c.OrgID, c.ID, c); err != nil {
			return Contact{}, err
		}
		err = s.transact(ctx, "save contact", items, func([]bool) error {
			return conditionErr(apperr.Conflict, "the contact changed meanwhile, retry").WithCause(ErrContactChanged)
		})
		if err != nil {
			return Contact{}, err
		}
		return c, nil
	}
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
// a lookup through the identity items of every form of the number
// (phone.Variants), the contact holding the form given first. Merged
// contacts are not listed (their survivor is).
func (s *Store) Contacts(ctx context.Context, org, tag, waID, cursor string, limit int) (Page[Contact], error) {
	out := Page[Contact]{Items: []Contact{}}
	if waID != "" {
		holders, err := s.phoneHolders(ctx, org, waID)
		if err != nil {
			return out, err
		}
		for _, h := range holders {
			c, err := s.Contact(ctx, org, h)
			if apperr.Is(err, apperr.NotFound) {
				continue
			}
			if err != nil {
				return out, err
			}
			if tagged(c.Tags, tag) && !slices.ContainsFunc(out.Items, func(o Contact) bool { return o.ID == c.ID }) {
				out.Items = append(out.Items, c)
			}
		}
		return out, nil
	}
	return queryModels(ctx, s, keyPrefix("", orgPK(org), contactSKPrefix, cursor, limit, true),
		func(it contactItem) bool { return it.MergedInto == "" && tagged(it.Tags, tag) })
}

// tagged says whether tags hold tag ("" matches any).
func tagged(tags []string, tag string) bool {
	return tag == "" || slices.Contains(tags, tag)
}

// DeleteContact removes a contact with its identity items and open
// conversation pointer (its messages and conversations stay, for history);
// the same number writing again becomes a new contact.
func (s *Store) DeleteContact(ctx context.Context, org, id string) error {
	_, err := retryRaces(func() (struct{}, bool, error) {
		err := s.deleteContact(ctx, org, id)
		return struct{}{}, errors.Is(err, errRace), err
	})
	return err
}

func (s *Store) deleteContact(ctx context.Context, org, id string) error {
	c, err := s.Contact(ctx, org, id)
	if err != nil {
		return err
	}
	del := func(k key) types.TransactWriteItem {
		return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: k.av()}}
	}
	items := []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: key{orgPK(org), contactSK(c.ID)}.av(),
			ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(merged_into)")}},
		del(key{contactConvsPK(org, c.ID), openConvSK()}),
	}
	// The open pointer's counts (outbound messages) move into its
	// conversation, which stays, on condition that neither changed.
	ptr, ptrFound, err := s.openPointerOf(ctx, org, c.ID)
	if err != nil {
		return err
	}
	if ptrFound && ptr.SentCount > 0 {
		cv, err := s.conversationItem(ctx, org, ptr.ConversationID)
		if err != nil {
			return err
		}
		cond, pv := pointerUnchanged(ptr, true)
		items[1].Delete.ConditionExpression, items[1].Delete.ExpressionAttributeValues = aws.String(cond), pv
		counts, vals := foldedCounts(cv, ptr)
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(s.table), Key: key{orgPK(org), convSK(cv.ID)}.av(),
			UpdateExpression:          aws.String("SET" + strings.TrimPrefix(counts, ",")),
			ConditionExpression:       aws.String("message_count = :mb"),
			ExpressionAttributeValues: vals,
		}})
	}
	// Only the identity items that are this contact's: another form of
	// the number may belong to a contact created before its forms were one.
	owned, err := s.ownedIdentities(ctx, org, c)
	if err != nil {
		return err
	}
	for _, k := range owned {
		items = append(items, del(k))
	}
	return s.transact(ctx, "delete contact", items, func(failed []bool) error {
		if failed[0] {
			return apperr.New(apperr.NotFound, "contact not found")
		}
		return errRace // its open conversation changed meanwhile: read again
	})
}
