package shophook

import (
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/awsconf"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
)

// FromAWS wires a Webhook to the table, the secrets and the events topic, as
// both shop webhook functions need it (each then serves its own router).
func FromAWS(cfg aws.Config, getenv awsconf.Env, log *slog.Logger) (*Webhook, error) {
	env, err := awsconf.Require(getenv, "TABLE_NAME", "EVENTS_TOPIC_ARN", "SECRETS_PREFIX")
	if err != nil {
		return nil, err
	}
	return New(Deps{
		Store:   store.New(dynamodb.NewFromConfig(cfg), env["TABLE_NAME"], time.Now),
		Secrets: secrets.New(awsapi.NewSecretsManager(cfg), env["SECRETS_PREFIX"], 5*time.Minute, time.Now),
		Events:  event.NewPublisher(queue.NewTopic(awsapi.NewSNS(cfg), env["EVENTS_TOPIC_ARN"], "event")),
		Log:     log,
		Now:     time.Now,
	}), nil
}
