package dispatch_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/metrics"
	"github.com/pytake/pytake/internal/metrics/metricstest"
)

// An event fanned out to two subscriptions, one endpoint failing once:
// the fan-out, the jobs, the deliveries, the failed attempt and a
// latency per attempt are counted; endpoint URLs (which may carry tokens)
// and secrets appear nowhere.
func TestDispatchMetrics(t *testing.T) {
	e := setup(t)
	ok := &receiver{}
	bad := &receiver{statuses: []int{500}}
	okSrv, badSrv := httptest.NewServer(ok), httptest.NewServer(bad)
	defer okSrv.Close()
	defer badSrv.Close()
	e.hook(t, okSrv.URL+"/hook?token=s3cr3t-url-token", []string{"*"}, true)
	e.hook(t, badSrv.URL, []string{"*"}, true)
	c := metricstest.New(t, "dispatcher")
	h := metricstest.Wrap(t, c, e.p.Handle)

	_, err := h(context.Background(), events.SQSEvent{Records: []events.SQSMessage{e.event(t, "message.sent", "m")}})
	require.NoError(t, err)
	for round := 0; round < 2; round++ {
		e.q.mu.Lock()
		jobs := e.q.jobs // both again in round 1: the delivered one is done
		e.q.mu.Unlock()
		var recs []events.SQSMessage
		for _, j := range jobs {
			recs = append(recs, events.SQSMessage{MessageId: "j", ReceiptHandle: "rh", Body: j, EventSourceARN: deliveriesARN})
		}
		_, err := h(context.Background(), events.SQSEvent{Records: recs})
		require.NoError(t, err)
	}
	fn := map[string]string{"Function": "dispatcher"}
	require.Equal(t, 1.0, c.Sum(t, metrics.EventsFannedOut, fn))
	require.Equal(t, 2.0, c.Sum(t, metrics.DeliveriesQueued, fn))
	require.Equal(t, 2.0, c.Sum(t, metrics.Deliveries, fn))
	require.Equal(t, 1.0, c.Sum(t, metrics.DeliveryAttemptsFail, fn))
	require.Equal(t, 0.0, c.Sum(t, metrics.DeliveriesFailed, fn))
	require.Equal(t, 3.0, c.Sum(t, metrics.DeliveryLatency, fn), "a latency per attempt")
	raw := c.Raw()
	for _, secret := range []string{"s3cr3t-url-token", "127.0.0.1", e.secret, e.org} {
		require.False(t, strings.Contains(raw, secret), "metric lines contain %q: %s", secret, raw)
	}
}
