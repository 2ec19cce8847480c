package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
)

// Scheduled single messages (POST /v1/messages with send_at). Accepting one
// stores the message as scheduled (send_state scheduled, which no sender
// claims) and, in the same transaction, a schedule item in the partition
// of its minute and shard:
//
//	SCHED#<yyyy-mm-ddThh:mm of send_at>#<shard> / <send_at>#<org>#<message id>
//
// The sweep (internal/schedule, run every minute by the campaign runner)
// Queries the partitions of the minutes from its cursor (SCHEDSWEEP /
// CURSOR: the first minute that may still hold due items) to now, each
// shard's items whose sort key is at most now, and releases each message:
// scheduled → queued with its outbound job and the schedule item deleted,
// one transaction conditioned on the message still being scheduled, so a
// sweep run twice, two sweeps at once, or a cancel racing the sweep leave
// the message sent once or cancelled, never both. The cursor moves past a
// minute only when every shard of it came back empty of due work.
//
// ScheduleShards spreads one minute's messages over that many partitions
// (by a hash of the message id): the schedule items of messages due in the
// same minute (09:00 is popular) are written at up to ScheduleShards x
// 1,000 per second and read by ScheduleShards parallel Queries, whatever
// the number of organisations.
const ScheduleShards = 16

const (
	typeSchedule    = "scheduled_message"
	typeSweepCursor = "schedule_sweep_cursor"
	schedMinute     = "2006-01-02T15:04"
)

func schedPK(minute time.Time, shard int) string {
	return "SCHED#" + minute.UTC().Format(schedMinute) + "#" + strconv.Itoa(shard)
}
func schedSK(sendAt time.Time, org, msgID string) string {
	return timestamp(sendAt) + "#" + org + "#" + msgID
}
func sweepCursorPK() string { return "SCHEDSWEEP" }
func sweepCursorSK() string { return "CURSOR" }

// ScheduleShard is the shard of a scheduled message's schedule item.
func ScheduleShard(msgID string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(msgID))
	return int(h.Sum32() % ScheduleShards)
}

// schedKey is the schedule item of a scheduled message.
func schedKey(org, msgID string, sendAt time.Time) key {
	return key{schedPK(sendAt.Truncate(time.Minute), ScheduleShard(msgID)), schedSK(sendAt, org, msgID)}
}

type schedItem struct {
	key
	Type      string `dynamodbav:"type"`
	OrgID     string `dynamodbav:"org_id"`
	MessageID string `dynamodbav:"message_id"`
	ContactID string `dynamodbav:"contact_id"`
	SendAt    string `dynamodbav:"send_at"`
}

func newSchedItem(m Message) schedItem {
	return schedItem{key: schedKey(m.OrgID, m.ID, *m.SendAt), Type: typeSchedule, OrgID: m.OrgID, MessageID: m.ID,
		ContactID: m.ContactID, SendAt: timestamp(*m.SendAt)}
}

// Scheduled is a due scheduled message, as its schedule item names it.
type Scheduled struct {
	OrgID     string
	MessageID string
	ContactID string
	SendAt    time.Time
}

// DueScheduled lists up to limit schedule items of one minute's shard whose
// send_at is at most now, oldest first; more says whether others are due.
func (s *Store) DueScheduled(ctx context.Context, minute time.Time, shard int, now time.Time, limit int) (due []Scheduled, more bool, err error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND sk < :upto"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(schedPK(minute.Truncate(time.Minute), shard)),
			// Every send_at up to now's millisecond, whatever follows it.
			":upto": str(timestamp(now.Truncate(time.Millisecond).Add(time.Millisecond))),
		},
		Limit: aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, false, unavailable("due scheduled messages", err)
	}
	for _, av := range res.Items {
		var it schedItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, false, fmt.Errorf("store: decode schedule item: %w", err)
		}
		due = append(due, Scheduled{OrgID: it.OrgID, MessageID: it.MessageID, ContactID: it.ContactID, SendAt: mustTime(it.SendAt)})
	}
	return due, len(res.LastEvaluatedKey) > 0, nil
}

