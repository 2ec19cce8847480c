// Package dispatch delivers events to integrators' webhooks.
//
// Two SQS sources feed one function. Events (from the events queue) are
// fanned out: each active subscription whose filter matches gets a
// delivery record (its id derived from the event and the subscription, so
// a redelivered event fans out once) holding the exact bytes to send, and
// a delivery job on the deliveries queue. Delivery jobs are attempted
// independently and concurrently, so one slow or failing endpoint never
// holds up another: a signed POST through the SSRF-guarded client (10 s,
// no redirects), every attempt recorded. A failure is retried on Svix's
// schedule by leaving the job on the queue with its visibility set to the
// next delay (durable: nothing sleeps); 410 Gone disables the
// subscription; after the last attempt the delivery is failed, and a
// subscription failing for 5 days is disabled.
package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/delivery"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/logctx"
	"github.com/pytake/pytake/internal/metrics"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
)

// attemptLease is how long a delivery attempt is claimed for: more than
// its POST's 10 s.
const attemptLease = 30 * time.Second

// DisableAfter is how long a subscription may fail before it is disabled.
const DisableAfter = 5 * 24 * time.Hour

// Job is the body of a deliveries-queue message.
type Job struct {
	OrgID      string `json:"org_id"`
	WebhookID  string `json:"webhook_id"`
	DeliveryID string `json:"delivery_id"`
}

// Store is what dispatching needs from the store.
type Store interface {
	Webhooks(ctx context.Context, org string) ([]store.Webhook, error)
	CreateDelivery(ctx context.Context, d store.Delivery) (store.Delivery, bool, error)
	MarkDeliveryQueued(ctx context.Context, org, webhookID, eventID string) error
	Delivery(ctx context.Context, org, webhookID, id string) (store.Delivery, error)
	RecordAttempt(ctx context.Context, d store.Delivery, a store.Attempt, status string) (store.Delivery, error)
	ClaimAttempt(ctx context.Context, d store.Delivery, until time.Time) error
	RecordEventSample(ctx context.Context, org, name, eventID string, at time.Time, body []byte) error
	MarkWebhookFailing(ctx context.Context, org, webhookID string) (time.Time, error)
	MarkWebhookHealthy(ctx context.Context, org, webhookID string) error
	DisableWebhook(ctx context.Context, org, webhookID, reason string) error
}

// Secrets reads signing secrets (cached) and drops a cached copy that is
// known to be stale.
type Secrets interface {
	Get(ctx context.Context, orgID, provider string, v any) error
	Forget(orgID, provider string)
}

// Deps wires a Dispatcher.
type Deps struct {
	Store   Store
	Secrets Secrets
	// Events and Deliveries are the two queues that feed the dispatcher;
	// a record's EventSourceARN says which. Delivery jobs are sent to
	// Deliveries, and their retries delayed on it.
	Events     *queue.Queue
	Deliveries *queue.Queue
	// DeadDeliveries is the deliveries dead-letter queue, when this
	// function consumes it: its jobs end their deliveries failed.
	DeadDeliveries *queue.Queue
	HTTP           *http.Client
	Log            *slog.Logger
	Now            func() time.Time
	Rand           func() float64
	// React, when set, runs after an event is fanned out (the chatbot on
	// message.received); an error brings the event back (fan-out is
	// idempotent, so webhooks still get it once).
	React func(ctx context.Context, ev event.Event) error
	// RetryScale multiplies retry delays (0: 1). Only the local stack sets
	// it, so end-to-end tests see the whole schedule in seconds.
	RetryScale float64
	// HookCacheTTL is how long the subscriptions read are kept (0:
	// HookCacheTTL).
	HookCacheTTL time.Duration
}

// Dispatcher is the dispatcher function's handler. It keeps organisations'
// subscriptions for HookCacheTTL (one container's, in memory).
type Dispatcher struct {
	d     Deps
	hooks *hookCache
}

