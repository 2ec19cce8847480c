package chatbot

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/jsoncheck"
)

func hasField(err error, field string) bool { return slices.Contains(apperr.Fields(err), field) }

func example(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/example.json")
	require.NoError(t, err)
	return b
}

func mustCreate(t testing.TB, body string) Bot {
	t.Helper()
	b, err := ParseCreate([]byte(body))
	require.NoError(t, err, "ParseCreate(%s): %v; details %+v", body, err, apperr.DetailsOf(err))
	return b
}

// rep repeats s n times.
func rep(s string, n int) string { return strings.Repeat(s, n) }

// q quotes s as a JSON string.
func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestParseCreateExample(t *testing.T) {
	b := mustCreate(t, string(example(t)))
	want := Bot{
		Name:           "Atendimento",
		WelcomeMessage: "Olá! Como posso ajudar?",
		Active:         true,
		Rules: []Rule{
			{ID: "r1", Match: Match{Keywords: []string{"preço", "valor"}}, Reply: &Reply{Type: "text", Text: "Nossos planos começam em R$ 99."}},
			{ID: "r2", Match: Match{ReplyID: "btn_suporte"}, Reply: &Reply{Type: "buttons", Text: "Escolha:", Buttons: []Button{{"b1", "Vendas"}, {"b2", "Suporte"}}}},
			{ID: "r3", Match: Match{Keywords: []string{"atendente", "humano"}}, Reply: &Reply{Type: "text", Text: "Um atendente vai falar com você."}, Handoff: true},
			{ID: "r4", Match: Match{Any: true}, Reply: &Reply{Type: "template", Template: json.RawMessage(`{"name":"menu","language":{"code":"pt_BR"}}`)}},
		},
		Fallback: &Reply{Type: "text", Text: "Não entendi. Digite 'atendente' para falar com uma pessoa."},
	}
	require.Equal(t, want, b, "got  %+v\nwant %+v", b, want)
}

func TestParseCreateDefaultsAndIDs(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Bot
	}{
		{"minimal", `{"name":"Bot"}`, Bot{Name: "Bot", Active: true, Rules: []Rule{}}},
		{"inactive, nulls absent", `{"name":"Bot","active":false,"welcome_message":null,"rules":null,"fallback":null}`,
			Bot{Name: "Bot", Rules: []Rule{}}},
		{"empty welcome", `{"name":"Bot","welcome_message":""}`, Bot{Name: "Bot", Active: true, Rules: []Rule{}}},
		{"ids by position, given ids kept", `{"name":"Bot","rules":[
			{"match":{"any":true},"handoff":true},
			{"id":"precos","match":{"keywords":["preço"]},"handoff":true},
			{"match":{"reply_id":"x"},"handoff":true}]}`,
			Bot{Name: "Bot", Active: true, Rules: []Rule{
				{ID: "r1", Match: Match{Any: true}, Handoff: true},
				{ID: "precos", Match: Match{Keywords: []string{"preço"}}, Handoff: true},
				{ID: "r3", Match: Match{ReplyID: "x"}, Handoff: true},
			}}},
		{"any false beside keywords", `{"name":"Bot","rules":[{"match":{"keywords":["a"],"any":false},"handoff":true}]}`,
			Bot{Name: "Bot", Active: true, Rules: []Rule{{ID: "r1", Match: Match{Keywords: []string{"a"}}, Handoff: true}}}},
		{"handoff and reply", `{"name":"Bot","rules":[{"match":{"keywords":["a"]},"reply":{"type":"text","text":"t"},"handoff":true}]}`,
			Bot{Name: "Bot", Active: true, Rules: []Rule{{ID: "r1", Match: Match{Keywords: []string{"a"}}, Reply: &Reply{Type: "text", Text: "t"}, Handoff: true}}}},
		{"limits reached exactly", `{"name":` + q(rep("n", 100)) + `,"welcome_message":` + q(rep("w", 4096)) + `,"rules":[{"match":{"keywords":[` + q(rep("k", 100)) + `]},"reply":{"type":"buttons","text":` + q(rep("b", 1024)) + `,"buttons":[{"id":` + q(rep("i", 256)) + `,"title":` + q(rep("ã", 20)) + `},{"id":"2","title":"b"},{"id":"3","title":"c"}]}}]}`,
			Bot{Name: rep("n", 100), WelcomeMessage: rep("w", 4096), Active: true, Rules: []Rule{{ID: "r1", Match: Match{Keywords: []string{rep("k", 100)}},
				Reply: &Reply{Type: "buttons", Text: rep("b", 1024), Buttons: []Button{{rep("i", 256), rep("ã", 20)}, {"2", "b"}, {"3", "c"}}}}}}},
		{"template components canonical", `{"name":"Bot","fallback":{"type":"template","template":{"name":"t","language":{"code":"en"},"components":[{"type":"BODY","parameters":[{"type":"text","text":1001}]}]}}}`,
			Bot{Name: "Bot", Active: true, Rules: []Rule{}, Fallback: &Reply{Type: "template",
				Template: json.RawMessage(`{"name":"t","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"1001"}]}]}`)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustCreate(t, tt.body)
			require.Equal(t, tt.want, got, "got  %+v\nwant %+v", got, tt.want)
		})
	}
}

