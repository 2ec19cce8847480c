package store

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
)

// StatusUpdate is one status Meta reported for an outbound message.
type StatusUpdate struct {
	OrgID           string
	WAMID           string
	Status          string
	Timestamp       time.Time
	Error           *MessageError
	Errors          json.RawMessage
	Pricing         json.RawMessage
	PricingCategory string
	Billable        *bool
	Raw             json.RawMessage
	// Test marks a status the sender made up for a test message (a
	// pytake_test_ key's): no such status came from Meta.
	Test bool
	// CallbackData is Meta's echo of the biz_opaque_callback_data the
	// sender sent ("pytake:<message id>"): it names the message of a wamid
	// whose send's outcome was never recorded.
	CallbackData string
}

// StatusResult says what applying a status did.
type StatusResult struct {
	Applied  bool // first time this (wamid, status) arrived
	Unknown  bool // no message of ours has this wamid; the status was recorded
	Advanced bool // the message's status moved forward
	Message  Message
}

// unknownStatusTTL is how long statuses of unknown wamids are kept.
const unknownStatusTTL = 30 * 24 * time.Hour

// ApplyStatus applies a status to our outbound message: each (wamid, status)
// once, timestamps recorded whatever the order, and the message's status
// only moving forward (sent < delivered < read; read implies delivered;
// failed recorded with Meta's error, never erased and erasing nothing).
func (s *Store) ApplyStatus(ctx context.Context, u StatusUpdate) (StatusResult, error) {
	var wi wamidItem
	wk := key{wamidPK(u.OrgID, u.WAMID), wamidSK()}
	found, err := s.getItem(ctx, wk, &wi)
	if err != nil {
		return StatusResult{}, err
	}
	now := s.now()
	st := statusItem{
		Type: typeStatus, Status: u.Status, Timestamp: timestamp(u.Timestamp), ReceivedAt: timestamp(now),
		Errors: string(u.Errors), Pricing: string(u.Pricing), Test: u.Test,
	}
	if !found && u.CallbackData != "" {
		if wi, found, err = s.adoptWAMID(ctx, u.OrgID, u.CallbackData, u.WAMID); err != nil {
			return StatusResult{}, err
		}
	}
	if !found {
		// Recorded as unknown only while the wamid lookup still does not
		// exist: a sender that records the wamid between our read and this
		// write has already read the early statuses, so this one is applied
		// here instead.
		st.key = key{wamidPK(u.OrgID, u.WAMID), statusSK(u.Status)}
		st.Raw, st.ExpiresAt = string(u.Raw), now.Add(unknownStatusTTL).Unix()
		av, err := marshal(st)
		if err != nil {
			return StatusResult{}, err
		}
		appeared := false
		err = s.transact(ctx, "record unknown status", []types.TransactWriteItem{
			{ConditionCheck: &types.ConditionCheck{TableName: aws.String(s.table), Key: wk.av(),
				ConditionExpression: aws.String("attribute_not_exists(pk)")}},
			s.put(av, "attribute_not_exists(pk)"),
		}, func(failed []bool) error {
			appeared = failed[0]
			return nil // failed[1] alone: this unknown status was recorded before
		})
		if err != nil {
			return StatusResult{}, err
		}
		if !appeared {
			return StatusResult{Unknown: true}, nil
		}
		if found, err = s.getItem(ctx, wk, &wi); err != nil {
			return StatusResult{}, err
		}
		if !found {
			return StatusResult{}, apperr.New(apperr.Unavailable, "message is being written, retry")
		}
		st.Raw, st.ExpiresAt = "", 0
	}

	mk := key{msgPK(u.OrgID, wi.MessageID), msgSK()}
	st.key = key{msgPK(u.OrgID, wi.MessageID), statusSK(u.Status)}
	st.EventsPending = true // cleared by MarkStatusEventsSent once published
	av, err := marshal(st)
	if err != nil {
		return StatusResult{}, err
	}
	ts := str(timestamp(u.Timestamp))
	set := "SET updated_at = :now"
	values := map[string]types.AttributeValue{":now": str(timestamp(now)), ":ts": ts}
	switch u.Status {
	case StatusSent:
		set += ", sent_at = if_not_exists(sent_at, :ts)"
	case StatusDelivered:
		set += ", delivered_at = if_not_exists(delivered_at, :ts)"
	case StatusRead, StatusPlayed:
		set += ", read_at = if_not_exists(read_at, :ts), delivered_at = if_not_exists(delivered_at, :ts)"
	case StatusFailed:
		set += ", failed_at = if_not_exists(failed_at, :ts)"
		if e := u.Error; e != nil {
			set += ", error_code = :ec, error_title = :et, error_message = :em, error_details = :ed"
			values[":ec"] = num(strconv.Itoa(e.Code))
			values[":et"], values[":em"], values[":ed"] = str(e.Title), str(e.Message), str(e.Details)
		}
	}
	if u.PricingCategory != "" {
		set += ", pricing_category = :pc"
		values[":pc"] = str(u.PricingCategory)
	}
	if u.Billable != nil {
		set += ", billable = :bl"
		values[":bl"] = &types.AttributeValueMemberBOOL{Value: *u.Billable}
	}
	dup := false
	err = s.transact(ctx, "apply status", []types.TransactWriteItem{
		s.put(av, "attribute_not_exists(pk)"),
		{Update: &types.Update{
			TableName: aws.String(s.table), Key: mk.av(), UpdateExpression: aws.String(set),
			ConditionExpression: aws.String("attribute_exists(pk)"), ExpressionAttributeValues: values,
		}},
	}, func(failed []bool) error {
		if failed[0] {
			dup = true
			return nil
		}
		return conditionErr(apperr.Unavailable, "message is being written, retry")
	})
	if err != nil {
		return StatusResult{}, err
	}
	if dup {
		return s.duplicateStatus(ctx, u.OrgID, wi.MessageID, u.Status)
	}
	// Forward only: the condition decides, so concurrent statuses settle on
	// the highest rank whatever order they land in.
	rank := StatusRank(u.Status)
	in := updateInput(s.table, mk, "SET #st = :s, status_rank = :r", "attribute_exists(pk) AND status_rank < :r",
		map[string]types.AttributeValue{":s": str(u.Status), ":r": num(strconv.Itoa(rank))})
	in.ExpressionAttributeNames = map[string]string{"#st": "status"}
	in.ReturnValues = types.ReturnValueAllNew
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	res := StatusResult{Applied: true}
	out, err := s.db.UpdateItem(ctx, in)
	item := map[string]types.AttributeValue(nil)
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		res.Advanced, item = true, out.Attributes
	case errors.As(err, &ccf):
		item = ccf.Item
	default:
		return StatusResult{}, unavailable("advance status", err)
	}
	if len(item) == 0 {
		m, err := s.Message(ctx, u.OrgID, wi.MessageID)
		if err != nil {
			return StatusResult{}, err
		}
		res.Message = m
		return res, nil
	}
	var it msgItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return StatusResult{}, err
	}
	res.Message = it.model()
	return res, nil
}

