package graphsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/pytake/pytake/internal/whatsapp"
)

// Webhook delivery: attempts per status webhook and the pause before the
// first retry (tripled each time), as Meta retries a failed delivery.
const (
	webhookAttempts = 4
	webhookBackoff  = 50 * time.Millisecond
	webhookTimeout  = 10 * time.Second
)

// The webhook body, as Meta writes it.
type envelope struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID      string   `json:"id"`
	Changes []change `json:"changes"`
}

type change struct {
	Value value  `json:"value"`
	Field string `json:"field"`
}

type value struct {
	MessagingProduct string            `json:"messaging_product"`
	Metadata         metadata          `json:"metadata"`
	Contacts         []contact         `json:"contacts,omitempty"`
	Messages         []json.RawMessage `json:"messages,omitempty"`
	Statuses         []status          `json:"statuses,omitempty"`
}

type metadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

type contact struct {
	Profile *profile `json:"profile,omitempty"`
	WaID    string   `json:"wa_id,omitempty"`
	UserID  string   `json:"user_id,omitempty"`
}

type profile struct {
	Name string `json:"name"`
}

type status struct {
	ID              string        `json:"id"`
	Status          string        `json:"status"`
	Timestamp       string        `json:"timestamp"`
	RecipientID     string        `json:"recipient_id"`
	RecipientUserID string        `json:"recipient_user_id,omitempty"`
	Pricing         *pricing      `json:"pricing,omitempty"`
	Errors          []statusError `json:"errors,omitempty"`
}

type pricing struct {
	Billable     bool   `json:"billable"`
	PricingModel string `json:"pricing_model"`
	Category     string `json:"category"`
	Type         string `json:"type"`
}

type statusError struct {
	Code      int       `json:"code"`
	Title     string    `json:"title"`
	Message   string    `json:"message"`
	ErrorData errorData `json:"error_data"`
}

// messagesEnvelope wraps a value in the envelope of one account.
func messagesEnvelope(acct Account, v value) envelope {
	v.MessagingProduct = "whatsapp"
	v.Metadata = metadata{DisplayPhoneNumber: acct.DisplayPhoneNumber, PhoneNumberID: acct.PhoneNumberID}
	return envelope{
		Object: "whatsapp_business_account",
		Entry:  []entry{{ID: acct.WABAID, Changes: []change{{Value: v, Field: "messages"}}}},
	}
}

// statusPlan is what the status webhooks of one accepted send need.
type statusPlan struct {
	acct      Account
	wamid     string
	recipient string
	category  string // pricing category: service, or utility for templates
	fail      *Fault // an async fault: one failed status instead
}

// runStatuses posts the status webhooks of one send, in order, each after
// the status delay, until done or ctx ends.
func (s *Sim) runStatuses(ctx context.Context, p statusPlan) {
	steps := []string{"sent", "delivered", "read"}
	if p.fail != nil {
		steps = []string{"failed"}
	}
	for _, step := range steps {
		if err := sleep(ctx, s.delay); err != nil {
			return
		}
		body, err := json.Marshal(messagesEnvelope(p.acct, value{Statuses: []status{s.status(p, step)}}))
		if err != nil {
			s.cfg.Log.Error("graphsim: encode status webhook", "wamid", p.wamid, "status", step, "err", err)
			return
		}
		if err := s.deliver(ctx, p.acct, body); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.cfg.Log.Warn("graphsim: status webhook not delivered", "wamid", p.wamid, "status", step, "err", err)
		}
	}
}

// status builds one status object of a plan.
func (s *Sim) status(p statusPlan, step string) status {
	st := status{
		ID:          p.wamid,
		Status:      step,
		Timestamp:   strconv.FormatInt(s.cfg.Now().Unix(), 10),
		RecipientID: normalisePeer(p.recipient),
	}
	if isBSUID(p.recipient) {
		st.RecipientUserID = p.recipient
	}
	switch step {
	case "sent", "delivered":
		st.Pricing = &pricing{Billable: true, PricingModel: "PMP", Category: p.category, Type: "regular"}
	case "failed":
		f := p.fail
		st.Errors = []statusError{{
			Code:      f.Code,
			Title:     titleOf(f.Code),
			Message:   f.statusMessage(),
			ErrorData: errorData{Details: f.Details},
		}}
	}
	return st
}

// deliver posts a webhook body, retrying failures (network errors and
// non-2xx answers) with a growing pause.
func (s *Sim) deliver(ctx context.Context, acct Account, body []byte) error {
	pause := webhookBackoff
	for attempt := 1; ; attempt++ {
		code, err := s.post(ctx, acct, body)
		if err == nil && code/100 == 2 {
			s.mu.Lock()
			s.stats.webhooksDelivered++
			s.mu.Unlock()
			return nil
		}
		if err == nil {
			err = fmt.Errorf("webhook answered HTTP %d", code)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("graphsim: webhook delivery stopped: %w", errors.Join(err, ctx.Err()))
		}
		if attempt == webhookAttempts {
			s.mu.Lock()
			s.stats.webhooksFailed++
			s.mu.Unlock()
			return fmt.Errorf("graphsim: webhook failed %d times: %w", attempt, err)
		}
		s.mu.Lock()
		s.stats.webhookRetries++
		s.mu.Unlock()
		s.cfg.Log.Info("graphsim: webhook failed, retrying", "attempt", attempt, "in", pause, "err", err)
		if err := sleep(ctx, pause); err != nil {
			return fmt.Errorf("graphsim: webhook delivery stopped: %w", err)
		}
		pause *= 3
	}
}

// post makes one signed webhook POST and returns the receiver's status.
func (s *Sim) post(ctx context.Context, acct Account, body []byte) (int, error) {
	if s.cfg.WebhookURL == "" {
		return 0, errors.New("graphsim: no WebhookURL configured")
	}
	// At most MaxInFlight webhooks at a time, as Meta paces deliveries;
	// a burst of sends must not become a burst of timeouts and retries.
	select {
	case s.inflight <- struct{}{}:
		defer func() { <-s.inflight }()
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	timeout := s.cfg.WebhookTimeout
	if timeout <= 0 {
		timeout = webhookTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("graphsim: build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facebookexternalua")
	req.Header.Set("X-Hub-Signature-256", whatsapp.Sign(body, []byte(acct.AppSecret)))
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("graphsim: post webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// sleep pauses for d, or less when ctx ends first (then its error).
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
