// Command api is the integrator REST API Lambda function (/v1). It only wires
// dependencies (api.FromAWS); everything else lives in internal/api.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/awsconf"
	"github.com/pytake/pytake/internal/logctx"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := awsconf.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	w, err := api.FromAWS(cfg, os.Getenv, logctx.Lambda())
	if err != nil {
		return err
	}
	lambda.StartWithOptions(w.Server.Router().Serve, lambda.WithContext(ctx))
	return nil
}
