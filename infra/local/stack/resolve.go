package stack

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Names are the physical values of a running stack that intrinsics resolve
// to: parameters, pseudo parameters, each resource's Ref and attributes.
type Names struct {
	Params map[string]string // parameter values and AWS:: pseudo parameters
	Refs   map[string]string // logical id -> Ref value (table name, queue URL, function name)
	Attrs  map[string]string // "LogicalId.Attr" -> value (Arn, QueueName)
}

// NewNames starts from the template's parameter defaults.
func NewNames(t *Template, region, account string) *Names {
	n := &Names{Params: map[string]string{}, Refs: map[string]string{}, Attrs: map[string]string{}}
	for k, v := range t.Parameters {
		n.Params[k] = v
	}
	n.Params["AWS::Region"] = region
	n.Params["AWS::AccountId"] = account
	n.Params["AWS::Partition"] = "aws"
	n.Params["AWS::URLSuffix"] = "amazonaws.com"
	n.Params["AWS::StackName"] = "pytake-local"
	return n
}

func (n *Names) ref(name string) (string, error) {
	if v, ok := n.Params[name]; ok {
		return v, nil
	}
	if v, ok := n.Refs[name]; ok {
		return v, nil
	}
	return "", fmt.Errorf("unresolved !Ref %s", name)
}

func (n *Names) attr(id, attr string) (string, error) {
	if v, ok := n.Attrs[id+"."+attr]; ok {
		return v, nil
	}
	return "", fmt.Errorf("unresolved !GetAtt %s.%s", id, attr)
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

// Resolve turns a template value into a string.
func (n *Names) Resolve(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int, bool:
		return fmt.Sprint(x), nil
	case map[string]any:
		if r, ok := x["Ref"].(string); ok {
			return n.ref(r)
		}
		if ga := asSlice(x["Fn::GetAtt"]); len(ga) == 2 {
			return n.attr(fmt.Sprint(ga[0]), fmt.Sprint(ga[1]))
		}
		if s, ok := x["Fn::Sub"]; ok {
			return n.sub(s)
		}
		if j := asSlice(x["Fn::Join"]); len(j) == 2 {
			var parts []string
			for _, p := range asSlice(j[1]) {
				s, err := n.Resolve(p)
				if err != nil {
					return "", err
				}
				parts = append(parts, s)
			}
			return strings.Join(parts, fmt.Sprint(j[0])), nil
		}
	}
	return "", fmt.Errorf("unsupported template value %v", v)
}

func (n *Names) sub(v any) (string, error) {
	tmpl, _ := v.(string)
	vars := map[string]any{}
	if l := asSlice(v); len(l) == 2 {
		tmpl, _ = l[0].(string)
		vars = asMap(l[1])
	}
	var firstErr error
	out := subVar.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[2 : len(m)-1]
		var (
			s   string
			err error
		)
		switch {
		case vars[name] != nil:
			s, err = n.Resolve(vars[name])
		case strings.Contains(name, ".") && !strings.HasPrefix(name, "AWS::"):
			p := strings.SplitN(name, ".", 2)
			s, err = n.attr(p[0], p[1])
		default:
			s, err = n.ref(name)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return s
	})
	return out, firstErr
}

// Env resolves a function's environment.
func (n *Names) Env(vars map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(vars))
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s, err := n.Resolve(vars[k])
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", k, err)
		}
		out[k] = s
	}
	return out, nil
}
