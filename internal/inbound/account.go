package inbound

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/store"
)

// Meta's WABA webhook fields PyTake acts on besides recording them.
const (
	fieldTemplateStatus   = "message_template_status_update"
	fieldTemplateQuality  = "message_template_quality_update"
	fieldTemplateCategory = "template_category_update"
	fieldPhoneQuality     = "phone_number_quality_update"
	fieldAccountUpdate    = "account_update"
)

// templateValue is the value of Meta's three template webhooks (the ids
// arrive as JSON numbers).
type templateValue struct {
	Event                   string      `json:"event"`
	MessageTemplateID       json.Number `json:"message_template_id"`
	MessageTemplateName     string      `json:"message_template_name"`
	MessageTemplateLanguage string      `json:"message_template_language"`
	MessageTemplateCategory string      `json:"message_template_category"`
	Reason                  *string     `json:"reason"`
	PreviousQualityScore    string      `json:"previous_quality_score"`
	NewQualityScore         string      `json:"new_quality_score"`
	PreviousCategory        string      `json:"previous_category"`
	NewCategory             string      `json:"new_category"`
	CorrectCategory         string      `json:"correct_category"`
}

// accountField applies one of the account fields (templates, quality,
// account) to the organisation's copy and connection and emits its event.
// handled is false for other fields. A value PyTake cannot read is left
// to whatsapp.<field> (already recorded and emitted by the caller).
func (w *Webhook) accountField(ctx context.Context, org, field string, value json.RawMessage, rec string) (handled bool, err error) {
	switch field {
	case fieldTemplateStatus, fieldTemplateQuality, fieldTemplateCategory:
		var v templateValue
		if json.Unmarshal(value, &v) != nil || (v.MessageTemplateID == "" && v.MessageTemplateName == "") {
			return true, nil
		}
		return true, w.templateField(ctx, org, field, v, rec)
	case fieldPhoneQuality, fieldAccountUpdate:
		return true, w.signalField(ctx, org, field, value, rec)
	}
	return false, nil
}

func (w *Webhook) templateField(ctx context.Context, org, field string, v templateValue, rec string) error {
	u := store.TemplateUpdate{ID: v.MessageTemplateID.String(), Name: v.MessageTemplateName, Language: v.MessageTemplateLanguage}
	reason := ""
	if v.Reason != nil {
		reason = *v.Reason
	}
	switch field {
	case fieldTemplateStatus:
		u.Status, u.Reason, u.Category = strings.ToUpper(v.Event), reason, v.MessageTemplateCategory
		if u.Status == "" {
			return nil
		}
	case fieldTemplateQuality:
		u.Quality = strings.ToUpper(v.NewQualityScore)
		if u.Quality == "" {
			return nil
		}
	case fieldTemplateCategory:
		u.Category = strings.ToUpper(v.NewCategory)
		if u.Category == "" {
			return nil
		}
	}
	before := ""
	if field == fieldTemplateCategory && u.Name != "" && u.Language != "" {
		// The category before, when the webhook does not say it.
		if t, err := w.store.Template(ctx, org, u.Name, u.Language); err == nil {
			before = t.Category
		}
	}
	t, previous, changed, err := w.store.UpdateTemplate(ctx, org, u)
	if apperr.Is(err, apperr.NotFound) {
		// Only an id, and the copy does not know it: nothing to update.
		return nil
	}
	if err != nil || !changed {
		return err
	}
	var name string
	var data map[string]any
	switch field {
	case fieldTemplateStatus:
		name, data = event.TemplateStatusUpdated, event.TemplateStatusData(t, previous, reason, "webhook")
	case fieldTemplateQuality:
		name = event.TemplateQualityUpdated
		data = map[string]any{"template": event.ViewTemplate(t), "previous_quality_score": v.PreviousQualityScore, "new_quality_score": t.Quality}
	case fieldTemplateCategory:
		prev := v.PreviousCategory
		if prev == "" {
			prev = before
		}
		name = event.TemplateCategoryUpdated
		data = map[string]any{"template": event.ViewTemplate(t), "previous_category": prev, "new_category": t.Category}
		if v.CorrectCategory != "" {
			data["correct_category"] = v.CorrectCategory
		}
	}
	ev, err := event.New(event.StableID(org, name, rec), name, org, w.now(), data)
	if err != nil {
		return err
	}
	return w.events.Publish(ctx, ev)
}

// signalValue is the value of phone_number_quality_update and
// account_update.
type signalValue struct {
	Event                            string `json:"event"`
	CurrentLimit                     string `json:"current_limit"`
	MaxDailyConversationsPerBusiness string `json:"max_daily_conversations_per_business"`
}

func (w *Webhook) signalField(ctx context.Context, org, field string, value json.RawMessage, rec string) error {
	var v signalValue
	if json.Unmarshal(value, &v) != nil {
		return nil
	}
	var sig store.WhatsAppSignals
	name := event.WhatsAppAccountUpdated
	if field == fieldPhoneQuality {
		name = event.WhatsAppQualityUpdated
		sig = qualitySignals(v)
	} else {
		sig.AccountEvent = strings.ToUpper(v.Event)
	}
	acct, err := w.store.UpdateWhatsAppSignals(ctx, org, sig)
	if apperr.Is(err, apperr.NotFound) {
		return nil // the connection was removed meanwhile
	}
	if err != nil {
		return err
	}
	ev, err := event.New(event.StableID(org, name, rec), name, org, w.now(), event.WhatsAppSignalData(acct, v.Event, value))
	if err != nil {
		return err
	}
	return w.events.Publish(ctx, ev)
}

// qualitySignals reads phone_number_quality_update: the messaging limit
// from max_daily_conversations_per_business (current_limit before it, a
// field Meta removes in 2026), the throughput level from the
// THROUGHPUT_UPGRADE / THROUGHPUT_DOWNGRADE events, and the quality from
// FLAGGED (RED) and UNFLAGGED (GREEN).
func qualitySignals(v signalValue) store.WhatsAppSignals {
	ev := strings.ToUpper(v.Event)
	sig := store.WhatsAppSignals{QualityEvent: ev}
	switch {
	case strings.HasPrefix(v.MaxDailyConversationsPerBusiness, "TIER_"):
		sig.MessagingLimitTier = v.MaxDailyConversationsPerBusiness
	case strings.HasPrefix(v.CurrentLimit, "TIER_"):
		sig.MessagingLimitTier = v.CurrentLimit
	}
	switch ev {
	case "THROUGHPUT_UPGRADE":
		sig.ThroughputLevel = "HIGH"
	case "THROUGHPUT_DOWNGRADE":
		sig.ThroughputLevel = "STANDARD"
	case "FLAGGED":
		sig.QualityRating = "RED"
	case "UNFLAGGED":
		sig.QualityRating = "GREEN"
	}
	return sig
}
