//go:build e2e

package e2e

// The bulk test runs last (files run in name order): the events it makes
// would otherwise sit in front of other tests' events in the dispatcher's
// queue.

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/stack"
	"github.com/pytake/pytake/internal/store"
)

// 1,000 messages to 20 recipients: each sent exactly once, in the order
// accepted per recipient, and each reaches read.
func TestThousandMessagesInOrder(t *testing.T) {
	const recipients, each = 20, 50
	ids := make([][]string, recipients)
	var wg sync.WaitGroup
	errs := make(chan string, recipients)
	for r := 0; r < recipients; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			to := fmt.Sprintf("55219000%04d", r)
			for i := 0; i < each; i++ {
				body := fmt.Sprintf(`{"to":"%s","type":"template","template":{"name":"order_update","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"%d"},{"type":"text","text":"enviado"}]}]}}`, to, i)
				code, id := sendRetrying(t, body, fmt.Sprintf("bulk-%d-%d", r, i))
				if code != 202 {
					errs <- fmt.Sprintf("recipient %d message %d: %d", r, i, code)
					return
				}
				ids[r] = append(ids[r], id)
			}
		}(r)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	// A retry is what a loaded machine may cost now and then; more is a
	// fault of the API's, not of the machine.
	require.LessOrEqual(t, bulkRetries.Load(), int64(5), "requests answered 5xx or 429 before their 202")
	start := time.Now()
	for r := range ids {
		for _, id := range ids[r] {
			waitMessage(t, id, 5*time.Minute, func(m store.Message) bool { return m.Status == store.StatusRead })
		}
	}
	t.Logf("1000 messages read %s after the last was accepted", time.Since(start).Round(time.Millisecond))
	perTo := map[string][]int{}
	seen := map[string]int{}
	for _, s := range st.Sim.Sent() {
		if !strings.HasPrefix(s.To, "55219000") {
			continue
		}
		var b struct {
			Template struct {
				Components []struct {
					Parameters []struct{ Text string } `json:"parameters"`
				} `json:"components"`
			} `json:"template"`
		}
		_ = json.Unmarshal(s.Body, &b)
		n := -1
		fmt.Sscanf(b.Template.Components[0].Parameters[0].Text, "%d", &n)
		perTo[s.To] = append(perTo[s.To], n)
		seen[fmt.Sprintf("%s/%d", s.To, n)]++
	}
	for k, c := range seen {
		assert.Equal(t, 1, c, "%s sent %d times", k, c)
	}
	require.Len(t, seen, recipients*each, "%d distinct messages reached the simulator, want %d", len(seen), recipients*each)
	for to, seq := range perTo {
		for i := range seq {
			require.Equal(t, i, seq[i], "%s got messages out of order: %v", to, seq)
		}
	}
	if max := st.Sim.MaxPerSecond(stack.DemoPhoneNumberID); max > 80 {
		t.Fatalf("%d sends in one second, cap 80", max)
	}
}

// sendRetrying sends as an integrator's client does: a 5xx or 429 is tried
// again, after a pause, with the same Idempotency-Key, so a request that
// was accepted before its answer was lost (an invocation timed out on a
// loaded machine) is answered with the same message, not a second one.
// The test's once-and-in-order checks then prove the retry safe.
// bulkRetries counts sendRetrying's retries.
var bulkRetries atomic.Int64

func sendRetrying(t *testing.T, body, key string) (int, string) {
	t.Helper()
	code, id := send(t, body, "Idempotency-Key", key)
	for attempt := 1; attempt < 4 && (code >= 500 || code == 429); attempt++ {
		bulkRetries.Add(1)
		t.Logf("%s answered %d; retrying with the same Idempotency-Key", key, code)
		time.Sleep(time.Duration(attempt) * time.Second)
		code, id = send(t, body, "Idempotency-Key", key)
	}
	return code, id
}
