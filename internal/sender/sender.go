// Package sender consumes the outbound FIFO queues (transactional and
// bulk) and sends each message through the Graph API, once.
//
// Per message: claim it (a conditional queued → sending transition with a
// lease, so a redelivered queue message or a second sender finds it taken or
// done), check the organisation's WhatsApp connection (an account Meta
// refused with error 190 fails fast until its settings are saved again),
// pace it under Meta's pair rate limit for its recipient, take a send
// token of its number in its lane (internal/sendlimit: the number's
// throughput limit, shared by every concurrent sender), POST it, and
// record the wamid (statuses that beat us to it are applied then). Meta's
// errors are classified: retryable ones go back to the queue with a backoff
// (the queue message's visibility), terminal ones mark the message failed
// (and the account unhealthy for account errors) and emit message.failed.
//
// The queues are FIFO with one message group per organisation and
// recipient; a batch's groups are worked on concurrently, each group's
// records in order, and after a record of a group that must be retried
// the group's later records are reported failed without being touched, so
// a recipient's messages keep their order.
package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/ctxsleep"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/logctx"
	"github.com/pytake/pytake/internal/metrics"
	"github.com/pytake/pytake/internal/optout"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/sendlimit"
	"github.com/pytake/pytake/internal/store"
)

// Job is the body of an outbound queue message.
type Job struct {
	OrgID     string `json:"org_id"`
	MessageID string `json:"message_id"`
	// Bulk: a non-bulk message that overflowed its organisation's share
	// of the transactional lane to the bulk queue; paced as bulk.
	Bulk bool `json:"bulk,omitempty"`
	// After: the recipient's previous message, queued in the other lane;
	// this one is held until that one is no longer queued.
	After string `json:"after,omitempty"`
}

// Store is what the sender needs from the store.
type Store interface {
	ClaimSend(ctx context.Context, org, msgID string, lease time.Duration) (store.Claim, error)
	SendAttempt(ctx context.Context, c store.Claim) error
	SendAccepted(ctx context.Context, c store.Claim, wamid string) ([]store.StatusUpdate, error)
	SendRetry(ctx context.Context, c store.Claim, reason string) error
	SendRelease(ctx context.Context, c store.Claim, reason string) error
	SendFailed(ctx context.Context, c store.Claim, e store.MessageError) (store.Message, error)
	FailStranded(ctx context.Context, org, msgID string, e store.MessageError) (store.Claim, error)
	LeaseSendTokens(ctx context.Context, phoneNumberID string, second int64, want, ceiling int) (int, error)
	TakeToken(ctx context.Context, b store.Bucket) (store.Take, error)
	WhatsAppAccount(ctx context.Context, orgID string) (store.WhatsAppAccount, error)
	MarkWhatsAppUnhealthy(ctx context.Context, orgID, reason string) error
	ApplyStatus(ctx context.Context, u store.StatusUpdate) (store.StatusResult, error)
	MarkStatusEventsSent(ctx context.Context, org, msgID, status string) error
	StatusesPendingEvents(ctx context.Context, org, msgID string) ([]string, error)
	EarlyStatuses(ctx context.Context, org, wamid string) ([]store.StatusUpdate, error)
	EventContext(ctx context.Context, m store.Message) (store.Contact, store.Conversation, error)
	RefreshEventContext(ctx context.Context, org, msgID, contactID, convID string) error
	Message(ctx context.Context, org, msgID string) (store.Message, error)
	RecordWhatsAppID(ctx context.Context, org, contactID, waID string) (store.Contact, *store.Merge, error)
	SkipQueuedRecipient(ctx context.Context, org, campaignID, contactID, reason, detail string) error
	ContactOptOut(ctx context.Context, org, contactID, convID string) (*store.OptOut, error)
	optout.Opter
}

// Secrets reads credentials (cached) and forgets them when they change.
type Secrets interface {
	Get(ctx context.Context, orgID, provider string, v any) error
	Forget(orgID, provider string)
}

// Graph sends messages.
type Graph interface {
	SendMessage(ctx context.Context, version, phoneNumberID, token string, body []byte) (graph.SendResult, error)
}

// Queue delays a received outbound queue message (the retry delay);
// *queue.Queue does.
type Queue interface {
	Delay(ctx context.Context, receiptHandle string, d time.Duration) error
}

// Publisher publishes events.
type Publisher interface {
	Publish(ctx context.Context, evs ...event.Event) error
}

// Deps wires a Sender.
type Deps struct {
	Store   Store
	Secrets Secrets
	Graph   Graph
	Queue   Queue
	// DeadLetter is the outbound dead-letter queue, when this function
	// consumes it too: its records are failed, never sent.
	DeadLetter *queue.Queue
	// BulkQueue and BulkDeadLetter are the bulk lane's queues, when this
	// function consumes them: a record is delayed on the queue it came
	// from, and the bulk dead-letter queue's records are failed too.
	BulkQueue      *queue.Queue
	BulkDeadLetter *queue.Queue
	Events         Publisher
	GraphVersion   string
	// RatePerSecond is a number's send limit when Meta reports no HIGH
	// throughput level and no override is set (default 80).
	RatePerSecond int
	// Limiter hands out the numbers' send tokens (default: one on Store;
	// an invocation's concurrent senders share it).
	Limiter *sendlimit.Limiter
	// AccountTTL is how long an invocation uses a healthy account it read
	// (default 1 s): at 1,000 sends/s an organisation's account item is
	// read about once a second per invocation, not once per message. An
	// unhealthy one is read again every time; settings saved elsewhere are
	// seen within AccountTTL.
	AccountTTL time.Duration
	// Workers is how many of a batch's message groups are worked on at
	// once (default 10, a batch's size: every group of a full batch).
	Workers int
	Lease   time.Duration // how long a claim holds (default 60 s)
	// OutcomeBound is how long a send whose outcome is unknown (the POST
	// started, nothing recorded) waits for a status from Meta naming it
	// before it is failed (default 10 min).
	OutcomeBound time.Duration
	Log          *slog.Logger
	Now          func() time.Time
	Sleep        func(ctx context.Context, d time.Duration) error
	Rand         func() float64
}

