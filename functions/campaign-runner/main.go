// Command campaign-runner is the scheduled sweep (an EventBridge schedule,
// every minute): each run takes the due campaigns and sends a bounded
// number of pages of each (campaign.Runner.Tick), so a campaign's messages
// enter the outbound queue paced, never all at once, and releases the
// scheduled single messages whose send_at has come (schedule.Sweeper.Tick).
// Every step is idempotent: runs that overlap or repeat send nothing twice.
// It only wires dependencies.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/awsconf"
	"github.com/pytake/pytake/internal/campaign"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/logctx"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/schedule"
	"github.com/pytake/pytake/internal/store"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "campaign-runner:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	log := logctx.Lambda()
	env, err := awsconf.Require(os.Getenv, "TABLE_NAME", "EVENTS_TOPIC_ARN")
	if err != nil {
		return err
	}
	cfg, err := awsconf.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	st := store.New(dynamodb.NewFromConfig(cfg), env["TABLE_NAME"], time.Now)
	r := campaign.NewRunner(st, event.NewPublisher(queue.NewTopic(sns.NewFromConfig(cfg), env["EVENTS_TOPIC_ARN"], "event")), log, time.Now)
	sw := schedule.New(st, accept.New(st), schedule.FailedEvents(st, time.Now), log, time.Now)
	handle := func(ctx context.Context, _ json.RawMessage) error {
		// Both run whatever the other's outcome; a failed run is run
		// again by the next tick.
		_, serr := sw.Tick(ctx)
		return errors.Join(serr, r.Tick(ctx))
	}
	lambda.StartWithOptions(handle, lambda.WithContext(ctx))
	return nil
}
