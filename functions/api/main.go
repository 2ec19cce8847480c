// Command api is the integrator REST API Lambda function (/v1). It only wires
// dependencies; everything else lives in internal/api.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/awsconf"
	"github.com/pytake/pytake/internal/store"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	log := lambdacontext.NewLogger()
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		return fmt.Errorf("TABLE_NAME is not set")
	}
	cfg, err := awsconf.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	st := store.New(dynamodb.NewFromConfig(cfg), table, time.Now)
	srv := api.New(st, log, time.Now)
	lambda.StartWithOptions(srv.Router().Serve, lambda.WithContext(ctx))
	return nil
}