// New returns a Dispatcher.
func New(d Deps) *Dispatcher {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Rand == nil {
		d.Rand = rand.Float64
	}
	if d.HookCacheTTL <= 0 {
		d.HookCacheTTL = HookCacheTTL
	}
	return &Dispatcher{d: d, hooks: newHookCache(d.Store, d.Now, d.HookCacheTTL)}
}

// Handle processes a batch from either queue, concurrently, and reports
// the messages to keep (retries and failures to fan out).
func (p *Dispatcher) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		resp events.SQSEventResponse
	)
	for _, rec := range ev.Records {
		wg.Add(1)
		go func(rec events.SQSMessage) {
			defer wg.Done()
			if !p.process(ctx, rec) {
				mu.Lock()
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				mu.Unlock()
			}
		}(rec)
	}
	wg.Wait()
	return resp, nil
}

// process handles one record, by the queue it came from; false keeps it
// on its queue.
func (p *Dispatcher) process(ctx context.Context, rec events.SQSMessage) bool {
	ctx = logctx.With(ctx, "sqs_message_id", rec.MessageId)
	switch {
	case p.d.Deliveries.IsSource(rec.EventSourceARN):
		var job Job
		if err := json.Unmarshal([]byte(rec.Body), &job); err != nil || job.DeliveryID == "" {
			p.d.Log.ErrorContext(ctx, "delivery job is not valid; dropped", "body_size", len(rec.Body))
			return true
		}
		return p.deliver(ctx, rec, job)
	case p.d.DeadDeliveries != nil && p.d.DeadDeliveries.IsSource(rec.EventSourceARN):
		var job Job
		if err := json.Unmarshal([]byte(rec.Body), &job); err != nil || job.DeliveryID == "" {
			p.d.Log.ErrorContext(ctx, "dead-lettered delivery job is not valid; dropped", "body_size", len(rec.Body))
			return true
		}
		return p.deadLettered(ctx, job)
	case p.d.Events.IsSource(rec.EventSourceARN):
		if err := p.fanOut(ctx, []byte(rec.Body)); err != nil {
			p.d.Log.WarnContext(ctx, "fan-out failed; the event comes back", "error", err.Error())
			return false
		}
		return true
	}
	// Only a mapping to a queue this function was not configured for
	// sends these: kept, so they reach that queue's dead-letter queue.
	p.d.Log.ErrorContext(ctx, "record from an unknown queue; kept", "event_source_arn", rec.EventSourceARN)
	return false
}

// fanOut creates one delivery per matching active subscription and queues
// their jobs.
func (p *Dispatcher) fanOut(ctx context.Context, raw []byte) error {
	var ev event.Event
	if err := json.Unmarshal(raw, &ev); err != nil || ev.ID == "" || ev.Event == "" || ev.OrganizationID == "" {
		p.d.Log.ErrorContext(ctx, "event is not an event envelope; dropped", "size", len(raw))
		return nil
	}
	// Every line from here on (the chatbot's too) names the event.
	ctx = logctx.With(ctx, "event_id", ev.ID)
	body, err := delivery.CanonicalBody(raw)
	if err != nil {
		p.d.Log.ErrorContext(ctx, "event body cannot be sent as is; dropped", "error", err.Error())
		return nil
	}
	if err := p.d.Store.RecordEventSample(ctx, ev.OrganizationID, ev.Event, ev.ID, ev.Timestamp, body); err != nil {
		p.d.Log.WarnContext(ctx, "event sample not recorded", "error", err.Error())
	}
	hooks, err := p.hooks.webhooks(ctx, ev.OrganizationID)
	if err != nil {
		return err
	}
	var jobs []Job
	for _, h := range hooks {
		if !h.Active || !event.Matches(h.Events, ev.Event) {
			continue
		}
		d, created, err := p.d.Store.CreateDelivery(ctx, store.Delivery{
			ID: store.DeliveryID(p.d.Now(), ev.ID, h.ID), OrgID: ev.OrganizationID, WebhookID: h.ID,
			EventID: ev.ID, Event: ev.Event, Body: string(body),
		})
		if err != nil {
			return err
		}
		// A redelivered (or republished) event finds its deliveries made,
		// by event id: no second job, unless the first fan-out failed to
		// queue it. (Receivers dedupe on webhook-id, stable across
		// attempts, for the at-least-once cases SQS leaves.)
		if created || (d.Status == store.DeliveryPending && len(d.Attempts) == 0 && !d.JobQueued) {
			jobs = append(jobs, Job{OrgID: ev.OrganizationID, WebhookID: h.ID, DeliveryID: d.ID})
		}
	}
	if err := p.Enqueue(ctx, jobs...); err != nil {
		return err
	}
	metrics.From(ctx).Count(metrics.EventsFannedOut, 1)
	metrics.From(ctx).Count(metrics.DeliveriesQueued, len(jobs))
	for _, j := range jobs {
		if err := p.d.Store.MarkDeliveryQueued(ctx, j.OrgID, j.WebhookID, ev.ID); err != nil {
			// Only a redelivery of this event queues it again.
			p.d.Log.WarnContext(ctx, "delivery job queued, not marked", "delivery_id", j.DeliveryID, "error", err.Error())
		}
	}
	if p.d.React != nil {
		return p.d.React(ctx, ev)
	}
	return nil
}

