// Command sender is the Lambda function consuming the outbound FIFO queue:
// it sends each message through the Graph API once. It only wires
// dependencies; the work is in internal/sender.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/awsconf"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/logctx"
	"github.com/pytake/pytake/internal/metrics"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/sender"
	"github.com/pytake/pytake/internal/store"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "sender:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	log := logctx.Lambda()
	env, err := awsconf.Require(os.Getenv, "TABLE_NAME", "SECRETS_PREFIX", "WHATSAPP_GRAPH_URL", "GRAPH_API_VERSION", "OUTBOUND_QUEUE_URL", "EVENTS_TOPIC_ARN", "OUTBOUND_DLQ_URL", "OUTBOUND_BULK_QUEUE_URL", "OUTBOUND_BULK_DLQ_URL")
	if err != nil {
		return err
	}
	rate, err := awsconf.PositiveInt(os.Getenv, "SEND_RATE_PER_SECOND", 80)
	if err != nil {
		return err
	}
	em, err := metrics.FromEnv(os.Getenv, os.Stdout, "sender", time.Now)
	if err != nil {
		return err
	}
	cfg, err := awsconf.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	q := awsapi.NewSQS(cfg)
	s := sender.New(sender.Deps{
		Store:          store.New(dynamodb.NewFromConfig(cfg), env["TABLE_NAME"], time.Now),
		Secrets:        secrets.New(awsapi.NewSecretsManager(cfg), env["SECRETS_PREFIX"], 5*time.Minute, time.Now),
		Graph:          graph.New(env["WHATSAPP_GRAPH_URL"], &http.Client{Timeout: 15 * time.Second}),
		Queue:          queue.New(q, env["OUTBOUND_QUEUE_URL"], "outbound"),
		DeadLetter:     queue.New(q, env["OUTBOUND_DLQ_URL"], "outbound dead-letter"),
		BulkQueue:      queue.New(q, env["OUTBOUND_BULK_QUEUE_URL"], "outbound bulk"),
		BulkDeadLetter: queue.New(q, env["OUTBOUND_BULK_DLQ_URL"], "outbound bulk dead-letter"),
		Events:         event.NewPublisher(queue.NewTopic(awsapi.NewSNS(cfg), env["EVENTS_TOPIC_ARN"], "event")),
		GraphVersion:   env["GRAPH_API_VERSION"],
		RatePerSecond:  rate,
		Log:            log,
	})
	// The invocation's metrics, aggregated, in EMF lines on stdout.
	lambda.StartWithOptions(metrics.Handler(em, func(ctx context.Context, err error) {
		log.WarnContext(ctx, "metrics not written", "error", err.Error())
	}, s.Handle), lambda.WithContext(ctx))
	return nil
}