// Sender is the outbound queue consumer.
type Sender struct {
	d Deps

	mu       sync.Mutex
	loaded   map[string]time.Time // org → when its credentials were read
	accounts map[string]cachedAccount
}

// cachedAccount is a healthy account as read at a time.
type cachedAccount struct {
	acct store.WhatsAppAccount
	at   time.Time
}

// New returns a Sender with defaults filled in.
func New(d Deps) *Sender {
	if d.RatePerSecond <= 0 {
		d.RatePerSecond = 80
	}
	if d.Workers <= 0 {
		d.Workers = 10
	}
	if d.Lease <= 0 {
		d.Lease = 60 * time.Second
	}
	if d.OutcomeBound <= 0 {
		d.OutcomeBound = 10 * time.Minute
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Sleep == nil {
		d.Sleep = ctxsleep.Sleep
	}
	if d.Rand == nil {
		d.Rand = rand.Float64
	}
	if d.Limiter == nil {
		d.Limiter = sendlimit.New(sendlimit.Config{Store: d.Store, Now: d.Now, Sleep: d.Sleep})
	}
	if d.AccountTTL <= 0 {
		d.AccountTTL = time.Second
	}
	return &Sender{d: d, loaded: map[string]time.Time{}, accounts: map[string]cachedAccount{}}
}

// outcome of one message.
type outcome int

const (
	done  outcome = iota // sent, failed for good, or nothing to do: delete it
	retry                // keep it: it comes back after its visibility timeout
)

// Handle processes a batch, reporting the messages to keep.
//
// A batch's message groups (a recipient of an organisation each) are
// worked on concurrently, up to Deps.Workers at once; within a group the
// records go one after another. FIFO: once a record must be retried, the
// later records of its group are kept untouched (a recipient's messages
// keep their order); other groups go on. A batch with a record that names
// no group is worked on in order, one record at a time, and such a record
// is held back behind any retried one.
func (s *Sender) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	keep := make([]bool, len(ev.Records))
	groups, ok := groupsOf(ev.Records)
	if !ok {
		s.sequential(ctx, ev.Records, keep)
	} else {
		sem := make(chan struct{}, s.d.Workers)
		var wg sync.WaitGroup
		for _, g := range groups {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				s.group(ctx, ev.Records, g, keep)
			}()
		}
		wg.Wait()
	}
	var resp events.SQSEventResponse
	for i, rec := range ev.Records {
		if keep[i] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// deadLetter: the record is from a dead-letter queue.
func (s *Sender) deadLetter(rec events.SQSMessage) bool {
	for _, q := range []*queue.Queue{s.d.DeadLetter, s.d.BulkDeadLetter} {
		if q != nil && q.IsSource(rec.EventSourceARN) {
			return true
		}
	}
	return false
}

// groupsOf gives the indexes of the records of each message group, in
// order; false when some record names no group.
func groupsOf(recs []events.SQSMessage) ([][]int, bool) {
	at := map[string]int{}
	var groups [][]int
	for i, rec := range recs {
		g, named := rec.Attributes["MessageGroupId"]
		if !named {
			return nil, false
		}
		// The dead-letter queue's groups are apart from the queue's.
		g = rec.EventSourceARN + "\x00" + g
		j, seen := at[g]
		if !seen {
			j = len(groups)
			at[g] = j
			groups = append(groups, nil)
		}
		groups[j] = append(groups[j], i)
	}
	return groups, true
}

// group works on one message group's records in order, setting keep for
// those to keep. A panic keeps the record under way and the rest of the
// group (they come back), instead of ending the invocation with the other
// groups' work unreported.
func (s *Sender) group(ctx context.Context, recs []events.SQSMessage, idx []int, keep []bool) {
	k := 0
	defer func() {
		if p := recover(); p != nil {
			s.d.Log.ErrorContext(ctx, "sender panicked; the group's remaining records are kept", "panic", fmt.Sprint(p))
			for _, i := range idx[k:] {
				keep[i] = true
			}
		}
	}()
	held := false
	for ; k < len(idx); k++ {
		i := idx[k]
		rec := recs[i]
		if s.deadLetter(rec) {
			keep[i] = s.deadLettered(ctx, rec) == retry
			continue
		}
		if held {
			keep[i] = s.holdBack(ctx, rec) == retry
			continue
		}
		if s.process(ctx, rec) == retry {
			keep[i] = true
			held = true
		}
	}
}

// holdBack keeps a record of a FIFO group behind its group's retried
// record, visible again at once: FIFO returns nothing of a group while one
// of its records is in flight, so left for the queue's visibility timeout
// (180 s) it would hold the recipient's messages that long, not the
// retried record's delay; visible, it is still returned only after the
// retried record (the group's order).
func (s *Sender) holdBack(ctx context.Context, rec events.SQSMessage) outcome {
	return s.later(ctx, rec, time.Second, s.d.Log.With("sqs_message_id", rec.MessageId))
}

// sequential is Handle for a batch with a record that names no group.
func (s *Sender) sequential(ctx context.Context, recs []events.SQSMessage, keep []bool) {
	held := map[string]bool{}
	holdAll := false
	for i, rec := range recs {
		if s.deadLetter(rec) {
			keep[i] = s.deadLettered(ctx, rec) == retry
			continue
		}
		group, named := rec.Attributes["MessageGroupId"]
		if named && held[group] {
			keep[i] = s.holdBack(ctx, rec) == retry
			continue
		}
		if holdAll || (!named && len(held) > 0) {
			keep[i] = true
			continue
		}
		if s.process(ctx, rec) == retry {
			keep[i] = true
			if named {
				held[group] = true
			} else {
				holdAll = true
			}
		}
	}
}

func (s *Sender) process(ctx context.Context, rec events.SQSMessage) outcome {
	ctx = logctx.With(ctx, "sqs_message_id", rec.MessageId)
	var job Job
	if err := json.Unmarshal([]byte(rec.Body), &job); err != nil || job.OrgID == "" || job.MessageID == "" {
		s.d.Log.ErrorContext(ctx, "outbound job is not valid; dropped", "body_size", len(rec.Body))
		return done
	}
	log := s.d.Log.With("org_id", job.OrgID, "message_id", job.MessageID)
	claim, err := s.d.Store.ClaimSend(ctx, job.OrgID, job.MessageID, s.d.Lease)
	switch {
	case errors.Is(err, store.ErrNotClaimable):
		switch claim.State {
		case store.SendSending:
			// Another sender holds it: look again after its lease.
			return s.later(ctx, rec, s.d.Lease, log)
		case store.SendFailed:
			// The queue message came back: its message.failed may not have
			// been published (published again by the same id otherwise).
			if !s.publishMessage(ctx, event.MessageFailed, claim.Message.ID, claim.Message, store.StatusFailed, log) {
				return s.later(ctx, rec, 5*time.Second, log)
			}
		case store.SendAccepted:
			if !s.publishPendingStatuses(ctx, claim.Message, log) {
				return s.later(ctx, rec, 5*time.Second, log)
			}
		}
		log.InfoContext(ctx, "outbound message already handled", "state", claim.State)
		return done
	case apperr.Is(err, apperr.NotFound):
		log.ErrorContext(ctx, "outbound message not found; dropped")
		return done
	case err != nil:
		log.WarnContext(ctx, "claim failed", "error", err.Error())
		return s.later(ctx, rec, s.backoff(1, 0), log)
	}
	if claim.UnknownSince != nil {
		return s.unknown(ctx, rec, claim, log)
	}
	if job.After != "" {
		if o, held := s.heldBehind(ctx, rec, claim, job.After, log); held {
			return o
		}
	}
	// An overflowed message is paced as bulk (its lane's headroom).
	claim.Message.Bulk = claim.Message.Bulk || job.Bulk
	if !s.createdEvents(ctx, claim.Message, log) {
		return s.retryNoAttempt(ctx, rec, claim, "events not published", log)
	}
	return s.send(ctx, rec, claim, log)
}

// heldBehind holds a message whose recipient's previous message is in
// the other lane (Job.After) while that one is still queued: postponed
// (not an attempt), for longer each time it comes back (1 s doubling to
// 30 s: 40 receives, the transactional queue's redrive count, span about
// 18 minutes). A previous message not found, sent or failed lets it go.
func (s *Sender) heldBehind(ctx context.Context, rec events.SQSMessage, c store.Claim, after string, log *slog.Logger) (outcome, bool) {
	prev, err := s.d.Store.Message(ctx, c.Message.OrgID, after)
	switch {
	case apperr.Is(err, apperr.NotFound):
		return done, false
	case err != nil:
		return s.retryNoAttempt(ctx, rec, c, "previous message not read: "+err.Error(), log), true
	case prev.Status != store.StatusQueued:
		return done, false
	}
	n, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	d := min(time.Second<<min(max(n-1, 0), 5), afterMaxWait)
	return s.postpone(ctx, rec, c, "its recipient's previous message "+after+" is still queued in the other lane", d, log), true
}

// afterMaxWait is the longest a held message waits between looks.
const afterMaxWait = 30 * time.Second

// createdEvents publishes contact.created and conversation.created for a
// message whose acceptance created them, before it is sent (by stable
// ids: a repeat is deduplicated downstream). False: try again later.
func (s *Sender) createdEvents(ctx context.Context, m store.Message, log *slog.Logger) bool {
	if (!m.CreatedContact && !m.CreatedConversation) || m.Test {
		// A test key's message emits only events that say they are tests
		// (its statuses); see testmode.go.
		return true
	}
	// Not m.Context alone: a resolve, handoff or merge between the accept
	// and now is only in the event view and the merge redirect, which the
	// sender reads nowhere else (TestCreatedEventsShowChangesSinceAccept).
	// Only messages that created their contact or conversation pay it.
	ct, cv, err := s.d.Store.EventContext(ctx, m)
	if err != nil {
		log.WarnContext(ctx, "created events not published: contact or conversation", "error", err.Error())
		return false
	}
	var evs []event.Event
	if m.CreatedContact {
		ev, err := event.New(event.StableID(m.OrgID, event.ContactCreated, ct.ID), event.ContactCreated, m.OrgID, s.d.Now(),
			map[string]any{"contact": event.ViewContact(ct)})
		if err != nil {
			log.ErrorContext(ctx, "contact.created not built", "error", err.Error())
			return false
		}
		evs = append(evs, ev)
	}
	if m.CreatedConversation {
		ev, err := event.New(event.StableID(m.OrgID, event.ConversationCreated, cv.ID), event.ConversationCreated, m.OrgID, s.d.Now(),
			map[string]any{"conversation": event.ViewConversation(cv), "contact": event.ViewContact(ct)})
		if err != nil {
			log.ErrorContext(ctx, "conversation.created not built", "error", err.Error())
			return false
		}
		evs = append(evs, ev)
	}
	if err := s.d.Events.Publish(ctx, evs...); err != nil {
		log.WarnContext(ctx, "created events not published", "error", err.Error())
		return false
	}
	return true
}

// deadLettered ends a message whose queue message reached the dead-letter
// queue: failed with a reason, and message.failed. A message that was
// sent or failed meanwhile only gets its pending events published; one a
// sender holds is looked at again after its lease.
func (s *Sender) deadLettered(ctx context.Context, rec events.SQSMessage) outcome {
	ctx = logctx.With(ctx, "sqs_message_id", rec.MessageId)
	var job Job
	if err := json.Unmarshal([]byte(rec.Body), &job); err != nil || job.OrgID == "" || job.MessageID == "" {
		s.d.Log.ErrorContext(ctx, "dead-lettered outbound job is not valid; dropped", "body_size", len(rec.Body))
		return done
	}
	log := s.d.Log.With("org_id", job.OrgID, "message_id", job.MessageID, "dead_letter", true)
	c, err := s.d.Store.FailStranded(ctx, job.OrgID, job.MessageID, store.MessageError{Title: "dead_lettered",
		Message: "its outbound queue message failed too many times and reached the dead-letter queue; it is not sent again " +
			"(last_error says why it was last retried; if a send was under way, it may have reached the customer)"})
	switch {
	case errors.Is(err, store.ErrNotClaimable):
		switch c.State {
		case store.SendSending:
			return s.later(ctx, rec, s.d.Lease, log)
		case store.SendFailed:
			if !s.publishMessage(ctx, event.MessageFailed, c.Message.ID, c.Message, store.StatusFailed, log) {
				return s.later(ctx, rec, 5*time.Second, log)
			}
		case store.SendAccepted:
			if !s.publishPendingStatuses(ctx, c.Message, log) {
				return s.later(ctx, rec, 5*time.Second, log)
			}
		}
		return done
	case apperr.Is(err, apperr.NotFound):
		log.ErrorContext(ctx, "dead-lettered outbound message not found; dropped")
		return done
	case err != nil:
		log.WarnContext(ctx, "dead-lettered message not marked failed; retried", "error", err.Error())
		return s.later(ctx, rec, 5*time.Second, log)
	}
	log.ErrorContext(ctx, "outbound message dead-lettered; failed", "last_error", c.Message.LastError)
	if !s.createdEvents(ctx, c.Message, log) || !s.publishMessage(ctx, event.MessageFailed, c.Message.ID, c.Message, store.StatusFailed, log) {
		return s.later(ctx, rec, 5*time.Second, log)
	}
	return done
}

// unknown handles a message whose earlier POST to Meta has no recorded
// outcome: it is not sent again. A status from Meta naming it (its
// biz_opaque_callback_data) records the wamid; after OutcomeBound without
// one, it is failed, saying the outcome is unknown.
func (s *Sender) unknown(ctx context.Context, rec events.SQSMessage, c store.Claim, log *slog.Logger) outcome {
	waited := s.d.Now().Sub(*c.UnknownSince)
	if waited >= s.d.OutcomeBound {
		return s.fail(ctx, rec, c, store.MessageError{Title: "outcome_unknown",
			Message: "the outcome of sending this message is unknown: the request to Meta was made at " +
				c.UnknownSince.UTC().Format(time.RFC3339) + " and no answer or status was recorded within " + s.d.OutcomeBound.String() +
				"; it was not sent again (it may have reached the customer)"}, log)
	}
	log.WarnContext(ctx, "send outcome unknown; waiting for Meta's status, not resending", "since", c.UnknownSince.UTC().Format(time.RFC3339))
	return s.later(ctx, rec, s.unknownPoll(), log)
}

// unknownPoll is how often a message of unknown outcome is looked at
// again: at least a lease (its claim must have expired), at most a fifth
// of the bound.
func (s *Sender) unknownPoll() time.Duration {
	return max(s.d.Lease+time.Second, s.d.OutcomeBound/5)
}

// Time kept, after the Graph call, for recording its outcome; a call
// needs at least minGraphTime of its own.
const (
	recordReserve = 8 * time.Second
	minGraphTime  = 2 * time.Second
)

func (s *Sender) send(ctx context.Context, rec events.SQSMessage, c store.Claim, log *slog.Logger) outcome {
	m := c.Message
	if m.Bulk || m.Marketing {
		if o, ok := s.optedOut(ctx, rec, c, log); !ok {
			return o
		}
	}
	if m.Test {
		// Never Meta: see testmode.go.
		return s.sendTest(ctx, rec, c, log)
	}
	acct, err := s.account(ctx, m.OrgID)
	if apperr.Is(err, apperr.NotFound) {
		return s.fail(ctx, rec, c, store.MessageError{Code: 0, Title: "whatsapp_not_configured",
			Message: "WhatsApp is not configured for this organization"}, log)
	}
	if err != nil {
		return s.retry(ctx, rec, c, "store: "+err.Error(), 0, log)
	}
	ctx = context.WithValue(ctx, numberKey{}, acct.PhoneNumberID)
	if !acct.Healthy {
		return s.fail(ctx, rec, c, store.MessageError{Code: 190, Title: "whatsapp_connection_unhealthy",
			Message: "the WhatsApp connection was refused by Meta (" + acct.UnhealthyReason + "); update the WhatsApp settings",
		}, log)
	}
	var creds secrets.WhatsApp
	if err := s.credentials(ctx, acct, &creds); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return s.fail(ctx, rec, c, store.MessageError{Title: "whatsapp_not_configured", Message: "WhatsApp credentials are missing"}, log)
		}
		return s.retry(ctx, rec, c, "secrets: "+err.Error(), 0, log)
	}
	body, err := outbound.MetaBody(m.To, outbound.Request{Type: m.Type, Content: m.Content, ContextWAMID: m.ContextWAMID,
		BizOpaque: store.CallbackPrefix + m.ID})
	if err != nil {
		return s.fail(ctx, rec, c, store.MessageError{Code: 100, Title: "invalid_message", Message: err.Error()}, log)
	}
	if ok, wait, err := s.pair(ctx, acct, m); err != nil {
		return s.retry(ctx, rec, c, "pair pacing: "+err.Error(), 0, log)
	} else if !ok {
		// Paced, not provoked: Meta's 131056 is not asked for.
		return s.postpone(ctx, rec, c, "this recipient's pair rate (one message every 6 s, bursts of 45) is used up", wait, log)
	}
	until, err := s.slot(ctx, acct, m)
	if err != nil {
		return s.noSlot(ctx, rec, c, err, log)
	}
	version := acct.GraphAPIVersion
	if version == "" {
		version = creds.GraphAPIVersion
	}
	if version == "" {
		version = s.d.GraphVersion
	}
	// The call must end in time to record its outcome.
	gctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		end := dl.Add(-recordReserve)
		if end.Sub(s.d.Now()) < minGraphTime {
			return s.retryNoAttempt(ctx, rec, c, "not enough time left in this invocation to send and record it", log)
		}
		var cancel context.CancelFunc
		gctx, cancel = context.WithDeadline(ctx, end)
		defer cancel()
	}
	// Recorded before the POST: if this invocation never records the
	// outcome, the next one knows Meta may have the message.
	if err := s.d.Store.SendAttempt(ctx, c); err != nil {
		if errors.Is(err, store.ErrNotClaimable) {
			return done
		}
		return s.retry(ctx, rec, c, "store: "+err.Error(), 0, log)
	}
	if !s.d.Limiter.Usable(until) {
		// The attempt's write outlasted the token's second: spent now it
		// would be over this second's budget. Another, of this second
		// (nothing is written between it and the POST); without one, the
		// release clears the attempt.
		if _, err := s.slot(ctx, acct, m); err != nil {
			return s.noSlot(ctx, rec, c, err, log)
		}
	}
	started := s.d.Now()
	res, err := s.d.Graph.SendMessage(gctx, version, acct.PhoneNumberID, creds.AccessToken, body)
	metrics.From(ctx).Duration(metrics.GraphLatency, s.d.Now().Sub(started))
	if err != nil && !answered(err) {
		// The request may have reached Meta (a timeout, a broken
		// connection): not sent again; reconciled by Meta's status.
		log.WarnContext(ctx, "send outcome unknown", "error", err.Error())
		return s.later(ctx, rec, s.unknownPoll(), log)
	}
	if err != nil {
		d := outbound.Classify(err)
		merr := store.MessageError{Code: d.Code, Title: d.Class.String(), Message: d.Message, Details: d.Details}
		switch {
		case d.Class == outbound.FailAccount:
			s.forgetAccount(m.OrgID)
			if uerr := s.d.Store.MarkWhatsAppUnhealthy(ctx, m.OrgID, "Meta error "+strconv.Itoa(d.Code)+": "+d.Message); uerr != nil {
				log.ErrorContext(ctx, "could not mark the WhatsApp connection unhealthy", "error", uerr.Error())
			}
			s.d.Secrets.Forget(m.OrgID, secrets.ProviderWhatsApp)
			return s.fail(ctx, rec, c, merr, log)
		case d.Class == outbound.FailMessage:
			// 131050: the user stopped marketing messages; the contact is
			// opted out (best effort here: Meta's failed status, which
			// carries the same error, records it too).
			if oerr := optout.MetaRefused(ctx, s.d.Store, s.d.Events, s.d.Now(), m, &merr); oerr != nil {
				log.ErrorContext(ctx, "could not record the contact's opt-out (131050)", "error", oerr.Error())
			}
			return s.fail(ctx, rec, c, merr, log)
		case m.Attempts >= outbound.MaxAttempts:
			merr.Message = "gave up after " + strconv.Itoa(m.Attempts) + " attempts: " + merr.Message
			return s.fail(ctx, rec, c, merr, log)
		default:
			return s.retry(ctx, rec, c, err.Error(), retryAfter(err), log)
		}
	}
	early, err := s.acceptWithRetries(ctx, c, res.WAMID)
	if errors.Is(err, store.ErrNotClaimable) {
		// Our lease ran out and another sender holds it: it finds the
		// attempt recorded and waits for Meta's status.
		log.ErrorContext(ctx, "sent, claim lost before recording", "wamid", res.WAMID)
		return done
	}
	if err != nil {
		// Sent, but the wamid is not recorded: keep the queue message.
		// The attempt recorded before the POST stops a resend; Meta's
		// status (carrying the message id) records the wamid, or the
		// message ends failed with an unknown outcome after the bound.
		log.ErrorContext(ctx, "sent but not recorded", "wamid", res.WAMID, "error", err.Error())
		return s.later(ctx, rec, s.unknownPoll(), log)
	}
	log.InfoContext(ctx, "sent", "wamid", res.WAMID, "attempts", m.Attempts)
	metrics.From(ctx).Count(metrics.MessagesAccepted, 1, metrics.Number(acct.PhoneNumberID))
	if res.WaID != "" && res.WaID != m.To {
		s.recordWaID(ctx, m, res.WaID, log)
	}
	complete := true
	for _, u := range early {
		r, err := s.d.Store.ApplyStatus(ctx, u)
		if err != nil {
			complete = false
			continue
		}
		if !r.Applied {
			continue
		}
		if !s.statusEvent(ctx, r.Message, u.Status, log) {
			complete = false
		}
	}
	if !complete {
		// The queue message comes back, finds the message accepted and
		// publishes what is still pending.
		return s.later(ctx, rec, 5*time.Second, log)
	}
	return done
}

