// Command whatsapp-webhook receives Meta's WhatsApp webhooks (GET
// verification and signed POSTs). It only wires dependencies; the logic is
// in internal/inbound.
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
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/inbound"
	"github.com/pytake/pytake/internal/logctx"
	"github.com/pytake/pytake/internal/metrics"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "whatsapp-webhook:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	log := logctx.Lambda()
	env, err := awsconf.Require(os.Getenv, "TABLE_NAME", "EVENTS_TOPIC_ARN", "SECRETS_PREFIX")
	if err != nil {
		return err
	}
	em, err := metrics.FromEnv(os.Getenv, os.Stdout, "whatsapp-webhook", time.Now)
	if err != nil {
		return err
	}
	cfg, err := awsconf.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	st := store.New(dynamodb.NewFromConfig(cfg), env["TABLE_NAME"], time.Now)
	sec := secrets.New(awsapi.NewSecretsManager(cfg), env["SECRETS_PREFIX"], 5*time.Minute, time.Now)
	pub := event.NewPublisher(queue.NewTopic(awsapi.NewSNS(cfg), env["EVENTS_TOPIC_ARN"], "event"))
	hook := inbound.New(st, sec, pub, log, time.Now)
	// The invocation's metrics, aggregated, in EMF lines on stdout.
	lambda.StartWithOptions(metrics.Handler(em, func(ctx context.Context, err error) {
		log.WarnContext(ctx, "metrics not written", "error", err.Error())
	}, hook.Router().Serve), lambda.WithContext(ctx))
	return nil
}
