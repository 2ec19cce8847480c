package crmsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/crmconfig"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/hubspot"
	"github.com/pytake/pytake/internal/salesforce"
	"github.com/pytake/pytake/internal/store"
)

// Event names of the CRM sync.
const (
	ContactSynced = event.CRMContactSynced
	SyncFailed    = event.CRMSyncFailed
)

// Contact attributes the sync writes.
const (
	AttrHubSpotID       = "hubspot_id"
	AttrSalesforceLead  = "salesforce_lead_id"
	AttrSalesforceError = "salesforce_error"
)

// Claim subjects.
const (
	claimHubSpotEvent   = "hubspot-event"
	claimHubSpotContact = "hubspot-contact"
	claimHubSpotNote    = "hubspot-note"
	claimLead           = "salesforce-lead"
	claimTask           = "salesforce-task"
)

// Lease is how long an attempt owns a claim; a crashed attempt's work is
// taken over after it.
const Lease = 2 * time.Minute

// hubspotEventTTL: HubSpot retries for 24 hours.
const hubspotEventTTL = 3 * 24 * time.Hour

// Store is what the sync reads and writes.
type Store interface {
	Integration(ctx context.Context, org, platform string) (store.Integration, error)
	MarkIntegrationUnhealthy(ctx context.Context, org, platform string, configuredAt time.Time, reason string) error
	Contact(ctx context.Context, org, contactID string) (store.Contact, error)
	Contacts(ctx context.Context, org, tag, waID, cursor string, limit int) (store.Page[store.Contact], error)
	CreateContact(ctx context.Context, c store.Contact, emit store.Emit[store.Contact]) (store.Contact, error)
	SaveContact(ctx context.Context, c store.Contact, emit store.Emit[store.Contact]) (store.Contact, error)
	Conversation(ctx context.Context, org, convID string) (store.Conversation, error)
	ConversationMessages(ctx context.Context, org, convID, cursor string, limit int) (store.Page[store.Message], error)
	ClaimCRM(ctx context.Context, org, what, subject string, lease, ttl time.Duration) (store.CRMClaim, bool, error)
	FinishCRM(ctx context.Context, org, what, subject, state, result, reason string) error
	ReleaseCRM(ctx context.Context, org, what, subject string) error
}

// Publisher publishes events.
type Publisher interface {
	Publish(ctx context.Context, events ...event.Event) error
}

// Source is a queue feeding the sync.
type Source interface {
	IsSource(arn string) bool
	Delay(ctx context.Context, receiptHandle string, d time.Duration) error
}

// Deps are the sync's collaborators.
type Deps struct {
	Store           Store
	Secrets         SecretReader
	HubSpot         *hubspot.Client
	Salesforce      *salesforce.Client
	Events          Publisher
	HubSpotQueue    Source
	SalesforceQueue Source
	Log             *slog.Logger
	Now             func() time.Time
}

// Syncer consumes the CRM queues.
type Syncer struct{ Deps }

// New returns a syncer.
func New(d Deps) *Syncer {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Syncer{Deps: d}
}

// retryLater is a failure worth retrying after a delay.
type retryLater struct {
	after time.Duration
	err   error
}

func (r *retryLater) Error() string { return fmt.Sprintf("retry in %s: %v", r.after, r.err) }
func (r *retryLater) Unwrap() error { return r.err }

// maxBackoff bounds the wait between retries of a failing CRM: with the
// queue's 20 receives, 30 s doubling up to an hour spans about 14 hours of
// outage before a message reaches the dead-letter queue.
const maxBackoff = time.Hour

// backoff is the wait before the receive after the n-th (SQS's
// ApproximateReceiveCount): what the CRM asked for (its Retry-After, else
// 30 s) on the first receive, doubling with each further one up to
// maxBackoff, and never less than what it asked for.
func backoff(asked time.Duration, n int) time.Duration {
	d := asked
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return max(asked, min(d, maxBackoff))
}

func later(d time.Duration, err error) error {
	if d <= 0 {
		d = 30 * time.Second
	}
	return &retryLater{after: d, err: err}
}

// envelope is either a PyTake event (from the events topic) or a HubSpot job.
type envelope struct {
	event.Event
	HubSpot *hubspot.Event `json:"hubspot_event"`
}

// Handle processes a batch; failed records are retried by SQS (after the
// CRM's Retry-After when it gave one), each record on its own.
func (s *Syncer) Handle(ctx context.Context, in events.SQSEvent) (events.SQSEventResponse, error) {
	var (
		mu   sync.Mutex
		resp events.SQSEventResponse
		wg   sync.WaitGroup
	)
	for _, rec := range in.Records {
		wg.Add(1)
		go func(rec events.SQSMessage) {
			defer wg.Done()
			if !s.process(ctx, rec) {
				mu.Lock()
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				mu.Unlock()
			}
		}(rec)
	}
	wg.Wait()
	return resp, nil
}

