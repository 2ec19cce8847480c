package outbound

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
)

// FuzzParse: Parse never panics, fails only with a 400 or a 422, and every
// request it accepts yields a MetaBody that is valid JSON and parses back
// to the same Request.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/requests/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range []string{
		`{"to":"5511999999999","text":"oi"}`,
		`{"to":"US.13491208655302741918","image":{"id":"1","caption":"<&>"}}`,
		`{"to":"5511999999999","template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":1e2}]}]}}`,
		`{"to":"5511999999999","location":{"latitude":1E1,"longitude":-0}}`,
		`{"to":"5511999999999","text":"x","text":"y"}`,
		`{"to":"5511999999999","text":"\ud800"}`,
		`[]`, `null`, `{}`, `{"to":1}`, `{"to":"5511999999999","type":"interactive","interactive":{"type":"list"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := Parse(body)
		if err != nil {
			if k := apperr.KindOf(err); k != apperr.Invalid && k != apperr.Unprocessable {
				t.Fatalf("error of kind %v: %v", k, err)
			}
			if e, _ := apperr.As(err); e.Kind == apperr.Unprocessable && len(e.Details) == 0 {
				t.Fatalf("422 without details: %v", err)
			}
			return
		}
		if r.NeedsCountry() {
			// Read with a default country, as the API does.
			if err := r.ResolveTo("BR"); err != nil {
				require.Equal(t, apperr.Unprocessable, apperr.KindOf(err), "ResolveTo: %v", err)
				return
			}
		}
		require.NotEmpty(t, r.Type, "accepted an incomplete request: %+v", r)
		require.True(t, json.Valid(r.Content), "accepted an incomplete request")
		require.NotEmpty(t, r.To, "accepted an incomplete request")
		require.NotEqual(t, ToKind(""), r.ToKind, "accepted an incomplete request")
		to := resolvedTo(r)
		meta, err := MetaBody(to, r)
		require.NoError(t, err, "MetaBody(%q, %+v): %v", to, r, err)
		require.True(t, json.Valid(meta), "MetaBody is not JSON: %s", meta)
		again, err := Parse(meta)
		require.NoError(t, err, "MetaBody %s does not parse: %v %+v", meta, err, apperr.DetailsOf(err))
		want := r
		want.ToInput, again.ToInput = "", "" // Meta's form has no '+': its reading is the same
		if r.ToKind == ToContact {
			want.To, want.ToKind = to, ToPhone
		}
		require.Equal(t, want, again, "round trip changed the request:\n got %+v\nwant %+v\nmeta %s", again, want, meta)
	})
}
