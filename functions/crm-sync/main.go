// Command crm-sync consumes the HubSpot and Salesforce queues (each CRM its
// own queue, fed by the events topic and, for HubSpot, its webhook). It
// only wires dependencies; the logic is in internal/crmsync.
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
	"github.com/pytake/pytake/internal/crmsync"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/hubspot"
	"github.com/pytake/pytake/internal/logctx"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/salesforce"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "crm-sync:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	env, err := awsconf.Require(os.Getenv, "TABLE_NAME", "SECRETS_PREFIX", "HUBSPOT_QUEUE_URL", "SALESFORCE_QUEUE_URL", "EVENTS_TOPIC_ARN", "HUBSPOT_API_URL")
	if err != nil {
		return err
	}
	cfg, err := awsconf.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	q := awsapi.NewSQS(cfg)
	// 10 s per CRM call, no redirects followed.
	hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	s := crmsync.New(crmsync.Deps{
		Store:           store.New(dynamodb.NewFromConfig(cfg), env["TABLE_NAME"], time.Now),
		Secrets:         secrets.New(awsapi.NewSecretsManager(cfg), env["SECRETS_PREFIX"], time.Minute, time.Now),
		HubSpot:         hubspot.NewClient(env["HUBSPOT_API_URL"], hc),
		Salesforce:      salesforce.NewClient(hc, os.Getenv("PYTAKE_LOCAL") == "1"),
		Events:          event.NewPublisher(queue.NewTopic(awsapi.NewSNS(cfg), env["EVENTS_TOPIC_ARN"], "event")),
		HubSpotQueue:    queue.New(q, env["HUBSPOT_QUEUE_URL"], "hubspot"),
		SalesforceQueue: queue.New(q, env["SALESFORCE_QUEUE_URL"], "salesforce"),
		Log:             logctx.Lambda(),
		Now:             time.Now,
	})
	lambda.StartWithOptions(s.Handle, lambda.WithContext(ctx))
	return nil
}
