//go:build e2e

// Package e2e drives the local stack (moto, the functions under the Lambda
// Runtime Interface Emulator, the gateway, the pollers) over HTTP, the way
// a user of `make run` does. `make e2e` runs it; it needs the tools
// `make tools` installs.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/stack"
)

const root = "../.."

var (
	st   *stack.Stack
	demo stack.Demo
	logs *os.File
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	state, err := os.MkdirTemp("", "pytake-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(state)
	logPath := filepath.Join(state, "stack.log")
	if p := os.Getenv("PYTAKE_E2E_LOG"); p != "" {
		logPath = p // kept after the run
	}
	logs, err = os.Create(logPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	abs, _ := filepath.Abs(root)
	gopath, _ := exec.Command("go", "env", "GOPATH").Output()
	st, err = stack.Start(ctx, stack.Config{
		Root:     abs,
		StateDir: state,
		Addr:     "127.0.0.1:0",
		RIE:      filepath.Join(strings.TrimSpace(string(gopath)), "bin", "aws-lambda-rie"),
		Moto:     filepath.Join(abs, ".local", "venv", "bin", "moto_server"),
		Docs:     filepath.Join(abs, "infra", "docs", "dist", "reference.html"),
		Log:      slog.New(slog.NewTextHandler(logs, nil)),
		Output:   logs,
		// Scheduled messages may be 2 s ahead (a minute on AWS and in
		// make run), so TestScheduledMessages waits seconds.
		ExtraEnv: map[string]string{"SEND_AT_MIN_LEAD_SECONDS": "2"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start local stack:", err)
		dumpLogs()
		return 1
	}
	defer st.Close()
	demo, err = st.SeedDemo(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		return 1
	}
	code := m.Run()
	if code != 0 {
		dumpLogs()
	}
	return code
}

// dumpLogs prints the end of the stack's log when something failed.
func dumpLogs() {
	if logs == nil {
		return
	}
	b, _ := os.ReadFile(logs.Name())
	// Errors first: a failure early in a long run is far above the tail.
	var errs []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "level=ERROR") || strings.Contains(l, `"level":"ERROR"`) || strings.Contains(l, "Task timed out") {
			errs = append(errs, l)
		}
	}
	if len(errs) > 200 {
		errs = errs[len(errs)-200:]
	}
	fmt.Fprintf(os.Stderr, "---- local stack log (errors, last %d) ----\n%s\n", len(errs), strings.Join(errs, "\n"))
	if len(b) > 20000 {
		b = b[len(b)-20000:]
	}
	fmt.Fprintf(os.Stderr, "---- local stack log (tail) ----\n%s\n", b)
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// tester is a *testing.T, or the *assert.CollectT of a check that
// require.EventuallyWithT repeats.
type tester interface {
	require.TestingT
	Helper()
}

func (r response) json(t tester, v any) {
	t.Helper()
	err := json.Unmarshal(r.Body, v)
	require.NoError(t, err, "body is not JSON (%v): %s", err, r.Body)
}

// errorCode reads {"error":{"code":...}} and checks request_id is there.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	var e struct {
		Error struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			RequestID string `json:"request_id"`
			Details   []any  `json:"details"`
		} `json:"error"`
	}
	r.json(t, &e)
	require.NotEmpty(t, e.Error.Code, "not the error model: %s", r.Body)
	require.NotEmpty(t, e.Error.Message, "not the error model")
	require.NotEmpty(t, e.Error.RequestID, "not the error model")
	require.NotNil(t, e.Error.Details, "not the error model")
	require.Equal(t, e.Error.RequestID, r.Header.Get("X-Request-Id"), "X-Request-Id %q, body request_id %q", r.Header.Get("X-Request-Id"), e.Error.RequestID)
	return e.Error.Code
}

func do(t tester, method, path, key string, body []byte, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, st.URL+path, bytes.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}
