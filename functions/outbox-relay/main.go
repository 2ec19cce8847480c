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
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/awsconf"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/logctx"
	"github.com/pytake/pytake/internal/metrics"
	"github.com/pytake/pytake/internal/outbox"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/sender"
	"github.com/pytake/pytake/internal/sendlimit"
	"github.com/pytake/pytake/internal/store"
)

// The relay batches its publishes and sends through these (see
// internal/outbox): they must answer per event and per job.
var (
	_ outbox.BatchPublisher = (*event.Publisher)(nil)
	_ outbox.BatchEnqueuer  = sender.Enqueuer{}
	_ outbox.Expecter       = sender.Enqueuer{}
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "outbox-relay:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	log := logctx.Lambda()
	env, err := awsconf.Require(os.Getenv, "TABLE_NAME", "EVENTS_TOPIC_ARN", "OUTBOUND_QUEUE_URL", "OUTBOUND_BULK_QUEUE_URL")
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
	// Each organisation's share of the transactional lane (admission
	// control); a contact's lane recorded, so its messages keep their order.
	st := store.New(dynamodb.NewFromConfig(cfg), env["TABLE_NAME"], time.Now)
	jobs := sender.NewEnqueuer(awsapi.NewSQS(cfg), env["OUTBOUND_QUEUE_URL"], env["OUTBOUND_BULK_QUEUE_URL"])
	jobs.Admission, jobs.Routes, jobs.Log = sendlimit.NewAdmission(st, 0, 0, time.Now), st, log
	r := outbox.New(
		event.NewPublisher(queue.NewTopic(awsapi.NewSNS(cfg), env["EVENTS_TOPIC_ARN"], "event")),
		jobs,
		log)
	// The invocation's metrics, aggregated, in EMF lines on stdout.
	lambda.StartWithOptions(metrics.Handler(em, func(ctx context.Context, err error) {
		log.WarnContext(ctx, "metrics not written", "error", err.Error())
	}, r.Handle), lambda.WithContext(ctx))
	return nil
}
