package sender_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/metrics"
	"github.com/pytake/pytake/internal/metrics/metricstest"
)

// One invocation through the function's wrapper: a message accepted by
// Meta, one failed for good, one retried. The lines count them per
// business number, carry a Graph latency and a limiter wait per send, and
// name neither the recipients nor the token.
func TestSendMetrics(t *testing.T) {
	e := setup(t)
	_, ok := e.queueMsg(t, "5511900000101")
	e.graph.errs = nil
	_, fail := e.queueMsg(t, "5511900000102")
	_, again := e.queueMsg(t, "5511900000103")
	cap := metricstest.New(t, "sender")
	h := metricstest.Wrap(t, cap, e.s.Handle)

	// The first send is accepted; then a terminal error; then a retryable one.
	order := []events.SQSMessage{ok, fail, again}
	for i, rec := range order {
		switch i {
		case 1:
			e.graph.errs = []error{&graph.Error{HTTPStatus: 400, Code: 131047, Message: "Re-engagement message"}}
		case 2:
			e.graph.errs = []error{&graph.Error{HTTPStatus: 503, Message: "unavailable"}}
		}
		_, err := h(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec}})
		require.NoError(t, err)
	}
	number := map[string]string{"Function": "sender", "PhoneNumberId": "106540352242922"}
	require.Equal(t, 1.0, cap.Sum(t, metrics.MessagesAccepted, number))
	require.Equal(t, 1.0, cap.Sum(t, metrics.MessagesFailed, number))
	require.Equal(t, 1.0, cap.Sum(t, metrics.MessagesRetried, nil))
	require.Equal(t, 3.0, cap.Sum(t, metrics.GraphLatency, nil), "one latency per Graph call")
	require.Equal(t, 3.0, cap.Sum(t, metrics.LimiterWaitMs, nil), "one limiter wait per send")
	for _, v := range cap.Values(t, metrics.GraphLatency) {
		require.GreaterOrEqual(t, v, 0.0)
	}
	raw := cap.Raw()
	for _, secret := range []string{"5511900000101", "5511900000102", "5511900000103", "tok", e.org} {
		require.False(t, strings.Contains(raw, secret), "metric lines contain %q: %s", secret, raw)
	}
	// Three invocations: each wrote its own lines (one per dimension set).
	require.LessOrEqual(t, len(cap.Docs(t)), 6)
}
