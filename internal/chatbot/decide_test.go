package chatbot

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecide(t *testing.T) {
	ex := mustCreate(t, string(example(t)))
	// noAny is the example without its catch-all rule, so the fallback shows.
	noAny := ex
	noAny.Rules = ex.Rules[:3]
	noFallback := noAny
	noFallback.Fallback = nil
	noWelcome := ex
	noWelcome.WelcomeMessage = ""
	noWelcomeNoAny := noAny
	noWelcomeNoAny.WelcomeMessage = ""
	ordered := mustCreate(t, `{"name":"o","welcome_message":"Bem-vindo!","rules":[
		{"id":"first","match":{"keywords":["boleto"]},"reply":{"type":"text","text":"1"}},
		{"id":"second","match":{"keywords":["segunda via","boleto"]},"reply":{"type":"text","text":"2"}},
		{"id":"all","match":{"any":true},"reply":{"type":"text","text":"any"}},
		{"id":"late","match":{"keywords":["cancelar"]},"reply":{"type":"text","text":"late"}},
		{"id":"handoff","match":{"reply_id":"talk"},"handoff":true}]}`)
	phrases := mustCreate(t, `{"name":"p","rules":[
		{"id":"ola","match":{"keywords":["ola"]},"reply":{"type":"text","text":"Olá!"}},
		{"id":"via","match":{"keywords":["2a via","segunda via"]},"reply":{"type":"text","text":"via"}},
		{"id":"title","match":{"keywords":["suporte tecnico"]},"reply":{"type":"text","text":"title"}},
		{"id":"list","match":{"reply_id":"row_planos"},"reply":{"type":"text","text":"list"}},
		{"id":"quick","match":{"reply_id":"PAYLOAD_SIM"},"reply":{"type":"text","text":"quick"}}]}`)
	inactive := ex
	inactive.Active = false

	text := func(s string) Inbound { return Inbound{Type: "text", Text: s} }
	tests := []struct {
		name    string
		bot     Bot
		in      Inbound
		newConv bool
		reason  string
		ruleID  string
		handoff bool
		reply   string // the reply's text, or its type when it has none; "" for no reply
	}{
		// keywords: case, accents, punctuation, whole words
		{"keyword exact", noAny, text("preço"), false, "rule", "r1", false, "Nossos planos começam em R$ 99."},
		{"keyword without accent", noAny, text("qual o preco?"), false, "rule", "r1", false, "Nossos planos começam em R$ 99."},
		{"keyword upper case", noAny, text("VALOR!!!"), false, "rule", "r1", false, "Nossos planos começam em R$ 99."},
		{"keyword in a sentence", noAny, text("Qual é o valor, por favor?"), false, "rule", "r1", false, "Nossos planos começam em R$ 99."},
		{"keyword is a prefix only", noAny, text("valores"), false, "fallback", "", false, "Não entendi. Digite 'atendente' para falar com uma pessoa."},
		{"ola matches Olá!", phrases, text("Olá!"), false, "rule", "ola", false, "Olá!"},
		{"ola matches OLA tudo bem", phrases, text("OLA tudo bem"), false, "rule", "ola", false, "Olá!"},
		{"ola matches after punctuation", phrases, text("bom dia...olá"), false, "rule", "ola", false, "Olá!"},
		{"ola not in bolacha", phrases, text("bolacha"), false, "none", "", false, ""},
		{"ola not in olaria", phrases, text("olaria"), false, "none", "", false, ""},
		{"phrase", phrases, text("Quero a segunda-via do boleto"), false, "rule", "via", false, "via"},
		{"phrase with ordinal", phrases, text("2ª via, por favor"), false, "rule", "via", false, "via"},
		{"phrase words apart", phrases, text("segunda, a via"), false, "none", "", false, ""},
		{"phrase reversed", phrases, text("via segunda"), false, "none", "", false, ""},
		{"phrase half", phrases, text("segunda"), false, "none", "", false, ""},
		{"caption counts as text", noAny, Inbound{Type: "image", Text: "Preço desse?"}, false, "rule", "r1", false, "Nossos planos começam em R$ 99."},
		{"media without caption", noAny, Inbound{Type: "image"}, false, "fallback", "", false, "Não entendi. Digite 'atendente' para falar com uma pessoa."},

		// handoff
		{"handoff with reply", noAny, text("quero falar com um HUMANO."), false, "rule", "r3", true, "Um atendente vai falar com você."},
		{"reply id rule shadowed by an earlier any", ordered, Inbound{Type: "interactive", ReplyID: "talk", ReplyTitle: "Falar"}, false, "rule", "all", false, "any"},

		// reply ids: button, list row, template quick reply
		{"button reply", noAny, Inbound{Type: "interactive", ReplyID: "btn_suporte", ReplyTitle: "Suporte"}, false, "rule", "r2", false, "Escolha:"},
		{"button reply id is exact", noAny, Inbound{Type: "interactive", ReplyID: "BTN_SUPORTE"}, false, "fallback", "", false, "Não entendi. Digite 'atendente' para falar com uma pessoa."},
		{"list reply", phrases, Inbound{Type: "interactive", ReplyID: "row_planos", ReplyTitle: "Planos"}, false, "rule", "list", false, "list"},
		{"template quick reply", phrases, Inbound{Type: "button", ReplyID: "PAYLOAD_SIM", ReplyTitle: "Sim"}, false, "rule", "quick", false, "quick"},
		{"reply title counts as text", phrases, Inbound{Type: "interactive", ReplyID: "b9", ReplyTitle: "Suporte Técnico"}, false, "rule", "title", false, "title"},
		{"reply id is not text", phrases, Inbound{Type: "interactive", ReplyID: "ola"}, false, "none", "", false, ""},

		// order
		{"first match wins", ordered, text("boleto"), false, "rule", "first", false, "1"},
		{"second rule when first does not match", ordered, text("segunda via"), false, "rule", "second", false, "2"},
		{"any before a keyword rule", ordered, text("cancelar"), false, "rule", "all", false, "any"},
		{"any matches anything", ex, text("bom dia"), false, "rule", "r4", false, "template"},

		// new conversations
		{"welcome on new conversation", ex, text("oi"), true, "welcome", "", false, "Olá! Como posso ajudar?"},
		{"specific rule beats welcome", ex, text("qual o preço?"), true, "rule", "r1", false, "Nossos planos começam em R$ 99."},
		{"reply id beats welcome", ex, Inbound{Type: "button", ReplyID: "btn_suporte"}, true, "rule", "r2", false, "Escolha:"},
		{"handoff rule beats welcome", ex, text("atendente"), true, "rule", "r3", true, "Um atendente vai falar com você."},
		{"specific rule after any on new conversation", ordered, text("quero cancelar"), true, "rule", "late", false, "late"},
		{"welcome beats any", ordered, text("oi"), true, "welcome", "", false, "Bem-vindo!"},
		{"no welcome: any rule", noWelcome, text("oi"), true, "rule", "r4", false, "template"},
		{"no welcome, no any: fallback", noWelcomeNoAny, text("oi"), true, "fallback", "", false, "Não entendi. Digite 'atendente' para falar com uma pessoa."},
		{"later message: no welcome", ex, text("oi"), false, "rule", "r4", false, "template"},

		// fallback and nothing
		{"fallback", noAny, text("blá blá"), false, "fallback", "", false, "Não entendi. Digite 'atendente' para falar com uma pessoa."},
		{"nothing", noFallback, text("blá blá"), false, "none", "", false, ""},
		{"empty bot", Bot{Name: "e", Active: true}, text("oi"), true, "none", "", false, ""},
		{"reaction ignored", ex, Inbound{Type: "reaction", Text: "👍"}, false, "none", "", false, ""},
		{"system message ignored", ex, Inbound{Type: "system", Text: "User changed number"}, true, "none", "", false, ""},

		// inactive
		{"inactive", inactive, text("preço"), true, "inactive", "", false, ""},
		{"inactive, later message", inactive, text("atendente"), false, "inactive", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.bot, tt.in, tt.newConv)
			require.Equal(t, tt.reason, d.Reason, "got reason %q rule %q handoff %v, want %q %q %v", d.Reason, d.RuleID, d.Handoff, tt.reason, tt.ruleID, tt.handoff)
			require.Equal(t, tt.ruleID, d.RuleID, "got reason %q rule %q handoff %v, want %q %q %v", d.Reason, d.RuleID, d.Handoff, tt.reason, tt.ruleID, tt.handoff)
			require.Equal(t, tt.handoff, d.Handoff, "got reason %q rule %q handoff %v, want %q %q %v", d.Reason, d.RuleID, d.Handoff, tt.reason, tt.ruleID, tt.handoff)
			got := ""
			if d.Reply != nil {
				got = d.Reply.Text
				if got == "" {
					got = d.Reply.Type
				}
			}
			require.Equal(t, tt.reply, got, "reply %q, want %q", got, tt.reply)
			if tt.reason == "inactive" && !reflect.DeepEqual(d, Decision{Reason: "inactive"}) {
				t.Fatalf("inactive decision %+v", d)
			}
		})
	}
}