// optedOut checks, right before a bulk or marketing message is sent, that
// its contact has not opted out since the message was queued (one read of
// the contact's open pointer, store.ContactOptOut: the accepting
// transaction checked it then). An opted-out
// contact's message is failed, never sent, and its campaign's recipient
// counted skipped (opted_out). ok: go on sending; otherwise o is the
// record's outcome.
func (s *Sender) optedOut(ctx context.Context, rec events.SQSMessage, c store.Claim, log *slog.Logger) (o outcome, ok bool) {
	m := c.Message
	oo, err := s.d.Store.ContactOptOut(ctx, m.OrgID, m.ContactID, m.ConversationID)
	switch {
	case apperr.Is(err, apperr.NotFound):
		return done, true // deleted: the opt-out is not this check's to judge
	case err != nil:
		return s.retryNoAttempt(ctx, rec, c, "opt-out check: "+err.Error(), log), false
	case oo == nil:
		return done, true
	}
	at := oo.At.UTC().Format(time.RFC3339)
	if m.CampaignID != "" {
		if err := s.d.Store.SkipQueuedRecipient(ctx, m.OrgID, m.CampaignID, m.ContactID, store.RecipientOptedOut,
			"opted out at "+at+", after its message was queued; not sent"); err != nil {
			return s.retryNoAttempt(ctx, rec, c, "campaign recipient: "+err.Error(), log), false
		}
	}
	return s.fail(ctx, rec, c, store.MessageError{Title: "contact_opted_out",
		Message: "the contact opted out of marketing messages at " + at + " (" + oo.Reason +
			"), after this message was queued; it was not sent"}, log), false
}

