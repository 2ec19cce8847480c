package inbound_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/metrics"
	"github.com/pytake/pytake/internal/metrics/metricstest"
	"github.com/pytake/pytake/internal/whatsapp"
)

func (f *fixture) postWith(c *metricstest.Capture, body []byte, signature string) events.APIGatewayV2HTTPResponse {
	f.t.Helper()
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/webhooks/whatsapp", Headers: map[string]string{"content-type": "application/json"}, Body: string(body)}
	ev.RequestContext.HTTP.Method = "POST"
	if signature != "" {
		ev.Headers["x-hub-signature-256"] = signature
	}
	resp, err := metricstest.Wrap(f.t, c, f.router.Serve)(context.Background(), ev)
	require.NoError(f.t, err)
	return resp
}

// A signed batch: its messages and statuses are counted per business
// number, statuses by status too; the customers' numbers appear nowhere.
// A forged body (a bad signature, or a number nobody owns) counts nothing
// and puts none of its ids in a metric line.
func TestWebhookMetrics(t *testing.T) {
	f := newFixture(t)
	insertOutbound(t, f, "wamid.OUT1")
	insertOutbound(t, f, "wamid.OUT2")
	c := metricstest.New(t, "whatsapp-webhook")
	body := read(t, "batch_mixed.json")
	resp := f.postWith(c, body, whatsapp.Sign(body, []byte(appSecret)))
	require.Equal(t, 200, resp.StatusCode, resp.Body)

	number := map[string]string{"Function": "whatsapp-webhook", "PhoneNumberId": phoneID}
	require.Equal(t, 3.0, c.Sum(t, metrics.MessagesReceived, number))
	require.Equal(t, 1.0, c.Sum(t, metrics.MessagesSent, number))
	require.Equal(t, 1.0, c.Sum(t, metrics.MessagesFailed, number))
	for _, st := range []string{"sent", "delivered", "read", "failed"} {
		require.Equal(t, 1.0, c.Sum(t, metrics.StatusesApplied, map[string]string{"Status": st}), st)
	}
	raw := c.Raw()
	for _, customer := range []string{"5511777777777", "5511888888888", "EAAG", appSecret, f.org} {
		require.False(t, strings.Contains(raw, customer), "metric lines contain %q: %s", customer, raw)
	}

	// Forgeries.
	forged := metricstest.New(t, "whatsapp-webhook")
	resp = f.postWith(forged, body, "sha256=00")
	require.Equal(t, 401, resp.StatusCode)
	other := []byte(strings.ReplaceAll(string(body), phoneID, "999000999000999"))
	resp = f.postWith(forged, other, whatsapp.Sign(other, []byte(appSecret)))
	require.Less(t, resp.StatusCode, 500)
	require.Zero(t, forged.Sum(t, metrics.MessagesReceived, nil))
	require.Zero(t, forged.Sum(t, metrics.StatusesApplied, nil))
	require.False(t, strings.Contains(forged.Raw(), "999000999000999"), forged.Raw())
}
