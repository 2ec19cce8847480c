package chatbot

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
)

// FuzzParseCreate: ParseCreate never panics and fails only with a 400 or a
// 422 with details; a bot it accepts marshals to JSON that parses back to
// the same bot, as a create and as a patch, and every reply it holds is
// accepted by outbound.Parse, the real sending path.
func FuzzParseCreate(f *testing.F) {
	f.Add(example(f))
	for _, s := range []string{
		`{"name":"a"}`,
		`{"name":"a","active":false,"welcome_message":"<&>","rules":[]}`,
		`{"name":"a","rules":[{"id":"x","match":{"keywords":["Olá","2ª via"]},"reply":{"type":"text","text":"\u003c"},"handoff":true}]}`,
		`{"name":"a","rules":[{"match":{"reply_id":"b1"},"reply":{"type":"buttons","text":"t","buttons":[{"id":"b1","title":"Sim"},{"id":"b2","title":"Não"}]}}]}`,
		`{"name":"a","fallback":{"type":"template","template":{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":1e2}]}]}}}`,
		`{"name":"a","fallback":{"type":"template","template":{"name":"t","language":{"code":"en"},"components":[{"type":"button","sub_type":"URL","index":"1","parameters":[{"type":"text","text":"<x>"}]}]}}}`,
		`{"name":"a","rules":[{"match":{"any":true}}]}`,
		`{"name":"a","rules":[{"id":"r2","match":{"any":true},"handoff":true},{"match":{"any":true},"handoff":true}]}`,
		`{"name":"\ud800"}`, `{"name":"a","name":"b"}`, `[]`, `null`, `{}`, `{"rules":[1,{},[]]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := ParseCreate(body)
		if err != nil {
			if k := apperr.KindOf(err); k != apperr.Invalid && k != apperr.Unprocessable {
				t.Fatalf("error of kind %v: %v", k, err)
			}
			if e, _ := apperr.As(err); e.Kind == apperr.Unprocessable && len(e.Details) == 0 {
				t.Fatalf("422 without details: %v", err)
			}
			return
		}
		require.NotEmpty(t, b.Name, "accepted an incomplete bot: %+v", b)
		require.NotNil(t, b.Rules, "accepted an incomplete bot")
		require.LessOrEqual(t, len(b.Rules), MaxRules, "accepted an incomplete bot")
		out, err := json.Marshal(b)
		require.NoError(t, err, "marshal %+v: %v", b, err)
		again, err := ParseCreate(out)
		require.NoError(t, err, "re-parse of %s: %v %+v", out, err, apperr.DetailsOf(err))
		require.Equal(t, b, again, "round trip changed the bot:\n got %+v\nwant %+v\njson %s", again, b, out)
		patched, err := ParsePatch(Bot{Name: "old", Active: true, Rules: []Rule{}, WelcomeMessage: "w", Fallback: &Reply{Type: "text", Text: "f"}}, out)
		require.NoError(t, err, "patch with %s: %v %+v", out, err, apperr.DetailsOf(err))
		if b.Fallback == nil {
			patched.Fallback = nil // absent in the body: the old one stays
		}
		require.Equal(t, b, patched, "patch with the whole bot:\n got %+v\nwant %+v", patched, b)
		ids := map[string]bool{}
		replies := []*Reply{b.Fallback}
		for _, r := range b.Rules {
			if r.ID == "" || ids[r.ID] {
				t.Fatalf("rule id %q empty or repeated in %+v", r.ID, b.Rules)
			}
			ids[r.ID] = true
			if r.Reply == nil && !r.Handoff {
				t.Fatalf("rule %q does nothing", r.ID)
			}
			replies = append(replies, r.Reply)
		}
		if b.WelcomeMessage != "" {
			replies = append(replies, &Reply{Type: ReplyText, Text: b.WelcomeMessage})
		}
		for _, r := range replies {
			if r == nil {
				continue
			}
			if _, err := send(t, *r); err != nil {
				t.Fatalf("the sending rules refuse %+v: %v %+v", r, err, apperr.DetailsOf(err))
			}
		}
	})
}
