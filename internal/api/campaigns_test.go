package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/campaign"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/store"
)

func TestCampaignRoutes(t *testing.T) {
	f := newFixture(t)
	auth := "Bearer " + f.key
	ctx := context.Background()
	for _, c := range []struct{ wa, name string }{{"5511900000001", "Ana Souza"}, {"5511900000002", "Bia"}, {"5511900000003", "Caio"}} {
		_, err := f.store.CreateContact(ctx, store.Contact{OrgID: f.org.ID, WhatsAppID: c.wa, Name: c.name, Tags: []string{"vip"}}, nil)
		require.NoError(t, err)
	}
	_, err := f.store.SyncTemplates(ctx, f.org.ID, []store.Template{{ID: "1", Name: "promo", Language: "pt_BR", Category: "MARKETING",
		Status: "APPROVED", Components: json.RawMessage(`[{"type":"BODY","text":"Oi {{1}}, oferta!"}]`)}})
	require.NoError(t, err)
	tpl := `{"name":"promo","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"{{contact.first_name}}"}]}]}`

	for body, code := range map[string]string{
		`{"name":"x","template":{"name":"nope","language":{"code":"pt_BR"}},"audience":{"tags":["vip"]}}`:  "template_not_found",
		`{"name":"x","template":{"name":"promo","language":{"code":"pt_BR"}},"audience":{"tags":["vip"]}}`: "template_parameter_mismatch",
		`{"name":"x","template":` + tpl + `,"audience":{"tags":["nobody"]}}`:                               "campaign_audience_empty",
		`{"name":"x","template":` + tpl + `,"audience":{"contact_ids":["ct_01JBZ5K7Q3XW8Y2N4M6P9R1T3W"]}}`: "validation_failed",
		`{"name":"x","template":` + tpl + `,"audience":{"tags":["vip"]},"send_at":"2030-01-01T00:00:00Z"}`: "validation_failed",
	} {
		resp, b := f.do(event("POST", "/v1/campaigns", auth, body))
		require.Equal(t, 422, resp.StatusCode, "%s: %s", body, resp.Body)
		assert.Equal(t, code, b["error"].(map[string]any)["code"], body)
	}

	resp, b := f.do(event("POST", "/v1/campaigns", auth, `{"name":"VIP","template":`+tpl+`,"audience":{"tags":["vip"]}}`))
	require.Equal(t, 201, resp.StatusCode, resp.Body)
	assert.Equal(t, "running", b["status"])
	assert.Equal(t, float64(3), b["counts"].(map[string]any)["recipients"])
	id := b["id"].(string)
	later := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC).Format(time.RFC3339)
	resp, b = f.do(event("POST", "/v1/campaigns", auth, `{"name":"Later","template":`+tpl+`,"audience":{"tags":["vip"]},"send_at":"`+later+`"}`))
	require.Equal(t, 201, resp.StatusCode, resp.Body)
	assert.Equal(t, "scheduled", b["status"])
	laterID := b["id"].(string)

	// The runner sends it (the campaign-runner function's work).
	run := campaign.NewRunner(f.store, &eventtest.Recorder{}, slog.New(slog.NewTextHandler(io.Discard, nil)),
		func() time.Time { return time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) })
	run.PageSize = 2
	for i := 0; i < 5; i++ {
		require.NoError(t, run.Tick(ctx))
	}
	resp, b = f.do(event("GET", "/v1/campaigns/"+id, auth, ""))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, "completed", b["status"])
	assert.Equal(t, float64(3), b["counts"].(map[string]any)["queued"])
	resp, b = f.do(event("GET", "/v1/campaigns/"+laterID, auth, ""))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, "scheduled", b["status"], "not due yet")

	ev := event("GET", "/v1/campaigns/"+id+"/recipients", auth, "")
	ev.RawQueryString = "limit=2"
	resp, b = f.do(ev)
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	require.Len(t, b["data"], 2)
	cursor := b["next_cursor"].(string)
	require.NotEmpty(t, cursor)
	resp, _ = f.do(event("GET", "/v1/campaigns/"+laterID+"/recipients", auth, ""))
	require.Equal(t, 200, resp.StatusCode)
	ev = event("GET", "/v1/campaigns/"+laterID+"/recipients", auth, "")
	ev.RawQueryString = "cursor=" + cursor
	resp, b = f.do(ev)
	require.Equal(t, 422, resp.StatusCode, "another campaign's cursor: %s", resp.Body)
	assert.Equal(t, "invalid_cursor", b["error"].(map[string]any)["code"])
	ev = event("GET", "/v1/campaigns/"+id+"/recipients", auth, "")
	ev.RawQueryString = "status=skipped"
	resp, b = f.do(ev)
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Empty(t, b["data"])
	ev.RawQueryString = "status=bogus"
	resp, _ = f.do(ev)
	require.Equal(t, 422, resp.StatusCode)

	resp, b = f.do(event("GET", "/v1/campaigns", auth, ""))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	require.Len(t, b["data"], 2)

	resp, _ = f.do(event("POST", "/v1/campaigns/"+id+"/pause", auth, ""))
	require.Equal(t, 409, resp.StatusCode, "a completed campaign: %s", resp.Body)
	resp, b = f.do(event("POST", "/v1/campaigns/"+laterID+"/pause", auth, ""))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, "paused", b["status"])
	resp, b = f.do(event("POST", "/v1/campaigns/"+laterID+"/resume", auth, ""))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, "scheduled", b["status"], "not started: back to scheduled")
	resp, b = f.do(event("POST", "/v1/campaigns/"+laterID+"/cancel", auth, ""))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, "cancelled", b["status"])
	resp, _ = f.do(event("POST", "/v1/campaigns/"+laterID+"/resume", auth, ""))
	require.Equal(t, 409, resp.StatusCode)
}
