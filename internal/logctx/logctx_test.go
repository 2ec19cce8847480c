package logctx_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/logctx"
	"github.com/pytake/pytake/internal/logctx/logctxtest"
)

func TestHandlerAddsTheContextsAttributes(t *testing.T) {
	base := context.Background()
	first := logctx.With(base, "sqs_message_id", "m-1")
	tests := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"no attributes", base, `{"level":"INFO","msg":"hello","org_id":"org_1","n":1}`},
		{"one", first, `{"level":"INFO","msg":"hello","org_id":"org_1","n":1,"sqs_message_id":"m-1"}`},
		{"added to, parent untouched", logctx.With(first, slog.String("event_id", "evt_1")),
			`{"level":"INFO","msg":"hello","org_id":"org_1","n":1,"sqs_message_id":"m-1","event_id":"evt_1"}`},
	}
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(logctx.Handler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: noTime}))).With("org_id", "org_1")
			log.InfoContext(tt.ctx, "hello", "n", 1)
			assert.JSONEq(t, tt.want, buf.String())
		})
	}
}

func TestLambdaLoggerNamesTheRequest(t *testing.T) {
	log, lines := logctxtest.Capture(t)
	ctx := logctx.With(logctxtest.Invocation(context.Background(), "req-123"), "event_id", "evt_1")
	log.InfoContext(ctx, "with context")
	log.InfoContext(context.Background(), "without context")
	got := lines()
	require.Len(t, got, 2)
	for _, want := range []string{"with context", "requestId", "req-123", "event_id", "evt_1"} {
		assert.Contains(t, got[0], want)
	}
	assert.NotContains(t, got[1], "requestId")
}
