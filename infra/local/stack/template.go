// Package stack runs PyTake's template.yaml on one machine without Docker or
// an AWS account: moto for DynamoDB, SQS and Secrets Manager, the functions
// under AWS's Lambda Runtime Interface Emulator, a gateway serving the HTTP
// API routes as payload 2.0 events, and pollers feeding SQS batches to their
// consumers. Everything it creates is read from template.yaml, so the local
// stack and the deployed one cannot drift.
package stack

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Template is the part of template.yaml the local stack runs.
type Template struct {
	Parameters map[string]string // parameter defaults
	GlobalEnv  map[string]any    // Globals.Function.Environment.Variables
	Globals    map[string]any    // Globals.Function
	Resources  map[string]Resource
}

// Resource is one template resource, intrinsics kept as Ref/Fn::* maps.
type Resource struct {
	LogicalID  string
	Type       string
	Properties map[string]any
}

// Function is a serverless function with what the local stack needs.
type Function struct {
	LogicalID  string
	Dir        string // functions/<Dir>, from the Makefile's build-<LogicalID> target
	Timeout    int
	MemorySize int
	Env        map[string]any
	Routes     []Route
	Queues     []QueueEvent
	// Schedules are its ScheduleV2 events' periods (rate(...) only).
	Schedules []time.Duration
	Streams   []StreamEvent
}

// Route is one HttpApi event.
type Route struct {
	Function string
	Method   string // ANY or an HTTP method
	Path     string // /v1/{proxy+}
}

// QueueEvent is one SQS event source of a function.
type QueueEvent struct {
	Queue          string // logical id
	BatchSize      int
	ReportFailures bool // FunctionResponseTypes: [ReportBatchItemFailures]
	MaxConcurrency int  // ScalingConfig.MaximumConcurrency (0: unset)
}

// StreamEvent is one DynamoDB stream event source of a function.
type StreamEvent struct {
	Table          string   // logical id of the table whose stream it reads
	BatchSize      int      // default 100, as Lambda's
	Filters        []string // FilterCriteria patterns (JSON); none: every record
	ReportFailures bool     // FunctionResponseTypes: [ReportBatchItemFailures]
	MaxRetries     int      // MaximumRetryAttempts (-1: until the record expires)
	OnFailure      string   // logical id of the on-failure SQS destination ("" none)
}

// LoadTemplate reads a SAM template.
func LoadTemplate(path string) (*Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("parse %s: empty document", path)
	}
	root, err := convert(doc.Content[0])
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	m, _ := root.(map[string]any)
	t := &Template{Parameters: map[string]string{}, GlobalEnv: map[string]any{}, Globals: map[string]any{}, Resources: map[string]Resource{}}
	for name, p := range asMap(m["Parameters"]) {
		if d, ok := asMap(p)["Default"]; ok {
			t.Parameters[name] = fmt.Sprint(d)
		}
	}
	t.Globals = asMap(asMap(m["Globals"])["Function"])
	t.GlobalEnv = asMap(asMap(t.Globals["Environment"])["Variables"])
	for id, r := range asMap(m["Resources"]) {
		rm := asMap(r)
		typ, _ := rm["Type"].(string)
		t.Resources[id] = Resource{LogicalID: id, Type: typ, Properties: asMap(rm["Properties"])}
	}
	return t, nil
}

// ResourcesOfType lists resources of one type, sorted by logical id.
func (t *Template) ResourcesOfType(typ string) []Resource {
	var out []Resource
	for _, r := range t.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}

