package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
)

// Merge is two contacts made one: Survivor (as it is after the merge) and
// the id of the contact merged into it.
type Merge struct {
	Survivor Contact
	MergedID string
	At       time.Time
	// AlreadyMerged: the two were one already (a retry, or a concurrent
	// merge won); nothing was written.
	AlreadyMerged bool
}

// MergeContacts makes contacts a and b one, when Meta showed they are one
// person (waID, when given, is the WhatsApp id Meta reported: it becomes the
// survivor's). The older contact survives; the other keeps its item as a
// pointer to the survivor (Contact answers the survivor for its id). In one
// transaction, conditional on neither contact having changed or been merged
// since they were read: the survivor gets the tags of both, the attributes
// of both (its own winning a conflict), the name, email and profile name it
// lacked, and every identity item of both (each form of the numbers, the
// BSUIDs); the open conversation pointer moves to the survivor when it has
// none (otherwise the merged contact's open conversation is resolved, so a
// contact has one open conversation). Then the merged contact's
// conversations are moved to the survivor, one conditional update each
// (they keep their messages); a retry of the merge finishes a move that was
// interrupted. Concurrent merges, retries and messages racing the merge
// lose their conditions and retry, so nothing is lost or merged twice.
func (s *Store) MergeContacts(ctx context.Context, org, a, b, waID string) (Merge, error) {
	m, err := retryRaces(func() (Merge, bool, error) { return s.mergeContacts(ctx, org, a, b, waID) })
	if err != nil {
		return m, err
	}
	if err := s.moveConversations(ctx, org, m.MergedID, m.Survivor.ID); err != nil {
		return m, err
	}
	return m, nil
}

