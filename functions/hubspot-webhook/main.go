// Command hubspot-webhook receives HubSpot's contact webhooks (POST
// /webhooks/hubspot): verified, routed by portal, queued for the CRM sync.
// It only wires dependencies; the logic is in internal/crmsync.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/awsconf"
	"github.com/pytake/pytake/internal/crmsync"
	"github.com/pytake/pytake/internal/logctx"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "hubspot-webhook:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	env, err := awsconf.Require(os.Getenv, "TABLE_NAME", "HUBSPOT_QUEUE_URL", "SECRETS_PREFIX")
	if err != nil {
		return err
	}
	cfg, err := awsconf.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	hook := &crmsync.Hook{
		Store: store.New(dynamodb.NewFromConfig(cfg), env["TABLE_NAME"], time.Now),
		// A short cache: a client secret saved moments ago verifies within a minute.
		Secrets: secrets.New(awsapi.NewSecretsManager(cfg), env["SECRETS_PREFIX"], time.Minute, time.Now),
		Queue:   queue.New(awsapi.NewSQS(cfg), env["HUBSPOT_QUEUE_URL"], "hubspot"),
		Log:     logctx.Lambda(),
		Now:     time.Now,
	}
	lambda.StartWithOptions(hook.Router().Serve, lambda.WithContext(ctx))
	return nil
}
