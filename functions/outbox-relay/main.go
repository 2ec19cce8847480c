// Command outbox-relay is the Lambda function consuming the table's
// DynamoDB stream, filtered on outbox item inserts: it publishes each
// outbox item's events to the events topic and puts its outbound job on the
// outbound FIFO queue. It only wires dependencies; the work is in
// internal/outbox.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pytake/pytake/internal/awsconf"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/logctx"
	"github.com/pytake/pytake/internal/metrics"
	"github.com/pytake/pytake/internal/outbox"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/sender"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "outbox-relay:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	log := logctx.Lambda()
	env, err := awsconf.Require(os.Getenv, "EVENTS_TOPIC_ARN", "OUTBOUND_QUEUE_URL", "OUTBOUND_BULK_QUEUE_URL")
	if err != nil {
		return err
	}
	em, err := metrics.FromEnv(os.Getenv, os.Stdout, "outbox-relay", time.Now)
	if err != nil {
		return err
	}
	cfg, err := awsconf.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	r := outbox.New(
		event.NewPublisher(queue.NewTopic(sns.NewFromConfig(cfg), env["EVENTS_TOPIC_ARN"], "event")),
		sender.NewEnqueuer(sqs.NewFromConfig(cfg), env["OUTBOUND_QUEUE_URL"], env["OUTBOUND_BULK_QUEUE_URL"]),
		log)
	// The invocation's metrics, aggregated, in EMF lines on stdout.
	lambda.StartWithOptions(metrics.Handler(em, func(ctx context.Context, err error) {
		log.WarnContext(ctx, "metrics not written", "error", err.Error())
	}, r.Handle), lambda.WithContext(ctx))
	return nil
}
