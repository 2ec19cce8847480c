// Command ops administers a PyTake stack, deployed or local.
//
//	go run ./infra/ops create-org --name Acme [--mode live|test] [--stack-name pytake-dev]
//	go run ./infra/ops set-whatsapp --org org_... [--stack-name pytake-dev] < whatsapp.json
//
// The table (and the secrets prefix) come from --stack-name (the stack's
// outputs, through CloudFormation) or from TABLE_NAME and SECRETS_PREFIX.
// AWS credentials, region and AWS_ENDPOINT_URL are the SDK's usual ones;
// `source .local/demo.env` points them at the local stack.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/graph"
	"github.com/pytake/pytake/internal/ratelimit"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/tenant"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ops:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  ops create-org --name NAME [--mode live|test] [--plan free|standard|scale] [--stack-name STACK]
  ops set-plan --org ORG_ID --plan free|standard|scale [--stack-name STACK]
  ops set-send-rate --org ORG_ID --per-second N [--stack-name STACK]
      N messages/s for the organisation's number instead of the limit that follows Meta's throughput
      level (80/s STANDARD, 1,000/s HIGH); 0 removes the override; at most 1,000; dropped when
      another number is saved
  ops set-whatsapp --org ORG_ID [--stack-name STACK] < whatsapp.json
      whatsapp.json: {"phone_number_id","access_token","app_secret","verify_token","waba_id","graph_api_version"}
      The access token must be able to read the number (and the WABA, when given) on the Graph API
      (WHATSAPP_GRAPH_URL, default https://graph.facebook.com; GRAPH_API_VERSION, default v26.0).
Without --stack-name, TABLE_NAME (and SECRETS_PREFIX for set-whatsapp) come from the environment.`

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stackName := fs.String("stack-name", "", "CloudFormation stack whose outputs name the table")
	name := fs.String("name", "", "organisation name")
	mode := fs.String("mode", "live", "first API key's mode: live or test")
	org := fs.String("org", "", "organisation id")
	perSecond := fs.Int("per-second", -1, "send rate override, messages/s (0: none)")
	plan := fs.String("plan", "", "rate-limit plan: "+strings.Join(ratelimit.PlanNames(), ", ")+" (default "+ratelimit.DefaultPlan+")")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w\n%s", err, usage)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	target, err := resolve(ctx, cfg, *stackName, getenv)
	if err != nil {
		return err
	}
	st := store.New(dynamodb.NewFromConfig(cfg), target.Table, time.Now)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	switch args[0] {
	case "create-org":
		if *mode != "live" && *mode != "test" {
			return errors.New("--mode must be live or test")
		}
		if _, ok := ratelimit.PlanNamed(*plan); !ok {
			return fmt.Errorf("--plan must be one of %s", strings.Join(ratelimit.PlanNames(), ", "))
		}
		res, err := tenant.CreateOrganization(ctx, st, *name, *mode)
		if err != nil {
			return err
		}
		if *plan != "" {
			if err := st.SetOrganizationPlan(ctx, res.Organization.ID, *plan); err != nil {
				return fmt.Errorf("set the plan of %s: %w", res.Organization.ID, err)
			}
		}
		return enc.Encode(res)
	case "set-plan":
		if _, ok := ratelimit.PlanNamed(*plan); !ok || *org == "" || *plan == "" {
			return fmt.Errorf("--org and --plan (one of %s) are required", strings.Join(ratelimit.PlanNames(), ", "))
		}
		if err := st.SetOrganizationPlan(ctx, *org, *plan); err != nil {
			return fmt.Errorf("organization %s: %w", *org, err)
		}
		return enc.Encode(map[string]any{"organization_id": *org, "plan": *plan})
	case "set-send-rate":
		if *org == "" || *perSecond < 0 {
			return errors.New("--org and --per-second (0 removes the override) are required")
		}
		if err := st.SetSendRateOverride(ctx, *org, *perSecond); err != nil {
			return fmt.Errorf("organization %s: %w", *org, err)
		}
		return enc.Encode(map[string]any{"organization_id": *org, "send_rate_override": *perSecond})
	case "set-whatsapp":
		if *org == "" {
			return errors.New("--org is required")
		}
		if target.SecretsPrefix == "" {
			return errors.New("SECRETS_PREFIX is not set (or use --stack-name)")
		}
		var c secrets.WhatsApp
		dec := json.NewDecoder(stdin)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return fmt.Errorf("read WhatsApp settings JSON from stdin: %w", err)
		}
		if _, err := st.Organization(ctx, *org); err != nil {
			return fmt.Errorf("organization %s: %w", *org, err)
		}
		if err := tenant.ValidateWhatsApp(c); err != nil {
			return err
		}
		// Meta confirms the number is these credentials' before it is
		// claimed (WHATSAPP_GRAPH_URL points at the local simulator).
		graphURL, version := getenv("WHATSAPP_GRAPH_URL"), getenv("GRAPH_API_VERSION")
		if graphURL == "" {
			graphURL = "https://graph.facebook.com"
		}
		if version == "" {
			version = "v26.0"
		}
		meta := graph.New(graphURL, &http.Client{Timeout: 20 * time.Second})
		num, err := tenant.ProveWhatsApp(ctx, meta, version, c)
		if err != nil {
			return err
		}
		sec := secrets.New(awsapi.NewSecretsManager(cfg), target.SecretsPrefix, 0, time.Now)
		acct, err := tenant.ConfigureWhatsApp(ctx, st, sec, *org, c, num.DisplayPhoneNumber)
		if err != nil {
			return err
		}
		return enc.Encode(map[string]any{
			"organization_id": *org, "phone_number_id": acct.PhoneNumberID, "waba_id": acct.WABAID,
			"secret": sec.Name(*org, secrets.ProviderWhatsApp),
		})
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
}

type target struct {
	Table         string
	SecretsPrefix string
}

// resolve finds the table and secrets prefix from the stack's outputs or
// the environment.
func resolve(ctx context.Context, cfg aws.Config, stackName string, getenv func(string) string) (target, error) {
	if stackName == "" {
		t := target{Table: getenv("TABLE_NAME"), SecretsPrefix: getenv("SECRETS_PREFIX")}
		if t.Table == "" {
			return t, errors.New("set TABLE_NAME or pass --stack-name")
		}
		return t, nil
	}
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stackName)})
	if err != nil {
		return target{}, fmt.Errorf("describe stack %s: %w", stackName, err)
	}
	if len(out.Stacks) == 0 {
		return target{}, fmt.Errorf("stack %s not found", stackName)
	}
	var t target
	for _, o := range out.Stacks[0].Outputs {
		switch aws.ToString(o.OutputKey) {
		case "TableName":
			t.Table = aws.ToString(o.OutputValue)
		case "SecretsPrefix":
			t.SecretsPrefix = aws.ToString(o.OutputValue)
		}
	}
	if t.Table == "" {
		return t, fmt.Errorf("stack %s has no TableName output", stackName)
	}
	return t, nil
}
