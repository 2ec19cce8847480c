package docs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
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

	"github.com/pytake/pytake/internal/delivery"
	"github.com/pytake/pytake/internal/event"
)

var update = flag.Bool("update", false, "rewrite the generated parts of integrators.md")

const (
	eventsBegin = "<!-- events:begin (generated from the event catalogue: go test ./infra/docs -run TestEventSamples -update) -->"
	eventsEnd   = "<!-- events:end -->"
)

// eventsSection is the reference's list of events: every kind of the
// catalogue that GET /v1/webhooks/events answers, with its sample.
func eventsSection(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(eventsBegin + "\n")
	for _, k := range event.Catalogue() {
		sample, err := json.MarshalIndent(k.Sample, "", "  ")
		require.NoError(t, err)
		fmt.Fprintf(&b, "\n#### `%s`\n\n%s\n\n```json\n%s\n```\n", k.Name, k.Description, sample)
	}
	b.WriteString("\n" + eventsEnd)
	return b.String()
}

// TestEventSamples: the reference shows every event of the catalogue with
// the sample the API serves. -update rewrites the section.
func TestEventSamples(t *testing.T) {
	b, err := os.ReadFile(reference)
	require.NoError(t, err)
	doc := string(b)
	i, j := strings.Index(doc, eventsBegin), strings.Index(doc, eventsEnd)
	require.GreaterOrEqual(t, i, 0, "%s has no %q ... %q section", reference, eventsBegin, eventsEnd)
	require.GreaterOrEqual(t, j, i, "%s has no %q ... %q section", reference, eventsBegin, eventsEnd)
	want := eventsSection(t)
	got := doc[i : j+len(eventsEnd)]
	if got == want {
		return
	}
	if *update {
		require.NoError(t, os.WriteFile(reference, []byte(doc[:i]+want+doc[j+len(eventsEnd):]), 0o644))
		return
	}
	t.Errorf("%s's events section is not the catalogue's; run go test ./infra/docs -run TestEventSamples -update", reference)
}

// example returns the fenced block that follows the marker
// "<!-- example: name -->" in the reference.
func example(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(reference)
	require.NoError(t, err)
	re := regexp.MustCompile("(?s)<!-- example: " + regexp.QuoteMeta(name) + " -->\\s*```[a-z]*\\n(.*?)\\n```")
	m := re.FindSubmatch(b)
	require.NotNil(t, m, "%s has no example %q", reference, name)
	return string(m[1])
}

// TestGoExampleIsTheReceiver: the Go verification example is, character for
// character, infra/local/receiver's Verify (tested there, fuzzed too).
func TestGoExampleIsTheReceiver(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(root, "infra", "local", "receiver", "verify.go"))
	require.NoError(t, err)
	want := strings.TrimSpace(strings.TrimPrefix(string(src), "package main\n"))
	got := strings.TrimSpace(example(t, "verify-go"))
	assert.Equal(t, want, got, "the reference's Go example differs from infra/local/receiver/verify.go:\n--- doc\n%s\n--- verify.go\n%s", got, want)
}

type verifyCase struct {
	Name    string            `json:"name"`
	Secret  string            `json:"secret"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"` // base64 of the raw body
	Want    bool              `json:"want"`
}

// verifyCases are deliveries signed as the dispatcher signs them
// (delivery.Headers), now, and altered ones.
func verifyCases(t *testing.T) []verifyCase {
	t.Helper()
	secret, rotated := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", ""
	var err error
	rotated, err = delivery.NewSecret()
	require.NoError(t, err)
	key := func(s string) []byte {
		k, err := delivery.SigningKey(s)
		require.NoError(t, err)
		return k
	}
	body, err := delivery.CanonicalBody([]byte(`{"id":"evt_1","event":"message.received","timestamp":"2025-10-03T16:30:00Z","organization_id":"org_1","data":{"message":{"type":"text","content":{"text":"Olá <b> & 😀 \u2028"}}}}`))
	require.NoError(t, err)
	now := time.Now()
	mk := func(name, secret string, h map[string]string, b []byte, want bool) verifyCase {
		return verifyCase{name, secret, h, base64.StdEncoding.EncodeToString(b), want}
	}
	flat := func(secrets []string, at time.Time, b []byte) map[string]string {
		for _, s := range secrets {
			key(s) // secrets PyTake accepts: whsec_ or chosen
		}
		h := delivery.Headers("evt_1", at, b, secrets)
		out := map[string]string{}
		for k := range h {
			out[strings.ToLower(k)] = h.Get(k)
		}
		return out
	}
	with := func(h map[string]string, k, v string) map[string]string {
		c := map[string]string{}
		for a, b := range h {
			c[a] = b
		}
		c[k] = v
		return c
	}
	good := flat([]string{secret}, now, body)
	return []verifyCase{
		mk("signed now", secret, good, body, true),
		mk("after a rotation: new secret", rotated, flat([]string{rotated, secret}, now, body), body, true),
		mk("after a rotation: old secret", secret, flat([]string{rotated, secret}, now, body), body, true),
		mk("10 minutes old", secret, flat([]string{secret}, now.Add(-10*time.Minute), body), body, false),
		mk("body altered", secret, good, bytes.Replace(body, []byte("Olá"), []byte("Ola"), 1), false),
		mk("another secret", rotated, good, body, false),
		mk("id altered", secret, with(good, "webhook-id", "evt_2"), body, false),
		mk("no signature", secret, with(good, "webhook-signature", ""), body, false),
		mk("the guide's chosen secret", "abc123", flat([]string{"abc123"}, now, body), body, true),
		mk("another chosen secret", "abc124", flat([]string{"abc123"}, now, body), body, false),
	}
}

// runExample runs a language's verification example on every case: the
// harness reads the cases file and prints one line, ok or bad, per case.
func runExample(t *testing.T, lang, code, harness string, cmd ...string) {
	t.Helper()
	if _, err := exec.LookPath(cmd[0]); err != nil {
		t.Skipf("%s not installed", cmd[0])
	}
	cases := verifyCases(t)
	dir := t.TempDir()
	input := filepath.Join(dir, "cases.json")
	b, _ := json.Marshal(cases)
	require.NoError(t, os.WriteFile(input, b, 0o600))
	file := filepath.Join(dir, "example."+lang)
	require.NoError(t, os.WriteFile(file, []byte(code+"\n\n"+harness), 0o600))
	out, err := exec.Command(cmd[0], append(cmd[1:], file, input)...).CombinedOutput()
	require.NoError(t, err, "%v: %v\n%s", cmd, err, out)
	lines := strings.Fields(string(out))
	require.Len(t, lines, len(cases), "printed %q for %d cases", out, len(cases))
	for i, c := range cases {
		got := lines[i] == "ok"
		assert.Equal(t, c.Want, got, "%s: verify said %s, want ok=%v", c.Name, lines[i], c.Want)
	}
}

// TestPythonExample runs the reference's Python verification as written.
func TestPythonExample(t *testing.T) {
	runExample(t, "py", example(t, "verify-python"), `
import base64 as _b64, json as _json, sys as _sys
for _c in _json.load(open(_sys.argv[1])):
    print("ok" if verify(_c["secret"], _c["headers"], _b64.b64decode(_c["body"])) else "bad")
`, "python3")
}

// TestNodeExample runs the reference's Node.js verification as written.
func TestNodeExample(t *testing.T) {
	runExample(t, "js", example(t, "verify-node"), `
for (const c of JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'))) {
  console.log(verify(c.secret, c.headers, Buffer.from(c.body, 'base64')) ? 'ok' : 'bad');
}
`, "node")
}