func (s *Store) mergeContacts(ctx context.Context, org, a, b, waID string) (Merge, bool, error) {
	ca, err := s.Contact(ctx, org, a)
	if err != nil {
		return Merge{}, false, err
	}
	cb, err := s.Contact(ctx, org, b)
	if err != nil {
		return Merge{}, false, err
	}
	if ca.ID == cb.ID {
		// One already: name the one merged, for a caller republishing
		// the event, when it was one of the two asked.
		merged := a
		if a == ca.ID {
			merged = b
		}
		return Merge{Survivor: ca, MergedID: merged, AlreadyMerged: true}, false, nil
	}
	surv, lost := ca, cb
	if lost.CreatedAt.Before(surv.CreatedAt) || lost.CreatedAt.Equal(surv.CreatedAt) && lost.ID < surv.ID {
		surv, lost = lost, surv
	}
	now := s.now()
	merged := joinContacts(surv, lost, waID)
	merged.UpdatedAt = now
	if timestamp(now) == timestamp(surv.UpdatedAt) {
		merged.UpdatedAt = now.Add(time.Millisecond)
	}

	var items []types.TransactWriteItem
	sv, err := marshal(newContactItem(merged))
	if err != nil {
		return Merge{}, false, err
	}
	p := s.put(sv, "attribute_exists(pk) AND updated_at = :prev AND attribute_not_exists(merged_into)")
	p.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": str(timestamp(surv.UpdatedAt))}
	items = append(items, p)

	tomb := newContactItem(lost)
	tomb.MergedInto, tomb.MergedAt, tomb.UpdatedAt = surv.ID, timestamp(now), timestamp(now)
	tv, err := marshal(tomb)
	if err != nil {
		return Merge{}, false, err
	}
	p = s.put(tv, "attribute_exists(pk) AND updated_at = :prev AND attribute_not_exists(merged_into)")
	p.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": str(timestamp(lost.UpdatedAt))}
	items = append(items, p)

	// Every identity of both, for the survivor: taken over from the merged
	// contact, or claimed when free.
	var idents []key
	for _, wa := range []string{merged.WhatsAppID, surv.WhatsAppID, lost.WhatsAppID} {
		for _, k := range phoneKeys(org, wa) {
			if !slices.Contains(idents, k) {
				idents = append(idents, k)
			}
		}
	}
	for _, u := range []string{surv.UserID, lost.UserID} {
		if k := (key{identBSUIDPK(org, u), identSK()}); u != "" && !slices.Contains(idents, k) {
			idents = append(idents, k)
		}
	}
	held, err := s.identityHolders(ctx, idents)
	if err != nil {
		return Merge{}, false, err
	}
	for _, k := range idents {
		h, ok := held[k]
		if ok && h != lost.ID && h != surv.ID {
			continue // a third contact's: left to its own merge
		}
		av, err := marshal(identItem{key: k, Type: typeIdentity, ContactID: surv.ID})
		if err != nil {
			return Merge{}, false, err
		}
		cond := "attribute_not_exists(pk)"
		vals := map[string]types.AttributeValue{}
		if ok {
			cond = "contact_id = :was"
			vals[":was"] = str(h)
		}
		w := s.put(av, cond)
		if len(vals) > 0 {
			w.Put.ExpressionAttributeValues = vals
		}
		items = append(items, w)
	}

	// The open conversation pointer.
	ptrs, err := s.batchGet(ctx, []key{{contactConvsPK(org, surv.ID), openConvSK()}, {contactConvsPK(org, lost.ID), openConvSK()}})
	if err != nil {
		return Merge{}, false, err
	}
	survPtr, lostPtr := openConvOf(ptrs[key{contactConvsPK(org, surv.ID), openConvSK()}]), openConvOf(ptrs[key{contactConvsPK(org, lost.ID), openConvSK()}])
	lostPtrKey := key{contactConvsPK(org, lost.ID), openConvSK()}
	switch {
	case lostPtr == "":
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.table), Key: lostPtrKey.av(), ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}})
	default:
		// The pointer's counts (outbound messages) move into the
		// conversation's item, on condition that neither changed.
		var lp openConvItem
		if err := attributevalue.UnmarshalMap(ptrs[lostPtrKey], &lp); err != nil {
			return Merge{}, false, fmt.Errorf("store: decode open conversation: %w", err)
		}
		lc, err := s.conversationItem(ctx, org, lostPtr)
		if err != nil {
			return Merge{}, false, err
		}
		cond, pv := pointerUnchanged(lp, true)
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: lostPtrKey.av(),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeValues: pv,
		}})
		// The open conversation is re-pointed here, not left to
		// moveConversations: it may be too recent for gsi1 to list it.
		counts, vals := foldedCounts(lc, lp)
		vals[":s"], vals[":g"], vals[":open"], vals[":now"] = str(surv.ID), str(contactConvsPK(org, surv.ID)), str(ConversationOpen), str(timestamp(now))
		update := "SET contact_id = :s, gsi1pk = :g, updated_at = :now" + counts
		viewStatus := "" // its messages' events show it moved (and resolved): eventcopy.go
		if survPtr == "" {
			// The survivor's opt-out (its own or the merged one's) marks its new pointer.
			ptr, err := s.openPointer(org, surv.ID, lostPtr, merged.OptOut)
			if err != nil {
				return Merge{}, false, err
			}
			items = append(items, ptr)
		} else {
			update += ", #st = :resolved, resolved_at = :now"
			vals[":resolved"] = str(ConversationResolved)
			viewStatus = ConversationResolved
		}
		items = append(items, s.convEventView(org, lostPtr, viewStatus, nil, surv.ID, now))
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(s.table), Key: key{orgPK(org), convSK(lostPtr)}.av(),
			UpdateExpression:          aws.String(update),
			ConditionExpression:       aws.String("#st = :open AND message_count = :mb"),
			ExpressionAttributeNames:  map[string]string{"#st": "status"},
			ExpressionAttributeValues: vals,
		}})
	}
	if survPtr != "" && merged.OptOut != nil {
		// The survivor's open pointer carries the opt-out it takes (a
		// marketing message into that conversation checks the mark).
		items = append(items, s.markPointer(org, surv.ID, openConvItem{ConversationID: survPtr}, true, merged.OptOut))
	}
	// The merged contact's messages' events show the survivor (eventcopy.go).
	redirect, err := s.mergeRedirect(org, lost.ID, merged, now)
	if err != nil {
		return Merge{}, false, err
	}
	items = append(items, redirect)
	err = s.transact(ctx, "merge contacts", items, func([]bool) error { return errRace })
	if err != nil {
		return Merge{}, errors.Is(err, errRace), err
	}
	return Merge{Survivor: merged, MergedID: lost.ID, At: now}, false, nil
}

// joinContacts is the survivor with what the merged contact adds.
func joinContacts(surv, lost Contact, waID string) Contact {
	out := surv
	out.Tags = append([]string{}, surv.Tags...)
	for _, t := range lost.Tags {
		if !slices.Contains(out.Tags, t) {
			out.Tags = append(out.Tags, t)
		}
	}
	out.Attributes = maps.Clone(lost.Attributes)
	if out.Attributes == nil {
		out.Attributes = map[string]any{}
	}
	maps.Copy(out.Attributes, surv.Attributes)
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&out.Name, lost.Name)
	fill(&out.Email, lost.Email)
	fill(&out.ProfileName, lost.ProfileName)
	fill(&out.UserID, lost.UserID)
	fill(&out.ParentUserID, lost.ParentUserID)
	fill(&out.WhatsAppID, lost.WhatsAppID)
	if waID != "" {
		out.WhatsAppID = waID
	}
	// One person: an opt-out of either stands, unless the survivor's
	// consent is newer than it.
	if out.OptOut == nil && lost.OptOut != nil && (out.OptedInAt == nil || out.OptedInAt.Before(lost.OptOut.At)) {
		o := *lost.OptOut
		out.OptOut = &o
	}
	return out
}

func openConvOf(item map[string]types.AttributeValue) string {
	if item == nil {
		return ""
	}
	var it openConvItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return ""
	}
	return it.ConversationID
}

