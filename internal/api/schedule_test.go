package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/schedule"
	"github.com/pytake/pytake/internal/store"
)

func scheduledBody(at time.Time) string {
	return fmt.Sprintf(`{"to":"+5511900000001","type":"template","template":{"name":"hello","language":{"code":"pt_BR"}},"send_at":%q}`,
		at.Format(time.RFC3339))
}

// POST /v1/messages with send_at answers 202 scheduled, queues nothing
// until the sweep releases it; DELETE cancels it while it is scheduled.
func TestScheduledMessages(t *testing.T) {
	f := newSendFixture(t)
	f.now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	at := f.now.Add(2 * time.Minute)

	// Out of bounds: 422 naming send_at.
	for _, bad := range []string{
		scheduledBody(f.now.Add(30 * time.Second)),
		scheduledBody(f.now.Add(31 * 24 * time.Hour)),
		scheduledBody(f.now.Add(-time.Hour)),
		`{"to":"+5511900000001","type":"template","template":{"name":"hello","language":{"code":"pt_BR"}},"send_at":"tomorrow"}`,
		`{"to":"+5511900000001","type":"template","template":{"name":"hello","language":{"code":"pt_BR"}},"send_at":"2026-12-02T12:05:00"}`,
	} {
		code, body, _ := f.call("POST", "/v1/messages", f.key, bad)
		require.Equal(t, 422, code, "%s: %s", bad, body)
		require.Contains(t, body, `"field":"send_at"`, bad)
	}
	require.Empty(t, f.box.jobs())

	code, body, h := f.call("POST", "/v1/messages", f.key, scheduledBody(at), "Idempotency-Key", "sched-1")
	require.Equal(t, 202, code, body)
	var sent struct {
		ID     string    `json:"id"`
		Status string    `json:"status"`
		SendAt time.Time `json:"send_at"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &sent))
	require.Equal(t, "scheduled", sent.Status)
	require.True(t, at.Equal(sent.SendAt), "send_at %s", sent.SendAt)
	require.Equal(t, "/v1/messages/"+sent.ID, h["Location"])
	require.Empty(t, f.box.jobs(), "a scheduled message is not queued")

	code, body, _ = f.call("GET", "/v1/messages/"+sent.ID, f.key, "")
	require.Equal(t, 200, code, body)
	require.Contains(t, body, `"status":"scheduled"`)
	require.Contains(t, body, `"send_at":"2026-12-02T12:02:00Z"`)

	// A retry with the same key answers the same message, even once its
	// time is closer than the minimum lead; another send_at is another request.
	f.now = f.now.Add(90 * time.Second)
	code, body, h = f.call("POST", "/v1/messages", f.key, scheduledBody(at), "Idempotency-Key", "sched-1")
	require.Equal(t, 202, code, body)
	require.Equal(t, "true", h["Idempotent-Replayed"])
	require.Contains(t, body, sent.ID)
	code, body, _ = f.call("POST", "/v1/messages", f.key, scheduledBody(at.Add(time.Hour)), "Idempotency-Key", "sched-1")
	require.Equal(t, 409, code, body)
	require.Contains(t, body, "idempotency_key_reused")

	// Cancel: a key without messages:write cannot; another organisation
	// does not find it; the owner cancels it, once.
	_, reader, err := f.st.IssueKey(context.Background(), f.org.ID, "reader", apikey.Live, apikey.ScopeMessagesRead)
	require.NoError(t, err)
	code, body, _ = f.call("DELETE", "/v1/messages/"+sent.ID, reader, "")
	require.Equal(t, 403, code, body)
	code, body, _ = f.call("DELETE", "/v1/messages/"+sent.ID, f.other, "")
	require.Equal(t, 404, code, body)
	_, testKey, err := f.st.IssueKey(context.Background(), f.org.ID, "test", apikey.Test)
	require.NoError(t, err)
	code, body, _ = f.call("DELETE", "/v1/messages/"+sent.ID, testKey, "")
	require.Equal(t, 403, code, body)
	require.Contains(t, body, "test_mode_forbidden")

	code, body, _ = f.call("DELETE", "/v1/messages/"+sent.ID, f.key, "")
	require.Equal(t, 200, code, body)
	require.Contains(t, body, `"status":"cancelled"`)
	require.Contains(t, body, `"cancelled_at":"2026-12-02T12:01:30Z"`)
	code, body, _ = f.call("DELETE", "/v1/messages/"+sent.ID, f.key, "")
	require.Equal(t, 409, code, body)
	require.Contains(t, body, `"code":"message_not_scheduled"`)
	require.Contains(t, body, `"status":"cancelled"`)

	// Another, released by the sweep at its time: queued once, then not cancellable.
	code, body, _ = f.call("POST", "/v1/messages", f.key, scheduledBody(f.now.Add(time.Minute)))
	require.Equal(t, 202, code, body)
	require.NoError(t, json.Unmarshal([]byte(body), &sent))
	f.now = f.now.Add(time.Minute)
	sw := schedule.New(f.st, accept.New(f.st), schedule.FailedEvents(f.st, func() time.Time { return f.now }),
		slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return f.now })
	_, err = sw.Tick(context.Background())
	require.NoError(t, err)
	require.Len(t, f.box.jobs(), 1)
	m, err := f.st.Message(context.Background(), f.org.ID, sent.ID)
	require.NoError(t, err)
	require.Equal(t, store.StatusQueued, m.Status)
	code, body, _ = f.call("DELETE", "/v1/messages/"+sent.ID, f.key, "")
	require.Equal(t, 409, code, body)
	require.Contains(t, body, `"status":"queued"`)
	code, body, _ = f.call("DELETE", "/v1/messages/msg_nope", f.key, "")
	require.Equal(t, 404, code, body)
}