// rulesBody makes a body with the given rules JSON.
func rulesBody(rules string) string { return `{"name":"Bot","rules":[` + rules + `]}` }

const okRule = `{"match":{"any":true},"handoff":true}`

func TestParseCreateInvalidBody(t *testing.T) {
	for _, body := range []string{``, ` `, `[]`, `"bot"`, `null`, `1`, `{`, `{"name":"a"} {}`, `{"name":"a"}x`} {
		_, err := ParseCreate([]byte(body))
		assert.True(t, apperr.Is(err, apperr.Invalid), "ParseCreate(%q) = %v, want a 400", body, err)
		_, err = ParsePatch(Bot{Name: "x"}, []byte(body))
		assert.True(t, apperr.Is(err, apperr.Invalid), "ParsePatch(%q) = %v, want a 400", body, err)
	}
}

func TestParseCreateErrors(t *testing.T) {
	tooManyRules := make([]string, 51)
	for i := range tooManyRules {
		tooManyRules[i] = okRule
	}
	tooManyKeywords := make([]string, 51)
	for i := range tooManyKeywords {
		tooManyKeywords[i] = `"k"`
	}
	tests := []struct {
		name   string
		body   string
		fields []string // every one must be reported
		not    []string // none of these may be
	}{
		// the bot
		{"name missing", `{}`, []string{"name"}, nil},
		{"name blank", `{"name":"  "}`, []string{"name"}, nil},
		{"name too long", `{"name":` + q(rep("é", 101)) + `}`, []string{"name"}, nil},
		{"name not a string", `{"name":1}`, []string{"name"}, nil},
		{"name given twice", `{"name":"a","name":"b"}`, []string{"name"}, nil},
		{"unknown field", `{"name":"a","nme":"b","id":"x"}`, []string{"nme", "id"}, []string{"name"}},
		{"welcome too long", `{"name":"a","welcome_message":` + q(rep("w", 4097)) + `}`, []string{"welcome_message"}, nil},
		{"welcome blank", `{"name":"a","welcome_message":" \n"}`, []string{"welcome_message"}, nil},
		{"welcome not a string", `{"name":"a","welcome_message":true}`, []string{"welcome_message"}, nil},
		{"active not a boolean", `{"name":"a","active":"yes"}`, []string{"active"}, nil},
		{"rules not an array", `{"name":"a","rules":{}}`, []string{"rules"}, nil},
		{"too many rules", rulesBody(strings.Join(tooManyRules, ",")), []string{"rules[50]"}, []string{"rules[49]"}},
		{"fallback not an object", `{"name":"a","fallback":"oi"}`, []string{"fallback"}, nil},
		{"fallback type missing", `{"name":"a","fallback":{"text":"oi"}}`, []string{"fallback.type"}, []string{"fallback.text"}},
		{"fallback title too long", `{"name":"a","fallback":{"type":"buttons","text":"x","buttons":[{"id":"1","title":` + q(rep("t", 21)) + `}]}}`,
			[]string{"fallback.buttons[0].title"}, nil},

		// rules
		{"rule not an object", rulesBody(`"oi"`), []string{"rules[0]"}, nil},
		{"rule unknown field", rulesBody(`{"match":{"any":true},"handoff":true,"mtch":{}}`), []string{"rules[0].mtch"}, nil},
		{"rule without reply or handoff", rulesBody(`{"match":{"any":true}}`), []string{"rules[0].reply"}, nil},
		{"rule with handoff false and no reply", rulesBody(`{"match":{"any":true},"handoff":false}`), []string{"rules[0].reply"}, nil},
		{"rule with null reply", rulesBody(`{"match":{"any":true},"reply":null}`), []string{"rules[0].reply"}, nil},
		{"handoff not a boolean", rulesBody(`{"match":{"any":true},"handoff":"yes"}`), []string{"rules[0].handoff"}, []string{"rules[0].reply"}},
		{"rule id empty", rulesBody(`{"id":"","match":{"any":true},"handoff":true}`), []string{"rules[0].id"}, nil},
		{"rule id with spaces", rulesBody(`{"id":"a b","match":{"any":true},"handoff":true}`), []string{"rules[0].id"}, nil},
		{"rule id too long", rulesBody(`{"id":` + q(rep("a", 65)) + `,"match":{"any":true},"handoff":true}`), []string{"rules[0].id"}, nil},
		{"rule id not a string", rulesBody(`{"id":7,"match":{"any":true},"handoff":true}`), []string{"rules[0].id"}, nil},
		{"duplicate rule ids", rulesBody(`{"id":"a","match":{"any":true},"handoff":true},{"id":"b","match":{"any":true},"handoff":true},{"id":"a","match":{"any":true},"handoff":true}`),
			[]string{"rules[2].id"}, []string{"rules[0].id", "rules[1].id"}},
		{"generated id taken", rulesBody(`{"id":"r2","match":{"any":true},"handoff":true},` + okRule), []string{"rules[1].id"}, []string{"rules[0].id"}},
		{"generated id taken by a later rule", rulesBody(okRule + `,{"id":"r1","match":{"any":true},"handoff":true}`), []string{"rules[0].id"}, []string{"rules[1].id"}},

		// match
		{"match missing", rulesBody(`{"handoff":true}`), []string{"rules[0].match"}, nil},
		{"match not an object", rulesBody(`{"match":["a"],"handoff":true}`), []string{"rules[0].match"}, nil},
		{"match empty", rulesBody(`{"match":{},"handoff":true}`), []string{"rules[0].match"}, nil},
		{"match any false", rulesBody(`{"match":{"any":false},"handoff":true}`), []string{"rules[0].match"}, nil},
		{"match any not a boolean", rulesBody(`{"match":{"any":"true"},"handoff":true}`), []string{"rules[0].match.any"}, []string{"rules[0].match"}},
		{"match two kinds", rulesBody(`{"match":{"keywords":["a"],"reply_id":"b"},"handoff":true}`), []string{"rules[0].match"}, nil},
		{"match three kinds", rulesBody(`{"match":{"keywords":["a"],"reply_id":"b","any":true},"handoff":true}`), []string{"rules[0].match"}, nil},
		{"match unknown field", rulesBody(`{"match":{"keyword":["a"]},"handoff":true}`), []string{"rules[0].match.keyword", "rules[0].match"}, nil},
		{"keywords empty", rulesBody(`{"match":{"keywords":[]},"handoff":true}`), []string{"rules[0].match.keywords"}, nil},
		{"keywords not an array", rulesBody(`{"match":{"keywords":"preço"},"handoff":true}`), []string{"rules[0].match.keywords"}, []string{"rules[0].match"}},
		{"keyword empty", rulesBody(`{"match":{"keywords":["a",""]},"handoff":true}`), []string{"rules[0].match.keywords[1]"}, []string{"rules[0].match.keywords[0]"}},
		{"keyword too long", rulesBody(`{"match":{"keywords":[` + q(rep("k", 101)) + `]},"handoff":true}`), []string{"rules[0].match.keywords[0]"}, nil},
		{"keyword only punctuation", rulesBody(`{"match":{"keywords":["?!"]},"handoff":true}`), []string{"rules[0].match.keywords[0]"}, nil},
		{"keyword not a string", rulesBody(`{"match":{"keywords":["a",3,null]},"handoff":true}`), []string{"rules[0].match.keywords[1]", "rules[0].match.keywords[2]"}, nil},
		{"too many keywords", rulesBody(`{"match":{"keywords":[` + strings.Join(tooManyKeywords, ",") + `]},"handoff":true}`), []string{"rules[0].match.keywords[50]"}, nil},
		{"reply_id empty", rulesBody(`{"match":{"reply_id":""},"handoff":true}`), []string{"rules[0].match.reply_id"}, nil},
		{"reply_id too long", rulesBody(`{"match":{"reply_id":` + q(rep("i", 257)) + `},"handoff":true}`), []string{"rules[0].match.reply_id"}, nil},
		{"reply_id not a string", rulesBody(`{"match":{"reply_id":12},"handoff":true}`), []string{"rules[0].match.reply_id"}, []string{"rules[0].match"}},

		// replies
		{"reply not an object", rulesBody(`{"match":{"any":true},"reply":"oi"}`), []string{"rules[0].reply"}, nil},
		{"reply type missing", rulesBody(`{"match":{"any":true},"reply":{"text":"oi"}}`), []string{"rules[0].reply.type"}, nil},
		{"reply type unknown", rulesBody(`{"match":{"any":true},"reply":{"type":"list","text":"oi"}}`), []string{"rules[0].reply.type"}, nil},
		{"reply unknown field", rulesBody(`{"match":{"any":true},"reply":{"type":"text","text":"oi","txt":"x"}}`), []string{"rules[0].reply.txt"}, nil},
		{"text missing", rulesBody(`{"match":{"any":true},"reply":{"type":"text"}}`), []string{"rules[0].reply.text"}, nil},
		{"text blank", rulesBody(`{"match":{"any":true},"reply":{"type":"text","text":" "}}`), []string{"rules[0].reply.text"}, nil},
		{"text too long", rulesBody(`{"match":{"any":true},"reply":{"type":"text","text":` + q(rep("t", 4097)) + `}}`), []string{"rules[0].reply.text"}, nil},
		{"text reply with buttons and template", rulesBody(`{"match":{"any":true},"reply":{"type":"text","text":"a","buttons":[],"template":{}}}`),
			[]string{"rules[0].reply.buttons", "rules[0].reply.template"}, nil},
		{"buttons missing", rulesBody(`{"match":{"any":true},"reply":{"type":"buttons","text":"a"}}`), []string{"rules[0].reply.buttons"}, nil},
		{"buttons empty", rulesBody(`{"match":{"any":true},"reply":{"type":"buttons","text":"a","buttons":[]}}`), []string{"rules[0].reply.buttons"}, nil},
		{"too many buttons", rulesBody(`{"match":{"any":true},"reply":{"type":"buttons","text":"a","buttons":[{"id":"1","title":"a"},{"id":"2","title":"b"},{"id":"3","title":"c"},{"id":"4","title":"d"}]}}`),
			[]string{"rules[0].reply.buttons[3]"}, []string{"rules[0].reply.buttons[2]"}},
		{"buttons body missing", rulesBody(`{"match":{"any":true},"reply":{"type":"buttons","buttons":[{"id":"1","title":"a"}]}}`), []string{"rules[0].reply.text"}, nil},
		{"buttons body too long", rulesBody(`{"match":{"any":true},"reply":{"type":"buttons","text":` + q(rep("t", 1025)) + `,"buttons":[{"id":"1","title":"a"}]}}`), []string{"rules[0].reply.text"}, nil},
		{"button not an object", rulesBody(`{"match":{"any":true},"reply":{"type":"buttons","text":"a","buttons":["Sim"]}}`), []string{"rules[0].reply.buttons[0]"}, nil},
		{"button title too long", rulesBody(`{"match":{"any":true},"reply":{"type":"buttons","text":"a","buttons":[{"id":"1","title":` + q(rep("t", 21)) + `}]}}`), []string{"rules[0].reply.buttons[0].title"}, nil},
		{"button title missing", rulesBody(`{"match":{"any":true},"reply":{"type":"buttons","text":"a","buttons":[{"id":"1"}]}}`), []string{"rules[0].reply.buttons[0].title"}, nil},
		{"button id empty", rulesBody(`{"match":{"any":true},"reply":{"type":"buttons","text":"a","buttons":[{"id":"","title":"a"}]}}`), []string{"rules[0].reply.buttons[0].id"}, nil},
		{"button id too long", rulesBody(`{"match":{"any":true},"reply":{"type":"buttons","text":"a","buttons":[{"id":` + q(rep("i", 257)) + `,"title":"a"}]}}`), []string{"rules[0].reply.buttons[0].id"}, nil},
		{"button ids repeated", rulesBody(`{"match":{"any":true},"reply":{"type":"buttons","text":"a","buttons":[{"id":"1","title":"a"},{"id":"1","title":"b"}]}}`), []string{"rules[0].reply.buttons[1].id"}, []string{"rules[0].reply.buttons[0].id"}},
		{"button unknown field", rulesBody(`{"match":{"any":true},"reply":{"type":"buttons","text":"a","buttons":[{"id":"1","title":"a","label":"x"}]}}`), []string{"rules[0].reply.buttons[0].label"}, nil},
		{"buttons reply with template", rulesBody(`{"match":{"any":true},"reply":{"type":"buttons","text":"a","buttons":[{"id":"1","title":"a"}],"template":{"name":"x"}}}`), []string{"rules[0].reply.template"}, nil},
		{"template missing", rulesBody(`{"match":{"any":true},"reply":{"type":"template"}}`), []string{"rules[0].reply.template"}, nil},
		{"template not an object", rulesBody(`{"match":{"any":true},"reply":{"type":"template","template":"menu"}}`), []string{"rules[0].reply.template"}, nil},
		{"template name and language missing", rulesBody(`{"match":{"any":true},"reply":{"type":"template","template":{}}}`),
			[]string{"rules[0].reply.template.name", "rules[0].reply.template.language"}, nil},
		{"template language code bad", rulesBody(`{"match":{"any":true},"reply":{"type":"template","template":{"name":"menu","language":{"code":"portugues"}}}}`),
			[]string{"rules[0].reply.template.language.code"}, nil},
		{"template component bad", rulesBody(`{"match":{"any":true},"reply":{"type":"template","template":{"name":"menu","language":{"code":"pt_BR"},"components":[{"type":"sidebar","parameters":[]}]}}}`),
			[]string{"rules[0].reply.template.components[0].type"}, nil},
		{"template unknown field", rulesBody(`{"match":{"any":true},"reply":{"type":"template","template":{"name":"menu","language":{"code":"pt_BR"},"nome":"x"}}}`),
			[]string{"rules[0].reply.template.nome"}, nil},
		{"template reply with text", rulesBody(`{"match":{"any":true},"reply":{"type":"template","text":"a","template":{"name":"menu","language":{"code":"pt_BR"}}}}`),
			[]string{"rules[0].reply.text"}, nil},

		// everything at once, each with its path
		{"every problem at once", `{"name":"","active":1,"rules":[` + okRule + `,` + okRule + `,
			{"match":{"any":true},"reply":{"type":"buttons","text":"a","buttons":[{"id":"1","title":"um título longo demais"}]}},
			{"match":{}}],"fallback":{"type":"text"},"extra":1}`,
			[]string{"name", "active", "rules[2].reply.buttons[0].title", "rules[3].match", "rules[3].reply", "fallback.text", "extra"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCreate([]byte(tt.body))
			e, ok := apperr.As(err)
			require.True(t, ok, "err = %v, want a 422", err)
			require.Equal(t, apperr.Unprocessable, e.Kind, "err")
			assert.True(t, strings.HasPrefix(e.Message, "the chatbot is invalid: "), "message %q", e.Message)
			for _, f := range tt.fields {
				assert.True(t, hasField(err, f), "no detail for %s; got %+v", f, e.Details)
			}
			for _, f := range tt.not {
				assert.False(t, hasField(err, f), "unexpected detail for %s; got %+v", f, e.Details)
			}
			for _, d := range e.Details {
				assert.NotEmpty(t, d.Field, "detail without field or issue: %+v", d)
				assert.NotEmpty(t, d.Issue, "detail without field or issue")
			}
		})
	}
}

