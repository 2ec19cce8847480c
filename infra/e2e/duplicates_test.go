//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/stack"
	"github.com/pytake/pytake/internal/whatsapp"
)

// Issue 13: Meta delivers the same message four times at once; every
// delivery is answered 200 (none is told to retry), the message is stored
// once and a subscriber gets one message.received.
func TestConcurrentDuplicateDeliveriesFromMeta(t *testing.T) {
	sub := newSubscriber(t)
	subscribe(t, sub, "message.received")
	body, err := os.ReadFile(filepath.Join(root, "internal", "inbound", "testdata", "message_text.json"))
	require.NoError(t, err)
	wamid := "wamid.e2edup" + time.Now().Format("150405.000000")
	body = []byte(strings.Replace(string(body), "wamid.HBgN1", wamid, 1))
	sig := whatsapp.Sign(body, []byte(stack.DemoAppSecret))

	var wg sync.WaitGroup
	codes := make([]int, 4)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = do(t, "POST", "/webhooks/whatsapp", "", body, "X-Hub-Signature-256", sig).Status
		}()
	}
	wg.Wait()
	require.Equal(t, []int{200, 200, 200, 200}, codes)

	// One event for the wamid reaches the subscriber (and no second one
	// after a pause long enough for a duplicate to land).
	forWamid := func() []received {
		var out []received
		for _, r := range sub.wait(t, 0, time.Second) {
			if strings.Contains(string(r.body), wamid) {
				out = append(out, r)
			}
		}
		return out
	}
	require.Eventually(t, func() bool { return len(forWamid()) >= 1 }, 90*time.Second, 200*time.Millisecond)
	time.Sleep(3 * time.Second)
	got := forWamid()
	require.Len(t, got, 1, "message.received deliveries for %s", wamid)
	require.NoError(t, got[0].verified)
	events := drainOnce(t, "message.received", wamid)
	require.Len(t, events, 1)

	// Stored once.
	var data struct {
		Conversation struct{ ID string } `json:"conversation"`
	}
	require.NoError(t, json.Unmarshal(events[0].Data, &data))
	r := do(t, "GET", "/v1/conversations/"+data.Conversation.ID+"/messages?limit=100", demo.APIKey.Key, nil)
	require.Equal(t, 200, r.Status)
	require.Equal(t, 1, strings.Count(string(r.Body), `"wamid":"`+wamid+`"`), "stored messages with %s: %s", wamid, r.Body)
}
