package stack

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/store"
)

const root = "../../.."

func loadRepo(t *testing.T) (*Template, []Function) {
	t.Helper()
	tpl, err := LoadTemplate(filepath.Join(root, "template.yaml"))
	require.NoError(t, err)
	fns, err := tpl.Functions(filepath.Join(root, "Makefile"))
	require.NoError(t, err)
	return tpl, fns
}

// The table template.yaml declares is the table the store is written for.
func TestTemplateTableMatchesStore(t *testing.T) {
	tpl, _ := loadRepo(t)
	tables := tpl.ResourcesOfType("AWS::DynamoDB::Table")
	require.Len(t, tables, 1, "want one table, got %d", len(tables))
	got, ttl, err := TableInput("x", tables[0].Properties)
	require.NoError(t, err)
	want := store.CreateTableInput("x")
	sortDefs := func(d []dtypes.AttributeDefinition) {
		sort.Slice(d, func(i, j int) bool { return aws.ToString(d[i].AttributeName) < aws.ToString(d[j].AttributeName) })
	}
	sortDefs(got.AttributeDefinitions)
	sortDefs(want.AttributeDefinitions)
	assert.Equal(t, want, got, "template table differs from store.CreateTableInput:\n got %+v\nwant %+v", got, want)
	assert.Equal(t, store.TTLAttribute, ttl, "TTL attribute %q, store uses %q", ttl, store.TTLAttribute)
}

// Every function in template.yaml builds from a functions/ directory, and
// every functions/ directory is deployed.
func TestTemplateFunctionsMatchDirectories(t *testing.T) {
	_, fns := loadRepo(t)
	inTemplate := map[string]bool{}
	for _, f := range fns {
		_, err := os.Stat(filepath.Join(root, "functions", f.Dir, "main.go"))
		assert.NoError(t, err, "%s builds functions/%s, which has no main.go", f.LogicalID, f.Dir)
		inTemplate[f.Dir] = true
		assert.Greater(t, f.Timeout, 0, "%s: timeout %d memory %d", f.LogicalID, f.Timeout, f.MemorySize)
		assert.Greater(t, f.MemorySize, 0, "%s: timeout %d memory %d", f.LogicalID, f.Timeout, f.MemorySize)
	}
	dirs, _ := os.ReadDir(filepath.Join(root, "functions"))
	for _, d := range dirs {
		if d.IsDir() && !inTemplate[d.Name()] {
			t.Errorf("functions/%s is not a function in template.yaml", d.Name())
		}
	}
}

func TestTemplateRoutesAndEnvironment(t *testing.T) {
	tpl, fns := loadRepo(t)
	routes := map[string]string{}
	for _, f := range fns {
		for _, r := range f.Routes {
			routes[r.Method+" "+r.Path] = f.LogicalID
		}
	}
	for route, fn := range map[string]string{
		"ANY /v1":                 "ApiFunction",
		"ANY /v1/{proxy+}":        "ApiFunction",
		"GET /webhooks/whatsapp":  "WhatsAppWebhookFunction",
		"POST /webhooks/whatsapp": "WhatsAppWebhookFunction",
		// e-commerce order webhooks
		"POST /webhooks/shopify":     "ShopifyWebhookFunction",
		"POST /webhooks/woocommerce": "WooCommerceWebhookFunction",
	} {
		assert.Equal(t, fn, routes[route], "route %s -> %q, want %s", route, routes[route], fn)
	}
	names := NewNames(tpl, "us-east-1", Account)
	for id := range tpl.Resources {
		names.Refs[id] = "ref-" + id
		names.Attrs[id+".Arn"] = "arn-" + id
		names.Attrs[id+".QueueName"] = "name-" + id
	}
	for _, f := range fns {
		env, err := names.Env(f.Env)
		require.NoError(t, err, "%s: %v", f.LogicalID, err)
		if env["TABLE_NAME"] != "ref-Table" || env["SECRETS_PREFIX"] != "pytake/dev/" || env["GRAPH_API_VERSION"] == "" {
			t.Errorf("%s env %v", f.LogicalID, env)
		}
	}
}

