//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/infra/local/stack"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/tenant"
)

// connectedOrg is a fresh organisation with its own number on the WhatsApp
// simulator (n tells the tests' numbers apart), as `make run`'s demo
// organisation is, and the environment `.local/demo.env` would give it.
func connectedOrg(t *testing.T, name string, n int) (tenant.Result, graphsim.Account, []string) {
	t.Helper()
	org := newOrg(t, name)
	acct := graphsim.Account{
		PhoneNumberID: fmt.Sprintf("10888800000%04d", n), WABAID: fmt.Sprintf("20888800000%04d", n),
		DisplayPhoneNumber: fmt.Sprintf("+55 11 4888-%04d", n), VerifiedName: name,
		AccessToken: fmt.Sprintf("sdk-token-%04d", n), AppSecret: fmt.Sprintf("sdk-app-secret-%04d", n),
	}
	st.Sim.AddAccount(acct)
	wa := secrets.WhatsApp{PhoneNumberID: acct.PhoneNumberID, WABAID: acct.WABAID, AccessToken: acct.AccessToken,
		AppSecret: acct.AppSecret, VerifyToken: fmt.Sprintf("sdk-verify-%04d", n)}
	settings, _ := json.Marshal(map[string]string{"phone_number_id": wa.PhoneNumberID, "waba_id": wa.WABAID,
		"access_token": wa.AccessToken, "app_secret": wa.AppSecret, "verify_token": wa.VerifyToken})
	r := do(t, "PUT", "/v1/settings/whatsapp", org.APIKey.Key, settings)
	require.Equal(t, 200, r.Status, "settings: %d %s", r.Status, r.Body)
	var env []string
	for k, v := range st.DemoEnv(stack.Demo{Result: org, WhatsApp: wa}) {
		env = append(env, k+"="+v)
	}
	return org, acct, env
}

// customerWrites opens the 24-hour window: a simulated customer writes to
// the account's number.
func customerWrites(t *testing.T, acct graphsim.Account, from string) {
	t.Helper()
	in := graphsim.Inbound{PhoneNumberID: acct.PhoneNumberID, From: from, Name: "Cliente", Text: "Oi!"}
	_, status, err := st.Sim.Inbound(context.Background(), in)
	require.NoError(t, err, "simulated customer: %d %v", status, err)
	require.Equal(t, 200, status, "simulated customer")
}

// baseEnv is the test process's environment without PyTake's variables.
func baseEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTAKE_") {
			out = append(out, kv)
		}
	}
	return out
}

// guideSnippet is the integrations guide's "SDK Python" block as written;
// only the placeholder key is replaced (by the test).
const guideSnippet = `from pytake import PyTake

client = PyTake(api_key="pytake_live_abc123")

# Enviar mensagem
message = client.messages.send(
    to="+5511999999999",
    text="Olá!"
)

# Listar contatos
contacts = client.contacts.list(limit=100)

# Criar chatbot
bot = client.chatbots.create(
    name="Atendimento",
    welcome_message="Olá! Como posso ajudar?"
)
`

// TestPythonSDK installs infra/sdk/python into a fresh virtualenv (pip, as a
// user would), runs the guide's snippet with the environment
// `.local/demo.env` gives, checks the message reaches the WhatsApp
// simulator, then calls every operation of the SDK against the stack.
func TestPythonSDK(t *testing.T) {
	abs, err := filepath.Abs(root)
	require.NoError(t, err)
	venv := filepath.Join(t.TempDir(), "venv")
	start := time.Now()
	for _, args := range [][]string{
		{"python3", "-m", "venv", venv},
		{filepath.Join(venv, "bin", "pip"), "install", "--quiet", "--disable-pip-version-check", filepath.Join(abs, "infra", "sdk", "python")},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	t.Logf("fresh venv with pytake-sdk in %s", time.Since(start).Round(time.Second))
	python := filepath.Join(venv, "bin", "python")

	org, acct, env := connectedOrg(t, "SDK Co", 1)
	env = append(baseEnv(), env...)
	customerWrites(t, acct, "5511999999999")

	t.Run("guide snippet", func(t *testing.T) {
		require.Contains(t, guideSnippet, `api_key="pytake_live_abc123"`, "the snippet lost its placeholder key")
		script := strings.Replace(guideSnippet, "pytake_live_abc123", org.APIKey.Key, 1) +
			"\nimport json\nprint(json.dumps({'message': message.id, 'status': message.status, 'contacts': [c.whatsapp_id for c in contacts], 'bot': bot.id, 'active': bot.active}))\n"
		cmd := exec.Command(python, "-c", script)
		cmd.Env = env
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "guide snippet: %v\n%s", err, out)
		var got struct {
			Message, Status, Bot string
			Contacts             []string
			Active               bool
		}
		err = json.Unmarshal(out, &got)
		require.NoError(t, err, "%v: %s", err, out)
		require.True(t, strings.HasPrefix(got.Message, "msg_"), "guide snippet: %s", out)
		require.Equal(t, "queued", got.Status, "guide snippet")
		require.True(t, strings.HasPrefix(got.Bot, "bot_"), "guide snippet")
		require.True(t, got.Active, "guide snippet")
		require.Equal(t, "+5511999999999", strings.Join(got.Contacts, ","), "guide snippet")
		// The message reaches the simulator: "Meta" got the text.
		require.Eventually(t, func() bool {
			for _, s := range st.Sim.Sent() {
				if s.PhoneNumberID == acct.PhoneNumberID && s.To == "5511999999999" && strings.Contains(string(s.Body), `"body":"Olá!"`) {
					return true
				}
			}
			return false
		}, 30*time.Second, 100*time.Millisecond, "the simulator never got the guide's message %s", got.Message)
	})

	t.Run("every resource", func(t *testing.T) {
		customerWrites(t, acct, "5511988880001")
		cmd := exec.Command(python, filepath.Join(abs, "infra", "e2e", "testdata", "sdk_every_resource.py"))
		cmd.Env = append(env, "SDK_CUSTOMER=+5511988880001")
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "every resource: %v\n%s", err, out)
		require.True(t, strings.HasPrefix(string(out), "ok "), "every resource")
		t.Logf("%s", out)
	})
}