// SweepCursor reads the first minute the sweep may still find due work in;
// ok is false before the first sweep.
func (s *Store) SweepCursor(ctx context.Context) (minute time.Time, ok bool, err error) {
	var it struct {
		Minute string `dynamodbav:"minute"`
	}
	found, err := s.getItem(ctx, key{sweepCursorPK(), sweepCursorSK()}, &it)
	if err != nil || !found {
		return time.Time{}, false, err
	}
	t, err := time.Parse(schedMinute, it.Minute)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: sweep cursor %q: %w", it.Minute, err)
	}
	return t.UTC(), true, nil
}

// MoveSweepCursor moves the sweep's cursor from prev (zero: none yet) to
// next, forward only. moved is false when another sweep moved it first.
func (s *Store) MoveSweepCursor(ctx context.Context, prev, next time.Time) (moved bool, err error) {
	if !next.After(prev) {
		return false, nil
	}
	cond := "attribute_not_exists(pk)"
	values := map[string]types.AttributeValue{":next": str(next.UTC().Format(schedMinute)), ":type": str(typeSweepCursor)}
	if !prev.IsZero() {
		cond = "#m = :prev"
		values[":prev"] = str(prev.UTC().Format(schedMinute))
	}
	in := updateInput(s.table, key{sweepCursorPK(), sweepCursorSK()}, "SET #m = :next, #t = :type", cond, values)
	in.ExpressionAttributeNames = map[string]string{"#t": attrType, "#m": "minute"}
	_, err = s.db.UpdateItem(ctx, in)
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, unavailable("move sweep cursor", err)
	}
	return true, nil
}

// ErrNotScheduled: the message is no longer scheduled (released, failed or
// cancelled by someone else first).
var ErrNotScheduled = errors.New("store: message is not scheduled")

// scheduledUpdate is the transactional update of a scheduled message,
// conditioned on it still being scheduled.
func (s *Store) scheduledUpdate(m Message, set string, values map[string]types.AttributeValue) types.TransactWriteItem {
	values[":sched"] = str(SendScheduled)
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(s.table), Key: key{msgPK(m.OrgID, m.ID), msgSK()}.av(),
		UpdateExpression:          aws.String(set),
		ConditionExpression:       aws.String("send_state = :sched"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: values,
	}}
}

func (s *Store) schedDelete(m Message) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: schedKey(m.OrgID, m.ID, *m.SendAt).av()}}
}

// ReleaseScheduled queues a scheduled message: scheduled → queued, its
// outbound job an outbox item and its schedule item deleted, in one
// transaction conditioned on the message still being scheduled
// (ErrNotScheduled otherwise) and, for a marketing message, on its contact
// not having opted out (the 422 contact_opted_out otherwise; a contact
// merged or deleted meanwhile is Unavailable: the next sweep reads it
// again). m is the message as read (Message), its ContactID the live
// contact's (a merged one's survivor).
func (s *Store) ReleaseScheduled(ctx context.Context, m Message, marketing bool) (Message, error) {
	if m.SendAt == nil {
		return m, fmt.Errorf("store: release %s: %w", m.ID, ErrNotScheduled)
	}
	now := s.now()
	items := []types.TransactWriteItem{
		s.scheduledUpdate(m, "SET send_state = :queued, #st = :queued, status_rank = :r, updated_at = :now",
			map[string]types.AttributeValue{":queued": str(SendQueued), ":r": num(strconv.Itoa(StatusRank(StatusQueued))), ":now": str(timestamp(now))}),
		s.schedDelete(m),
	}
	if marketing {
		check := s.liveContact(m.OrgID, m.ContactID)
		check.ConditionCheck.ConditionExpression = aws.String(*check.ConditionCheck.ConditionExpression + " AND " + notOptedOut)
		check.ConditionCheck.ExpressionAttributeValues = map[string]types.AttributeValue{":e": str("")}
		items = append(items, check)
	}
	items, err := s.withOutbox(items, Outbox{OrgID: m.OrgID, ContactID: m.ContactID,
		Job: &OutboxJob{OrgID: m.OrgID, ContactID: m.ContactID, MessageID: m.ID, Bulk: m.Bulk, Test: m.Test}})
	if err != nil {
		return m, err
	}
	err = s.transact(ctx, "release scheduled message", items, func(failed []bool) error {
		if failed[0] {
			return fmt.Errorf("store: release %s: %w", m.ID, ErrNotScheduled)
		}
		if marketing && failed[2] {
			c, err := s.Contact(ctx, m.OrgID, m.ContactID)
			if err == nil && c.ID == m.ContactID && c.OptOut != nil {
				return optedOut(c)
			}
		}
		// The contact was merged or deleted between the read and the
		// write: transient, the next sweep reads it again.
		return apperr.New(apperr.Unavailable, "the scheduled message's contact changed meanwhile, retried")
	})
	if err != nil {
		return m, err
	}
	m.Status = StatusQueued
	return m, nil
}