// duplicateStatus answers a (wamid, status) seen before. If its events were
// never confirmed published (the first delivery failed after storing it, or
// is publishing now), the caller gets it again as applied, to publish them
// by the same ids (deduplicated downstream).
func (s *Store) duplicateStatus(ctx context.Context, org, msgID, status string) (StatusResult, error) {
	var st statusItem
	found, err := s.getItem(ctx, key{msgPK(org, msgID), statusSK(status)}, &st)
	if err != nil || !found || !st.EventsPending {
		return StatusResult{}, err
	}
	m, err := s.Message(ctx, org, msgID)
	if err != nil {
		return StatusResult{}, err
	}
	return StatusResult{Applied: true, Message: m}, nil
}

// MarkStatusEventsSent records that the events of a (message, status) were
// published.
func (s *Store) MarkStatusEventsSent(ctx context.Context, org, msgID, status string) error {
	_, err := s.db.UpdateItem(ctx, updateInput(s.table, key{msgPK(org, msgID), statusSK(status)},
		"SET events_pending = :f", "attribute_exists(pk)",
		map[string]types.AttributeValue{":f": &types.AttributeValueMemberBOOL{Value: false}}))
	if err != nil && !isConditionFailed(err) {
		return unavailable("mark status events sent", err)
	}
	return nil
}

type statusItem struct {
	key
	Type          string `dynamodbav:"type"`
	Status        string `dynamodbav:"status"`
	Timestamp     string `dynamodbav:"timestamp"`
	ReceivedAt    string `dynamodbav:"received_at"`
	Errors        string `dynamodbav:"errors,omitempty"`
	Pricing       string `dynamodbav:"pricing,omitempty"`
	Raw           string `dynamodbav:"raw,omitempty"`
	EventsPending bool   `dynamodbav:"events_pending,omitempty"`
	ExpiresAt     int64  `dynamodbav:"expires_at,omitempty"`
	Test          bool   `dynamodbav:"test,omitempty"`
}

func (st statusItem) entry() StatusEntry {
	e := StatusEntry{Status: st.Status, Timestamp: mustTime(st.Timestamp), ReceivedAt: mustTime(st.ReceivedAt), Test: st.Test}
	if st.Errors != "" {
		e.Errors = json.RawMessage(st.Errors)
	}
	if st.Pricing != "" {
		e.Pricing = json.RawMessage(st.Pricing)
	}
	return e
}

func sortTimeline(t []StatusEntry) {
	sort.SliceStable(t, func(i, j int) bool {
		if !t[i].Timestamp.Equal(t[j].Timestamp) {
			return t[i].Timestamp.Before(t[j].Timestamp)
		}
		return StatusRank(t[i].Status) < StatusRank(t[j].Status)
	})
}
