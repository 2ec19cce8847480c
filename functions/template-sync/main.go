// Command template-sync is the scheduled template sync (an EventBridge
// schedule): every organisation's copy of its WhatsApp message templates
// is made Meta's list again (msgtemplate.SyncAll). It only wires
// dependencies.
package main

import (
	"context"
	"encoding/json"
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
	"github.com/pytake/pytake/internal/msgtemplate"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "template-sync:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	log := logctx.Lambda()
	env, err := awsconf.Require(os.Getenv, "TABLE_NAME", "SECRETS_PREFIX", "WHATSAPP_GRAPH_URL", "GRAPH_API_VERSION", "EVENTS_TOPIC_ARN")
	if err != nil {
		return err
	}
	cfg, err := awsconf.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	st := store.New(dynamodb.NewFromConfig(cfg), env["TABLE_NAME"], time.Now)
	gc := graph.New(env["WHATSAPP_GRAPH_URL"], &http.Client{Timeout: 20 * time.Second})
	fleet := msgtemplate.Fleet{
		Accounts:    st,
		Credentials: secrets.New(awsapi.NewSecretsManager(cfg), env["SECRETS_PREFIX"], time.Minute, time.Now),
		Graph:       gc,
		Numbers:     gc,
		Signals:     st,
		Store:       st,
		Events:      event.NewPublisher(queue.NewTopic(awsapi.NewSNS(cfg), env["EVENTS_TOPIC_ARN"], "event")),
		Version:     env["GRAPH_API_VERSION"],
		Now:         time.Now,
		Log:         log,
	}
	handle := func(ctx context.Context, _ json.RawMessage) error {
		res, err := msgtemplate.SyncAll(ctx, fleet)
		log.InfoContext(ctx, "template sync", "synced", res.Synced, "skipped", res.Skipped, "failed", res.Failed)
		return err
	}
	lambda.StartWithOptions(handle, lambda.WithContext(ctx))
	return nil
}
