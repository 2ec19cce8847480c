package stack

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/crmconfig"
	"github.com/pytake/pytake/internal/dashboard"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/shopconfig"
)

// dynamoActions are the DynamoDB actions each function's code uses (the
// store's GetItem, BatchGetItem, Query, PutItem and UpdateItem; DeleteItem
// and ConditionCheckItem where its transactions hold a Delete or a
// ConditionCheck: IAM authorises a transaction per contained action).
// Granting more (Scan, BatchWriteItem, table administration) fails here.
var dynamoActions = map[string][]string{
	// Deletes: contacts, webhooks, chatbots, integrations, released claims; ConditionCheck: IssueKey.
	"ApiFunction": {"BatchGetItem", "ConditionCheckItem", "DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"},
	// ConditionCheck everywhere a message is stored: not on a contact merged meanwhile.
	"WhatsAppWebhookFunction":    {"BatchGetItem", "ConditionCheckItem", "DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"}, // delete: identity swap, merges; check: unknown wamid, merged contacts
	"SenderFunction":             {"BatchGetItem", "ConditionCheckItem", "DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"}, // Meta's wa_id, merges
	"DispatcherFunction":         {"BatchGetItem", "ConditionCheckItem", "GetItem", "PutItem", "Query", "UpdateItem"},
	"ShopifyWebhookFunction":     {"BatchGetItem", "ConditionCheckItem", "GetItem", "PutItem", "Query", "UpdateItem"},
	"WooCommerceWebhookFunction": {"BatchGetItem", "ConditionCheckItem", "GetItem", "PutItem", "Query", "UpdateItem"},
	// The dashboard runs the API's handlers in process: the API's actions.
	"DashboardFunction":      {"BatchGetItem", "ConditionCheckItem", "DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"},
	"HubSpotWebhookFunction": {"GetItem"}, // routing by portal
	"CrmSyncFunction":        {"GetItem", "PutItem", "Query", "UpdateItem"},
	"TemplateSyncFunction":   {"DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"}, // delete: templates Meta no longer lists; update: the number's throughput level
	// Accepting a recipient's message is AcceptOutbound's transaction; counts batch-read messages;
	// delete: a released scheduled message's schedule item.
	"CampaignRunnerFunction": {"BatchGetItem", "ConditionCheckItem", "DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"},
	"OutboxRelayFunction":    {"GetItem", "UpdateItem"}, // the stream (streamActions); admission buckets and contacts' lanes
}

// streamActions: the functions reading the table's stream, and the only
// actions they may use on it (and on nothing else).
var streamActions = map[string][]string{
	"OutboxRelayFunction": {"DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"},
}

// secretAccess: which organisations' secrets each function may read, by
// provider, named as internal/secrets names them.
var secretAccess = map[string][]string{
	"ApiFunction": {secrets.ProviderWhatsApp, secrets.ProviderWebhook("wh_1"), shopconfig.Provider(shopconfig.Shopify), shopconfig.Provider(shopconfig.WooCommerce),
		crmconfig.Provider(crmconfig.HubSpot), crmconfig.Provider(crmconfig.Salesforce)},
	"WhatsAppWebhookFunction":    {secrets.ProviderWhatsApp},
	"SenderFunction":             {secrets.ProviderWhatsApp},
	"DispatcherFunction":         {secrets.ProviderWebhook("wh_1")},
	"ShopifyWebhookFunction":     {shopconfig.Provider(shopconfig.Shopify)},
	"WooCommerceWebhookFunction": {shopconfig.Provider(shopconfig.WooCommerce)},
	"DashboardFunction": {secrets.ProviderWhatsApp, secrets.ProviderWebhook("wh_1"), shopconfig.Provider(shopconfig.Shopify), shopconfig.Provider(shopconfig.WooCommerce),
		crmconfig.Provider(crmconfig.HubSpot), crmconfig.Provider(crmconfig.Salesforce)}, // the API's routes, in process
	"HubSpotWebhookFunction": {crmconfig.Provider(crmconfig.HubSpot)},
	"CrmSyncFunction":        {crmconfig.Provider(crmconfig.HubSpot), crmconfig.Provider(crmconfig.Salesforce)},
	"TemplateSyncFunction":   {secrets.ProviderWhatsApp},
	"CampaignRunnerFunction": {},
	"OutboxRelayFunction":    nil,
}