// answered reports whether Meta answered the POST (its outcome is known:
// an error Meta described, or a connection that was never made).
func answered(err error) bool {
	var ge *graph.Error
	if errors.As(err, &ge) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// statusEvent publishes the event of an applied status and records it
// published; false when it must be tried again.
func (s *Sender) statusEvent(ctx context.Context, m store.Message, status string, log *slog.Logger) bool {
	switch status {
	case store.StatusSent, store.StatusDelivered, store.StatusRead, store.StatusFailed:
		if !s.publishMessage(ctx, "message."+status, m.WAMID, m, status, log) {
			return false
		}
	}
	if err := s.d.Store.MarkStatusEventsSent(ctx, m.OrgID, m.ID, status); err != nil {
		log.WarnContext(ctx, "status event published, not marked", "status", status, "error", err.Error())
	}
	return true
}

// publishPendingStatuses applies the statuses that reached the webhook
// before the wamid was recorded (again: an earlier try may have failed)
// and publishes the events of the message's statuses not confirmed
// published; false when some must be tried again.
func (s *Sender) publishPendingStatuses(ctx context.Context, m store.Message, log *slog.Logger) bool {
	if m.WAMID != "" {
		early, err := s.d.Store.EarlyStatuses(ctx, m.OrgID, m.WAMID)
		if err != nil {
			log.WarnContext(ctx, "early statuses not readable", "error", err.Error())
			return false
		}
		for _, u := range early {
			if _, err := s.d.Store.ApplyStatus(ctx, u); err != nil {
				log.WarnContext(ctx, "early status not applied", "status", u.Status, "error", err.Error())
				return false
			}
		}
	}
	pending, err := s.d.Store.StatusesPendingEvents(ctx, m.OrgID, m.ID)
	if err != nil {
		log.WarnContext(ctx, "pending status events not readable", "error", err.Error())
		return false
	}
	ok := true
	for _, st := range pending {
		if !s.statusEvent(ctx, m, st, log) {
			ok = false
		}
	}
	return ok
}

// recordWaID records the wa_id Meta resolved the recipient to (another form
// of the number sent to, or the phone of a BSUID) as the contact's
// WhatsApp identity; when another contact held it, the two were one person
// and were merged: contact.merged is published. The message is sent
// whatever happens here, so a failure is logged, not retried: the next
// send or webhook from the number records it again.
func (s *Sender) recordWaID(ctx context.Context, m store.Message, waID string, log *slog.Logger) {
	_, merge, err := s.d.Store.RecordWhatsAppID(ctx, m.OrgID, m.ContactID, waID)
	if err != nil {
		log.WarnContext(ctx, "wa_id not recorded", "error", err.Error())
	}
	if merge == nil {
		return
	}
	log.InfoContext(ctx, "contacts merged", "survivor", merge.Survivor.ID, "merged", merge.MergedID)
	// The message's statuses show the survivor, as they did when their
	// events read the contact. When the message's own contact was merged
	// away, its copy needs no rewrite: the merge's redirect
	// (ORG#<org>#CONTACT#<merged> / MERGED) carries the survivor as merged
	// and its event view names the conversation's new contact
	// (Store.EventContext). When it survived (or was merged before),
	// nothing redirects its copy: it is refreshed with the merged contact.
	if merge.MergedID != m.ContactID || m.Context == nil {
		if err := s.d.Store.RefreshEventContext(ctx, m.OrgID, m.ID, merge.Survivor.ID, m.ConversationID); err != nil {
			log.WarnContext(ctx, "message's event context not refreshed after the merge", "error", err.Error())
		}
	}
	ev, err := event.MergedEvent(m.OrgID, s.d.Now(), *merge)
	if err == nil {
		err = s.d.Events.Publish(ctx, ev)
	}
	if err != nil {
		log.ErrorContext(ctx, "event not published", "event", event.ContactMerged, "error", err.Error())
	}
}

func (s *Sender) acceptWithRetries(ctx context.Context, c store.Claim, wamid string) ([]store.StatusUpdate, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var early []store.StatusUpdate
		if early, err = s.d.Store.SendAccepted(ctx, c, wamid); err == nil || errors.Is(err, store.ErrNotClaimable) {
			return early, err
		}
		_ = s.d.Sleep(ctx, time.Duration(100*(attempt+1))*time.Millisecond)
	}
	return nil, err
}

