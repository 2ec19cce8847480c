package outbound

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/meta")

// resolvedTo stands in for the sender's contact lookup in tests.
func resolvedTo(r Request) string {
	if r.ToKind == ToContact {
		return "5511988887777"
	}
	return r.To
}

// TestMetaBodyGolden parses every request in testdata/requests (the
// integrations guide's examples among them, byte for byte as their clients
// send them) and compares MetaBody with testdata/meta.
func TestMetaBodyGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/requests/*.json")
	require.NoError(t, err, "no requests in testdata: %v", err)
	require.NotEmpty(t, files, "no requests in testdata")
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(file)
			require.NoError(t, err)
			r, err := Parse(body)
			require.NoError(t, err, "Parse: %v (details %+v)", err, apperr.DetailsOf(err))
			got, err := MetaBody(resolvedTo(r), r)
			require.NoError(t, err, "MetaBody")
			require.True(t, json.Valid(got), "MetaBody is not JSON: %s", got)
			golden := filepath.Join("testdata", "meta", name+".json")
			if *update {
				require.NoError(t, os.WriteFile(golden, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "%v (run go test -update to create it)", err)
			assert.True(t, bytes.Equal(got, bytes.TrimSuffix(want, []byte("\n"))), "MetaBody:\n got %s\nwant %s", got, want)
		})
	}
}

func TestMetaBodyShape(t *testing.T) {
	text := Request{Type: "text", Content: json.RawMessage(`{ "body" : "Olá <b> & \"x\"" }`)}
	cases := []struct {
		name string
		to   string
		r    Request
		want string
	}{
		{"phone", "5511999999999", text,
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"5511999999999","type":"text","text":{"body":"Olá <b> & \"x\""}}`},
		{"phone normalised", "+55 (11) 99999-9999", text,
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"5511999999999","type":"text","text":{"body":"Olá <b> & \"x\""}}`},
		{"bsuid goes in to", "US.13491208655302741918", text,
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"US.13491208655302741918","type":"text","text":{"body":"Olá <b> & \"x\""}}`},
		{"reply with callback data", "5511999999999",
			Request{Type: "text", Content: json.RawMessage(`{"body":"ok"}`), ContextWAMID: "wamid.ABC=", BizOpaque: `a"b`},
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"5511999999999","context":{"message_id":"wamid.ABC="},"biz_opaque_callback_data":"a\"b","type":"text","text":{"body":"ok"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MetaBody(tc.to, tc.r)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got), "got  %s\nwant %s", got, tc.want)
		})
	}
}

func TestMetaBodyErrors(t *testing.T) {
	ok := Request{Type: "text", Content: json.RawMessage(`{"body":"x"}`)}
	cases := []struct {
		name string
		to   string
		r    Request
		want string
	}{
		{"contact id unresolved", "ct_01JABCDEFGHJKMNPQRSTVWXYZ0", ok, "resolve it"},
		{"bad recipient", "hello", ok, "recipient"},
		{"empty recipient", "", ok, "recipient"},
		{"unknown type", "5511999999999", Request{Type: "contacts", Content: json.RawMessage(`{}`)}, "unknown message type"},
		{"no content", "5511999999999", Request{Type: "text"}, "must be a JSON object"},
		{"array content", "5511999999999", Request{Type: "text", Content: json.RawMessage(`[]`)}, "must be a JSON object"},
		{"broken content", "5511999999999", Request{Type: "text", Content: json.RawMessage(`{"body":`)}, "text content"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MetaBody(tc.to, tc.r)
			require.Error(t, err, "err = %v, want one containing %q", err, tc.want)
			require.Contains(t, err.Error(), tc.want, "err")
		})
	}
}
