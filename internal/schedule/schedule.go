// Package schedule is the sweep that sends scheduled single messages
// (POST /v1/messages with send_at) when their time comes. It runs from the
// campaign runner's EventBridge schedule (every minute; every 2 s on the
// local stack), so a message is late by at most one period.
//
// Each run reads the sweep's cursor (the first minute that may still hold
// due work; store/schedule.go), Queries every shard of every minute from
// there to now for schedule items due by now, and releases each message
// (accept.Release: the time-dependent checks, then scheduled → queued with
// its outbound job, or failed, in one conditional transaction). The cursor
// moves past a minute only when all of its shards were read to the end
// and every release in it succeeded: a message whose release failed (the
// table throttled, the function timed out) is found again by the next run.
// Runs that overlap or repeat release nothing twice.
package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/store"
)

// Store is what the sweep reads and writes (store.Store).
type Store interface {
	accept.ReleaseStore
	DueScheduled(ctx context.Context, minute time.Time, shard int, now time.Time, limit int) ([]store.Scheduled, bool, error)
	SweepCursor(ctx context.Context) (time.Time, bool, error)
	MoveSweepCursor(ctx context.Context, prev, next time.Time) (bool, error)
	Reader
}

// Reader reads what message.failed carries besides the message.
type Reader interface {
	Contact(ctx context.Context, org, id string) (store.Contact, error)
	Conversation(ctx context.Context, org, id string) (store.Conversation, error)
}

// FailedEvents builds message.failed (with the message's contact and
// conversation, as the sender's) for a scheduled message that could not be
// sent at its time; it is written with the failure, one transaction.
func FailedEvents(r Reader, now func() time.Time) accept.FailedEmit {
	return func(ctx context.Context, m store.Message) store.Emit[store.Message] {
		// A contact deleted (or a conversation gone) since: the event
		// names it by id; failing here would hold the message for ever.
		ct, err := r.Contact(ctx, m.OrgID, m.ContactID)
		if apperr.Is(err, apperr.NotFound) {
			ct, err = store.Contact{ID: m.ContactID, OrgID: m.OrgID}, nil
		}
		if err != nil {
			return func(store.Message) ([]json.RawMessage, error) {
				return nil, fmt.Errorf("schedule: message.failed contact: %w", err)
			}
		}
		cv, err := r.Conversation(ctx, m.OrgID, m.ConversationID)
		if apperr.Is(err, apperr.NotFound) {
			cv, err = store.Conversation{ID: m.ConversationID, OrgID: m.OrgID, ContactID: m.ContactID}, nil
		}
		if err != nil {
			return func(store.Message) ([]json.RawMessage, error) {
				return nil, fmt.Errorf("schedule: message.failed conversation: %w", err)
			}
		}
		return func(m store.Message) ([]json.RawMessage, error) {
			ev, err := event.MessageEvent(event.MessageFailed, m.OrgID, m.ID, now(), m, ct, cv)
			if err != nil {
				return nil, err
			}
			return event.Outbox(ev)
		}
	}
}

var _ Store = (*store.Store)(nil)

// Defaults of a Sweeper.
const (
	// FirstLookback is how far back the first sweep ever starts (no cursor
	// yet): the sweep runs from the deployment on, and a message is
	// scheduled at least a minute ahead.
	FirstLookback = 10 * time.Minute
	// MaxMinutes bounds the minutes one run reads (after an outage, the
	// backlog is worked off over the next runs, oldest first, while the
	// latest minutes are read every run: see minutes).
	MaxMinutes = 120
	pageSize   = 100
	// maxPages bounds the pages of one shard's minute a run reads (what is
	// left is the next run's).
	maxPages = 50
	// reserve is the time a run keeps for moving its cursor.
	reserve = 5 * time.Second
)

// Sweeper releases due scheduled messages.
type Sweeper struct {
	// Minutes bounds the minutes a run reads (default MaxMinutes).
	Minutes int
	store   Store
	accept  *accept.Accepter
	emit    accept.FailedEmit
	log     *slog.Logger
	now     func() time.Time
}

// New returns a Sweeper; emit builds message.failed for a message that
// could not be sent at its time.
func New(s Store, a *accept.Accepter, emit accept.FailedEmit, log *slog.Logger, now func() time.Time) *Sweeper {
	return &Sweeper{Minutes: MaxMinutes, store: s, accept: a, emit: emit, log: log, now: now}
}