// credentials reads the organisation's secret, dropping the cached copy when
// the settings were saved after it was read.
func (s *Sender) credentials(ctx context.Context, acct store.WhatsAppAccount, v *secrets.WhatsApp) error {
	s.mu.Lock()
	loaded, ok := s.loaded[acct.OrgID]
	if ok && acct.UpdatedAt.After(loaded) {
		s.d.Secrets.Forget(acct.OrgID, secrets.ProviderWhatsApp)
		ok = false
	}
	if !ok {
		s.loaded[acct.OrgID] = s.d.Now()
	}
	s.mu.Unlock()
	return s.d.Secrets.Get(ctx, acct.OrgID, secrets.ProviderWhatsApp, v)
}

// Meta's pair rate limit (error 131056): one message every 6 s from a
// business number to one user, bursts of up to 45 borrowing ahead.
const (
	PairInterval = 6 * time.Second
	PairBurst    = 45
)

// pair paces the number's messages to one recipient under Meta's pair
// rate limit: a token bucket per (number, recipient), mostly idle (one
// write). false: wait that long first.
func (s *Sender) pair(ctx context.Context, acct store.WhatsAppAccount, m store.Message) (bool, time.Duration, error) {
	t, err := s.d.Store.TakeToken(ctx, store.Bucket{Key: "pair#" + acct.PhoneNumberID + "#" + m.To,
		Every: PairInterval, Burst: PairBurst, IdleFirst: true})
	if err != nil {
		return false, 0, err
	}
	return t.Allowed, t.RetryAfter, nil
}

