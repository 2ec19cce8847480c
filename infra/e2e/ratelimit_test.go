//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// TestRateLimitAcrossEmulators: an organisation on the free plan (bursts
// of 50 per key) firing 80 concurrent requests, which the gateway spreads
// over the api function's emulators (separate processes, each with its own
// memory): 50 pass, 30 get 429 rate_limited with Retry-After and the IETF
// RateLimit fields, because the buckets live in DynamoDB.
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
	for i := 0; i < 80; i++ {
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
			if r.Header.Get("RateLimit-Policy") != `"key";q=50;w=5, "org";q=50;w=5` || !strings.HasPrefix(r.Header.Get("RateLimit"), `"key";r=`) {
				t.Errorf("%d: RateLimit-Policy %q, RateLimit %q", r.Status, r.Header.Get("RateLimit-Policy"), r.Header.Get("RateLimit"))
			}
		}()
	}
	wg.Wait()
	// A few tokens come back while the 80 are in flight (10 a second).
	if counts[200] < 50 || counts[200] > 60 || counts[200]+counts[429] != 80 {
		t.Fatalf("statuses %v, want 50 (plus what refilled meanwhile) 200s and the rest 429", counts)
	}
	if last.Header.Get("Retry-After") == "" || !strings.Contains(string(last.Body), `"code":"rate_limited"`) {
		t.Fatalf("429: %v %s", last.Header, last.Body)
	}
}