func TestDecideHandoffOnly(t *testing.T) {
	b := mustCreate(t, `{"name":"h","rules":[{"id":"h","match":{"keywords":["humano"]},"handoff":true}],"fallback":{"type":"text","text":"?"}}`)
	d := Decide(b, Inbound{Type: "text", Text: "Humano, por favor"}, false)
	want := Decision{Handoff: true, RuleID: "h", Reason: "rule"}
	require.Equal(t, want, d, "got %+v, want %+v", d, want)
}

func TestDecideReturnsACopy(t *testing.T) {
	b := mustCreate(t, string(example(t)))
	d := Decide(b, Inbound{Type: "interactive", ReplyID: "btn_suporte"}, false)
	d.Reply.Text = "changed"
	d.Reply.Buttons[0].Title = "changed"
	f := Decide(b, Inbound{Type: "text", Text: "x"}, false)
	f.Reply.Template[0] = '['
	fb := Decide(Bot{Active: true, Fallback: b.Fallback}, Inbound{Type: "text"}, false)
	fb.Reply.Text = "changed"
	require.Equal(t, "Escolha:", b.Rules[1].Reply.Text, "Decide handed out the bot's own reply: %+v", b)
	require.Equal(t, "Vendas", b.Rules[1].Reply.Buttons[0].Title, "Decide handed out the bot's own reply")
	require.Equal(t, byte('{'), b.Rules[3].Reply.Template[0], "Decide handed out the bot's own reply")
	require.NotEqual(t, "changed", b.Fallback.Text, "Decide handed out the bot's own reply")
}
