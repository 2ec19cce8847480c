package event

import (
	"encoding/json"

	"github.com/pytake/pytake/internal/store"
)

// Template and account events.
const (
	TemplateStatusUpdated   = "template.status_updated"
	TemplateQualityUpdated  = "template.quality_updated"
	TemplateCategoryUpdated = "template.category_updated"
	WhatsAppQualityUpdated  = "whatsapp.quality_updated"
	WhatsAppAccountUpdated  = "whatsapp.account_updated"
)

// TemplateView is a template as events show it (its components are in
// GET /v1/templates/{name}).
type TemplateView struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Language       string `json:"language"`
	Category       string `json:"category"`
	Status         string `json:"status"`
	QualityScore   string `json:"quality_score,omitempty"`
	RejectedReason string `json:"rejected_reason,omitempty"`
}

// ViewTemplate is a stored template's event view.
func ViewTemplate(t store.Template) TemplateView {
	return TemplateView{ID: t.ID, Name: t.Name, Language: t.Language, Category: t.Category, Status: t.Status,
		QualityScore: t.Quality, RejectedReason: t.Reason}
}

// TemplateStatusData is template.status_updated's data: the template after
// the change, its status before ("" when PyTake did not know it), Meta's
// reason, and what told PyTake (a Meta "webhook" or a "sync").
func TemplateStatusData(t store.Template, previous, reason, source string) map[string]any {
	d := map[string]any{"template": ViewTemplate(t), "previous_status": previous, "source": source}
	if reason != "" {
		d["reason"] = reason
	}
	return d
}

// WhatsAppSignalData is whatsapp.quality_updated's and
// whatsapp.account_updated's data: Meta's event, the connection's signals
// after it, and Meta's raw value.
func WhatsAppSignalData(a store.WhatsAppAccount, metaEvent string, value json.RawMessage) map[string]any {
	return map[string]any{"phone_number_id": a.PhoneNumberID, "waba_id": a.WABAID, "event": metaEvent,
		"signals": a.Signals, "value": value}
}
