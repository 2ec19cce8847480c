package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAPIKeys(t *testing.T) {
	f := newFixture(t)
	// Create: the plaintext is in this answer only.
	code, body := f.call("POST", "/v1/api-keys", f.key, `{"name":"Zapier","mode":"test"}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	var created struct {
		ID, Name, Mode, Prefix, Last4, Key string
		LastUsedAt                         *string `json:"last_used_at"`
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Key, "pytake_test_") || created.Prefix != "pytake_test_" || created.Mode != "test" ||
		created.Last4 != created.Key[len(created.Key)-4:] || created.Name != "Zapier" || created.LastUsedAt != nil {
		t.Fatalf("created = %+v", created)
	}
	// The new key works, and its use is recorded.
	if code, body := f.call("GET", "/v1/organization", created.Key, ""); code != 200 {
		t.Fatalf("new key: %d %s", code, body)
	}
	code, body = f.call("GET", "/v1/api-keys/"+created.ID, f.key, "")
	if code != 200 || !strings.Contains(body, `"last_used_at":"2026-11-28T12:00:00Z"`) || strings.Contains(body, created.Key) {
		t.Fatalf("get: %d %s", code, body)
	}
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
		if _, ok := k["hash"]; ok {
			t.Fatalf("list shows a hash: %s", body)
		}
	}
	code, body2 := f.call("GET", "/v1/api-keys?limit=1&cursor="+page.Next, f.key, "")
	if code != 200 || !strings.Contains(body+body2, created.ID) || !strings.Contains(body+body2, f.keyID) {
		t.Fatalf("list page 2: %d %s", code, body2)
	}
	// Revoke: at once.
	code, body = f.call("DELETE", "/v1/api-keys/"+created.ID, f.key, "")
	if code != 200 || !strings.Contains(body, `"revoked_at"`) {
		t.Fatalf("revoke: %d %s", code, body)
	}
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
		{`{"name":"x","scopes":["all"]}`, "scopes"},
		{`{"name":1}`, "name"},
	}
	for _, b := range bad {
		code, body := f.call("POST", "/v1/api-keys", f.key, b.body)
		if code/100 != 4 || !strings.Contains(body, `"field":"`+b.field+`"`) {
			t.Errorf("POST %s: %d %s, want a 4xx naming %s", b.body, code, body, b.field)
		}
	}
	if code, body := f.call("GET", "/v1/api-keys/key_nope", f.key, ""); code != 404 {
		t.Fatalf("unknown key: %d %s", code, body)
	}
	if code, body := f.call("GET", "/v1/api-keys?cursor=bogus", f.key, ""); code != 422 {
		t.Fatalf("bad cursor: %d %s", code, body)
	}
}
