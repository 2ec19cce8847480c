package stack

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/metrics"
)

// The operations dashboard is valid JSON once substituted, every
// ${...} in it names a variable, parameter, pseudo parameter or resource,
// and it graphs: every metric the functions write (and no other of its
// namespace, which the functions write to), every queue's depth and
// age, every function's concurrency and throttles, and the table's
// throttles.
func TestOperationsDashboard(t *testing.T) {
	tpl, _ := loadRepo(t)
	res, ok := tpl.Resources["OperationsDashboard"]
	require.True(t, ok, "no OperationsDashboard")
	require.Equal(t, "AWS::CloudWatch::Dashboard", res.Type)
	sub := asSlice(res.Properties["DashboardBody"].(map[string]any)["Fn::Sub"])
	require.Len(t, sub, 2, "DashboardBody is !Sub [body, variables]")
	body, _ := sub[0].(string)
	vars := asMap(sub[1])
	require.Equal(t, tpl.GlobalEnv["METRICS_NAMESPACE"], vars["MetricsNamespace"], "the functions write where the dashboard reads")

	ref := regexp.MustCompile(`\$\{([^}]+)\}`)
	for _, m := range ref.FindAllStringSubmatch(body, -1) {
		name := m[1]
		id, _, _ := strings.Cut(name, ".")
		_, isVar := vars[name]
		_, isParam := tpl.Parameters[name]
		_, isRes := tpl.Resources[id]
		if !isVar && !isParam && !isRes && !strings.HasPrefix(name, "AWS::") {
			t.Errorf("${%s} names nothing in the template", name)
		}
	}
	var dash struct {
		Widgets []struct {
			Properties struct {
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	require.NoError(t, json.Unmarshal([]byte(ref.ReplaceAllString(body, "$1")), &dash))

	graphed := map[string]map[string]bool{} // namespace/metric -> dimension values
	add := func(k, v string) {
		if graphed[k] == nil {
			graphed[k] = map[string]bool{}
		}
		graphed[k][v] = true
	}
	search := regexp.MustCompile(`MetricName="([A-Za-z]+)"`)
	for _, w := range dash.Widgets {
		for _, m := range w.Properties.Metrics {
			if len(m) > 0 {
				if e, ok := m[0].(map[string]any); ok {
					for _, n := range search.FindAllStringSubmatch(e["expression"].(string), -1) {
						add("MetricsNamespace/"+n[1], "search")
					}
					continue
				}
			}
			require.GreaterOrEqual(t, len(m), 4, "metric %v", m)
			ns, name := m[0].(string), m[1].(string)
			add(ns+"/"+name, m[3].(string))
		}
	}
	var custom []string
	for k := range graphed {
		if n, ok := strings.CutPrefix(k, "MetricsNamespace/"); ok {
			custom = append(custom, n)
		}
	}
	want := metrics.Names()
	for _, n := range want {
		require.Contains(t, custom, n, "metric %s is written but not graphed", n)
	}
	for _, n := range custom {
		require.True(t, slices.Contains(want, n), "metric %s is graphed but never written", n)
	}
	var queues, functions []string
	for id, r := range tpl.Resources {
		switch r.Type {
		case "AWS::SQS::Queue":
			queues = append(queues, id)
		case "AWS::Serverless::Function":
			functions = append(functions, id)
		}
	}
	sort.Strings(queues)
	for _, q := range queues {
		for _, m := range []string{"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"} {
			require.True(t, graphed["AWS/SQS/"+m][q+".QueueName"], "queue %s has no %s graph", q, m)
		}
	}
	for _, f := range functions {
		for _, m := range []string{"ConcurrentExecutions", "Throttles"} {
			require.True(t, graphed["AWS/Lambda/"+m][f], "function %s has no %s graph", f, m)
		}
	}
	for _, m := range []string{"ReadThrottleEvents", "WriteThrottleEvents"} {
		require.True(t, graphed["AWS/DynamoDB/"+m]["Table"], "no %s graph", m)
	}
}
