//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/internal/store"
)

// emfLines are the Embedded Metric Format documents a function wrote to
// its output (the stack's log names the function of each line).
func emfLines(t require.TestingT, logicalID string) []map[string]any {
	f, err := os.Open(logs.Name())
	require.NoError(t, err)
	defer f.Close()
	var docs []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	prefix := "[" + logicalID + "] "
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok || !strings.Contains(line, `"_aws"`) {
			continue
		}
		var d map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &d), "EMF line is not JSON: %s", line)
		docs = append(docs, d)
	}
	return docs
}

func sumMetric(docs []map[string]any, name string, dims map[string]string) float64 {
	var total float64
next:
	for _, d := range docs {
		for k, v := range dims {
			if d[k] != v {
				continue next
			}
		}
		if v, ok := d[name].(float64); ok {
			total += v
		}
	}
	return total
}

// The deployed binaries write their metrics: a customer writes, the reply
// is sent and read, and the webhook, the sender and the dispatcher each
// wrote EMF lines in the stack's namespace naming the business number,
// never the customer's.
func TestMetricsInFunctionLogs(t *testing.T) {
	const customer = "5511955550077"
	_, status, err := st.Sim.Inbound(context.Background(), graphsim.Inbound{From: customer, Name: "Rita", Text: "Oi"})
	require.NoError(t, err)
	require.Equal(t, 200, status)
	code, id := send(t, `{"to":"+`+customer+`","text":"Olá Rita"}`)
	require.Equal(t, 202, code)
	waitMessage(t, id, 30*time.Second, func(m store.Message) bool { return m.Status == store.StatusRead })

	number := map[string]string{"PhoneNumberId": demo.WhatsApp.PhoneNumberID}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		sender := emfLines(c, "SenderFunction")
		hook := emfLines(c, "WhatsAppWebhookFunction")
		disp := emfLines(c, "DispatcherFunction")
		assert.GreaterOrEqual(c, sumMetric(sender, "MessagesAccepted", number), 1.0, "sender: %v", sender)
		assert.GreaterOrEqual(c, sumMetric(hook, "MessagesReceived", number), 1.0, "webhook: %v", hook)
		assert.GreaterOrEqual(c, sumMetric(hook, "MessagesSent", number), 1.0, "webhook: %v", hook)
		assert.GreaterOrEqual(c, sumMetric(disp, "EventsFannedOut", nil), 1.0, "dispatcher: %v", disp)
		for _, d := range append(append(sender, hook...), disp...) {
			aws := d["_aws"].(map[string]any)
			dir := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
			assert.Equal(c, "PyTake/pytake-local", dir["Namespace"])
			b, _ := json.Marshal(d)
			assert.NotContains(c, string(b), customer, "a metric line names the customer")
		}
	}, 20*time.Second, 500*time.Millisecond)
}
