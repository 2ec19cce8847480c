package campaign_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/campaign"
	"github.com/pytake/pytake/internal/outbound"
	"github.com/pytake/pytake/internal/store"
)

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func TestParseText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		segs []campaign.Segment
		err  string
	}{
		{"Olá", []campaign.Segment{{Literal: "Olá"}}, ""},
		{"", nil, ""},
		{"Olá, {{contact.first_name}}!", []campaign.Segment{{Literal: "Olá, "}, {Path: "contact.first_name"}, {Literal: "!"}}, ""},
		{"{{ attributes.city }}", []campaign.Segment{{Path: "attributes.city"}}, ""},
		{"{{contact.email}}", nil, "unknown placeholder {{contact.email}}"},
		{"{{attributes.}}", nil, "attribute key"},
		{"{{attributes.a b}}", nil, "attribute key"},
		{"Olá {{contact.name", nil, "unclosed"},
		{"{{1}}", nil, "unknown placeholder"},
	} {
		segs, err := campaign.ParseText(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.segs, segs, tc.in)
	}
}

func TestRender(t *testing.T) {
	c := store.Contact{ID: "ct_1", WhatsAppID: "5511999990001", ProfileName: "Maria  da\nSilva",
		Attributes: map[string]any{"city": "Campinas", "points": float64(120), "vip": true, "tags": []any{"x"}}}
	segs, err := campaign.ParseText("{{contact.first_name}} / {{contact.name}} / {{contact.whatsapp_id}} / {{attributes.city}} / {{attributes.points}} / {{attributes.vip}}")
	require.NoError(t, err)
	out, missing := campaign.Render(segs, c, nil)
	require.Empty(t, missing)
	require.Equal(t, "Maria / Maria da Silva / +5511999990001 / Campinas / 120 / true", out)
	segs, _ = campaign.ParseText("Oi {{attributes.tags}}")
	_, missing = campaign.Render(segs, c, nil)
	require.Equal(t, "attributes.tags", missing, "a list is no value")
	def := "cliente"
	out, missing = campaign.Render(segs, c, &def)
	require.Empty(t, missing)
	require.Equal(t, "Oi cliente", out)
	// Injection: a value is never read for placeholders.
	evil := store.Contact{Name: "{{attributes.secret}}", Attributes: map[string]any{"secret": "s3cr3t"}}
	segs, _ = campaign.ParseText("{{contact.name}}")
	out, _ = campaign.Render(segs, evil, nil)
	require.Equal(t, "{{attributes.secret}}", out)
}

func FuzzParseText(f *testing.F) {
	for _, s := range []string{"Olá {{contact.first_name}}", "{{attributes.x}}{{", "}}{{contact.name}}}}", "{{ {{contact.name}} }}", ""} {
		f.Add(s, "Maria {{contact.name}}")
	}
	f.Fuzz(func(t *testing.T, text, name string) {
		segs, err := campaign.ParseText(text)
		if err != nil {
			return
		}
		// Literal text round-trips; a filled text holds no placeholder the
		// template did not have (values are inserted, never expanded).
		var lit strings.Builder
		for _, s := range segs {
			if s.Path == "" {
				lit.WriteString(s.Literal)
			} else {
				lit.WriteString("{{" + s.Path + "}}")
			}
		}
		again, err := campaign.ParseText(lit.String())
		if err != nil || len(again) != len(segs) {
			t.Fatalf("%q does not round-trip: %v %v", text, segs, err)
		}
		out, missing := campaign.Render(segs, store.Contact{Name: name, WhatsAppID: "5511999990001"}, nil)
		if missing != "" {
			return
		}
		if strings.ContainsAny(out, "\n\t") && !strings.ContainsAny(text, "\n\t") {
			t.Fatalf("a value brought white space Meta refuses: %q", out)
		}
	})
}

