//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pytake/pytake/internal/tenant"
)

var (
	opsOnce sync.Once
	opsBin  string
	opsErr  error
)

// ops runs the real ops command against the local stack with the
// environment .local/demo.env gives a user.
func ops(t *testing.T, stdin string, args ...string) []byte {
	t.Helper()
	opsOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pytake-ops-")
		if err != nil {
			opsErr = err
			return
		}
		opsBin = filepath.Join(dir, "ops")
		out, err := exec.Command("go", "build", "-o", opsBin, "../ops").CombinedOutput()
		if err != nil {
			opsErr = err
			t.Logf("%s", out)
		}
	})
	if opsErr != nil {
		t.Fatal(opsErr)
	}
	cmd := exec.Command(opsBin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range st.DemoEnv(demo) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	prefix, _ := st.Names.Resolve(st.Template.GlobalEnv["SECRETS_PREFIX"])
	cmd.Env = append(cmd.Env, "SECRETS_PREFIX="+prefix)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ops %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

func newOrg(t *testing.T, name string) tenant.Result {
	t.Helper()
	var res tenant.Result
	out := ops(t, "", "create-org", "--name", name)
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("ops output is not JSON: %s", out)
	}
	return res
}

func TestOpsCreateOrgIsolation(t *testing.T) {
	acme := newOrg(t, "Acme")
	if !strings.HasPrefix(acme.APIKey.Key, "pytake_live_") || acme.Organization.ID == demo.Organization.ID {
		t.Fatalf("ops result %+v", acme)
	}
	r := do(t, "GET", "/v1/organization", acme.APIKey.Key, nil)
	var org struct{ ID, Name string }
	r.json(t, &org)
	if r.Status != 200 || org.ID != acme.Organization.ID || org.Name != "Acme" {
		t.Fatalf("acme's key: %d %s", r.Status, r.Body)
	}
	r = do(t, "GET", "/v1/organization", demo.APIKey.Key, nil)
	r.json(t, &org)
	if org.ID != demo.Organization.ID {
		t.Fatalf("demo key answers %s", r.Body)
	}
}

func TestOpsSetWhatsApp(t *testing.T) {
	acme := newOrg(t, "Acme WhatsApp")
	settings := `{"phone_number_id":"109999999999999","access_token":"tok","app_secret":"acme-app-secret","verify_token":"acme-verify-token"}`
	out := ops(t, settings, "set-whatsapp", "--org", acme.Organization.ID)
	if strings.Contains(string(out), "acme-app-secret") || strings.Contains(string(out), "tok\"") {
		t.Fatalf("ops printed a secret: %s", out)
	}
	// The webhook now verifies with Acme's token...
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"acme-verify-token"}, "hub.challenge": {"42"}}
	if r := do(t, "GET", "/webhooks/whatsapp?"+q.Encode(), "", nil); r.Status != 200 || string(r.Body) != "42" {
		t.Fatalf("acme verify: %d %s", r.Status, r.Body)
	}
	// ...and the number cannot be claimed by another organisation.
	other := newOrg(t, "Claimer")
	cmd := exec.Command(opsBin, "set-whatsapp", "--org", other.Organization.ID)
	cmd.Env = os.Environ()
	for k, v := range st.DemoEnv(demo) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "SECRETS_PREFIX=pytake/dev/")
	cmd.Stdin = strings.NewReader(settings)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(strings.ToLower(string(out)), "phone") {
		t.Fatalf("second claim of a phone number id: %v %s", err, out)
	}
}