// moveConversations re-points the merged contact's conversations to the
// survivor (contact_id and the gsi1 partition that lists them), each only
// while it is still the merged contact's. After the merge nothing adds
// conversations to the merged contact (writes check it was not merged), so
// the list only shrinks and a repeat finishes an interrupted move.
func (s *Store) moveConversations(ctx context.Context, org, from, to string) error {
	var start map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:              aws.String(s.table),
			IndexName:              aws.String(IndexGSI1),
			KeyConditionExpression: aws.String("gsi1pk = :p AND begins_with(gsi1sk, :c)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":p": str(contactConvsPK(org, from)), ":c": str(convSKPrefix),
			},
			Limit:             aws.Int32(100),
			ExclusiveStartKey: start,
		})
		if err != nil {
			return unavailable("list merged conversations", err)
		}
		for _, item := range res.Items {
			var it convItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return err
			}
			_, err := s.db.UpdateItem(ctx, updateInput(s.table, it.key,
				"SET contact_id = :to, gsi1pk = :g", "contact_id = :from",
				map[string]types.AttributeValue{":to": str(to), ":g": str(contactConvsPK(org, to)), ":from": str(from)}))
			if err != nil && !isConditionFailed(err) {
				return unavailable("move conversation", err)
			}
		}
		// One pass over the pages (gsi1 is eventually consistent: an item
		// already moved may show again, and its condition fails).
		if start = res.LastEvaluatedKey; len(start) == 0 {
			return nil
		}
	}
}

// RecordWhatsAppID records the wa_id Meta resolved a send to (contacts[].
// wa_id of its answer) as the contact's WhatsApp identity: every form of it
// is claimed for the contact. When another contact holds it, the two are
// one person and are merged (the Merge is returned; publish
// contact.merged; it is also returned with an error when the merge was
// written but moving conversations after it failed). A wa_id the contact
// already has changes nothing.
func (s *Store) RecordWhatsAppID(ctx context.Context, org, contactID, waID string) (Contact, *Merge, error) {
	if waID == "" {
		return Contact{}, nil, apperr.Field("wa_id", "empty")
	}
	for attempt := 0; attempt < 4; attempt++ {
		c, err := s.Contact(ctx, org, contactID)
		if err != nil {
			return Contact{}, nil, err
		}
		keys := phoneKeys(org, waID)
		held, err := s.identityHolders(ctx, keys)
		if err != nil {
			return Contact{}, nil, err
		}
		mine := 0
		for _, k := range keys {
			h, ok := held[k]
			if !ok {
				continue
			}
			if h == c.ID {
				mine++
				continue
			}
			hc, err := s.Contact(ctx, org, h)
			if apperr.Is(err, apperr.NotFound) {
				continue // a deleted contact's leftover: claimed below
			}
			if err != nil {
				return Contact{}, nil, err
			}
			if hc.ID != c.ID {
				m, err := s.MergeContacts(ctx, org, c.ID, hc.ID, waID)
				if err != nil {
					if m.MergedID != "" && !m.AlreadyMerged {
						// Merged, then the conversation move failed:
						// the merge is answered with the error.
						return m.Survivor, &m, err
					}
					return Contact{}, nil, err
				}
				return m.Survivor, &m, nil
			}
		}
		if c.WhatsAppID == waID && mine == len(keys) {
			return c, nil, nil
		}
		// A form held by a merged or deleted contact's leftover item is
		// taken over; one claimed meanwhile by a live contact fails the
		// condition and is looked at again.
		items, err := s.claimPhoneOver(org, waID, c.ID, held)
		if err != nil {
			return Contact{}, nil, err
		}
		now := s.now()
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(s.table), Key: key{orgPK(org), contactSK(c.ID)}.av(),
			UpdateExpression:    aws.String("SET wa_id = :wa, updated_at = :now"),
			ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(merged_into)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":wa": str(waID), ":now": str(timestamp(now)),
			},
		}})
		err = s.transact(ctx, "record wa_id", items, func([]bool) error { return errRace })
		if errors.Is(err, errRace) {
			continue // someone took a form or merged the contact: look again
		}
		if err != nil {
			return Contact{}, nil, err
		}
		c.WhatsAppID, c.UpdatedAt = waID, now
		return c, nil, nil
	}
	return Contact{}, nil, apperr.New(apperr.Unavailable, "concurrent updates to this contact, retry")
}

// claimPhoneOver claims every form of waID for contactID: a free form on
// condition it is still free, a held one on condition its holder is still
// the one read (held).
func (s *Store) claimPhoneOver(org, waID, contactID string, held map[key]string) ([]types.TransactWriteItem, error) {
	var items []types.TransactWriteItem
	for _, k := range phoneKeys(org, waID) {
		av, err := marshal(identItem{key: k, Type: typeIdentity, ContactID: contactID})
		if err != nil {
			return nil, err
		}
		h, ok := held[k]
		if !ok {
			items = append(items, s.put(av, "attribute_not_exists(pk)"))
			continue
		}
		w := s.put(av, "contact_id = :was")
		w.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":was": str(h)}
		items = append(items, w)
	}
	return items, nil
}
