package outbound

import (
	"bytes"
	"encoding/json"
	"flag"
	"github.com/pytake/pytake/internal/apperr"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	if err != nil || len(files) == 0 {
		t.Fatalf("no requests in testdata: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Parse(body)
			if err != nil {
				t.Fatalf("Parse: %v (details %+v)", err, apperr.DetailsOf(err))
			}
			got, err := MetaBody(resolvedTo(r), r)
			if err != nil {
				t.Fatalf("MetaBody: %v", err)
			}
			if !json.Valid(got) {
				t.Fatalf("MetaBody is not JSON: %s", got)
			}
			golden := filepath.Join("testdata", "meta", name+".json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, bytes.TrimSuffix(want, []byte("\n"))) {
				t.Errorf("MetaBody:\n got %s\nwant %s", got, want)
			}
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
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
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
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
