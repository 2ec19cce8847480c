//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// guideContacts is the integrations guide's Python: create_contact and
// tag_customer_on_purchase copied as written (BASE_URL and API_KEY pointed
// at the local stack), then the SDK's contacts.list(limit=100) as the HTTP
// request it makes.
const guideContacts = `
import json, sys
import requests

API_KEY = sys.argv[2]
BASE_URL = sys.argv[1] + "/v1"

headers = {
    "Authorization": f"Bearer {API_KEY}",
    "Content-Type": "application/json"
}

def create_contact(whatsapp_id: str, name: str, email: str = None):
    response = requests.post(
        f"{BASE_URL}/contacts",
        headers=headers,
        json={
            "whatsapp_id": whatsapp_id,
            "name": name,
            "email": email,
            "tags": ["new_lead"]
        }
    )
    return response.json()

def tag_customer_on_purchase(contact_id: str):
    response = requests.patch(
        f"{BASE_URL}/contacts/{contact_id}",
        headers=headers,
        json={
            "tags": ["customer", "purchased"],
            "attributes": {
                "last_purchase": "2025-10-03",
                "total_spent": 150.00
            }
        }
    )
    return response.json()

created = create_contact("+55 11 99876-5432", "Maria Silva", "maria@example.com")
plain = create_contact("+5511912345678", "João")
updated = tag_customer_on_purchase(created["id"])
listed = requests.get(f"{BASE_URL}/contacts", headers=headers, params={"limit": 100}).json()
print(json.dumps({"created": created, "plain": plain, "updated": updated, "listed": listed}))
`

// TestGuideContactExamples runs the guide's contact examples against the
// local stack.
func TestGuideContactExamples(t *testing.T) {
	org := newOrg(t, "Guide Contacts")
	script := filepath.Join(t.TempDir(), "contacts.py")
	require.NoError(t, os.WriteFile(script, []byte(guideContacts), 0o600))
	out, err := exec.Command(filepath.Join(root, ".local", "venv", "bin", "python"), script, st.URL, org.APIKey.Key).Output()
	require.NoError(t, err, "guide script: %v\n%s", err, out)
	type contact struct {
		ID         string         `json:"id"`
		WhatsAppID string         `json:"whatsapp_id"`
		Name       string         `json:"name"`
		Email      string         `json:"email"`
		Tags       []string       `json:"tags"`
		Attributes map[string]any `json:"attributes"`
	}
	var got struct {
		Created, Plain, Updated contact
		Listed                  struct {
			Data       []contact `json:"data"`
			NextCursor string    `json:"next_cursor"`
		}
	}
	err = json.Unmarshal(out, &got)
	require.NoError(t, err, "%v: %s", err, out)
	c := got.Created
	require.NotEmpty(t, c.ID, "create_contact: %+v", c)
	require.Equal(t, "+5511998765432", c.WhatsAppID, "create_contact")
	require.Equal(t, "Maria Silva", c.Name, "create_contact")
	require.Equal(t, "maria@example.com", c.Email, "create_contact")
	require.Equal(t, "new_lead", strings.Join(c.Tags, ","), "create_contact")
	require.Empty(t, got.Plain.Email, "create_contact without email: %+v", got.Plain)
	require.Equal(t, "+5511912345678", got.Plain.WhatsAppID, "create_contact without email")
	u := got.Updated
	if u.ID != c.ID || strings.Join(u.Tags, ",") != "customer,purchased" || u.Attributes["last_purchase"] != "2025-10-03" || u.Attributes["total_spent"] != 150.0 {
		t.Fatalf("tag_customer_on_purchase: %+v", u)
	}
	require.Len(t, got.Listed.Data, 2, "contacts.list(limit=100): %+v", got.Listed)
	require.Empty(t, got.Listed.NextCursor, "contacts.list(limit=100)")
	for _, l := range got.Listed.Data {
		if l.ID == c.ID && strings.Join(l.Tags, ",") != "customer,purchased" {
			t.Fatalf("listed contact: %+v", l)
		}
	}
}

// TestSchemathesis fuzzes every /v1 operation of the OpenAPI document
// against the local stack with a fresh organisation's key: no 5xx, every
// status, content type, header and body as documented, and schema-invalid
// input refused. Bounded by --max-time and a fixed seed.
func TestSchemathesis(t *testing.T) {
	if testing.Short() {
		t.Skip("schemathesis: not in -short")
	}
	org := newOrg(t, "Schemathesis")
	report := t.TempDir()
	abs, err := filepath.Abs(root)
	require.NoError(t, err)
	cmd := exec.Command(filepath.Join(abs, ".local", "venv", "bin", "st"), "run",
		filepath.Join(abs, "internal", "api", "openapi.json"),
		"--url", st.URL,
		"-H", "Authorization: Bearer "+org.APIKey.Key,
		"--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection",
		"--phases", "examples,coverage,fuzzing",
		"--max-examples", "15",
		"--max-time", "180",
		"--seed", "20261129",
		"--workers", "1",
		"--request-timeout", "30",
		"--suppress-health-check", "all",
		"--report", "junit", "--report-dir", report,
		"--output-truncate", "true",
	)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	cmd.Dir = t.TempDir() // its example database stays out of the tree
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "schemathesis: %v\n%s", err, tail(out, 30000))
	t.Logf("%s", tail(out, 2000))
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
