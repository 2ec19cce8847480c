package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestConfigurationTable: the README's Configuration table names every
// environment variable the functions read (awsconf.Require, Getenv) and
// every variable template.yaml sets on a function; every variable a
// function reads is set by template.yaml, unless the table says the local
// stack alone sets it or Lambda does.
func TestConfigurationTable(t *testing.T) {
	read := envRead(t)
	set := templateEnv(t)
	rows := readmeConfig(t)
	if len(read) == 0 || len(set) == 0 || len(rows) == 0 {
		t.Fatalf("nothing found: %d read, %d set, %d documented", len(read), len(set), len(rows))
	}
	for _, v := range sortedKeys(read) {
		meaning, ok := rows[v]
		if !ok {
			t.Errorf("%s is read by %s but not in the README's Configuration table", v, read[v])
			continue
		}
		if _, ok := set[v]; !ok && !strings.Contains(meaning, "local stack only") && !strings.Contains(meaning, "set by Lambda") {
			t.Errorf("%s is read by %s but template.yaml never sets it (and the README does not say it is local or set by Lambda)", v, read[v])
		}
	}
	for _, v := range sortedKeys(set) {
		if _, ok := rows[v]; !ok {
			t.Errorf("template.yaml sets %s but the README's Configuration table does not name it", v)
		}
	}
}

// envRead is every variable named in a Require or Getenv call of the
// functions' and internal packages' code (tests excluded), with a file that
// reads it.
func envRead(t *testing.T) map[string]string {
	t.Helper()
	call := regexp.MustCompile(`(?s)awsconf\.Require\([^)]*\)|[Gg]etenv\("[A-Z][A-Z0-9_]*"\)`)
	name := regexp.MustCompile(`"([A-Z][A-Z0-9_]*)"`)
	out := map[string]string{}
	for _, dir := range []string{"functions", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, c := range call.FindAll(b, -1) {
				for _, m := range name.FindAllSubmatch(c, -1) {
					out[string(m[1])] = strings.TrimPrefix(path, root+"/")
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// templateEnv is every variable template.yaml sets in an Environment
// Variables block (the Globals' and each function's).
func templateEnv(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	key := regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "Variables:" {
			continue
		}
		indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
		for j := i + 1; j < len(lines); j++ {
			l := lines[j]
			if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#") {
				continue
			}
			if len(l)-len(strings.TrimLeft(l, " ")) <= indent {
				break
			}
			if k, _, ok := strings.Cut(strings.TrimSpace(l), ":"); ok && key.MatchString(k) {
				out[k] = true
			}
		}
	}
	return out
}

// readmeConfig is the README Configuration table: each variable named in
// a row's first cell, with the row's meaning.
func readmeConfig(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Configuration\n")
	if !ok {
		t.Fatal("README has no ## Configuration section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	out := map[string]string{}
	code := regexp.MustCompile("`([A-Z][A-Z0-9_]*)`")
	for _, l := range strings.Split(sec, "\n") {
		cells := strings.Split(l, "|")
		if len(cells) < 4 {
			continue
		}
		for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
			out[m[1]] = strings.TrimSpace(cells[len(cells)-2])
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestLayoutNamesEveryDirectory: the README's Layout block names every
// function, internal package and infra directory, so a new one is
// described where a newcomer looks first.
func TestLayoutNamesEveryDirectory(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Layout\n")
	if !ok {
		t.Fatal("README has no ## Layout section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	for _, dir := range []string{"functions", "internal", "infra"} {
		ents, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			if !regexp.MustCompile(`(^|[^a-z0-9-])` + regexp.QuoteMeta(e.Name()) + `($|[^a-z0-9-])`).MatchString(sec) {
				t.Errorf("README's Layout does not name %s/%s", dir, e.Name())
			}
		}
	}
}
