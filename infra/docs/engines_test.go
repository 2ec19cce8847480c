package docs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestNodeMinimumRunsRedocly: the Node.js that make check lets through
// (NODE_MIN in the Makefile) is one the pinned Redocly CLI declares it runs
// on (its engines in package-lock.json), since make run builds the reference
// page with it.
func TestNodeMinimumRunsRedocly(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^NODE_MIN\s*:=\s*(\S+)`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("no NODE_MIN in the Makefile")
	}
	min := string(m[1])
	var lock struct {
		Packages map[string]struct {
			Engines struct {
				Node string `json:"node"`
			} `json:"engines"`
		} `json:"packages"`
	}
	b, err := os.ReadFile("package-lock.json")
	if err != nil || json.Unmarshal(b, &lock) != nil {
		t.Fatalf("package-lock.json: %v", err)
	}
	for name, p := range lock.Packages {
		if p.Engines.Node == "" {
			continue
		}
		ok, err := satisfies(min, p.Engines.Node)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !ok {
			t.Errorf("make check accepts Node.js %s, but %s needs %q", min, name, p.Engines.Node)
		}
	}
}

// satisfies reports whether version v is in an npm range made of
// alternatives ("||") of space-separated comparators (>=, >, <=, <, =).
func satisfies(v, rng string) (bool, error) {
	comp := regexp.MustCompile(`^(>=|<=|>|<|=)?v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$`)
	parse := func(m []string) [3]int {
		var out [3]int
		for i := range 3 {
			out[i], _ = strconv.Atoi(m[2+i])
		}
		return out
	}
	vm := comp.FindStringSubmatch(v)
	if vm == nil || vm[1] != "" {
		return false, fmt.Errorf("cannot read version %q", v)
	}
	ver := parse(vm)
	cmp := func(a, b [3]int) int {
		for i := range 3 {
			if a[i] != b[i] {
				return a[i] - b[i]
			}
		}
		return 0
	}
	for _, alt := range strings.Split(rng, "||") {
		all := true
		for _, c := range strings.Fields(alt) {
			m := comp.FindStringSubmatch(c)
			if m == nil {
				return false, fmt.Errorf("cannot read comparator %q in %q", c, rng)
			}
			d := cmp(ver, parse(m))
			switch m[1] {
			case ">=":
				all = all && d >= 0
			case ">":
				all = all && d > 0
			case "<=":
				all = all && d <= 0
			case "<":
				all = all && d < 0
			default:
				all = all && d == 0
			}
		}
		if all {
			return true, nil
		}
	}
	return false, nil
}

func TestSatisfies(t *testing.T) {
	const redocly = ">=22.12.0 || >=20.19.0 <21.0.0"
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"20.12.1", false}, {"20.18.3", false}, {"20.19.0", true}, {"20.20.2", true}, {"21.7.0", false},
		{"22.11.0", false}, {"22.12.0", true}, {"24.1.0", true},
	} {
		if got, err := satisfies(tc.v, redocly); err != nil || got != tc.want {
			t.Errorf("satisfies(%s, %q) = %v, %v; want %v", tc.v, redocly, got, err, tc.want)
		}
	}
	if _, err := satisfies("20.19.0", "^20.19.0"); err == nil {
		t.Error("a caret range was read; it is not supported and must be refused")
	}
}
