// Command api is the integrator REST API Lambda function (/v1). It only wires
// dependencies; everything else lives in internal/api.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pytake/pytake/internal/api"
	"github.com/pytake/pytake/internal/awsconf"
	"github.com/pytake/pytake/internal/dispatch"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/logctx"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/ratelimit"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	log := logctx.Lambda()
	env, err := awsconf.Require(os.Getenv, "TABLE_NAME", "SECRETS_PREFIX", "WHATSAPP_GRAPH_URL", "GRAPH_API_VERSION", "EVENTS_TOPIC_ARN", "DELIVERIES_QUEUE_URL")
	if err != nil {
		return err
	}
	cfg, err := awsconf.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	sec := secrets.New(secretsmanager.NewFromConfig(cfg), env["SECRETS_PREFIX"], 5*time.Minute, time.Now)
	st := store.New(dynamodb.NewFromConfig(cfg), env["TABLE_NAME"], time.Now)
	q := sqs.NewFromConfig(cfg)
	var minLead time.Duration
	if v := os.Getenv("SEND_AT_MIN_LEAD_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("SEND_AT_MIN_LEAD_SECONDS must be a positive integer, got %q", v)
		}
		minLead = time.Duration(n) * time.Second
	}
	srv := api.New(api.Deps{
		Store:         st,
		Secrets:       sec,
		SecretWriter:  sec,
		Sending:       true,
		Webhooks:      st,
		Deliveries:    st,
		Contacts:      st,
		Conversations: st,
		Chatbots:      st,
		Integrations:  st,
		Templates:     st,
		Events:        event.NewPublisher(queue.NewTopic(sns.NewFromConfig(cfg), env["EVENTS_TOPIC_ARN"], "event")),
		DeliveryQueue: dispatch.Jobs{Queue: queue.New(q, env["DELIVERIES_QUEUE_URL"], "deliveries")},
		// Only the local stack may subscribe http:// and loopback URLs.
		InsecureWebhooks: os.Getenv("PYTAKE_LOCAL") == "1",
		Graph:            graph.New(env["WHATSAPP_GRAPH_URL"], &http.Client{Timeout: 20 * time.Second}),
		GraphVersion:     env["GRAPH_API_VERSION"],
		Log:              log,
		Now:              time.Now,
		Limiter:          ratelimit.New(st, time.Now),
		SendAtMinLead:    minLead,
	})
	lambda.StartWithOptions(srv.Router().Serve, lambda.WithContext(ctx))
	return nil
}