// account reads the organisation's WhatsApp account, a healthy one from
// this invocation's copy when read within AccountTTL.
func (s *Sender) account(ctx context.Context, org string) (store.WhatsAppAccount, error) {
	now := s.d.Now()
	s.mu.Lock()
	c, ok := s.accounts[org]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < s.d.AccountTTL && now.Sub(c.at) >= 0 {
		return c.acct, nil
	}
	a, err := s.d.Store.WhatsAppAccount(ctx, org)
	if err != nil {
		return a, err
	}
	s.mu.Lock()
	if a.Healthy {
		s.accounts[org] = cachedAccount{acct: a, at: now}
	} else {
		delete(s.accounts, org)
	}
	s.mu.Unlock()
	return a, nil
}

func (s *Sender) forgetAccount(org string) {
	s.mu.Lock()
	delete(s.accounts, org)
	s.mu.Unlock()
}

// HighThroughput is the send limit of a number Meta reports at the HIGH
// throughput level (messages/s).
const HighThroughput = store.MaxSendRate

// RateOf is the number's send limit: the organisation's override when an
// operator set one (never over 1,000/s, Meta's highest level), 1,000/s
// when Meta reports the number's throughput level HIGH, the default
// (80/s, Meta's standard level) otherwise.
func (s *Sender) RateOf(acct store.WhatsAppAccount) int {
	return acct.SendRate(s.d.RatePerSecond)
}

