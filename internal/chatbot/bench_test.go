package chatbot_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/chatbot"
)

// BenchmarkDecide: a bot with the maximum number of rules, each with
// several keywords, and a message that only the last rule matches (the
// worst case: every rule is tried).
func BenchmarkDecide(b *testing.B) {
	var rules []string
	for i := 0; i < chatbot.MaxRules-1; i++ {
		rules = append(rules, fmt.Sprintf(`{"match":{"keywords":["palavra%d","outra coisa %d","preço %d"]},"reply":{"type":"text","text":"r%d"}}`, i, i, i, i))
	}
	rules = append(rules, `{"match":{"keywords":["atendente"]},"handoff":true}`)
	bot, err := chatbot.ParseCreate([]byte(`{"name":"bench","rules":[` + strings.Join(rules, ",") + `]}`))
	require.NoError(b, err)
	in := chatbot.Inbound{Type: "text", Text: "Olá, boa tarde! Gostaria de falar com um ATENDENTE, por favor, sobre a minha última fatura."}
	b.ReportAllocs()
	for b.Loop() {
		d := chatbot.Decide(bot, in, false)
		require.True(b, d.Handoff, "no handoff")
	}
}
