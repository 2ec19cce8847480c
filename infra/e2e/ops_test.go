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

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/internal/tenant"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, opsErr)
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
	require.NoError(t, err, "ops %v: %v\n%s", args, err, stderr.String())
	return out
}

func newOrg(t *testing.T, name string) tenant.Result {
	t.Helper()
	var res tenant.Result
	out := ops(t, "", "create-org", "--name", name)
	require.NoError(t, json.Unmarshal(out, &res), "ops output is not JSON: %s", out)
	return res
}

func TestOpsCreateOrgIsolation(t *testing.T) {
	acme := newOrg(t, "Acme")
	require.True(t, strings.HasPrefix(acme.APIKey.Key, "pytake_live_"), "ops result %+v", acme)
	require.NotEqual(t, demo.Organization.ID, acme.Organization.ID, "ops result %+v", acme)
	r := do(t, "GET", "/v1/organization", acme.APIKey.Key, nil)
	var org struct{ ID, Name string }
	r.json(t, &org)
	require.Equal(t, 200, r.Status, "acme's key: %d %s", r.Status, r.Body)
	require.Equal(t, acme.Organization.ID, org.ID, "acme's key")
	require.Equal(t, "Acme", org.Name, "acme's key")
	r = do(t, "GET", "/v1/organization", demo.APIKey.Key, nil)
	r.json(t, &org)
	require.Equal(t, demo.Organization.ID, org.ID, "demo key answers %s", r.Body)
}

func TestOpsSetWhatsApp(t *testing.T) {
	acme := newOrg(t, "Acme WhatsApp")
	// Meta (the simulator) must confirm the token can read the number.
	unproven := `{"phone_number_id":"109999999999999","access_token":"tok","app_secret":"acme-app-secret","verify_token":"acme-verify-token"}`
	cmd := exec.Command(opsBin, "set-whatsapp", "--org", acme.Organization.ID)
	cmd.Env = os.Environ()
	for k, v := range st.DemoEnv(demo) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "SECRETS_PREFIX=pytake/dev/")
	cmd.Stdin = strings.NewReader(unproven)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "whatsapp_ownership_not_proven") {
		t.Fatalf("a number Meta does not confirm: %v %s", err, out)
	}
	st.Sim.AddAccount(graphsim.Account{PhoneNumberID: "109999999999999", AccessToken: "tok", AppSecret: "acme-app-secret"})
	settings := unproven
	out := ops(t, settings, "set-whatsapp", "--org", acme.Organization.ID)
	require.NotContains(t, string(out), "acme-app-secret", "ops printed a secret: %s", out)
	require.NotContains(t, string(out), "tok\"", "ops printed a secret")
	// The webhook now verifies with Acme's token...
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"acme-verify-token"}, "hub.challenge": {"42"}}
	r := do(t, "GET", "/webhooks/whatsapp?"+q.Encode(), "", nil)
	require.Equal(t, 200, r.Status, "acme verify: %d %s", r.Status, r.Body)
	require.Equal(t, "42", string(r.Body), "acme verify")
	// ...and the number cannot be claimed by another organisation.
	other := newOrg(t, "Claimer")
	cmd = exec.Command(opsBin, "set-whatsapp", "--org", other.Organization.ID)
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
