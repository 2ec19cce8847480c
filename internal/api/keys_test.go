package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAPIKeys(t *testing.T) {
	f := newFixture(t)
	// Create: the plaintext is in this answer only.
	code, body := f.call("POST", "/v1/api-keys", f.key, `{"name":"Zapier","mode":"test"}`)
	require.Equal(t, 201, code, "create: %d %s", code, body)
	var created struct {
		ID, Name, Mode, Prefix, Last4, Key string
		LastUsedAt                         *string `json:"last_used_at"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	require.True(t, strings.HasPrefix(created.Key, "pytake_test_"), "created = %+v", created)
	require.Equal(t, "pytake_test_", created.Prefix, "created")
	require.Equal(t, "test", created.Mode, "created")
	require.Equal(t, created.Key[len(created.Key)-4:], created.Last4, "created")
	require.Equal(t, "Zapier", created.Name, "created")
	require.Nil(t, created.LastUsedAt, "created")
	// The new key works, and its use is recorded.
	code, body = f.call("GET", "/v1/organization", created.Key, "")
	require.Equal(t, 200, code, "new key: %d %s", code, body)
	code, body = f.call("GET", "/v1/api-keys/"+created.ID, f.key, "")
	require.Equal(t, 200, code, "get: %d %s", code, body)
	require.Contains(t, body, `"last_used_at":"2026-11-28T12:00:00Z"`, "get")
	require.NotContains(t, body, created.Key, "get")
	// Listing shows prefix and last four, never a key or a hash; pages.
	code, body = f.call("GET", "/v1/api-keys?limit=1", f.key, "")
	var page struct {
		Data []map[string]any `json:"data"`
		Next string           `json:"next_cursor"`
	}
	_ = json.Unmarshal([]byte(body), &page)
	if code != 200 || len(page.Data) != 1 || page.Next == "" || strings.Contains(body, "pytake_live_") && !strings.Contains(body, `"prefix":"pytake_live_"`) {
		t.Fatalf("list page 1: %d %s", code, body)
	}
	for _, k := range page.Data {
		if _, ok := k["key"]; ok {
			t.Fatalf("list shows a key: %s", body)
		}
		_, ok := k["hash"]
		require.False(t, ok, "list shows a hash: %s", body)
	}
	code, body2 := f.call("GET", "/v1/api-keys?limit=1&cursor="+page.Next, f.key, "")
	require.Equal(t, 200, code, "list page 2: %d %s", code, body2)
	require.Contains(t, body+body2, created.ID, "list page 2")
	require.Contains(t, body+body2, f.keyID, "list page 2")
	// Revoke: at once.
	code, body = f.call("DELETE", "/v1/api-keys/"+created.ID, f.key, "")
	require.Equal(t, 200, code, "revoke: %d %s", code, body)
	require.Contains(t, body, `"revoked_at"`, "revoke")
	if code, body := f.call("GET", "/v1/organization", created.Key, ""); code != 401 || !strings.Contains(body, "api_key_revoked") {
		t.Fatalf("revoked key: %d %s", code, body)
	}
	if code, body := f.call("DELETE", "/v1/api-keys/"+created.ID, f.key, ""); code != 409 {
		t.Fatalf("revoke twice: %d %s", code, body)
	}

	bad := []struct{ body, field string }{
		{`{}`, "name"},
		{`{"name":"  "}`, "name"},
		{`{"name":"` + strings.Repeat("x", 101) + `"}`, "name"},
		{`{"name":"x","mode":"prod"}`, "mode"},
		{`{"name":"x","scopes":["all"]}`, "scopes[0]"},
		{`{"name":"x","scopes":[]}`, "scopes"},
		{`{"name":1}`, "name"},
	}
	for _, b := range bad {
		code, body := f.call("POST", "/v1/api-keys", f.key, b.body)
		assert.Equal(t, 4, code/100, "POST %s: %d %s, want a 4xx naming %s", b.body, code, body, b.field)
		assert.Contains(t, body, `"field":"`+b.field+`"`, "POST %s: %d %s, want a 4xx naming %s", b.body, code, body, b.field)
	}
	code, body = f.call("GET", "/v1/api-keys/key_nope", f.key, "")
	require.Equal(t, 404, code, "unknown key: %d %s", code, body)
	code, body = f.call("GET", "/v1/api-keys?cursor=bogus", f.key, "")
	require.Equal(t, 422, code, "bad cursor: %d %s", code, body)
}
