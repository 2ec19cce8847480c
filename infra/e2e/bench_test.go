//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/stack"
)

// BenchmarkColdStart measures a cold start under the Runtime Interface
// Emulator: with the emulator up (untimed), the first request starts the
// function's process, runs its initialisation and handles the request; the
// time to the answer is measured. hello is the smallest Go function built the same way; the
// ratio of each function to hello is the figure the README reports.
//
//	go test -tags e2e -run '^$' -bench ColdStart -count 10 ./infra/e2e/ | benchstat -
func BenchmarkColdStart(b *testing.B) {
	dir := b.TempDir()
	hello := filepath.Join(dir, "hello")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", hello, "../bench/hello")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	health, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "GET /v1/health", RawPath: "/v1/health", Headers: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "bench",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/v1/health"}},
	})
	// A verification request Meta would not send: refused before any lookup.
	verify, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "GET /webhooks/whatsapp", RawPath: "/webhooks/whatsapp", Headers: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "bench",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/webhooks/whatsapp"}},
	})
	// The dashboard's sign-in page: no table read, but the cold start
	// reads the session key from Secrets Manager (moto here).
	login, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "ANY /dashboard/{proxy+}", RawPath: "/dashboard/login", Headers: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "bench",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/dashboard/login"}},
	})
	// A HubSpot batch that is not JSON: refused (400) before any lookup.
	hubspot, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /webhooks/hubspot", RawPath: "/webhooks/hubspot", Headers: map[string]string{}, Body: "{}",
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "bench",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/webhooks/hubspot"}},
	})
	apiEnv, _ := st.FunctionEnvList("ApiFunction")
	dashEnv, _ := st.FunctionEnvList("DashboardFunction")
	hookEnv, _ := st.FunctionEnvList("WhatsAppWebhookFunction")
	hubspotEnv, _ := st.FunctionEnvList("HubSpotWebhookFunction")
	for _, c := range []struct {
		name, binary string
		env          []string
		payload      []byte
	}{
		{"hello", hello, apiEnv, health},
		{"api", filepath.Join(st.BinDir(), "api"), apiEnv, health},
		{"whatsapp-webhook", filepath.Join(st.BinDir(), "whatsapp-webhook"), hookEnv, verify},
		{"dashboard", filepath.Join(st.BinDir(), "dashboard"), dashEnv, login},
		{"hubspot-webhook", filepath.Join(st.BinDir(), "hubspot-webhook"), hubspotEnv, hubspot},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				em, err := stack.StartEmulator(context.Background(), st.RIE(), c.binary, c.env)
				require.NoError(b, err)
				b.StartTimer()
				inv := em.Invoke(context.Background(), c.payload)
				b.StopTimer()
				em.Stop()
				b.StartTimer()
				require.NoError(b, inv.Err, inv.Err)
				var resp events.APIGatewayV2HTTPResponse
				err = json.Unmarshal(inv.Payload, &resp)
				require.NoError(b, err, "%s", inv.Payload)
				require.NotEqual(b, 0, resp.StatusCode, "%s", inv.Payload)
				require.Less(b, resp.StatusCode, 500, "%s", inv.Payload)
			}
		})
	}
}