var secretWrites = map[string][]string{
	"CampaignRunnerFunction": {}, // no secrets at all
	"OutboxRelayFunction":    {}, // no secrets
	"ApiFunction":            {"CreateSecret", "DeleteSecret", "GetSecretValue", "PutSecretValue", "TagResource"},
	"DashboardFunction":      {"CreateSecret", "DeleteSecret", "GetSecretValue", "PutSecretValue", "TagResource"},
}

// sessionKeyAccess: the functions that may read (and create) the
// dashboard's session signing key.
var sessionKeyAccess = []string{"DashboardFunction"}

// samPolicies are the SAM policy templates a function may use: the SQS
// ones are scoped to one queue and hold only what a producer or a poller
// needs, SNSPublishMessagePolicy only sns:Publish on one topic. The
// DynamoDB ones (CRUD: Scan, batch writes, deletes) may not.
var samPolicies = []string{"SQSPollerPolicy", "SQSSendMessagePolicy", "SNSPublishMessagePolicy"}

type grant struct {
	actions   []string
	resources []any
}

// grants reads a function's policy statements; templates lists the SAM
// policy templates it uses.
func grants(t *testing.T, fn Resource) (out []grant, templates []string) {
	t.Helper()
	for _, p := range asSlice(fn.Properties["Policies"]) {
		for name, v := range asMap(p) {
			if name != "Statement" {
				templates = append(templates, name)
				continue
			}
			for _, st := range asSlice(v) {
				sm := asMap(st)
				if sm["Effect"] != "Allow" {
					t.Errorf("%s: a statement that is not Allow: %v", fn.LogicalID, sm)
				}
				g := grant{}
				switch a := sm["Action"].(type) {
				case string:
					g.actions = []string{a}
				case []any:
					for _, x := range a {
						g.actions = append(g.actions, x.(string))
					}
				}
				switch r := sm["Resource"].(type) {
				case []any:
					g.resources = r
				default:
					g.resources = []any{r}
				}
				out = append(out, g)
			}
		}
	}
	return out, templates
}

// arnPattern resolves a Resource of the form !Sub "arn:...:secret:<name>"
// for stage dev, answering the name pattern.
func secretPattern(t *testing.T, r any) string {
	t.Helper()
	sub, ok := asMap(r)["Fn::Sub"].(string)
	if !ok {
		t.Fatalf("secret resource %v is not a !Sub string", r)
	}
	_, name, ok := strings.Cut(sub, ":secret:")
	if !ok || strings.Contains(name, "${") && !strings.Contains(name, "${Stage}") {
		t.Fatalf("secret resource %q", sub)
	}
	return strings.ReplaceAll(name, "${Stage}", "dev")
}

// iamMatch matches s against an IAM resource pattern (* any run, ? one
// character, both across slashes).
func iamMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if iamMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && iamMatch(pattern[1:], s[1:])
	default:
		return s != "" && s[0] == pattern[0] && iamMatch(pattern[1:], s[1:])
	}
}

