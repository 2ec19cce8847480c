package api_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/ratelimit"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// Listing a webhook's deliveries (every page a Query of each of its 256
// shards, ~128 read units) has a tighter limit of its own, per
// organisation, across containers: past its burst 429 rate_limited
// (policy "route") with Retry-After, while the organisation's other
// routes and other organisations' listings go on; tokens come back at its
// rate.
func TestDeliveriesListingRouteLimit(t *testing.T) {
	tbl := storetest.New(t)
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := store.New(tbl.Client, tbl.Name, clock)
	ctx := context.Background()
	var containers []*fixture
	for range 2 {
		srv := api.New(api.Deps{Store: st, Webhooks: st, Deliveries: st, DeliveryQueue: &jobQueue{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock,
			Limiter: ratelimit.New(st, clock)})
		containers = append(containers, &fixture{t: t, router: srv.Router()})
	}
	type tenant struct{ key, hook string }
	newTenant := func(name string) tenant {
		org, err := st.CreateOrganization(ctx, name)
		require.NoError(t, err)
		_, key, err := st.IssueKey(ctx, org.ID, "k", apikey.Live)
		require.NoError(t, err)
		require.NoError(t, st.SetOrganizationPlan(ctx, org.ID, "scale"))
		h, err := st.CreateWebhook(ctx, store.Webhook{OrgID: org.ID, URL: "https://example.com/hook", Events: []string{"*"}, Active: true})
		require.NoError(t, err)
		return tenant{key, h.ID}
	}
	a, b := newTenant("A"), newTenant("B")
	list := func(i int, tn tenant) (int, string, map[string]string) {
		resp, _ := containers[i%2].do(event("GET", "/v1/webhooks/"+tn.hook+"/deliveries", "Bearer "+tn.key, ""))
		return resp.StatusCode, resp.Body, resp.Headers
	}
	for i := range api.DeliveriesListBurst {
		code, body, _ := list(i, a)
		require.Equal(t, 200, code, "listing %d of the burst: %s", i+1, body)
	}
	code, body, h := list(0, a)
	require.Equal(t, 429, code, body)
	require.Contains(t, body, `"code":"rate_limited"`)
	require.Contains(t, body, `"policy":"route"`)
	require.NotEmpty(t, h["Retry-After"])
	// The organisation's other routes, and another organisation, go on.
	resp, _ := containers[1].do(event("GET", "/v1/webhooks/"+a.hook, "Bearer "+a.key, ""))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	code, body, _ = list(1, b)
	require.Equal(t, 200, code, body)
	// Tokens come back at the route's rate.
	now = now.Add(time.Second)
	code, body, _ = list(1, a)
	require.Equal(t, 200, code, body)
	require.False(t, strings.Contains(body, "rate_limited"))
}