func TestParseCreateBoundsDetails(t *testing.T) {
	rules := make([]string, 80)
	for i := range rules {
		rules[i] = `{"match":{}}`
	}
	_, err := ParseCreate([]byte(rulesBody(strings.Join(rules, ","))))
	e, ok := apperr.As(err)
	require.True(t, ok, "err = %v", err)
	require.Equal(t, apperr.Unprocessable, e.Kind, "err")
	if len(e.Details) != jsoncheck.MaxDetails || e.Extra["details_omitted"] == nil {
		t.Fatalf("%d details, extra %v", len(e.Details), e.Extra)
	}
}

func TestParsePatch(t *testing.T) {
	cur, err := ParseCreate(example(t))
	require.NoError(t, err)
	keep, _ := json.Marshal(cur)
	tests := []struct {
		name string
		body string
		want func(b *Bot)
	}{
		{"empty object changes nothing", `{}`, func(b *Bot) {}},
		{"name", `{"name":"Vendas"}`, func(b *Bot) { b.Name = "Vendas" }},
		{"deactivate", `{"active":false}`, func(b *Bot) { b.Active = false }},
		{"welcome changed", `{"welcome_message":"Oi!"}`, func(b *Bot) { b.WelcomeMessage = "Oi!" }},
		{"welcome removed with null", `{"welcome_message":null}`, func(b *Bot) { b.WelcomeMessage = "" }},
		{"welcome removed with empty", `{"welcome_message":""}`, func(b *Bot) { b.WelcomeMessage = "" }},
		{"fallback removed", `{"fallback":null}`, func(b *Bot) { b.Fallback = nil }},
		{"fallback replaced", `{"fallback":{"type":"text","text":"?"}}`, func(b *Bot) { b.Fallback = &Reply{Type: "text", Text: "?"} }},
		{"rules replaced", `{"rules":[{"match":{"keywords":["oi"]},"reply":{"type":"text","text":"Oi!"}},{"id":"h","match":{"any":true},"handoff":true}]}`,
			func(b *Bot) {
				b.Rules = []Rule{
					{ID: "r1", Match: Match{Keywords: []string{"oi"}}, Reply: &Reply{Type: "text", Text: "Oi!"}},
					{ID: "h", Match: Match{Any: true}, Handoff: true},
				}
			}},
		{"rules emptied", `{"rules":[]}`, func(b *Bot) { b.Rules = []Rule{} }},
		{"several", `{"name":"N","active":false,"fallback":null}`, func(b *Bot) { b.Name, b.Active, b.Fallback = "N", false, nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePatch(cur, []byte(tt.body))
			require.NoError(t, err, "ParsePatch: %v %+v", err, apperr.DetailsOf(err))
			var want Bot
			require.NoError(t, json.Unmarshal(keep, &want))
			want.Fallback = cur.Fallback.clone()
			for i := range want.Rules {
				want.Rules[i].Reply = cur.Rules[i].Reply.clone()
			}
			tt.want(&want)
			require.Equal(t, want, got, "got  %+v\nwant %+v", got, want)
			after, _ := json.Marshal(cur)
			require.Equal(t, string(keep), string(after), "cur was modified:\n%s\n%s", after, keep)
		})
	}
}