// Result is what a run did.
type Result struct {
	Released int // queued, or failed at send time, or found no longer scheduled
	Errors   int // releases left for the next run
	Minutes  int // minutes read
	Cursor   time.Time
}

// Tick runs one sweep. The first error is returned (after the rest of the
// run's work) so the schedule's run is marked failed; everything not done
// is found again by the next run.
func (w *Sweeper) Tick(ctx context.Context) (Result, error) {
	now := w.now().UTC()
	cur, ok, err := w.store.SweepCursor(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("schedule: read cursor: %w", err)
	}
	var prev time.Time
	if ok {
		prev = cur
	} else {
		cur = now.Add(-FirstLookback).Truncate(time.Minute)
	}
	end := now.Truncate(time.Minute)
	res := Result{Cursor: cur}
	var first error
	clean := true // every minute so far read to its end, every release done
	for _, m := range minutes(cur, end, w.Minutes) {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < reserve {
			break
		}
		res.Minutes++
		n, errs, done, err := w.minute(ctx, m, now)
		res.Released += n
		res.Errors += errs
		if err != nil && first == nil {
			first = err
		}
		// The cursor passes the minutes read whole and clean, in a row
		// from it; never the current minute (more of it falls due).
		if clean && done && errs == 0 && m.Before(end) && m.Equal(res.Cursor) {
			res.Cursor = m.Add(time.Minute)
		} else {
			clean = false
		}
	}
	if res.Cursor.After(cur) || !ok {
		if _, err := w.store.MoveSweepCursor(ctx, prev, res.Cursor); err != nil && first == nil {
			first = fmt.Errorf("schedule: move cursor: %w", err)
		}
	}
	return res, first
}

// minutes are the minutes a run reads, oldest first: from the cursor on,
// and, when that is more than most, the first most/2 of them (a backlog is
// worked off oldest first) and the last most/2 up to now, so a minute that
// keeps failing (its failures logged, the run marked failed) never holds
// back the messages due now.
func minutes(cur, end time.Time, most int) []time.Time {
	most = max(most, 2)
	var out []time.Time
	n := int(end.Sub(cur)/time.Minute) + 1
	for i := 0; i < n; i++ {
		if n > most && i == most/2 {
			i = n - most/2
		}
		out = append(out, cur.Add(time.Duration(i)*time.Minute))
	}
	return out
}

// minute releases the due messages of one minute, its shards in parallel.
// done: every shard was read to its end.
func (w *Sweeper) minute(ctx context.Context, m, now time.Time) (released, errs int, done bool, first error) {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	done = true
	for shard := 0; shard < store.ScheduleShards; shard++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, e, d, err := w.shard(ctx, m, shard, now)
			mu.Lock()
			defer mu.Unlock()
			released += n
			errs += e
			done = done && d
			if err != nil && first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	return released, errs, done, first
}

// shard releases one shard's due messages of a minute, page by page. A
// release that fails is counted and left for the next run (its item stays,
// so a page that fails whole stops the shard: it would read it again).
func (w *Sweeper) shard(ctx context.Context, m time.Time, shard int, now time.Time) (released, errs int, done bool, first error) {
	for page := 0; page < maxPages; page++ {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < reserve {
			return released, errs, false, first
		}
		due, more, err := w.store.DueScheduled(ctx, m, shard, now, pageSize)
		if err != nil {
			return released, errs + 1, false, fmt.Errorf("schedule: read %s shard %d: %w", m.Format(time.RFC3339), shard, err)
		}
		pageErrs := 0
		for _, d := range due {
			msg, err := w.accept.Release(ctx, w.store, d, now, w.emit)
			if err != nil {
				pageErrs++
				w.log.ErrorContext(ctx, "scheduled message not released; retried next run", "org_id", d.OrgID, "message_id", d.MessageID, "error", err.Error())
				if first == nil {
					first = fmt.Errorf("schedule: release %s: %w", d.MessageID, err)
				}
				continue
			}
			released++
			w.log.InfoContext(ctx, "scheduled message released", "org_id", d.OrgID, "message_id", d.MessageID, "status", msg.Status,
				"late_ms", now.Sub(d.SendAt).Milliseconds())
		}
		errs += pageErrs
		if pageErrs > 0 {
			// Its failed items are still there: reading on would read them again.
			return released, errs, false, first
		}
		if !more {
			return released, errs, true, first
		}
	}
	return released, errs, false, first
}
