package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pytake/pytake/internal/accept"
	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/awsconf"
	"github.com/pytake/pytake/internal/dispatch"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/ratelimit"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
)

// Wired is the API as its Lambda functions run it (api, and dashboard in
// process), with the collaborators the dashboard shares with it.
type Wired struct {
	Server         *Server
	Store          *store.Store
	Secrets        *secrets.Store
	Limiter        *ratelimit.Limiter
	SecretsManager *awsapi.SecretsManager
	SecretsPrefix  string
}

// FromAWS wires the API to the table, Secrets Manager, the events topic,
// the deliveries queue and Meta's Graph API, from the function's
// environment.
func FromAWS(cfg aws.Config, getenv awsconf.Env, log *slog.Logger) (*Wired, error) {
	env, err := awsconf.Require(getenv, "TABLE_NAME", "SECRETS_PREFIX", "WHATSAPP_GRAPH_URL", "GRAPH_API_VERSION", "EVENTS_TOPIC_ARN", "DELIVERIES_QUEUE_URL")
	if err != nil {
		return nil, err
	}
	minLead, err := awsconf.PositiveInt(getenv, "SEND_AT_MIN_LEAD_SECONDS", int(accept.MinLead/time.Second))
	if err != nil {
		return nil, err
	}
	sm := awsapi.NewSecretsManager(cfg)
	w := &Wired{
		Store:          store.New(dynamodb.NewFromConfig(cfg), env["TABLE_NAME"], time.Now),
		Secrets:        secrets.New(sm, env["SECRETS_PREFIX"], 5*time.Minute, time.Now),
		SecretsManager: sm,
		SecretsPrefix:  env["SECRETS_PREFIX"],
	}
	w.Limiter = ratelimit.New(w.Store, time.Now)
	st, sec := w.Store, w.Secrets
	w.Server = New(Deps{
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
		Events:        event.NewPublisher(queue.NewTopic(awsapi.NewSNS(cfg), env["EVENTS_TOPIC_ARN"], "event")),
		DeliveryQueue: dispatch.Jobs{Queue: queue.New(awsapi.NewSQS(cfg), env["DELIVERIES_QUEUE_URL"], "deliveries")},
		// Only the local stack may subscribe http:// and loopback URLs.
		InsecureWebhooks: getenv("PYTAKE_LOCAL") == "1",
		Graph:            graph.New(env["WHATSAPP_GRAPH_URL"], &http.Client{Timeout: 20 * time.Second}),
		GraphVersion:     env["GRAPH_API_VERSION"],
		Log:              log,
		Now:              time.Now,
		Limiter:          w.Limiter,
		SendAtMinLead:    time.Duration(minLead) * time.Second,
	})
	return w, nil
}
