package store

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
)

// Why a contact opted out.
const (
	OptOutKeyword = "keyword"     // an inbound message matched an opt-out keyword
	OptOutMeta    = "meta_131050" // Meta answered 131050: the user stopped marketing messages
)

// OptOut is a contact's opt-out of marketing messages.
type OptOut struct {
	At     time.Time
	Reason string // OptOutKeyword, OptOutMeta
	// Detail is the keyword matched, or Meta's error title.
	Detail string
	// MessageID is the inbound message (a keyword) or the outbound one
	// (Meta's error) that opted the contact out.
	MessageID string
}

// DefaultOptOutKeywords are an organisation's opt-out keywords until it
// sets its own.
var DefaultOptOutKeywords = []string{"STOP", "PARAR", "SAIR", "CANCELAR", "DESCADASTRAR"}

// OptOutSettings are an organisation's opt-out keywords and the optional
// reply confirming an opt-out.
type OptOutSettings struct {
	Keywords     []string
	Confirmation string // "" sends none
	UpdatedAt    *time.Time
}

type optOutSettingsItem struct {
	key
	Type         string   `dynamodbav:"type"`
	Keywords     []string `dynamodbav:"keywords"`
	Confirmation string   `dynamodbav:"confirmation,omitempty"`
	UpdatedAt    string   `dynamodbav:"updated_at"`
}

// notOptedOut is the condition that a contact item has no opt-out (an
// opt-in empties opted_out_at); it uses the value :e = "".
const notOptedOut = "(attribute_not_exists(opted_out_at) OR opted_out_at = :e)"

func optOutSettingsSK() string { return "SETTINGS#OPTOUT" }

const typeOptOutSettings = "OPTOUT_SETTINGS"

// OptOutSettings reads the organisation's opt-out settings (the defaults
// when it has set none).
func (s *Store) OptOutSettings(ctx context.Context, org string) (OptOutSettings, error) {
	var it optOutSettingsItem
	found, err := s.getItem(ctx, key{orgPK(org), optOutSettingsSK()}, &it)
	if err != nil {
		return OptOutSettings{}, err
	}
	if !found {
		return OptOutSettings{Keywords: append([]string{}, DefaultOptOutKeywords...)}, nil
	}
	kw := it.Keywords
	if kw == nil {
		kw = []string{}
	}
	return OptOutSettings{Keywords: kw, Confirmation: it.Confirmation, UpdatedAt: parseTime(it.UpdatedAt)}, nil
}

// SetOptOutSettings replaces the organisation's opt-out settings (the
// caller has checked them).
func (s *Store) SetOptOutSettings(ctx context.Context, org string, o OptOutSettings) (OptOutSettings, error) {
	now := s.now()
	if o.Keywords == nil {
		o.Keywords = []string{}
	}
	av, err := marshal(optOutSettingsItem{key: key{orgPK(org), optOutSettingsSK()}, Type: typeOptOutSettings,
		Keywords: o.Keywords, Confirmation: o.Confirmation, UpdatedAt: timestamp(now)})
	if err != nil {
		return OptOutSettings{}, err
	}
	if _, err := s.db.PutItem(ctx, putInput(s.table, av, "")); err != nil {
		return OptOutSettings{}, unavailable("set opt-out settings", err)
	}
	o.UpdatedAt = &now
	return o, nil
}

// OptOutContact marks a contact (a merged one's survivor) opted out of
// marketing messages. changed is false when it already was (the first
// opt-out is kept: its time and reason).
func (s *Store) OptOutContact(ctx context.Context, org, contactID string, o OptOut) (c Contact, changed bool, err error) {
	for attempt := 0; attempt < 4; attempt++ {
		c, err = s.Contact(ctx, org, contactID)
		if err != nil {
			return c, false, err
		}
		if c.OptOut != nil {
			return c, false, nil
		}
		now := s.now()
		if o.At.IsZero() {
			o.At = now
		}
		values := map[string]types.AttributeValue{
			":at": str(timestamp(o.At)), ":r": str(o.Reason), ":d": str(o.Detail), ":m": str(o.MessageID), ":u": str(timestamp(now)), ":e": str(""),
		}
		ptr, ptrFound, err := s.openPointerOf(ctx, org, c.ID)
		if err != nil {
			return c, false, err
		}
		in := updateInput(s.table, key{orgPK(org), contactSK(c.ID)},
			"SET opted_out_at = :at, opt_out_reason = :r, opt_out_detail = :d, opt_out_message_id = :m, updated_at = :u",
			"attribute_exists(pk) AND attribute_not_exists(merged_into) AND "+notOptedOut, values)
		// The contact and its open pointer's mark in one transaction (a
		// marketing message into the open conversation checks the mark).
		err = s.transact(ctx, "opt out contact", []types.TransactWriteItem{
			{Update: &types.Update{TableName: in.TableName, Key: in.Key, UpdateExpression: in.UpdateExpression,
				ConditionExpression: in.ConditionExpression, ExpressionAttributeValues: in.ExpressionAttributeValues}},
			s.markPointer(org, c.ID, ptr, ptrFound, &o),
		}, func([]bool) error { return errOptInRace })
		if errors.Is(err, errOptInRace) {
			continue // merged, deleted, opted out or its conversation changed meanwhile: read again
		}
		if err != nil {
			return c, false, err
		}
		c.OptOut, c.UpdatedAt = &o, now
		return c, true, nil
	}
	return c, false, apperr.New(apperr.Unavailable, "concurrent updates to this contact, retry")
}

