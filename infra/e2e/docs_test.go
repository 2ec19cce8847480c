//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/browser"
)

// TestReferencePage opens the API reference page the stack serves at /docs
// in headless Chromium, as a reader would, and checks that every operation
// of the OpenAPI document renders: at its address (#/<tag>/<operationid>,
// where its sidebar entry links) the page shows a section with its method,
// path and summary. The page must log no
// console error, throw nothing and fail no request.
func TestReferencePage(t *testing.T) {
	if path, ok := browser.Available(browser.Options{}); !ok {
		t.Fatalf("chromium not found at %s: make chromium installs it", path)
	}
	if _, err := os.Stat(filepath.Join(root, "infra", "docs", "dist", "reference.html")); err != nil {
		t.Fatalf("the reference page is not built (make docs): %v", err)
	}
	type op struct{ ID, Method, Path, Summary, Tag string }
	var ops []op
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	b, err := os.ReadFile(filepath.Join(root, "internal", "api", "openapi.json"))
	require.NoError(t, err, "openapi.json: %v", err)
	require.NoError(t, json.Unmarshal(b, &doc), "openapi.json")
	for path, item := range doc.Paths {
		for method, raw := range item {
			var o struct {
				OperationID string   `json:"operationId"`
				Summary     string   `json:"summary"`
				Tags        []string `json:"tags"`
			}
			if json.Unmarshal(raw, &o) != nil || o.OperationID == "" || len(o.Tags) == 0 {
				continue // parameters and other non-operations
			}
			ops = append(ops, op{o.OperationID, strings.ToUpper(method), path, o.Summary, o.Tags[0]})
		}
	}
	require.GreaterOrEqual(t, len(ops), 40, "only %d operations in the document", len(ops))

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	b2, err := browser.Start(ctx, browser.Options{})
	require.NoError(t, err)
	defer b2.Close()
	p, err := b2.Open(ctx, st.URL+"/docs")
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, p.WaitFor(`document.querySelectorAll('a[href^="#/"]').length > 0`, 60*time.Second), "the page rendered no navigation")
	// Built with telemetry on, the page sends traces to Redocly from every
	// reader's browser (failed requests here, with no network). The options
	// are a const of the page's module script, so its text is what is read.
	off, err := browser.Eval[bool](p, `Array.from(document.scripts).some(s => s.text.includes('"disableTelemetry":true'))`)
	assert.NoError(t, err)
	assert.True(t, off, "the page's Redoc options do not disable telemetry: build it with make docs")
	slug := regexp.MustCompile(`[^a-z0-9]+`)
	for _, o := range ops {
		// An operation's address on the page is #/<tag>/<operationid>, as
		// its sidebar entry links it: go there, and its section (id
		// <tag>/<operationid>) must show the method, path and summary.
		id := strings.Trim(slug.ReplaceAllString(strings.ToLower(o.Tag), "-"), "-") + "/" + strings.ToLower(o.ID)
		if _, err := browser.Eval[string](p, fmt.Sprintf(`(() => { location.hash = "#/" + %q; return "" })()`, id)); err != nil {
			t.Fatal(err)
		}
		check := fmt.Sprintf(`(() => { const el = document.getElementById(%q); if (!el) return false;
			const text = el.innerText; return text.includes(%q) && text.includes(%q) && text.includes(%q); })()`,
			id, o.Method, o.Path, o.Summary)
		if err := p.WaitFor(check, 30*time.Second); err != nil {
			t.Errorf("%s %s (%s): #/%s does not show a section with its method, path and summary: %v", o.Method, o.Path, o.ID, id, err)
		}
	}
	links, err := browser.Eval[int](p, `document.querySelectorAll('a[href^="#/"]').length`)
	assert.NoError(t, err, "the sidebar has %d operation links after visiting every operation, want at least %d (%v)", links, len(ops), err)
	assert.GreaterOrEqual(t, links, len(ops), "the sidebar has %d operation links after visiting every operation, want at least %d (%v)", links, len(ops), err)
	time.Sleep(300 * time.Millisecond) // late console messages
	problems := p.Problems()
	assert.Empty(t, problems, "the page had problems:\n%s", strings.Join(problems, "\n"))
	if t.Failed() {
		if png, err := p.Screenshot(); err == nil {
			shot := filepath.Join(os.TempDir(), "pytake-reference.png")
			_ = os.WriteFile(shot, png, 0o644)
			t.Logf("screenshot: %s", shot)
		}
	}
}

// shellBlocks returns the ```sh blocks of file between the line starting
// with begin and the one starting with end (parseShellBlocks).
func shellBlocks(t *testing.T, file, begin, end string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, file))
	require.NoError(t, err)
	blocks, err := parseShellBlocks(string(b), begin, end)
	require.NoError(t, err, file)
	return blocks
}

// runDocCommands runs, as written, every sh block of the README's quickstart
// and of infra/local/README.md's /_sim section against the stack `make run`
// started (base, its state in state), the way a reader pastes them at the
// repository's root: in a scratch directory whose .local is that run's
// state and whose other entries are the repository's. Each block runs in
// one bash (set -e -o pipefail) after the previous ones (variables carry
// over, as in one terminal); curl fails on an HTTP error answer.
func runDocCommands(t *testing.T, state string) {
	t.Helper()
	abs, _ := filepath.Abs(root)
	work := t.TempDir()
	entries, err := os.ReadDir(abs)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() == ".local" || e.Name() == ".git" {
			continue
		}
		require.NoError(t, os.Symlink(filepath.Join(abs, e.Name()), filepath.Join(work, e.Name())))
	}
	require.NoError(t, os.Symlink(state, filepath.Join(work, ".local")))
	var script strings.Builder
	script.WriteString("set -e -o pipefail\ncurl() { command curl --fail-with-body \"$@\"; }\n")
	blocks := shellBlocks(t, "README.md", "<!-- quickstart:begin", "<!-- quickstart:end")
	sim := shellBlocks(t, "infra/local/README.md", "<!-- sim:begin", "<!-- sim:end")
	for i, blk := range append(blocks, sim...) {
		fmt.Fprintf(&script, "echo '>>> block %d'\n%s\n", i+1, blk)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = work
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTAKE_") && !strings.HasPrefix(kv, "WHATSAPP_") && !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	fmt.Fprintf(logs, "---- README commands ----\n%s\n", out)
	require.NoError(t, err, "README commands failed after %s: %v\n%s", time.Since(start).Round(time.Millisecond), err, string(tail(out, 6000)))
	t.Logf("%d README blocks and %d /_sim blocks ran in %s", len(blocks), len(sim), time.Since(start).Round(time.Millisecond))
	// What the quickstart promises: the message reached read, and the
	// endpoint received message.received for the customer.
	text := string(out)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^read$`),
		regexp.MustCompile(`"event": "message.received"`),
		regexp.MustCompile(`"text": "Obrigada!"`),
		regexp.MustCompile(`"status": "failed"`),
		regexp.MustCompile(`(?i)idempotent-replayed: true`),
		regexp.MustCompile(`"total_spent_decimal": "150.00"`),
	} {
		assert.True(t, want.MatchString(text), "the commands' output lacks %s:\n%s", want, string(tail(out, 6000)))
	}
}
