// Command dashboard is the dashboard Lambda function (/dashboard). It only
// wires dependencies: the API's server as the api function runs it
// (api.FromAWS; run in process, never over HTTP, with only the route
// groups the dashboard calls: dashboard.APIRoutes), its store, secrets and
// limiter, and the session key, read from Secrets Manager on the first
// request that needs it; everything else lives in internal/dashboard.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/awsconf"
	"github.com/pytake/pytake/internal/dashboard"
	"github.com/pytake/pytake/internal/logctx"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	log := logctx.Lambda()
	cfg, err := awsconf.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	w, err := api.FromAWS(cfg, os.Getenv, log)
	if err != nil {
		return err
	}
	d, err := dashboard.New(dashboard.Deps{API: w.Server.InProcess(dashboard.APIRoutes...), Keys: w.Store, Accounts: w.Store, Secrets: w.Secrets,
		Limiter: w.Limiter, SessionKeyLoader: dashboard.SessionKeyFrom(w.SecretsManager, dashboard.SessionKeyName(w.SecretsPrefix)),
		Log: log, Now: time.Now})
	if err != nil {
		return err
	}
	lambda.StartWithOptions(d.Serve, lambda.WithContext(ctx))
	return nil
}
