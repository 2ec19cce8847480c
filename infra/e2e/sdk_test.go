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
	if r := do(t, "PUT", "/v1/settings/whatsapp", org.APIKey.Key, settings); r.Status != 200 {
		t.Fatalf("settings: %d %s", r.Status, r.Body)
	}
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
	if _, status, err := st.Sim.Inbound(context.Background(), in); err != nil || status != 200 {
		t.Fatalf("simulated customer: %d %v", status, err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
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
		if !strings.Contains(guideSnippet, `api_key="pytake_live_abc123"`) {
			t.Fatal("the snippet lost its placeholder key")
		}
		script := strings.Replace(guideSnippet, "pytake_live_abc123", org.APIKey.Key, 1) +
			"\nimport json\nprint(json.dumps({'message': message.id, 'status': message.status, 'contacts': [c.whatsapp_id for c in contacts], 'bot': bot.id, 'active': bot.active}))\n"
		cmd := exec.Command(python, "-c", script)
		cmd.Env = env
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("guide snippet: %v\n%s", err, out)
		}
		var got struct {
			Message, Status, Bot string
			Contacts             []string
			Active               bool
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if !strings.HasPrefix(got.Message, "msg_") || got.Status != "queued" || !strings.HasPrefix(got.Bot, "bot_") || !got.Active ||
			strings.Join(got.Contacts, ",") != "+5511999999999" {
			t.Fatalf("guide snippet: %s", out)
		}
		// The message reaches the simulator: "Meta" got the text.
		deadline := time.Now().Add(30 * time.Second)
		for {
			for _, s := range st.Sim.Sent() {
				if s.PhoneNumberID == acct.PhoneNumberID && s.To == "5511999999999" && strings.Contains(string(s.Body), `"body":"Olá!"`) {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the simulator never got the guide's message %s", got.Message)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("every resource", func(t *testing.T) {
		customerWrites(t, acct, "5511988880001")
		cmd := exec.Command(python, filepath.Join(abs, "infra", "e2e", "testdata", "sdk_every_resource.py"))
		cmd.Env = append(env, "SDK_CUSTOMER=+5511988880001")
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "ok ") {
			t.Fatalf("every resource: %v\n%s", err, out)
		}
		t.Logf("%s", out)
	})
}

// TestPostmanCollection runs infra/postman's collection with newman (pinned
// in its package-lock.json) against the stack, with a fresh organisation:
// zero failed assertions.
func TestPostmanCollection(t *testing.T) {
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(abs, "infra", "postman")
	newman := filepath.Join(dir, "node_modules", ".bin", "newman")
	if _, err := os.Stat(newman); err != nil {
		t.Fatalf("newman is not installed (make postman-deps): %v", err)
	}
	org, acct, _ := connectedOrg(t, "Postman Co", 2)
	sub := newSubscriber(t)
	report := filepath.Join(t.TempDir(), "newman.json")
	cmd := exec.Command(newman, "run", filepath.Join(dir, "pytake.postman_collection.json"),
		"-e", filepath.Join(dir, "pytake-local.postman_environment.json"),
		"--env-var", "baseUrl="+st.URL+"/v1",
		"--env-var", "apiKey="+org.APIKey.Key,
		"--env-var", "phoneNumberId="+acct.PhoneNumberID,
		"--env-var", "whatsappAccessToken="+acct.AccessToken,
		"--env-var", "whatsappAppSecret="+acct.AppSecret,
		"--env-var", "whatsappVerifyToken=postman-verify-0002",
		"--env-var", "webhookUrl="+sub.url,
		"--reporters", "cli,json", "--reporter-json-export", report,
		"--color", "off", "--disable-unicode", "--timeout-request", "30000",
	)
	cmd.Env = append(baseEnv(), "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("newman: %v\n%s", err, tail(out, 20000))
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Run struct {
			Stats map[string]struct{ Total, Failed int } `json:"stats"`
		} `json:"run"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	a, reqs := r.Run.Stats["assertions"], r.Run.Stats["requests"]
	if a.Failed != 0 || reqs.Failed != 0 || a.Total < 2*reqs.Total || reqs.Total < 48 {
		t.Fatalf("newman stats %+v\n%s", r.Run.Stats, tail(out, 20000))
	}
	t.Logf("newman: %d requests, %d assertions, 0 failed", reqs.Total, a.Total)
}

// TestZapierAgainstStack runs the Zapier app's triggers (subscribe,
// perform, performList, unsubscribe), actions and search against the stack
// with real HTTP (infra/zapier/scripts/against-stack.js, through
// zapier-platform-core's app tester).
func TestZapierAgainstStack(t *testing.T) {
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(abs, "infra", "zapier")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "zapier-platform-core")); err != nil {
		t.Fatalf("the Zapier app's dependencies are not installed (make zapier-deps): %v", err)
	}
	org, acct, _ := connectedOrg(t, "Zapier Co", 3)
	customerWrites(t, acct, "5511977770003")
	cmd := exec.Command("node", filepath.Join("scripts", "against-stack.js"))
	cmd.Dir = dir
	cmd.Env = append(baseEnv(), "PYTAKE_API_URL="+st.URL+"/v1", "PYTAKE_API_KEY="+org.APIKey.Key, "ZAPIER_CUSTOMER=+5511977770003",
		"NODE_ENV=test") // quiet: no per-invocation memory log
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("zapier app against the stack: %v\n%s", err, out)
	}
	var got struct {
		Authentication string
		Subscribed     []string
		Unsubscribed   []string
		Triggered      string
	}
	if err := json.Unmarshal(lastLine(out), &got); err != nil || got.Authentication != org.Organization.ID || len(got.Subscribed) != 3 || len(got.Unsubscribed) != 3 || got.Triggered == "" {
		t.Fatalf("zapier summary (%v): %s", err, out)
	}
	// The text went out through the simulator.
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, s := range st.Sim.Sent() {
			if s.PhoneNumberID == acct.PhoneNumberID && s.To == "5511977770003" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("Send Message never reached the simulator")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func lastLine(b []byte) []byte {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return []byte(lines[len(lines)-1])
}