// Functions lists the serverless functions; makefile maps each to its
// functions/ directory through its build-<LogicalID> target.
func (t *Template) Functions(makefile string) ([]Function, error) {
	dirs, err := buildTargets(makefile)
	if err != nil {
		return nil, err
	}
	var out []Function
	for _, r := range t.ResourcesOfType("AWS::Serverless::Function") {
		f := Function{
			LogicalID:  r.LogicalID,
			Dir:        dirs[r.LogicalID],
			Timeout:    intOr(r.Properties["Timeout"], intOr(t.Globals["Timeout"], 3)),
			MemorySize: intOr(r.Properties["MemorySize"], intOr(t.Globals["MemorySize"], 128)),
			Env:        map[string]any{},
		}
		if f.Dir == "" {
			return nil, fmt.Errorf("%s: the Makefile has no build-%s target building ./functions/<dir>", r.LogicalID, r.LogicalID)
		}
		for k, v := range t.GlobalEnv {
			f.Env[k] = v
		}
		for k, v := range asMap(asMap(r.Properties["Environment"])["Variables"]) {
			f.Env[k] = v
		}
		names := make([]string, 0)
		events := asMap(r.Properties["Events"])
		for n := range events {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			ev := asMap(events[n])
			p := asMap(ev["Properties"])
			switch ev["Type"] {
			case "HttpApi":
				method, _ := p["Method"].(string)
				path, _ := p["Path"].(string)
				if method == "" || path == "" {
					return nil, fmt.Errorf("%s.%s: HttpApi events need Method and Path here", r.LogicalID, n)
				}
				f.Routes = append(f.Routes, Route{Function: r.LogicalID, Method: strings.ToUpper(method), Path: path})
			case "SQS":
				q, err := getAttTarget(p["Queue"])
				if err != nil {
					return nil, fmt.Errorf("%s.%s: %w", r.LogicalID, n, err)
				}
				qe := QueueEvent{Queue: q, BatchSize: intOr(p["BatchSize"], 10), MaxConcurrency: intOr(asMap(p["ScalingConfig"])["MaximumConcurrency"], 0)}
				for _, rt := range asSlice(p["FunctionResponseTypes"]) {
					if rt == "ReportBatchItemFailures" {
						qe.ReportFailures = true
					}
				}
				f.Queues = append(f.Queues, qe)
			case "ScheduleV2":
				expr, _ := p["ScheduleExpression"].(string)
				if ref, ok := asMap(p["ScheduleExpression"])["Ref"].(string); ok {
					expr = t.Parameters[ref]
				}
				d, err := ratePeriod(expr)
				if err != nil {
					return nil, fmt.Errorf("%s.%s: %w", r.LogicalID, n, err)
				}
				f.Schedules = append(f.Schedules, d)
			case "DynamoDB":
				tbl, err := getAttTarget(p["Stream"])
				if err != nil {
					return nil, fmt.Errorf("%s.%s: %w", r.LogicalID, n, err)
				}
				se := StreamEvent{Table: tbl, BatchSize: intOr(p["BatchSize"], 100), MaxRetries: intOr(p["MaximumRetryAttempts"], -1)}
				for _, fl := range asSlice(asMap(p["FilterCriteria"])["Filters"]) {
					pat, _ := asMap(fl)["Pattern"].(string)
					if pat == "" {
						return nil, fmt.Errorf("%s.%s: a filter without a Pattern string", r.LogicalID, n)
					}
					se.Filters = append(se.Filters, pat)
				}
				for _, rt := range asSlice(p["FunctionResponseTypes"]) {
					if rt == "ReportBatchItemFailures" {
						se.ReportFailures = true
					}
				}
				if d := asMap(asMap(p["DestinationConfig"])["OnFailure"]); d != nil {
					if se.OnFailure, err = getAttTarget(d["Destination"]); err != nil {
						return nil, fmt.Errorf("%s.%s on-failure destination: %w", r.LogicalID, n, err)
					}
				}
				f.Streams = append(f.Streams, se)
			}
		}
		out = append(out, f)
	}
	return out, nil
}

var rateExpr = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

// ratePeriod reads an EventBridge rate(N unit) expression (the local stack
// runs only those).
func ratePeriod(expr string) (time.Duration, error) {
	m := rateExpr.FindStringSubmatch(expr)
	if m == nil {
		return 0, fmt.Errorf("schedule %q: the local stack runs rate(N minutes|hours|days) only", expr)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour,
		"day": 24 * time.Hour, "days": 24 * time.Hour}[m[2]]
	if n <= 0 {
		return 0, fmt.Errorf("schedule %q: the rate must be positive", expr)
	}
	return time.Duration(n) * unit, nil
}

var buildLine = regexp.MustCompile(`^build-([A-Za-z0-9]+):`)
var pkgRef = regexp.MustCompile(`\./functions/([a-z0-9-]+)`)

// buildTargets maps LogicalID -> functions/ directory from the Makefile.
func buildTargets(makefile string) (map[string]string, error) {
	f, err := os.Open(makefile)
	if err != nil {
		return nil, fmt.Errorf("read Makefile: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	cur := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := buildLine.FindStringSubmatch(line); m != nil {
			cur = m[1]
			continue
		}
		if cur != "" && strings.HasPrefix(line, "\t") {
			if m := pkgRef.FindStringSubmatch(line); m != nil {
				out[cur] = m[1]
			}
			continue
		}
		cur = ""
	}
	return out, sc.Err()
}

// convert turns a YAML node into plain Go values, expanding CloudFormation's
// short-form intrinsics (!Ref, !GetAtt, !Sub, ...) into their long form.
func convert(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.AliasNode:
		return convert(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := convert(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!int":
			i, err := strconv.Atoi(n.Value)
			if err != nil {
				return nil, err
			}
			v = i
		case "!!bool":
			v = n.Value == "true" || n.Value == "True"
		case "!!null":
			v = nil
		default:
			v = n.Value
		}
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		name := n.Tag[1:]
		if name == "GetAtt" {
			if s, ok := v.(string); ok {
				parts := strings.SplitN(s, ".", 2)
				v = []any{parts[0], parts[len(parts)-1]}
			}
		}
		if name != "Ref" && name != "Condition" {
			name = "Fn::" + name
		}
		return map[string]any{name: v}, nil
	}
	return v, nil
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func intOr(v any, def int) int {
	switch x := v.(type) {
	case int:
		return x
	case string:
		if i, err := strconv.Atoi(x); err == nil {
			return i
		}
	}
	return def
}

func getAttTarget(v any) (string, error) {
	m := asMap(v)
	if ga := asSlice(m["Fn::GetAtt"]); len(ga) == 2 {
		return fmt.Sprint(ga[0]), nil
	}
	if r, ok := m["Ref"].(string); ok {
		return r, nil
	}
	return "", fmt.Errorf("queue must be !GetAtt <Queue>.Arn, got %v", v)
}