// slot waits for a send token of the number in the message's lane; it
// gives up (sendlimit.ErrNoToken) rather than leave too little of the
// invocation to send and record the message.
func (s *Sender) slot(ctx context.Context, acct store.WhatsAppAccount, m store.Message) (time.Time, error) {
	start := s.d.Now()
	defer func() { s.LimiterWaited(ctx, s.d.Now().Sub(start)) }()
	lane := sendlimit.Transactional
	if m.Bulk {
		lane = sendlimit.Bulk
	}
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-recordReserve-minGraphTime))
		defer cancel()
	}
	return s.d.Limiter.TakeUntil(ctx, acct.PhoneNumberID, s.RateOf(acct), lane)
}

// noSlot releases a message that found no send token (not attempted).
func (s *Sender) noSlot(ctx context.Context, rec events.SQSMessage, c store.Claim, err error, log *slog.Logger) outcome {
	if errors.Is(err, sendlimit.ErrNoToken) {
		// Not attempted: the number's budget went to others.
		return s.retryNoAttempt(ctx, rec, c, "throughput: "+err.Error(), log)
	}
	return s.retry(ctx, rec, c, "throughput: "+err.Error(), 0, log)
}

// LimiterWaited records how long a send waited for its number's send slot
// (the LimiterWaitMs metric, waits of zero included, so its average and
// percentiles are over every send). Whatever limiter the sender uses calls
// it once per send, after the wait.
func (s *Sender) LimiterWaited(ctx context.Context, d time.Duration) {
	metrics.From(ctx).Duration(metrics.LimiterWaitMs, d)
}

