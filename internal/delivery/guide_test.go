package delivery

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// guidePython is the integrations guide's Python snippet, validate_webhook
// copied as written, fed the raw request body as request.body() would be.
const guidePython = `
import hmac
import hashlib

def validate_webhook(payload: str, signature: str, secret: str) -> bool:
    expected_signature = hmac.new(
        secret.encode(),
        payload.encode(),
        hashlib.sha256
    ).hexdigest()

    received_signature = signature.replace("sha256=", "")

    return hmac.compare_digest(expected_signature, received_signature)

import base64, json, sys
for c in json.load(open(sys.argv[1])):
    payload = base64.b64decode(c["body"])  # await request.body()
    SECRET = c["secret"]
    signature = c["signature"]             # request.headers.get("X-PyTake-Signature")
    print("ok" if validate_webhook(payload.decode(), signature, SECRET) else "fail")
`

// guideNode is the guide's Node.js snippet: validateWebhook copied as
// written, with req.body parsed as express.json() does (JSON.parse of the
// UTF-8 body) and the payload rebuilt with JSON.stringify, as the handler
// does.
const guideNode = `
const crypto = require('crypto');

function validateWebhook(payload, signature, secret) {
  const expectedSignature = crypto
    .createHmac('sha256', secret)
    .update(payload)
    .digest('hex');

  const receivedSignature = signature.replace('sha256=', '');

  return crypto.timingSafeEqual(
    Buffer.from(expectedSignature),
    Buffer.from(receivedSignature)
  );
}

const fs = require('fs');
const input = JSON.parse(fs.readFileSync(process.argv[process.argv.length - 1], 'utf8'));
for (const c of input.signed) {
  const req = { body: JSON.parse(Buffer.from(c.body, 'base64').toString('utf8')) }; // express.json()
  const SECRET = c.secret;
  const signature = c.signature;
  const payload = JSON.stringify(req.body);
  console.log(validateWebhook(payload, signature, SECRET) ? 'ok' : 'fail');
}
for (const s of input.stringify) {
  console.log(JSON.stringify(JSON.stringify(JSON.parse(s))));
}
`

// TestGuideSnippets runs the integrations guide's verification snippets,
// as written, against what Headers and CanonicalBody produce. It needs
// python3 and node and is skipped without them.
func TestGuideSnippets(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	rotated := mustSecret(t)
	raw := []string{
		`{"id":"evt_1","event":"message.received","timestamp":"2025-10-03T16:30:00Z","organization_id":"org_1","data":{"message":{"id":"m","type":"text","content":{"text":"Olá <b> & \u2028 \u003e 😀 \t\u0001"}}}}`,
		`{"event":"whatsapp.message_template_status_update","data":{"10":"x","2":"y","price":1.50,"n":1e2,"neg":-0.0,"tiny":1e-9}}`,
		`{"data":{"contact":{"name":"João \"Zé\" \\ da Silva","whatsapp_id":"+5511999999999"}}}`,
	}
	type signedCase struct {
		Body      string `json:"body"` // base64
		Secret    string `json:"secret"`
		Signature string `json:"signature"`
	}
	var signed []signedCase
	for _, r := range raw {
		body, err := CanonicalBody([]byte(r))
		require.NoError(t, err)
		// The guide's own secret, a generated one, and a rotation (the
		// receiver still has the previous secret).
		for _, keys := range [][]string{{"abc123"}, {secret}, {rotated, secret}} {
			h := Headers("evt_1", time.Unix(1759509000, 0), body, keys)
			signed = append(signed, signedCase{base64.StdEncoding.EncodeToString(body), keys[len(keys)-1], h.Get(HeaderPyTakeSignature)})
		}
	}
	// A body straight from encoding/json, <, > and & escaped: Python
	// accepts it, Node.js, which re-serialises, does not. This is why
	// deliveries send CanonicalBody.
	goBody, _ := json.Marshal(map[string]string{"text": "<b>"})
	h := Headers("evt_1", time.Unix(1759509000, 0), goBody, []string{secret})
	signed = append(signed, signedCase{base64.StdEncoding.EncodeToString(goBody), secret, h.Get(HeaderPyTakeSignature)})

	var stringify []string
	for _, c := range bodyCases {
		stringify = append(stringify, c.in)
	}
	input, err := json.Marshal(map[string]any{"signed": signed, "stringify": stringify})
	require.NoError(t, err)
	dir := t.TempDir()
	inputFile := filepath.Join(dir, "input.json")
	require.NoError(t, os.WriteFile(inputFile, input, 0o600))
	pyInput, _ := json.Marshal(signed)
	pyFile := filepath.Join(dir, "python.json")
	require.NoError(t, os.WriteFile(pyFile, pyInput, 0o600))
	want := strings.Repeat("ok\n", len(signed)-1)

	t.Run("python", func(t *testing.T) {
		out := run(t, "python3", "-c", guidePython, pyFile)
		got := strings.Join(out, "\n") + "\n"
		assert.Equal(t, want+"ok\n", got, "python results:\n%s\nwant all ok", got)
	})
	t.Run("node", func(t *testing.T) {
		out := run(t, "node", "-e", guideNode, "--", inputFile)
		require.Len(t, out, len(signed)+len(bodyCases), "node printed %d lines, want %d: %q", len(out), len(signed)+len(bodyCases), out)
		got := strings.Join(out[:len(signed)], "\n") + "\n"
		assert.Equal(t, want+"fail\n", got, "node results:\n%s\nwant ok for every canonical body, fail for the encoding/json one", got)
		for i, c := range bodyCases {
			var js string
			require.NoError(t, json.Unmarshal([]byte(out[len(signed)+i]), &js))
			assert.Equal(t, c.want, js, "%s: JSON.stringify gives %q, the table says %q", c.name, js, c.want)
		}
	})
}

// run runs a command and returns its output lines; it skips the test when
// the command is not installed.
func run(t *testing.T, name string, args ...string) []string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed", name)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	require.NoError(t, err, "%s: %v\n%s", name, err, out)
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}
