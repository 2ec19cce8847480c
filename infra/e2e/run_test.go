//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The command behind `make run`: it starts, prints a working URL, writes
// demo.env, and on Ctrl-C stops everything it started.
func TestRunCommand(t *testing.T) {
	state := t.TempDir()
	bin := filepath.Join(state, "local")
	if out, err := exec.Command("go", "build", "-o", bin, "../local").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	abs, _ := filepath.Abs(root)
	cmd := exec.Command(bin)
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), "PORT=0", "PYTAKE_STATE_DIR="+state,
		"MOTO_SERVER="+filepath.Join(abs, ".local", "venv", "bin", "moto_server"))
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = logs
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill()
	urlRe := regexp.MustCompile(`PyTake is running at (http://\S+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := urlRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	var base string
	select {
	case base = <-found:
	case <-time.After(3 * time.Minute):
		t.Fatal("the local stack did not start")
	}
	env, err := os.ReadFile(filepath.Join(state, "demo.env"))
	require.NoError(t, err)
	vars := map[string]string{}
	for _, line := range strings.Split(string(env), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") {
			vars[k] = v
		}
	}
	for _, k := range []string{"PYTAKE_API_URL", "PYTAKE_API_KEY", "PYTAKE_ORG_ID", "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_APP_SECRET"} {
		assert.NotEmpty(t, vars[k], "demo.env lacks %s", k)
	}
	assert.Equal(t, base+"/v1", vars["PYTAKE_API_URL"], "PYTAKE_API_URL %q, printed %q", vars["PYTAKE_API_URL"], base)
	var samEnv map[string]map[string]string
	if b, err := os.ReadFile(filepath.Join(state, "sam-env.json")); err != nil || json.Unmarshal(b, &samEnv) != nil ||
		samEnv["ApiFunction"]["TABLE_NAME"] != vars["TABLE_NAME"] || samEnv["WhatsAppWebhookFunction"]["AWS_ENDPOINT_URL"] != vars["AWS_ENDPOINT_URL"] {
		t.Errorf("sam-env.json: %v %v", samEnv, err)
	}
	req, _ := http.NewRequest("GET", vars["PYTAKE_API_URL"]+"/organization", nil)
	req.Header.Set("Authorization", "Bearer "+vars["PYTAKE_API_KEY"])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "organization with demo.env's key: %v %v", resp, err)
	require.Equal(t, 200, resp.StatusCode, "organization with demo.env's key")
	resp.Body.Close()

	// The README's commands, as a reader pastes them.
	t.Run("README", func(t *testing.T) { runDocCommands(t, state) })

	// Ctrl-C stops it and everything it started.
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		assert.NoError(t, err, "exit after Ctrl-C")
	case <-time.After(20 * time.Second):
		t.Fatal("still running 20 s after Ctrl-C")
	}
	time.Sleep(200 * time.Millisecond)
	left := processesMentioning(state)
	require.Empty(t, left, "left running after Ctrl-C: %v", left)
	_, err = http.Get(base + "/v1/health")
	require.Error(t, err, "the gateway still answers after Ctrl-C")
	_, err = http.Get(vars["AWS_ENDPOINT_URL"] + "/moto-api/")
	require.Error(t, err, "moto still answers after Ctrl-C")
}

// processesMentioning lists live processes whose command line contains s.
func processesMentioning(s string) []string {
	var out []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if strings.Contains(string(stat), ") Z ") { // zombie: already dead
			continue
		}
		if cl := strings.ReplaceAll(string(b), "\x00", " "); strings.Contains(cl, s) {
			out = append(out, d.Name()+": "+cl)
		}
	}
	return out
}