// optOutAsRead adds to a contact item's condition (cond, vals) that its
// opt-out is still o (none, or o's time): a new open pointer carries it.
func optOutAsRead(cond string, vals map[string]types.AttributeValue, o *OptOut) (*string, map[string]types.AttributeValue) {
	if vals == nil {
		vals = map[string]types.AttributeValue{}
	}
	if o == nil {
		vals[":e"] = str("")
		return aws.String(cond + " AND " + notOptedOut), vals
	}
	vals[":ooread"] = str(timestamp(o.At))
	return aws.String(cond + " AND opted_out_at = :ooread"), vals
}

// errOptInRace: the contact (or its open pointer) changed or went between
// the read and the opt-in's or opt-out's write; they read it again.
var errOptInRace = errors.New("store: the contact changed during the opt-in")

// OptInContact records a contact's new consent to marketing messages: its
// opt-out, if any, is removed and the time of the consent kept, with what
// emit builds (contact.updated) in the same transaction.

func (s *Store) OptInContact(ctx context.Context, org, contactID string, emit Emit[Contact]) (Contact, error) {
	for attempt := 0; attempt < 4; attempt++ {
		c, err := s.Contact(ctx, org, contactID)
		if err != nil {
			return c, err
		}
		now := s.now()
		// Emptied rather than removed (read back as absent), which every
		// DynamoDB implementation takes alike.
		// Over the version read only: the contact.updated below is the
		// contact as read, so an edit in between is read again (else the
		// event would announce the edit undone, stamped after it).
		values := map[string]types.AttributeValue{":at": str(timestamp(now)), ":e": str(""), ":prev": str(timestamp(c.UpdatedAt))}
		in := updateInput(s.table, key{orgPK(org), contactSK(c.ID)},
			"SET opted_in_at = :at, updated_at = :at, opted_out_at = :e, opt_out_reason = :e, opt_out_detail = :e, opt_out_message_id = :e",
			"attribute_exists(pk) AND attribute_not_exists(merged_into) AND updated_at = :prev", values)
		after := c
		after.OptOut, after.OptedInAt, after.UpdatedAt = nil, &now, now
		// The update and its contact.updated in one transaction (outbox).
		ptr, ptrFound, err := s.openPointerOf(ctx, org, c.ID)
		if err != nil {
			return c, err
		}
		items := []types.TransactWriteItem{{Update: &types.Update{TableName: in.TableName, Key: in.Key,
			UpdateExpression: in.UpdateExpression, ConditionExpression: in.ConditionExpression,
			ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: in.ExpressionAttributeValues}},
			s.markPointer(org, c.ID, ptr, ptrFound, nil)}
		if items, err = emitted(s, items, emit, org, c.ID, after); err != nil {
			return c, err
		}
		err = s.transact(ctx, "opt in contact", items, func([]bool) error { return errOptInRace })
		if errors.Is(err, errOptInRace) {
			continue
		}
		if err != nil {
			return c, err
		}
		return after, nil
	}
	return Contact{}, apperr.New(apperr.Unavailable, "concurrent updates to this contact, retry")
}

// ContactOptOut is a contact's opt-out as a message already queued into
// conversation convID must see it before it is sent (nil: not opted out).
// The contact's open pointer, outside ORG#<org>, answers when it is that
// conversation's (the opt-out's and opt-in's transactions mark it), so a
// campaign sending at its number's 1,000 a second adds no reads to the
// organisation's partition; otherwise, when the pointer is marked (for
// the opt-out's reason) or is from before the mark was kept, the contact
// is read. A deleted contact is NotFound.
func (s *Store) ContactOptOut(ctx context.Context, org, contactID, convID string) (*OptOut, error) {
	p, found, err := s.openPointerOf(ctx, org, contactID)
	if err != nil {
		return nil, err
	}
	if found && p.ConversationID == convID && p.OptedOutAt != nil && *p.OptedOutAt == "" {
		return nil, nil
	}
	c, err := s.Contact(ctx, org, contactID)
	if err != nil {
		return nil, err
	}
	return c.OptOut, nil
}