func TestResolve(t *testing.T) {
	n := &Names{
		Params: map[string]string{"Stage": "dev", "AWS::Region": "us-east-1"},
		Refs:   map[string]string{"Q": "https://q"},
		Attrs:  map[string]string{"Q.Arn": "arn:q"},
	}
	for _, c := range []struct {
		in   any
		want string
		err  bool
	}{
		{"plain", "plain", false},
		{42, "42", false},
		{map[string]any{"Ref": "Stage"}, "dev", false},
		{map[string]any{"Ref": "Q"}, "https://q", false},
		{map[string]any{"Fn::GetAtt": []any{"Q", "Arn"}}, "arn:q", false},
		{map[string]any{"Fn::Sub": "pytake/${Stage}/${AWS::Region}/${Q.Arn}"}, "pytake/dev/us-east-1/arn:q", false},
		{map[string]any{"Fn::Sub": []any{"${A}-${Stage}", map[string]any{"A": map[string]any{"Ref": "Q"}}}}, "https://q-dev", false},
		{map[string]any{"Fn::Join": []any{":", []any{"a", map[string]any{"Ref": "Stage"}}}}, "a:dev", false},
		{map[string]any{"Ref": "Missing"}, "", true},
		{map[string]any{"Fn::Sub": "${Nope.Arn}"}, "", true},
		{map[string]any{"Fn::If": []any{}}, "", true},
	} {
		got, err := n.Resolve(c.in)
		if (err != nil) != c.err || (!c.err && got != c.want) {
			t.Errorf("Resolve(%v) = %q, %v; want %q (error %v)", c.in, got, err, c.want, c.err)
		}
	}
}

func TestConvertShortFormIntrinsics(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t.yaml")
	os.WriteFile(p, []byte(`Parameters:
  Stage: {Type: String, Default: dev}
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 30
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt D.Arn
  F:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          A: !Sub "x-${Stage}"
          B: !Ref Q
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Q.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
`), 0o644)
	mk := filepath.Join(dir, "Makefile")
	os.WriteFile(mk, []byte("build-F:\n\tgo build -o $(ARTIFACTS_DIR)/bootstrap ./functions/f\n"), 0o644)
	tpl, err := LoadTemplate(p)
	require.NoError(t, err)
	fns, err := tpl.Functions(mk)
	require.NoError(t, err)
	require.Len(t, fns, 1, "functions %+v", fns)
	require.Equal(t, "f", fns[0].Dir, "functions %+v", fns)
	require.Len(t, fns[0].Queues, 1, "functions %+v", fns)
	q := fns[0].Queues[0]
	assert.Equal(t, "Q", q.Queue, "queue event %+v", q)
	assert.Equal(t, 5, q.BatchSize, "queue event %+v", q)
	assert.True(t, q.ReportFailures, "queue event %+v", q)
	if got := tpl.Resources["Q"].Properties["VisibilityTimeout"]; got != 30 {
		t.Errorf("int property %v", got)
	}
	n := NewNames(tpl, "us-east-1", Account)
	n.Refs["Q"] = "url"
	env, err := n.Env(fns[0].Env)
	if err != nil || env["A"] != "x-dev" || env["B"] != "url" {
		t.Errorf("env %v %v", env, err)
	}
	os.WriteFile(mk, []byte("build-G:\n\tgo build ./functions/g\n"), 0o644)
	_, err = tpl.Functions(mk)
	assert.Error(t, err, "a function without a build target must be an error")
}

// The schedules the local stack runs: the campaign sweep every minute, the
// template sync at its parameter's default; rate(...) only.
func TestTemplateSchedules(t *testing.T) {
	_, fns := loadRepo(t)
	got := map[string][]time.Duration{}
	for _, f := range fns {
		if len(f.Schedules) > 0 {
			got[f.LogicalID] = f.Schedules
		}
	}
	require.Equal(t, map[string][]time.Duration{"CampaignRunnerFunction": {time.Minute}, "TemplateSyncFunction": {6 * time.Hour}}, got)
	for expr, want := range map[string]time.Duration{"rate(1 minute)": time.Minute, "rate(5 minutes)": 5 * time.Minute, "rate(2 days)": 48 * time.Hour} {
		d, err := ratePeriod(expr)
		require.NoError(t, err)
		require.Equal(t, want, d)
	}
	for _, bad := range []string{"cron(0 12 * * ? *)", "rate(0 minutes)", "rate(1 week)", ""} {
		_, err := ratePeriod(bad)
		require.Error(t, err, bad)
	}
}