// TestLeastPrivilege: each function is granted exactly the DynamoDB actions
// its code uses, on the table and its indexes; only SQS policy templates;
// Secrets Manager access to the secrets it reads and no others (the
// Shopify function cannot read a tenant's Meta token); and reserved
// concurrency.
func TestLeastPrivilege(t *testing.T) {
	tpl, _ := loadRepo(t)
	fns := tpl.ResourcesOfType("AWS::Serverless::Function")
	if len(fns) != len(dynamoActions) {
		t.Fatalf("%d functions in the template, %d here: give the new one its grants", len(fns), len(dynamoActions))
	}
	providers := []string{secrets.ProviderWhatsApp, secrets.ProviderWebhook("wh_1"), shopconfig.Provider(shopconfig.Shopify), shopconfig.Provider(shopconfig.WooCommerce),
		crmconfig.Provider(crmconfig.HubSpot), crmconfig.Provider(crmconfig.Salesforce)}
	dev := secrets.New(nil, "pytake/dev/", time.Minute, time.Now)
	prod := secrets.New(nil, "pytake/prod/", time.Minute, time.Now)
	for _, fn := range fns {
		t.Run(fn.LogicalID, func(t *testing.T) {
			want, ok := dynamoActions[fn.LogicalID]
			if !ok {
				t.Fatal("no expected grants for this function")
			}
			gs, templates := grants(t, fn)
			for _, name := range templates {
				if !slices.Contains(samPolicies, name) {
					t.Errorf("SAM policy template %s: write the statements it needs instead", name)
				}
			}
			var dynamo, stream, sm []string
			var secretPatterns []string
			for _, g := range gs {
				for _, a := range g.actions {
					svc, act, _ := strings.Cut(a, ":")
					switch {
					case strings.Contains(act, "*"):
						t.Errorf("wildcard action %s", a)
					case svc == "dynamodb" && slices.Contains(streamActions[fn.LogicalID], act):
						stream = append(stream, act)
						for _, r := range g.resources {
							if ga, _ := asMap(r)["Fn::GetAtt"].([]any); len(ga) != 2 || ga[0] != "Table" || ga[1] != "StreamArn" {
								t.Errorf("%s on %v: only the table's stream", a, r)
							}
						}
					case svc == "dynamodb":
						dynamo = append(dynamo, act)
						for _, r := range g.resources {
							if !isTableResource(r) {
								t.Errorf("%s on %v: only the table and its indexes", a, r)
							}
						}
					case svc == "secretsmanager":
						sm = append(sm, act)
					default:
						t.Errorf("unexpected action %s", a)
					}
				}
				if slices.ContainsFunc(g.actions, func(a string) bool { return strings.HasPrefix(a, "secretsmanager:") }) {
					for _, r := range g.resources {
						secretPatterns = append(secretPatterns, secretPattern(t, r))
					}
				}
			}
			sort.Strings(dynamo)
			if !slices.Equal(dynamo, want) {
				t.Errorf("DynamoDB actions %v, want %v", dynamo, want)
			}
			sort.Strings(stream)
			if !slices.Equal(stream, streamActions[fn.LogicalID]) {
				t.Errorf("DynamoDB stream actions %v, want %v", stream, streamActions[fn.LogicalID])
			}
			sort.Strings(sm)
			sm = slices.Compact(sm)
			wantSM, listed := secretWrites[fn.LogicalID]
			if !listed {
				wantSM = []string{"GetSecretValue"}
			}
			if len(sm) == 0 {
				sm = []string{}
			}
			if !slices.Equal(sm, wantSM) {
				t.Errorf("Secrets Manager actions %v, want %v", sm, wantSM)
			}
			can := func(arn string) bool {
				return slices.ContainsFunc(secretPatterns, func(p string) bool { return iamMatch(p, arn) })
			}
			for _, p := range providers {
				// A secret's ARN ends in its name, a dash and six random characters.
				name := dev.Name("org_01KTEST", p) + "-AbC123"
				if got, want := can(name), slices.Contains(secretAccess[fn.LogicalID], p); got != want {
					t.Errorf("access to %s: %v, want %v", name, got, want)
				}
				if other := prod.Name("org_01KTEST", p) + "-AbC123"; can(other) {
					t.Errorf("reaches another stage's secret %s", other)
				}
				if longer := dev.Name("org_01KTEST", p) + "-extra-AbC123"; p != secrets.ProviderWebhook("wh_1") && fn.LogicalID != "ApiFunction" && fn.LogicalID != "DashboardFunction" && can(longer) {
					t.Errorf("reaches a secret merely starting with the name: %s", longer)
				}
			}
			key := dashboard.SessionKeyName("pytake/dev/")
			if got, want := can(key+"-AbC123"), slices.Contains(sessionKeyAccess, fn.LogicalID); got != want {
				t.Errorf("access to the session key %s: %v, want %v", key, got, want)
			}
			if can(key+"-extra-AbC123") || can(dashboard.SessionKeyName("pytake/prod/")+"-AbC123") {
				t.Errorf("reaches a secret merely starting with the session key's name, or another stage's")
			}
			if _, ok := fn.Properties["ReservedConcurrentExecutions"]; !ok {
				t.Error("no ReservedConcurrentExecutions")
			}
		})
	}
}