func (s *Syncer) process(ctx context.Context, rec events.SQSMessage) bool {
	var env envelope
	if err := json.Unmarshal([]byte(rec.Body), &env); err != nil {
		s.Log.ErrorContext(ctx, "crm: unreadable queue message dropped", "message_id", rec.MessageId, "error", err.Error())
		return true
	}
	var err error
	src := s.SalesforceQueue
	switch {
	case s.HubSpotQueue.IsSource(rec.EventSourceARN):
		src = s.HubSpotQueue
		switch {
		case env.HubSpot != nil:
			err = s.hubspotInbound(ctx, env.OrganizationID, *env.HubSpot)
		case env.Event.Event == event.ContactCreated:
			err = s.pushContact(ctx, env.Event)
		case env.Event.Event == event.ConversationResolved:
			err = s.note(ctx, env.Event)
		}
	case s.SalesforceQueue.IsSource(rec.EventSourceARN):
		switch env.Event.Event {
		case event.MessageReceived:
			err = s.lead(ctx, env.Event)
		case event.ConversationResolved:
			err = s.task(ctx, env.Event)
		}
	default:
		s.Log.ErrorContext(ctx, "crm: a record from an unknown queue", "source", rec.EventSourceARN)
		return false
	}
	if err == nil {
		return true
	}
	var rl *retryLater
	if errors.As(err, &rl) {
		n, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
		after := backoff(rl.after, n)
		s.Log.WarnContext(ctx, "crm: retry later", "org_id", env.OrganizationID, "after", after.String(), "error", rl.err.Error())
		if derr := src.Delay(ctx, rec.ReceiptHandle, after); derr != nil {
			s.Log.ErrorContext(ctx, "crm: could not delay the retry", "error", derr.Error())
		}
		return false
	}
	s.Log.ErrorContext(ctx, "crm: failed", "org_id", env.OrganizationID, "event", env.Event.Event, "error", err.Error())
	return false
}

// settings loads an integration; ok is false when it is not configured.
func (s *Syncer) settings(ctx context.Context, org, platform string) (crmconfig.Settings, crmconfig.Secret, bool, error) {
	st, err := crmconfig.Load(ctx, s.Store, org, platform)
	if apperr.Is(err, apperr.NotFound) {
		return st, crmconfig.Secret{}, false, nil
	}
	if err != nil {
		return st, crmconfig.Secret{}, false, err
	}
	var sec crmconfig.Secret
	if err := s.Secrets.Get(ctx, org, crmconfig.Provider(platform), &sec); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return st, sec, false, nil
		}
		return st, sec, false, err
	}
	return st, sec, true, nil
}

// claim takes a claim; done says the work is already finished (or failed
// for good), and a pending claim held by another attempt is retried later.
func (s *Syncer) claim(ctx context.Context, org, what, subject string, ttl time.Duration) (store.CRMClaim, bool, error) {
	c, claimed, err := s.Store.ClaimCRM(ctx, org, what, subject, Lease, ttl)
	if err != nil {
		return c, false, err
	}
	if claimed {
		return c, true, nil
	}
	if c.State == store.TriggerPending {
		return c, false, later(Lease/2, fmt.Errorf("%s %s is being worked on", what, subject))
	}
	return c, false, nil
}

// publish sends the sync's events; a failure is logged (the work is done
// and recorded).
func (s *Syncer) publish(ctx context.Context, evs ...event.Event) {
	if len(evs) == 0 {
		return
	}
	if err := s.Events.Publish(ctx, evs...); err != nil {
		s.Log.ErrorContext(ctx, "crm: events not published", "error", err.Error())
	}
}

// SyncedData is crm.contact_synced's data.
type SyncedData = event.CRMSyncedData

// FailedData is crm.sync_failed's data.
type FailedData = event.CRMFailedData

func (s *Syncer) synced(org, subject string, d SyncedData) []event.Event {
	ev, err := event.New(event.StableID(org, ContactSynced, d.CRM, d.Object, subject), ContactSynced, org, s.Now(), d)
	if err != nil {
		return nil
	}
	return []event.Event{ev}
}

func (s *Syncer) failed(org, subject string, d FailedData) []event.Event {
	ev, err := event.New(event.StableID(org, SyncFailed, d.CRM, d.Object, subject, d.Code), SyncFailed, org, s.Now(), d)
	if err != nil {
		return nil
	}
	return []event.Event{ev}
}

// updateContact applies change to the stored contact until it saves (or
// change says nothing changed) and publishes contact.updated.
func (s *Syncer) updateContact(ctx context.Context, org, id string, change func(c *store.Contact) bool) (store.Contact, error) {
	for attempt := 0; attempt < 6; attempt++ {
		c, err := s.Store.Contact(ctx, org, id)
		if err != nil {
			return store.Contact{}, err
		}
		c.OrgID = org
		attrs := make(map[string]any, len(c.Attributes)+1)
		for k, v := range c.Attributes {
			attrs[k] = v
		}
		c.Attributes = attrs
		if !change(&c) {
			return c, nil
		}
		// contact.updated is written with the change (the outbox relay
		// publishes it).
		saved, err := s.Store.SaveContact(ctx, c, event.ContactEmit(event.ContactUpdated, s.Now))
		if errors.Is(err, store.ErrContactChanged) {
			continue
		}
		if err != nil {
			return store.Contact{}, err
		}
		return saved, nil
	}
	return store.Contact{}, later(time.Second, errors.New("the contact keeps changing"))
}