func TestParsePatchErrors(t *testing.T) {
	cur := mustCreate(t, `{"name":"Bot"}`)
	tests := []struct {
		name   string
		body   string
		fields []string
	}{
		{"name null", `{"name":null}`, []string{"name"}},
		{"name empty", `{"name":""}`, []string{"name"}},
		{"active null", `{"active":null}`, []string{"active"}},
		{"rules null", `{"rules":null}`, []string{"rules"}},
		{"unknown field", `{"id":"cb_1","created_at":"x"}`, []string{"id", "created_at"}},
		{"bad rule", `{"rules":[{"match":{"any":true}}]}`, []string{"rules[0].reply"}},
		{"bad fallback", `{"fallback":{"type":"buttons","text":"x","buttons":[{"id":"a","title":"1"},{"id":"a","title":"2"}]}}`, []string{"fallback.buttons[1].id"}},
		{"blank welcome", `{"welcome_message":"   "}`, []string{"welcome_message"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePatch(cur, []byte(tt.body))
			require.True(t, apperr.Is(err, apperr.Unprocessable), "err = %v, want a 422", err)
			for _, f := range tt.fields {
				assert.True(t, hasField(err, f), "no detail for %s; got %+v", f, apperr.DetailsOf(err))
			}
		})
	}
}
