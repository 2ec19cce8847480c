// Command campaign-runner is the scheduled sweep (an EventBridge schedule,
// every minute): each run first releases the scheduled single messages
// whose send_at has come (schedule.Sweeper.Tick), then feeds the due
// campaigns for up to 55 s, each at its number's pace
// (campaign.Runner.Tick), so the bulk queue holds a few seconds of each
// number's work, never a whole campaign. Every step is idempotent: runs
// that overlap or repeat send nothing twice. It only wires dependencies.
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

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/awsapi"
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
	rate, err := awsconf.PositiveInt(os.Getenv, "SEND_RATE_PER_SECOND", 80)
	if err != nil {
		return err
	}
	cfg, err := awsconf.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	st := store.New(dynamodb.NewFromConfig(cfg), env["TABLE_NAME"], time.Now)
	r := campaign.NewRunner(st, event.NewPublisher(queue.NewTopic(awsapi.NewSNS(cfg), env["EVENTS_TOPIC_ARN"], "event")), log, time.Now)
	r.DefaultRate = rate
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