func TestParseCreate(t *testing.T) {
	ok := `{"name":"Black Friday","template":{"name":"promo","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"{{contact.first_name}}","default":"cliente"}]}]},"audience":{"tags":["vip"]}}`
	s, err := campaign.ParseCreate([]byte(ok), now)
	require.NoError(t, err)
	require.Equal(t, "Black Friday", s.Name)
	require.Equal(t, []string{"vip"}, s.Tags)
	require.Nil(t, s.SendAt)
	later := strings.Replace(ok, `"audience"`, `"send_at":"2026-12-01T12:00:00Z","audience"`, 1)
	s, err = campaign.ParseCreate([]byte(later), now)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), *s.SendAt)
	for body, field := range map[string]string{
		`{"template":{"name":"promo","language":{"code":"pt_BR"}},"audience":{"tags":["vip"]}}`:                                                                                                     "name",
		`{"name":"x","audience":{"tags":["vip"]}}`:                                                                                                                                                  "template",
		`{"name":"x","template":{"name":"promo","language":{"code":"pt_BR"}},"audience":{}}`:                                                                                                        "audience",
		`{"name":"x","template":{"name":"promo","language":{"code":"pt_BR"}}}`:                                                                                                                      "audience",
		`{"name":"x","template":{"name":"promo","language":{"code":"pt_BR"}},"audience":{"tags":["vip"]},"send_at":"tomorrow"}`:                                                                     "send_at",
		`{"name":"x","template":{"name":"promo","language":{"code":"pt_BR"}},"audience":{"tags":["vip"]},"send_at":"2027-02-01T00:00:00Z"}`:                                                         "send_at",
		`{"name":"x","template":{"name":"promo","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"{{contact.email}}"}]}]},"audience":{"tags":["vip"]}}`: "template.components[0].parameters[0].text",
		`{"name":"x","template":{"name":"promo","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"a","default":3}]}]},"audience":{"tags":["vip"]}}`:     "template.components[0].parameters[0].default",
		`{"name":"x","template":{"name":"","language":{"code":"pt_BR"}},"audience":{"tags":["vip"]}}`:                                                                                               "template",
	} {
		_, err := campaign.ParseCreate([]byte(body), now)
		e, ok := apperr.As(err)
		require.True(t, ok, "%s: %v", body, err)
		require.NotEmpty(t, e.Details, body)
		require.Equal(t, field, e.Details[0].Field, "%s: %v", body, err)
	}
	// A default is checked as what it is sent as: a recipient without
	// the value gets it, so one Meta's rules refuse fails now, not per
	// recipient (every one skipped invalid_parameter).
	for _, def := range []string{strings.Repeat("x", 5000), ""} {
		body := `{"name":"x","template":{"name":"promo","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"{{contact.first_name}}","default":"` + def + `"}]}]},"audience":{"tags":["vip"]}}`
		_, err := campaign.ParseCreate([]byte(body), now)
		e, ok := apperr.As(err)
		require.True(t, ok, "default of %d characters: %v", len(def), err)
		require.Equal(t, "template", e.Details[0].Field, "%v", err)
	}
	many := make([]string, campaign.MaxContactIDs+1)
	for i := range many {
		many[i] = "ct_x"
	}
	ids, _ := json.Marshal(many)
	_, err = campaign.ParseCreate([]byte(`{"name":"x","template":{"name":"promo","language":{"code":"pt_BR"}},"audience":{"contact_ids":`+string(ids)+`}}`), now)
	require.Error(t, err)
}

func TestBuild(t *testing.T) {
	tpl := json.RawMessage(`{"name":"promo","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"{{contact.first_name}}"},{"type":"text","text":"{{attributes.city}}","default":"sua cidade"}]}]}`)
	c := store.Contact{ID: "ct_01JBZ5K7Q3XW8Y2N4M6P9R1T3W", Name: "Ana Souza", Attributes: map[string]any{}}
	req, skip, _ := campaign.Build(tpl, c)
	require.Empty(t, skip)
	require.Equal(t, outbound.ToContact, req.ToKind)
	require.JSONEq(t, `{"name":"promo","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"sua cidade"}]}]}`, string(req.Content))
	_, skip, detail := campaign.Build(tpl, store.Contact{ID: c.ID})
	require.Equal(t, campaign.SkipMissingValue, skip)
	require.Equal(t, "contact.first_name", detail)
}
