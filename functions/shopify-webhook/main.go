// Command shopify-webhook receives Shopify's order webhooks (POST /webhooks/shopify). It only wires dependencies; the logic
// is in internal/ecommerce.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pytake/pytake/internal/awsconf"
	"github.com/pytake/pytake/internal/ecommerce"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/sender"
	"github.com/pytake/pytake/internal/store"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "shopify-webhook:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	log := lambdacontext.NewLogger()
	env, err := awsconf.Require(os.Getenv, "TABLE_NAME", "EVENTS_QUEUE_URL", "OUTBOUND_QUEUE_URL", "SECRETS_PREFIX")
	if err != nil {
		return err
	}
	cfg, err := awsconf.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	q := sqs.NewFromConfig(cfg)
	hook := ecommerce.New(ecommerce.Deps{
		Store:   store.New(dynamodb.NewFromConfig(cfg), env["TABLE_NAME"], time.Now),
		Secrets: secrets.New(secretsmanager.NewFromConfig(cfg), env["SECRETS_PREFIX"], 5*time.Minute, time.Now),
		Outbox:  sender.Enqueuer{SQS: q, QueueURL: env["OUTBOUND_QUEUE_URL"]},
		Events:  event.NewPublisher(q, env["EVENTS_QUEUE_URL"]),
		Log:     log,
		Now:     time.Now,
	})
	lambda.StartWithOptions(hook.ShopifyRouter().Serve, lambda.WithContext(ctx))
	return nil
}