// FailScheduled ends a scheduled message failed, when its time came but it
// could not be sent (outside the customer-service window, its template no
// longer approved, its contact opted out): scheduled → failed with e, its
// schedule item deleted and emit's events (message.failed) an outbox item,
// one transaction; ErrNotScheduled when it is no longer scheduled.
func (s *Store) FailScheduled(ctx context.Context, m Message, e MessageError, emit Emit[Message]) (Message, error) {
	if m.SendAt == nil {
		return m, fmt.Errorf("store: fail %s: %w", m.ID, ErrNotScheduled)
	}
	now := s.now()
	items := []types.TransactWriteItem{
		s.scheduledUpdate(m, "SET send_state = :failed, #st = :failed, status_rank = :r, failed_at = :now, updated_at = :now, "+
			"error_code = :ec, error_title = :et, error_message = :em, error_details = :ed",
			map[string]types.AttributeValue{
				":failed": str(SendFailed), ":r": num(strconv.Itoa(StatusRank(StatusFailed))), ":now": str(timestamp(now)),
				":ec": num(strconv.Itoa(e.Code)), ":et": str(e.Title), ":em": str(e.Message), ":ed": str(e.Details),
			}),
		s.schedDelete(m),
	}
	m.Status, m.FailedAt, m.Error = StatusFailed, &now, &e
	items, err := emitted(s, items, emit, m.OrgID, m.ContactID, m)
	if err != nil {
		return m, err
	}
	err = s.transact(ctx, "fail scheduled message", items, func([]bool) error {
		return fmt.Errorf("store: fail %s: %w", m.ID, ErrNotScheduled)
	})
	return m, err
}

// CancelScheduled cancels one of an organisation's scheduled messages:
// scheduled → cancelled and its schedule item deleted, one transaction
// conditioned on the message still being scheduled; a message already
// released (queued or on), failed or cancelled answers 409
// message_not_scheduled with its status.
func (s *Store) CancelScheduled(ctx context.Context, org, msgID string) (Message, error) {
	m, err := s.Message(ctx, org, msgID)
	if err != nil {
		return m, err
	}
	notScheduled := func(status string) error {
		return apperr.New(apperr.Conflict, "the message is "+status+": only a scheduled message can be cancelled, before its send_at").
			WithCode("message_not_scheduled").With("status", status)
	}
	if m.Status != StatusScheduled || m.SendAt == nil {
		return m, notScheduled(m.Status)
	}
	now := s.now()
	items := []types.TransactWriteItem{
		s.scheduledUpdate(m, "SET send_state = :c, #st = :c, status_rank = :r, cancelled_at = :now, updated_at = :now",
			map[string]types.AttributeValue{":c": str(SendCancelled), ":r": num(strconv.Itoa(StatusRank(StatusCancelled))), ":now": str(timestamp(now))}),
		s.schedDelete(m),
	}
	lost := false
	if err := s.transact(ctx, "cancel scheduled message", items, func([]bool) error { lost = true; return nil }); err != nil {
		return m, err
	}
	if lost {
		// The sweep released it (or failed it) first.
		cur, err := s.Message(ctx, org, msgID)
		if err != nil {
			return m, err
		}
		return cur, notScheduled(cur.Status)
	}
	m.Status, m.CancelledAt = StatusCancelled, &now
	return m, nil
}

// DropSchedule deletes a schedule item whose message is no longer
// scheduled (or no longer exists): the sweep's clean-up of what a
// transaction did not remove.
func (s *Store) DropSchedule(ctx context.Context, d Scheduled) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: schedKey(d.OrgID, d.MessageID, d.SendAt).av()})
	if err != nil {
		return unavailable("drop schedule item", err)
	}
	return nil
}

// LastInbound is the contact's latest customer message time (nil: never),
// for the customer-service window of a scheduled message released now.
func (s *Store) LastInbound(ctx context.Context, org, contactID string) (*time.Time, error) {
	return s.lastInbound(ctx, org, contactID)
}
