package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// TableInput turns an AWS::DynamoDB::Table's properties into the SDK's
// CreateTableInput, and returns its TTL attribute ("" when none).
func TableInput(name string, props map[string]any) (*dynamodb.CreateTableInput, string, error) {
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: dtypes.BillingMode(str(props["BillingMode"]))}
	if in.BillingMode == "" {
		in.BillingMode = dtypes.BillingModeProvisioned
		in.ProvisionedThroughput = &dtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
	}
	for _, a := range asSlice(props["AttributeDefinitions"]) {
		m := asMap(a)
		in.AttributeDefinitions = append(in.AttributeDefinitions, dtypes.AttributeDefinition{
			AttributeName: aws.String(str(m["AttributeName"])), AttributeType: dtypes.ScalarAttributeType(str(m["AttributeType"])),
		})
	}
	in.KeySchema = keySchema(props["KeySchema"])
	for _, g := range asSlice(props["GlobalSecondaryIndexes"]) {
		m := asMap(g)
		p := asMap(m["Projection"])
		gsi := dtypes.GlobalSecondaryIndex{
			IndexName:  aws.String(str(m["IndexName"])),
			KeySchema:  keySchema(m["KeySchema"]),
			Projection: &dtypes.Projection{ProjectionType: dtypes.ProjectionType(str(p["ProjectionType"]))},
		}
		for _, a := range asSlice(p["NonKeyAttributes"]) {
			gsi.Projection.NonKeyAttributes = append(gsi.Projection.NonKeyAttributes, str(a))
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	if len(in.KeySchema) == 0 || len(in.AttributeDefinitions) == 0 {
		return nil, "", fmt.Errorf("table %s: KeySchema and AttributeDefinitions are required", name)
	}
	if ss := asMap(props["StreamSpecification"]); ss != nil {
		in.StreamSpecification = &dtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: dtypes.StreamViewType(str(ss["StreamViewType"]))}
	}
	ttl := asMap(props["TimeToLiveSpecification"])
	attr := ""
	if b, _ := ttl["Enabled"].(bool); b {
		attr = str(ttl["AttributeName"])
	}
	return in, attr, nil
}

func keySchema(v any) []dtypes.KeySchemaElement {
	var out []dtypes.KeySchemaElement
	for _, k := range asSlice(v) {
		m := asMap(k)
		out = append(out, dtypes.KeySchemaElement{AttributeName: aws.String(str(m["AttributeName"])), KeyType: dtypes.KeyType(str(m["KeyType"]))})
	}
	return out
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// sqsAttributes maps AWS::SQS::Queue properties to queue attributes.
var sqsAttributes = []string{
	"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit",
	"VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "MaximumMessageSize",
	"ReceiveMessageWaitTimeSeconds",
}

// createQueues creates every AWS::SQS::Queue, dead-letter queues first, and
// records their URL, ARN and name in names.
func createQueues(ctx context.Context, c *sqs.Client, t *Template, names *Names, prefix string) error {
	pending := t.ResourcesOfType("AWS::SQS::Queue")
	for len(pending) > 0 {
		var next []Resource
		for _, q := range pending {
			attrs := map[string]string{}
			for _, k := range sqsAttributes {
				if v, ok := q.Properties[k]; ok {
					s, err := names.Resolve(v)
					if err != nil {
						return fmt.Errorf("queue %s %s: %w", q.LogicalID, k, err)
					}
					attrs[k] = s
				}
			}
			if rp := asMap(q.Properties["RedrivePolicy"]); rp != nil {
				arn, err := names.Resolve(rp["deadLetterTargetArn"])
				if err != nil {
					next = append(next, q) // its dead-letter queue is not created yet
					continue
				}
				b, _ := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": intOr(rp["maxReceiveCount"], 10)})
				attrs["RedrivePolicy"] = string(b)
			}
			name := prefix + q.LogicalID
			if attrs["FifoQueue"] == "true" {
				name += ".fifo"
			} else {
				delete(attrs, "FifoQueue")
			}
			out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
			if err != nil {
				return fmt.Errorf("create queue %s: %w", q.LogicalID, err)
			}
			ga, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
			if err != nil {
				return fmt.Errorf("queue %s arn: %w", q.LogicalID, err)
			}
			names.Refs[q.LogicalID] = aws.ToString(out.QueueUrl)
			names.Attrs[q.LogicalID+".Arn"] = ga.Attributes["QueueArn"]
			names.Attrs[q.LogicalID+".QueueName"] = name
		}
		if len(next) == len(pending) {
			ids := make([]string, len(next))
			for i, q := range next {
				ids[i] = q.LogicalID
			}
			return fmt.Errorf("queues %s: dead-letter targets never resolve", strings.Join(ids, ", "))
		}
		pending = next
	}
	return nil
}

// createTopics creates every AWS::SNS::Topic and its SQS subscriptions
// (raw delivery and filter policy as the template sets them), so events
// reach each consumer's queue locally as they do on AWS. moto delivers a
// publication to the subscribed queues in the same process.
func createTopics(ctx context.Context, c *sns.Client, t *Template, names *Names, prefix string) error {
	for _, r := range t.ResourcesOfType("AWS::SNS::Topic") {
		name := prefix + r.LogicalID
		out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
		if err != nil {
			return fmt.Errorf("create topic %s: %w", r.LogicalID, err)
		}
		names.Refs[r.LogicalID] = aws.ToString(out.TopicArn)
		names.Attrs[r.LogicalID+".TopicName"] = name
		names.Attrs[r.LogicalID+".TopicArn"] = aws.ToString(out.TopicArn)
	}
	for _, r := range t.ResourcesOfType("AWS::SNS::Subscription") {
		if str(r.Properties["Protocol"]) != "sqs" {
			continue // e-mail (the alarm address) has no local counterpart
		}
		topic, err := names.Resolve(r.Properties["TopicArn"])
		if err != nil {
			return fmt.Errorf("subscription %s topic: %w", r.LogicalID, err)
		}
		endpoint, err := names.Resolve(r.Properties["Endpoint"])
		if err != nil {
			return fmt.Errorf("subscription %s endpoint: %w", r.LogicalID, err)
		}
		attrs := map[string]string{}
		if b, _ := r.Properties["RawMessageDelivery"].(bool); b {
			attrs["RawMessageDelivery"] = "true"
		}
		if fp := r.Properties["FilterPolicy"]; fp != nil {
			j, err := json.Marshal(fp)
			if err != nil {
				return fmt.Errorf("subscription %s filter policy: %w", r.LogicalID, err)
			}
			attrs["FilterPolicy"] = string(j)
		}
		if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"),
			Endpoint: aws.String(endpoint), Attributes: attrs, ReturnSubscriptionArn: true}); err != nil {
			return fmt.Errorf("subscribe %s: %w", r.LogicalID, err)
		}
	}
	return nil
}
