//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/stack"
)

// coldCase is one function under the cold-start benchmark: its binary,
// its environment and a request it answers without doing the work of a
// real one (a refusal before any lookup, an empty batch), so the time is
// the process start, the initialisation and the runtime's round trip.
type coldCase struct {
	name, binary string
	env          []string
	payload      []byte
	http         bool // an HTTP API function: the answer is a response with a status
}

func httpRequest(method, path, routeKey, body string) []byte {
	b, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, RawPath: path, Headers: map[string]string{}, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "bench",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path}},
	})
	return b
}

// coldCases are hello (first) and every function of template.yaml.
func coldCases(tb testing.TB) []coldCase {
	tb.Helper()
	dir := tb.TempDir()
	hello := filepath.Join(dir, "hello")
	args := append(append([]string{"build"}, stack.LambdaBuildFlags()...), "-o", hello, "../bench/hello")
	build := exec.Command("go", args...)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("%v\n%s", err, out)
	}
	env := func(id string) []string {
		e, err := st.FunctionEnvList(id)
		require.NoError(tb, err)
		return e
	}
	bin := func(name string) string { return filepath.Join(st.BinDir(), name) }
	health := httpRequest("GET", "/v1/health", "GET /v1/health", "")
	emptyBatch := []byte(`{"Records":[]}`)
	return []coldCase{
		{"hello", hello, env("ApiFunction"), health, true},
		{"api", bin("api"), env("ApiFunction"), health, true},
		// A verification request Meta would not send: refused before any lookup.
		{"whatsapp-webhook", bin("whatsapp-webhook"), env("WhatsAppWebhookFunction"), httpRequest("GET", "/webhooks/whatsapp", "GET /webhooks/whatsapp", ""), true},
		// The sign-in page: no table read, and no session key (its form's
		// token is a random double-submit one), so no Secrets Manager call.
		{"dashboard", bin("dashboard"), env("DashboardFunction"), httpRequest("GET", "/dashboard/login", "ANY /dashboard/{proxy+}", ""), true},
		// /dashboard, sent on to a page: the start and the wiring alone.
		{"dashboard-nokey", bin("dashboard"), env("DashboardFunction"), httpRequest("GET", "/dashboard", "ANY /dashboard/{proxy+}", ""), true},
		// A HubSpot batch that is not JSON: refused (400) before any lookup.
		{"hubspot-webhook", bin("hubspot-webhook"), env("HubSpotWebhookFunction"), httpRequest("POST", "/webhooks/hubspot", "POST /webhooks/hubspot", "{}"), true},
		// Shop webhooks without their source header: 400 before any lookup.
		{"shopify-webhook", bin("shopify-webhook"), env("ShopifyWebhookFunction"), httpRequest("POST", "/webhooks/shopify", "POST /webhooks/shopify", "{}"), true},
		{"woocommerce-webhook", bin("woocommerce-webhook"), env("WooCommerceWebhookFunction"), httpRequest("POST", "/webhooks/woocommerce", "POST /webhooks/woocommerce", "{}"), true},
		// Queue consumers: an empty batch.
		{"sender", bin("sender"), env("SenderFunction"), emptyBatch, false},
		{"dispatcher", bin("dispatcher"), env("DispatcherFunction"), emptyBatch, false},
		{"crm-sync", bin("crm-sync"), env("CrmSyncFunction"), emptyBatch, false},
		// The schedule's event: it syncs every organisation's templates,
		// so its figure includes that work (a few organisations here).
		{"template-sync", bin("template-sync"), env("TemplateSyncFunction"), []byte(`{}`), false},
	}
}

// coldStart starts the emulator (not timed), then times the first
// request: the function's process start, its initialisation and the
// answer.
func coldStart(tb testing.TB, c coldCase) time.Duration {
	tb.Helper()
	em, err := stack.StartEmulator(context.Background(), st.RIE(), c.binary, c.env)
	require.NoError(tb, err)
	defer em.Stop()
	start := time.Now()
	inv := em.Invoke(context.Background(), c.payload)
	took := time.Since(start)
	require.NoError(tb, inv.Err, "%s: %s", c.name, inv.Payload)
	if c.http {
		var resp events.APIGatewayV2HTTPResponse
		require.NoError(tb, json.Unmarshal(inv.Payload, &resp), "%s: %s", c.name, inv.Payload)
		require.NotEqual(tb, 0, resp.StatusCode, "%s: %s", c.name, inv.Payload)
		require.Less(tb, resp.StatusCode, 500, "%s: %s", c.name, inv.Payload)
	}
	return took
}

// pairRatio is the median of the pairs' own ratios (function / the hello
// started just before it): a burst of load on the machine lands on one
// pair, not on one side of the two medians.
func pairRatio(h, f []time.Duration) float64 {
	r := make([]float64, len(h))
	for i := range h {
		r[i] = float64(f[i]) / float64(h[i])
	}
	slices.Sort(r)
	if len(r)%2 == 1 {
		return r[len(r)/2]
	}
	return (r[len(r)/2-1] + r[len(r)/2]) / 2
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkColdStart measures each function's cold start under the
// Runtime Interface Emulator against hello (the smallest Go function
// built the same way), interleaved: hello, function, hello, function...
// so the machine's drift (other builds, other tests) falls on both. Each
// sub-benchmark reports the medians (hello-ms, fn-ms) and their ratio
// (x-hello), the figure the README reports and holds to 1.5, and the
// median of the pairs' own ratios (x-pair).
//
//	make bench-cold   # go test -tags e2e -run '^$' -bench ColdStart -benchtime 25x ./infra/e2e/
func BenchmarkColdStart(b *testing.B) {
	cases := coldCases(b)
	hello := cases[0]
	for _, c := range cases[1:] {
		b.Run(c.name, func(b *testing.B) {
			var h, f []time.Duration
			for i := 0; i < b.N; i++ {
				h = append(h, coldStart(b, hello))
				f = append(f, coldStart(b, c))
			}
			mh, mf := median(h), median(f)
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(mh.Microseconds())/1000, "hello-ms")
			b.ReportMetric(float64(mf.Microseconds())/1000, "fn-ms")
			b.ReportMetric(float64(mf)/float64(mh), "x-hello")
			b.ReportMetric(pairRatio(h, f), "x-pair")
		})
	}
}

// TestColdStartHarness runs the benchmark's harness once per function (a
// second or two): every function starts under the emulator and answers
// its benchmark request, so `make bench-cold` keeps working.
func TestColdStartHarness(t *testing.T) {
	for _, c := range coldCases(t) {
		require.Positive(t, coldStart(t, c), c.name)
	}
}