// Enqueue puts delivery jobs on the deliveries queue.
func (p *Dispatcher) Enqueue(ctx context.Context, jobs ...Job) error {
	return Jobs{Queue: p.d.Deliveries}.Enqueue(ctx, jobs...)
}

// Jobs puts delivery jobs on the deliveries queue: the dispatcher's
// fan-out, and the API's webhook tests and manual retries.
type Jobs struct{ Queue *queue.Queue }

// Enqueue sends the jobs.
func (j Jobs) Enqueue(ctx context.Context, jobs ...Job) error {
	msgs := make([]queue.Message, len(jobs))
	for i, job := range jobs {
		msgs[i] = queue.Message{Body: job}
	}
	return j.Queue.Send(ctx, msgs...)
}

// deliver makes one attempt; false keeps the job (a retry after its
// visibility timeout, which was set to the next delay).
func (p *Dispatcher) deliver(ctx context.Context, rec events.SQSMessage, job Job) bool {
	log := p.d.Log.With("org_id", job.OrgID, "webhook_id", job.WebhookID, "delivery_id", job.DeliveryID)
	d, err := p.d.Store.Delivery(ctx, job.OrgID, job.WebhookID, job.DeliveryID)
	if apperr.Is(err, apperr.NotFound) {
		return true
	}
	if err != nil {
		log.WarnContext(ctx, "delivery not readable; retried", "error", err.Error())
		return p.later(ctx, rec, 5*time.Second)
	}
	if d.Status != store.DeliveryPending {
		return true // done already (a redelivered job)
	}
	hook, err := p.hooks.webhook(ctx, job.OrgID, job.WebhookID)
	if apperr.Is(err, apperr.NotFound) {
		_, _ = p.d.Store.RecordAttempt(ctx, d, store.Attempt{At: p.d.Now().UTC(), Error: "the webhook was deleted"}, store.DeliveryFailed)
		return true
	}
	if err != nil {
		return p.later(ctx, rec, 5*time.Second)
	}
	if !hook.Active {
		_, _ = p.d.Store.RecordAttempt(ctx, d, store.Attempt{At: p.d.Now().UTC(), Error: "the webhook is disabled: " + hook.DisabledReason}, store.DeliveryFailed)
		return true
	}
	sec, err := p.signingSecrets(ctx, hook)
	if err != nil {
		log.WarnContext(ctx, "signing secret not readable; retried", "error", err.Error())
		return p.later(ctx, rec, 5*time.Second)
	}
	now := p.d.Now()
	// Claimed before the POST, so a second job for the same delivery does
	// not POST it too (the claim outlasts the 10 s POST).
	switch err := p.d.Store.ClaimAttempt(ctx, d, now.Add(attemptLease)); {
	case errors.Is(err, store.ErrAttemptTaken):
		return p.later(ctx, rec, attemptLease)
	case err != nil:
		log.WarnContext(ctx, "delivery attempt not claimed; retried", "error", err.Error())
		return p.later(ctx, rec, 5*time.Second)
	}
	var active []string
	for _, s := range sec.Active(now) {
		active = append(active, s.Secret)
	}
	status, respBody, hdr, latency, postErr := p.post(ctx, hook.URL, d, active, now)
	mrec := metrics.From(ctx)
	mrec.Duration(metrics.DeliveryLatency, latency)
	a := store.Attempt{At: now.UTC(), StatusCode: status, LatencyMS: latency.Milliseconds(), Response: delivery.Excerpt(respBody)}
	if postErr != nil {
		a.Error = postErr.Error()
	}
	switch delivery.Classify(status, postErr) {
	case delivery.Success:
		mrec.Count(metrics.Deliveries, 1)
		if _, err := p.d.Store.RecordAttempt(ctx, d, a, store.DeliveryDelivered); err != nil && !apperr.Is(err, apperr.Conflict) {
			log.WarnContext(ctx, "delivered, not recorded", "error", err.Error())
		}
		if hook.FailingSince != nil && p.d.Store.MarkWebhookHealthy(ctx, job.OrgID, job.WebhookID) == nil {
			p.hooks.update(job.OrgID, job.WebhookID, func(h *store.Webhook) { h.FailingSince = nil })
		}
		return true
	case delivery.Gone:
		mrec.Count(metrics.DeliveryAttemptsFail, 1)
		mrec.Count(metrics.DeliveriesFailed, 1)
		_, _ = p.d.Store.RecordAttempt(ctx, d, a, store.DeliveryFailed)
		p.disable(ctx, job, "the endpoint answered 410 Gone")
		log.InfoContext(ctx, "endpoint gone; webhook disabled")
		return true
	}
	mrec.Count(metrics.DeliveryAttemptsFail, 1)
	since, err := p.failingSince(ctx, job, hook)
	if err == nil && !since.IsZero() && now.Sub(since) > DisableAfter {
		mrec.Count(metrics.DeliveriesFailed, 1)
		_, _ = p.d.Store.RecordAttempt(ctx, d, a, store.DeliveryFailed)
		p.disable(ctx, job, "failing for more than 5 days")
		return true
	}
	delay, more := delivery.NextDelay(len(d.Attempts)+1, delivery.RetryAfter(status, hdr, now), p.d.Rand)
	if !more {
		mrec.Count(metrics.DeliveriesFailed, 1)
		_, _ = p.d.Store.RecordAttempt(ctx, d, a, store.DeliveryFailed)
		log.InfoContext(ctx, "delivery failed after the last attempt", "attempts", len(d.Attempts)+1)
		return true
	}
	if p.d.RetryScale > 0 {
		delay = time.Duration(float64(delay) * p.d.RetryScale)
	}
	next := now.Add(delay).UTC()
	a.NextAt = &next
	if _, err := p.d.Store.RecordAttempt(ctx, d, a, store.DeliveryPending); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return true // another deliverer recorded this attempt
		}
		log.WarnContext(ctx, "attempt not recorded", "error", err.Error())
	}
	return p.later(ctx, rec, delay)
}