// TestPostmanCollection runs infra/postman's collection with newman (pinned
// in its package-lock.json) against the stack, with a fresh organisation:
// zero failed assertions.
func TestPostmanCollection(t *testing.T) {
	abs, err := filepath.Abs(root)
	require.NoError(t, err)
	dir := filepath.Join(abs, "infra", "postman")
	newman := filepath.Join(dir, "node_modules", ".bin", "newman")
	_, err = os.Stat(newman)
	require.NoError(t, err, "newman is not installed (make postman-deps)")
	org, acct, _ := connectedOrg(t, "Postman Co", 2)
	sub := newSubscriber(t)
	report := filepath.Join(t.TempDir(), "newman.json")
	cmd := exec.Command(newman, "run", filepath.Join(dir, "pytake.postman_collection.json"),
		"-e", filepath.Join(dir, "pytake-local.postman_environment.json"),
		"--env-var", "baseUrl="+st.URL+"/v1",
		"--env-var", "apiKey="+org.APIKey.Key,
		"--env-var", "phoneNumberId="+acct.PhoneNumberID,
		"--env-var", "wabaId="+acct.WABAID,
		"--env-var", "whatsappAccessToken="+acct.AccessToken,
		"--env-var", "whatsappAppSecret="+acct.AppSecret,
		"--env-var", "whatsappVerifyToken=postman-verify-0002",
		"--env-var", "webhookUrl="+sub.url,
		"--reporters", "cli,json", "--reporter-json-export", report,
		"--color", "off", "--disable-unicode", "--timeout-request", "30000",
	)
	cmd.Env = append(baseEnv(), "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "newman: %v\n%s", err, tail(out, 20000))
	b, err := os.ReadFile(report)
	require.NoError(t, err)
	var r struct {
		Run struct {
			Stats map[string]struct{ Total, Failed int } `json:"stats"`
		} `json:"run"`
	}
	require.NoError(t, json.Unmarshal(b, &r))
	a, reqs := r.Run.Stats["assertions"], r.Run.Stats["requests"]
	require.Equal(t, 0, a.Failed, "newman stats %+v\n%s", r.Run.Stats, tail(out, 20000))
	require.Equal(t, 0, reqs.Failed, "newman stats %+v\n%s", r.Run.Stats, tail(out, 20000))
	require.GreaterOrEqual(t, a.Total, 2*reqs.Total, "newman stats %+v\n%s", r.Run.Stats, tail(out, 20000))
	require.GreaterOrEqual(t, reqs.Total, 48, "newman stats %+v\n%s", r.Run.Stats, tail(out, 20000))
	t.Logf("newman: %d requests, %d assertions, 0 failed", reqs.Total, a.Total)
}

// TestZapierAgainstStack runs the Zapier app's triggers (subscribe,
// perform, performList, unsubscribe), actions and search against the stack
// with real HTTP (infra/zapier/scripts/against-stack.js, through
// zapier-platform-core's app tester).
func TestZapierAgainstStack(t *testing.T) {
	abs, err := filepath.Abs(root)
	require.NoError(t, err)
	dir := filepath.Join(abs, "infra", "zapier")
	_, err = os.Stat(filepath.Join(dir, "node_modules", "zapier-platform-core"))
	require.NoError(t, err, "the Zapier app's dependencies are not installed (make zapier-deps)")
	org, acct, _ := connectedOrg(t, "Zapier Co", 3)
	customerWrites(t, acct, "5511977770003")
	cmd := exec.Command("node", filepath.Join("scripts", "against-stack.js"))
	cmd.Dir = dir
	cmd.Env = append(baseEnv(), "PYTAKE_API_URL="+st.URL+"/v1", "PYTAKE_API_KEY="+org.APIKey.Key, "ZAPIER_CUSTOMER=+5511977770003",
		"NODE_ENV=test") // quiet: no per-invocation memory log
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "zapier app against the stack: %v\n%s", err, out)
	var got struct {
		Authentication string
		Subscribed     []string
		Unsubscribed   []string
		Triggered      string
	}
	err = json.Unmarshal(lastLine(out), &got)
	require.NoError(t, err, "zapier summary (%v): %s", err, out)
	require.Equal(t, org.Organization.ID, got.Authentication, "zapier summary (%v): %s", err, out)
	require.Len(t, got.Subscribed, 3, "zapier summary (%v): %s", err, out)
	require.Len(t, got.Unsubscribed, 3, "zapier summary (%v): %s", err, out)
	require.NotEmpty(t, got.Triggered, "zapier summary (%v): %s", err, out)
	// The text went out through the simulator.
	require.Eventually(t, func() bool {
		for _, s := range st.Sim.Sent() {
			if s.PhoneNumberID == acct.PhoneNumberID && s.To == "5511977770003" {
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "Send Message never reached the simulator")
}

func lastLine(b []byte) []byte {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return []byte(lines[len(lines)-1])
}
