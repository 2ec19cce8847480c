package api_test

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/ratelimit"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// TestRateLimits: per key and per organisation, across containers (two
// routers, each with its own limiter, over one table), with 429
// rate_limited, Retry-After and the IETF RateLimit fields.
func TestRateLimits(t *testing.T) {
	tbl := storetest.New(t)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := store.New(tbl.Client, tbl.Name, clock)
	ctx := context.Background()
	org, _ := st.CreateOrganization(ctx, "A")
	_, k1, _ := st.IssueKey(ctx, org.ID, "one", apikey.Live)
	_, k2, _ := st.IssueKey(ctx, org.ID, "two", apikey.Live)
	var containers []*fixture
	for i := 0; i < 2; i++ {
		srv := api.New(api.Deps{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock,
			Limiter: ratelimit.New(st, clock)})
		containers = append(containers, &fixture{t: t, router: srv.Router()})
	}
	plan, _ := ratelimit.PlanNamed(ratelimit.DefaultPlan)
	call := func(i int, key string) (int, string, map[string]string) {
		ev := event("GET", "/v1/organization", "Bearer "+key, "")
		resp, _ := containers[i%2].do(ev)
		return resp.StatusCode, resp.Body, resp.Headers
	}
	limitRe := regexp.MustCompile(`^"key";r=(\d+);t=(\d+), "org";r=(\d+);t=(\d+)$`)
	for i := 0; i < plan.KeyBurst; i++ {
		code, body, h := call(i, k1)
		if code != 200 {
			t.Fatalf("request %d of the key's burst: %d %s", i+1, code, body)
		}
		if !limitRe.MatchString(h["RateLimit"]) || !strings.Contains(h["RateLimit-Policy"], `"key";q=250;w=5`) {
			t.Fatalf("headers %v", h)
		}
	}
	code, body, h := call(0, k1)
	if code != 429 || !strings.Contains(body, `"code":"rate_limited"`) || !strings.Contains(body, "API key") ||
		h["Retry-After"] != "1" || !strings.HasPrefix(h["RateLimit"], `"key";r=0;`) || h["RateLimit-Policy"] == "" {
		t.Fatalf("over the key's burst: %d %s %v", code, body, h)
	}
	// The other key still has its own bucket; the organisation's is shared.
	for i := 0; i < plan.OrgBurst-plan.KeyBurst; i++ {
		if code, body, _ := call(i, k2); code != 200 {
			t.Fatalf("second key, request %d: %d %s", i+1, code, body)
		}
	}
	_, k3, _ := st.IssueKey(ctx, org.ID, "three", apikey.Live)
	code, body, h = call(1, k3)
	if code != 429 || !strings.Contains(body, "organization") || !strings.Contains(h["RateLimit"], `"org";r=0;`) {
		t.Fatalf("over the organisation's burst with a fresh key: %d %s %v", code, body, h)
	}
	// Tokens come back at the plan's rate.
	now = now.Add(time.Second)
	if code, body, _ := call(0, k3); code != 200 {
		t.Fatalf("a second later: %d %s", code, body)
	}
	// The plan is the organisation's: free is smaller.
	small, _ := st.CreateOrganization(ctx, "Small")
	if err := st.SetOrganizationPlan(ctx, small.ID, "free"); err != nil {
		t.Fatal(err)
	}
	_, ks, _ := st.IssueKey(ctx, small.ID, "s", apikey.Live)
	free, _ := ratelimit.PlanNamed("free")
	allowed := 0
	for i := 0; i < free.KeyBurst+5; i++ {
		if code, _, _ := call(i, ks); code == 200 {
			allowed++
		}
	}
	if allowed != free.KeyBurst {
		t.Fatalf("free plan: %d allowed, want %d", allowed, free.KeyBurst)
	}
}
