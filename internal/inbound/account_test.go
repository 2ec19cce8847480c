package inbound_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/store"
)

func wabaChange(field, value string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"` + wabaID + `","time":1764000000,"changes":[{"field":"` + field + `","value":` + value + `}]}]}`)
}

// Meta's template webhooks update the organisation's copy and become
// template.* events, once per change (a redelivery changes nothing).
func TestTemplateWebhooks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.store.SyncTemplates(ctx, f.org, []store.Template{{ID: "12345", Name: "order_update", Language: "pt_BR",
		Category: "UTILITY", Status: "PENDING", Components: []byte(`[{"type":"BODY","text":"Pedido {{1}} atualizado."}]`)}})
	require.NoError(t, err)
	approved := wabaChange("message_template_status_update",
		`{"event":"APPROVED","message_template_id":12345,"message_template_name":"order_update","message_template_language":"pt_BR","reason":"NONE","message_template_category":"UTILITY"}`)
	for range 2 {
		resp := f.postSigned(approved)
		require.Equal(t, 200, resp.StatusCode, "%s", resp.Body)
	}
	got := f.pub.Named(event.TemplateStatusUpdated)
	require.Len(t, got, 1, "one event for the change, none for the redelivery")
	var d struct {
		Template       event.TemplateView `json:"template"`
		PreviousStatus string             `json:"previous_status"`
		Source         string             `json:"source"`
	}
	require.NoError(t, json.Unmarshal(got[0].Data, &d))
	require.Equal(t, "APPROVED", d.Template.Status)
	require.Equal(t, "PENDING", d.PreviousStatus)
	require.Equal(t, "webhook", d.Source)
	require.Len(t, f.pub.Named("whatsapp.message_template_status_update"), 2, "the raw field still arrives as before")
	tpl, err := f.store.Template(ctx, f.org, "order_update", "pt_BR")
	require.NoError(t, err)
	require.Equal(t, "APPROVED", tpl.Status)
	require.NotNil(t, tpl.Components, "components kept")

	resp := f.postSigned(wabaChange("message_template_quality_update",
		`{"previous_quality_score":"GREEN","new_quality_score":"YELLOW","message_template_id":12345,"message_template_name":"order_update","message_template_language":"pt_BR"}`))
	require.Equal(t, 200, resp.StatusCode)
	require.Len(t, f.pub.Named(event.TemplateQualityUpdated), 1)
	resp = f.postSigned(wabaChange("template_category_update",
		`{"message_template_id":12345,"message_template_name":"order_update","message_template_language":"pt_BR","previous_category":"UTILITY","new_category":"MARKETING"}`))
	require.Equal(t, 200, resp.StatusCode)
	cat := f.pub.Named(event.TemplateCategoryUpdated)
	require.Len(t, cat, 1)
	require.Contains(t, string(cat[0].Data), `"previous_category":"UTILITY"`)
	tpl, _ = f.store.Template(ctx, f.org, "order_update", "pt_BR")
	require.Equal(t, "YELLOW", tpl.Quality)
	require.Equal(t, "MARKETING", tpl.Category)

	// A rejection of a template PyTake never saw is recorded from the webhook.
	resp = f.postSigned(wabaChange("message_template_status_update",
		`{"event":"REJECTED","message_template_id":777,"message_template_name":"promo","message_template_language":"en","reason":"PROMOTIONAL"}`))
	require.Equal(t, 200, resp.StatusCode)
	tpl, err = f.store.Template(ctx, f.org, "promo", "en")
	require.NoError(t, err)
	require.Equal(t, "REJECTED", tpl.Status)
	require.Equal(t, "PROMOTIONAL", tpl.Reason)
	// A value PyTake cannot read is only recorded (whatsapp.<field>).
	resp = f.postSigned(wabaChange("message_template_status_update", `{"event":42}`))
	require.Equal(t, 200, resp.StatusCode)
	require.Len(t, f.pub.Named(event.TemplateStatusUpdated), 2)
}

func TestAccountSignalWebhooks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	resp := f.postSigned(wabaChange("phone_number_quality_update",
		`{"display_phone_number":"15550783881","event":"FLAGGED","current_limit":"TIER_2K","max_daily_conversations_per_business":"TIER_2K"}`))
	require.Equal(t, 200, resp.StatusCode, "%s", resp.Body)
	resp = f.postSigned(wabaChange("phone_number_quality_update", `{"display_phone_number":"15550783881","event":"THROUGHPUT_UPGRADE"}`))
	require.Equal(t, 200, resp.StatusCode, "%s", resp.Body)
	resp = f.postSigned(wabaChange("account_update", `{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}`))
	require.Equal(t, 200, resp.StatusCode, "%s", resp.Body)
	a, err := f.store.WhatsAppAccount(ctx, f.org)
	require.NoError(t, err)
	require.Equal(t, store.WhatsAppSignals{QualityRating: "RED", QualityEvent: "THROUGHPUT_UPGRADE", MessagingLimitTier: "TIER_2K",
		ThroughputLevel: "HIGH", AccountEvent: "ACCOUNT_VIOLATION", UpdatedAt: a.Signals.UpdatedAt}, a.Signals)
	require.Len(t, f.pub.Named(event.WhatsAppQualityUpdated), 2)
	acc := f.pub.Named(event.WhatsAppAccountUpdated)
	require.Len(t, acc, 1)
	require.Contains(t, string(acc[0].Data), `"violation_type":"SCAM"`)
}
