// Command dispatcher is the Lambda function that delivers events to
// integrators' webhooks: it fans events (events queue) out to delivery jobs
// (deliveries queue) and performs them, and runs the organisation's chatbot
// on message.received events. It only wires dependencies; the work
// is in internal/dispatch.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/awsconf"
	"github.com/pytake/pytake/internal/botrun"
	"github.com/pytake/pytake/internal/delivery"
	"github.com/pytake/pytake/internal/dispatch"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/logctx"
	"github.com/pytake/pytake/internal/metrics"
	"github.com/pytake/pytake/internal/optout"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "dispatcher:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	log := logctx.Lambda()
	env, err := awsconf.Require(os.Getenv, "TABLE_NAME", "SECRETS_PREFIX", "DELIVERIES_QUEUE_URL", "EVENTS_QUEUE_URL", "EVENTS_TOPIC_ARN", "DELIVERIES_DLQ_URL")
	if err != nil {
		return err
	}
	scale := 0.0
	if v := os.Getenv("WEBHOOK_RETRY_SCALE"); v != "" && os.Getenv("PYTAKE_LOCAL") == "1" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1 {
			return fmt.Errorf("WEBHOOK_RETRY_SCALE must be in (0, 1], got %q", v)
		}
		scale = f
	}
	em, err := metrics.FromEnv(os.Getenv, os.Stdout, "dispatcher", time.Now)
	if err != nil {
		return err
	}
	cfg, err := awsconf.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	st := store.New(dynamodb.NewFromConfig(cfg), env["TABLE_NAME"], time.Now)
	q := awsapi.NewSQS(cfg)
	events := queue.New(q, env["EVENTS_QUEUE_URL"], "event")
	publisher := event.NewPublisher(queue.NewTopic(awsapi.NewSNS(cfg), env["EVENTS_TOPIC_ARN"], "event"))
	bots := botrun.New(st, publisher, log, time.Now)
	optouts := optout.New(st, publisher, log, time.Now)
	d := dispatch.New(dispatch.Deps{
		Store:      st,
		Secrets:    secrets.New(awsapi.NewSecretsManager(cfg), env["SECRETS_PREFIX"], time.Minute, time.Now),
		Events:     events,
		Deliveries: queue.New(q, env["DELIVERIES_QUEUE_URL"], "deliveries"),
		// Jobs that reached the dead-letter queue end their deliveries failed.
		DeadDeliveries: queue.New(q, env["DELIVERIES_DLQ_URL"], "deliveries dead-letter"),
		// Once message.received is fanned out, an opt-out keyword opts
		// the contact out; any other message goes to the chatbot.
		React: optouts.Then(func(ctx context.Context, ev event.Event) error {
			out, err := bots.React(ctx, ev)
			if err == nil && out.Reason != "" && ev.Event == event.MessageReceived {
				log.InfoContext(ctx, "chatbot", "reason", out.Reason, "rule_id", out.RuleID, "reply_id", out.MessageID, "handoff", out.Handoff)
			}
			return err
		}),
		// 10 s per attempt, no redirects, the dialled address checked;
		// loopback receivers only on the local stack.
		HTTP:       delivery.NewClient(delivery.ClientOptions{Timeout: 10 * time.Second, AllowLoopback: os.Getenv("PYTAKE_LOCAL") == "1"}),
		Log:        log,
		RetryScale: scale,
	})
	// The invocation's metrics, aggregated, in EMF lines on stdout.
	lambda.StartWithOptions(metrics.Handler(em, func(ctx context.Context, err error) {
		log.WarnContext(ctx, "metrics not written", "error", err.Error())
	}, d.Handle), lambda.WithContext(ctx))
	return nil
}