func isTableResource(r any) bool {
	if ga, ok := asMap(r)["Fn::GetAtt"].([]any); ok {
		return len(ga) == 2 && ga[0] == "Table" && ga[1] == "Arn"
	}
	s, _ := asMap(r)["Fn::Sub"].(string)
	return s == "${Table.Arn}/index/*"
}

// TestAlarms: every function's errors and throttles, the queues' age and
// dead letters, DynamoDB throttles and the API's 5xx raise an alarm, and
// every alarm notifies the alarm topic.
func TestAlarms(t *testing.T) {
	tpl, _ := loadRepo(t)
	watched := map[string]bool{}
	for _, a := range tpl.ResourcesOfType("AWS::CloudWatch::Alarm") {
		actions := asSlice(a.Properties["AlarmActions"])
		if len(actions) != 1 || asMap(actions[0])["Ref"] != "AlarmTopic" {
			t.Errorf("%s: AlarmActions %v, want the alarm topic", a.LogicalID, actions)
		}
		for _, d := range asSlice(a.Properties["Dimensions"]) {
			v := asMap(d)["Value"]
			target := ""
			if ref, ok := asMap(v)["Ref"].(string); ok {
				target = ref
			}
			if ga, ok := asMap(v)["Fn::GetAtt"].([]any); ok {
				target = ga[0].(string)
			}
			if target != "" {
				watched[a.Properties["MetricName"].(string)+" "+target] = true
			}
		}
	}
	want := []string{"Errors", "Throttles"}
	for _, fn := range tpl.ResourcesOfType("AWS::Serverless::Function") {
		for _, m := range want {
			if !watched[m+" "+fn.LogicalID] {
				t.Errorf("no %s alarm for %s", m, fn.LogicalID)
			}
		}
	}
	for _, w := range []string{"ApproximateAgeOfOldestMessage OutboundQueue", "ApproximateAgeOfOldestMessage EventsQueue",
		"NumberOfMessagesReceived OutboundDeadLetterQueue", "NumberOfMessagesReceived OutboundBulkDeadLetterQueue", "ApproximateAgeOfOldestMessage OutboundBulkQueue", "ApproximateNumberOfMessagesVisible EventsDeadLetterQueue",
		"NumberOfMessagesReceived DeliveriesDeadLetterQueue", "ApproximateNumberOfMessagesVisible HubSpotDeadLetterQueue",
		"ApproximateNumberOfMessagesVisible SalesforceDeadLetterQueue", "ApproximateNumberOfMessagesVisible OutboxRelayDeadLetterQueue",
		"IteratorAge OutboxRelayFunction", "ReadThrottleEvents Table", "WriteThrottleEvents Table", "5xx HttpApi"} {
		if !watched[w] {
			t.Errorf("no alarm on %s", w)
		}
	}
	if n := len(tpl.ResourcesOfType("AWS::SNS::Topic")); n != 2 {
		t.Errorf("%d SNS topics, want two: the alarm topic and the events topic", n)
	}
}