// numberKey carries, in a send's context, the business phone number id it
// is sent from (for the per-number metrics; never the recipient's).
type numberKey struct{}

// failedMetric counts a message failed for good, per number when the
// account was read.
func failedMetric(ctx context.Context) {
	if n, _ := ctx.Value(numberKey{}).(string); n != "" {
		metrics.From(ctx).Count(metrics.MessagesFailed, 1, metrics.Number(n))
		return
	}
	metrics.From(ctx).Count(metrics.MessagesFailed, 1)
}

// postpone releases a message that was not attempted and keeps the queue
// message for d (its group's later records wait behind it).
func (s *Sender) postpone(ctx context.Context, rec events.SQSMessage, c store.Claim, reason string, d time.Duration, log *slog.Logger) outcome {
	if err := s.d.Store.SendRelease(ctx, c, reason); err != nil {
		log.WarnContext(ctx, "could not release the claim; its lease will", "error", err.Error())
	}
	log.InfoContext(ctx, "send postponed", "reason", reason, "delay", d.String())
	return s.later(ctx, rec, max(d, time.Second), log)
}

// retryNoAttempt releases a message that was not attempted (its attempt
// count given back: SendRelease) and keeps the queue message for a second.
func (s *Sender) retryNoAttempt(ctx context.Context, rec events.SQSMessage, c store.Claim, reason string, log *slog.Logger) outcome {
	if err := s.d.Store.SendRelease(ctx, c, reason); err != nil {
		log.WarnContext(ctx, "could not release the claim; its lease will", "error", err.Error())
	}
	log.WarnContext(ctx, "send postponed", "reason", reason)
	return s.later(ctx, rec, time.Second, log)
}

func (s *Sender) retry(ctx context.Context, rec events.SQSMessage, c store.Claim, reason string, after time.Duration, log *slog.Logger) outcome {
	if err := s.d.Store.SendRetry(ctx, c, reason); err != nil {
		log.WarnContext(ctx, "could not release the claim; its lease will", "error", err.Error())
	}
	d := s.backoff(c.Message.Attempts, after)
	log.WarnContext(ctx, "send will be retried", "attempt", c.Message.Attempts, "delay", d.String(), "reason", reason)
	metrics.From(ctx).Count(metrics.MessagesRetried, 1)
	return s.later(ctx, rec, d, log)
}

func (s *Sender) backoff(attempt int, after time.Duration) time.Duration {
	return outbound.Backoff(attempt, after, s.d.Rand)
}

// later keeps the queue message, visible again after d.
func (s *Sender) later(ctx context.Context, rec events.SQSMessage, d time.Duration, log *slog.Logger) outcome {
	var q Queue = s.d.Queue
	for _, src := range []*queue.Queue{s.d.DeadLetter, s.d.BulkQueue, s.d.BulkDeadLetter} {
		if src != nil && src.IsSource(rec.EventSourceARN) {
			q = src
		}
	}
	if q != nil && rec.ReceiptHandle != "" {
		if err := q.Delay(ctx, rec.ReceiptHandle, d); err != nil {
			log.WarnContext(ctx, "could not set the retry delay; the queue's visibility timeout applies", "error", err.Error())
		}
	}
	return retry
}

// fail marks the message failed and emits message.failed. The queue
// message is kept whenever either could not be done: it comes back and
// finishes the job.
func (s *Sender) fail(ctx context.Context, rec events.SQSMessage, c store.Claim, e store.MessageError, log *slog.Logger) outcome {
	m, err := s.d.Store.SendFailed(ctx, c, e)
	if errors.Is(err, store.ErrNotClaimable) {
		log.WarnContext(ctx, "claim lost before marking the message failed", "error", err.Error())
		return done
	}
	if err != nil {
		log.WarnContext(ctx, "could not mark the message failed; retried", "error", err.Error())
		// Released without the attempt marker when possible: Meta answered.
		if rerr := s.d.Store.SendRetry(ctx, c, "failed, not recorded: "+e.Title); rerr != nil {
			log.WarnContext(ctx, "could not release the claim; its lease will", "error", rerr.Error())
		}
		return s.later(ctx, rec, s.backoff(1, 0), log)
	}
	log.WarnContext(ctx, "send failed for good", "code", e.Code, "reason", e.Title, "error_message", e.Message)
	failedMetric(ctx)
	if !s.publishMessage(ctx, event.MessageFailed, m.ID, m, store.StatusFailed, log) {
		return s.later(ctx, rec, 5*time.Second, log)
	}
	return done
}

func (s *Sender) publishMessage(ctx context.Context, name, subject string, m store.Message, status string, log *slog.Logger) bool {
	ct, cv, err := s.d.Store.EventContext(ctx, m)
	if err != nil {
		log.ErrorContext(ctx, "event not published: contact or conversation", "event", name, "error", err.Error())
		return false
	}
	m.Status = status
	ev, err := event.MessageEvent(name, m.OrgID, subject, s.d.Now(), m, ct, cv)
	if err == nil {
		err = s.d.Events.Publish(ctx, ev)
	}
	if err != nil {
		log.ErrorContext(ctx, "event not published", "event", name, "error", err.Error())
		return false
	}
	return true
}

// retryAfter reads a Retry-After hint from a Graph error, if any.
func retryAfter(err error) time.Duration {
	var ge *graph.Error
	if errors.As(err, &ge) && ge.RetryAfter > 0 {
		return ge.RetryAfter
	}
	return 0
}
