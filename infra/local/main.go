// Command local runs the whole PyTake system on this machine, in the
// foreground, from template.yaml: moto for DynamoDB, SQS and Secrets
// Manager, every function under the Lambda Runtime Interface Emulator, the
// HTTP API on 127.0.0.1:3000 (PORT overrides) and the SQS event sources,
// with the API reference page (make docs) at /docs.
// It seeds a demo organisation and writes .local/demo.env. Ctrl-C stops
// everything it started. `make run` installs the tools and runs it.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/pytake/pytake/infra/local/stack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	state := envOr("PYTAKE_STATE_DIR", filepath.Join(root, ".local"))
	rie := os.Getenv("RIE")
	if rie == "" {
		rie = filepath.Join(goEnv("GOPATH"), "bin", "aws-lambda-rie")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s, err := stack.Start(ctx, stack.Config{
		Root:     root,
		StateDir: state,
		Addr:     "127.0.0.1:" + envOr("PORT", "3000"),
		RIE:      rie,
		Moto:     envOr("MOTO_SERVER", filepath.Join(state, "venv", "bin", "moto_server")),
		GraphURL: os.Getenv("WHATSAPP_GRAPH_URL"),
		// The demo organisation's CRMs: these when set, else the simulators.
		HubSpotURL:    os.Getenv("HUBSPOT_API_URL"),
		SalesforceURL: os.Getenv("SALESFORCE_LOGIN_URL"),
		Docs:          filepath.Join(root, "infra", "docs", "dist", "reference.html"),
		Log:           log,
	})
	if err != nil {
		return err
	}
	defer s.Close()
	demo, err := s.SeedDemo(ctx)
	if err != nil {
		return err
	}
	envFile := filepath.Join(state, "demo.env")
	if err := stack.WriteEnvFile(envFile, s.DemoEnv(demo)); err != nil {
		return err
	}
	samEnv, err := s.SAMEnvJSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(state, "sam-env.json"), samEnv, 0o600); err != nil {
		return err
	}
	fmt.Printf(`
PyTake is running at %[1]s (Ctrl-C stops it)
  AWS (moto):   %[2]s
  Graph API:    %[6]s
  HubSpot API:  %[7]s
  Salesforce:   %[8]s
  demo org:     %[3]s
  settings:     %[4]s
  reference:    %[1]s/docs
  dashboard:    %[1]s/dashboard (sign in with the demo key, PYTAKE_API_KEY in the settings file)

  curl %[1]s/v1/health
  curl -H "Authorization: Bearer %[5]s" %[1]s/v1/organization

`, s.URL, s.Endpoint, demo.Organization.ID, envFile, demo.APIKey.Key, s.GraphURL, s.HubSpotURL, s.SalesforceURL)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "\nstopping")
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func goEnv(k string) string {
	out, err := exec.Command("go", "env", k).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