// TestEventConsumers: each consumer of the events topic has its own queue
// (raw delivery, its own dead-letter queue, one consuming function) and the
// queue policy lets the topic send to every one of them, so a slow consumer
// never holds back another.
func TestEventConsumers(t *testing.T) {
	tpl, _ := loadRepo(t)
	consumers := map[string][]string{}
	for _, fn := range tpl.ResourcesOfType("AWS::Serverless::Function") {
		for _, ev := range asMap(fn.Properties["Events"]) {
			em := asMap(ev)
			if em["Type"] != "SQS" {
				continue
			}
			ga := asSlice(asMap(asMap(em["Properties"])["Queue"])["Fn::GetAtt"])
			if len(ga) == 2 {
				consumers[ga[0].(string)] = append(consumers[ga[0].(string)], fn.LogicalID)
			}
		}
	}
	allowed := map[string]bool{}
	for _, p := range tpl.ResourcesOfType("AWS::SQS::QueuePolicy") {
		for _, q := range asSlice(p.Properties["Queues"]) {
			allowed[asMap(q)["Ref"].(string)] = true
		}
	}
	subscribed := 0
	for _, s := range tpl.ResourcesOfType("AWS::SNS::Subscription") {
		if s.Properties["Protocol"] != "sqs" {
			continue
		}
		subscribed++
		if asMap(s.Properties["TopicArn"])["Ref"] != "EventsTopic" {
			t.Errorf("%s: not on the events topic", s.LogicalID)
		}
		if b, _ := s.Properties["RawMessageDelivery"].(bool); !b {
			t.Errorf("%s: RawMessageDelivery must be true (the queue message is the event)", s.LogicalID)
		}
		ga := asSlice(asMap(s.Properties["Endpoint"])["Fn::GetAtt"])
		if len(ga) != 2 {
			t.Errorf("%s: endpoint is not a queue of the template", s.LogicalID)
			continue
		}
		q := ga[0].(string)
		if asMap(tpl.Resources[q].Properties["RedrivePolicy"]) == nil {
			t.Errorf("%s: queue %s has no dead-letter queue", s.LogicalID, q)
		}
		if len(consumers[q]) != 1 {
			t.Errorf("%s: queue %s is consumed by %v, want one function", s.LogicalID, q, consumers[q])
		}
		if !allowed[q] {
			t.Errorf("%s: no queue policy lets the topic send to %s", s.LogicalID, q)
		}
	}
	if subscribed < 3 {
		t.Errorf("%d queues subscribed to the events topic, want the dispatcher's and each CRM's", subscribed)
	}
}

// TestOutboundLanes: whoever may queue a transactional message may queue
// a bulk one (sender.Enqueuer routes by Message.Bulk), and the sender
// consumes both lanes and both dead-letter queues, each with its own
// event source.
func TestOutboundLanes(t *testing.T) {
	tpl, _ := loadRepo(t)
	queues := func(fn Resource, policy string) map[string]bool {
		out := map[string]bool{}
		for _, p := range asSlice(fn.Properties["Policies"]) {
			if v, ok := asMap(p)[policy]; ok {
				if ga, ok := asMap(asMap(v)["QueueName"])["Fn::GetAtt"].([]any); ok {
					out[ga[0].(string)] = true
				}
			}
		}
		return out
	}
	// Every accepted message's job is an outbox item; the outbox relay
	// alone queues them, on either lane.
	var producers []string
	for _, fn := range tpl.ResourcesOfType("AWS::Serverless::Function") {
		send := queues(fn, "SQSSendMessagePolicy")
		if send["OutboundQueue"] || send["OutboundBulkQueue"] {
			producers = append(producers, fn.LogicalID)
			if !send["OutboundQueue"] || !send["OutboundBulkQueue"] {
				t.Errorf("%s may queue on one lane only: %v", fn.LogicalID, send)
			}
		}
	}
	if !slices.Equal(producers, []string{"OutboxRelayFunction"}) {
		t.Errorf("functions queueing outbound messages: %v; the outbox relay alone does", producers)
	}
	sender, ok := tpl.Resources["SenderFunction"]
	if !ok {
		t.Fatal("no SenderFunction")
	}
	poll := queues(sender, "SQSPollerPolicy")
	sources := map[string]bool{}
	for _, ev := range asMap(sender.Properties["Events"]) {
		if ga, ok := asMap(asMap(asMap(ev)["Properties"])["Queue"])["Fn::GetAtt"].([]any); ok {
			sources[ga[0].(string)] = true
		}
	}
	for _, q := range []string{"OutboundQueue", "OutboundDeadLetterQueue", "OutboundBulkQueue", "OutboundBulkDeadLetterQueue"} {
		if !poll[q] {
			t.Errorf("the sender may not poll %s", q)
		}
		if !sources[q] {
			t.Errorf("the sender has no event source on %s", q)
		}
	}
}