// failingSince is when the subscription's failure streak started: its
// (cached) copy's, else marked now: about once per container and streak
// (the records of a batch that fail together each mark it) rather than
// once per failed attempt. A cached start old enough to disable the
// subscription is asked of the store (another container's success may
// have ended that streak since the copy was read).
func (p *Dispatcher) failingSince(ctx context.Context, job Job, hook store.Webhook) (time.Time, error) {
	if hook.FailingSince != nil && p.d.Now().Sub(*hook.FailingSince) <= DisableAfter {
		return *hook.FailingSince, nil
	}
	since, err := p.d.Store.MarkWebhookFailing(ctx, job.OrgID, job.WebhookID)
	if err == nil {
		p.hooks.update(job.OrgID, job.WebhookID, func(h *store.Webhook) { h.FailingSince = &since })
	}
	return since, err
}

// disable stops deliveries to the subscription, this container's copy too.
func (p *Dispatcher) disable(ctx context.Context, job Job, reason string) {
	if err := p.d.Store.DisableWebhook(ctx, job.OrgID, job.WebhookID, reason); err != nil {
		p.d.Log.WarnContext(ctx, "webhook not disabled", "webhook_id", job.WebhookID, "error", err.Error())
		return
	}
	p.hooks.update(job.OrgID, job.WebhookID, func(h *store.Webhook) { h.Active, h.DisabledReason = false, reason })
}

