//go:build e2e

package e2e

import (
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRateLimitAcrossEmulators: an organisation on the free plan (1
// request a second, bursts of 20, per key) firing 100 concurrent requests,
// which the gateway spreads over the api function's emulators (separate
// processes, each with its own memory). The buckets live in DynamoDB, so
// together they let through at most the burst plus what refilled while the
// requests ran; the others get 429 rate_limited with Retry-After and the
// IETF RateLimit fields.
func TestRateLimitAcrossEmulators(t *testing.T) {
	var res struct {
		Organization struct{ ID string }  `json:"organization"`
		APIKey       struct{ Key string } `json:"api_key"`
	}
	if err := json.Unmarshal(ops(t, "", "create-org", "--name", "Small", "--plan", "free"), &res); err != nil {
		t.Fatal(err)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[int]int{}
		last   response
	)
	start := time.Now()
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := do(t, "GET", "/v1/organization", res.APIKey.Key, nil)
			mu.Lock()
			defer mu.Unlock()
			counts[r.Status]++
			if r.Status == 429 {
				last = r
			}
			if r.Header.Get("RateLimit-Policy") != `"key";q=20;w=20, "org";q=20;w=20` || !strings.HasPrefix(r.Header.Get("RateLimit"), `"key";r=`) {
				t.Errorf("%d: RateLimit-Policy %q, RateLimit %q", r.Status, r.Header.Get("RateLimit-Policy"), r.Header.Get("RateLimit"))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	most := 20 + int(math.Ceil(elapsed.Seconds())) // the burst and a token a second
	if counts[200] < 20 || counts[200] > most || counts[200]+counts[429] != 100 {
		t.Fatalf("statuses %v in %s: want 20 to %d 200s and the rest 429", counts, elapsed.Round(time.Millisecond), most)
	}
	if last.Header.Get("Retry-After") == "" || !strings.Contains(string(last.Body), `"code":"rate_limited"`) {
		t.Fatalf("429: %v %s", last.Header, last.Body)
	}
	t.Logf("%v in %s", counts, elapsed.Round(time.Millisecond))
}