// deadLettered ends a delivery whose job reached the dead-letter queue:
// failed, the reason recorded as its last attempt. False keeps the job
// (the store could not be written).
func (p *Dispatcher) deadLettered(ctx context.Context, job Job) bool {
	log := p.d.Log.With("org_id", job.OrgID, "webhook_id", job.WebhookID, "delivery_id", job.DeliveryID, "dead_letter", true)
	d, err := p.d.Store.Delivery(ctx, job.OrgID, job.WebhookID, job.DeliveryID)
	if apperr.Is(err, apperr.NotFound) {
		return true
	}
	if err != nil {
		log.WarnContext(ctx, "dead-lettered delivery not readable; retried", "error", err.Error())
		return false
	}
	if d.Status != store.DeliveryPending {
		return true
	}
	a := store.Attempt{At: p.d.Now().UTC(), Error: "the delivery job reached the dead-letter queue after failing too often; it is not attempted again"}
	if _, err := p.d.Store.RecordAttempt(ctx, d, a, store.DeliveryFailed); err != nil {
		log.WarnContext(ctx, "dead-lettered delivery not recorded failed; retried", "error", err.Error())
		return false
	}
	metrics.From(ctx).Count(metrics.DeliveriesFailed, 1)
	log.ErrorContext(ctx, "delivery dead-lettered; failed")
	return true
}

// signingSecrets reads the subscription's secrets through the cache; a
// cached copy older than the version the webhook item names (a rotation
// since it was read) is dropped and read again, so a rotation reaches the
// next delivery instead of waiting for the cache to expire.
func (p *Dispatcher) signingSecrets(ctx context.Context, hook store.Webhook) (secrets.WebhookSecrets, error) {
	provider := secrets.ProviderWebhook(hook.ID)
	var sec secrets.WebhookSecrets
	if err := p.d.Secrets.Get(ctx, hook.OrgID, provider, &sec); err != nil {
		return sec, err
	}
	if sec.Version >= hook.SecretVersion {
		return sec, nil
	}
	p.d.Secrets.Forget(hook.OrgID, provider)
	var fresh secrets.WebhookSecrets
	if err := p.d.Secrets.Get(ctx, hook.OrgID, provider, &fresh); err != nil {
		return sec, err
	}
	return fresh, nil
}

// post signs and sends the exact stored bytes.
func (p *Dispatcher) post(ctx context.Context, url string, d store.Delivery, keys []string, now time.Time) (int, []byte, http.Header, time.Duration, error) {
	body := []byte(d.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, 0, fmt.Errorf("build request: %w", err)
	}
	req.Header = delivery.Headers(d.EventID, now, body, keys)
	start := time.Now()
	resp, err := p.d.HTTP.Do(req)
	if err != nil {
		return 0, nil, nil, time.Since(start), err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	return resp.StatusCode, b, resp.Header, time.Since(start), nil
}

// later keeps a job; it comes back after d (at least 1 s, at most SQS's
// 12 hours).
func (p *Dispatcher) later(ctx context.Context, rec events.SQSMessage, d time.Duration) bool {
	if rec.ReceiptHandle != "" {
		if err := p.d.Deliveries.Delay(ctx, rec.ReceiptHandle, d); err != nil && !errors.Is(err, context.Canceled) {
			p.d.Log.WarnContext(ctx, "retry delay not set; the queue's visibility timeout applies", "error", err.Error())
		}
	}
	return false
}
