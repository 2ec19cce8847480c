//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/graphsim"
)

// TestChatbotConversation: an organisation with its own number on the
// simulator and an active chatbot. A customer writes: the welcome arrives at
// the simulator; a button reply triggers its rule; "atendente" hands the
// conversation to agents and the bot stays quiet after.
func TestChatbotConversation(t *testing.T) {
	ctx := context.Background()
	org := newOrg(t, "Chatbot Co")
	acct := graphsim.Account{PhoneNumberID: "109999000000001", WABAID: "209999000000001", DisplayPhoneNumber: "+55 11 4000-0001",
		VerifiedName: "Chatbot Co", AccessToken: "chatbot-co-token-0001", AppSecret: "chatbot-co-app-secret"}
	st.Sim.AddAccount(acct)
	settings, _ := json.Marshal(map[string]string{"phone_number_id": acct.PhoneNumberID, "waba_id": acct.WABAID,
		"access_token": acct.AccessToken, "app_secret": acct.AppSecret, "verify_token": "chatbot-co-verify-0001"})
	if r := do(t, "PUT", "/v1/settings/whatsapp", org.APIKey.Key, settings); r.Status != 200 {
		t.Fatalf("settings: %d %s", r.Status, r.Body)
	}
	bot := `{"name":"Atendimento","welcome_message":"Olá! Como posso ajudar?",
	  "rules":[
	    {"match":{"keywords":["preço","valor"]},"reply":{"type":"text","text":"Nossos planos começam em R$ 99."}},
	    {"match":{"reply_id":"btn_suporte"},"reply":{"type":"buttons","text":"Suporte: escolha","buttons":[{"id":"sup_conta","title":"Conta"},{"id":"sup_pagto","title":"Pagamento"}]}},
	    {"match":{"keywords":["atendente"]},"reply":{"type":"text","text":"Um atendente vai falar com você."},"handoff":true}
	  ],
	  "fallback":{"type":"text","text":"Não entendi."}}`
	r := do(t, "POST", "/v1/chatbots", org.APIKey.Key, []byte(bot))
	require.Equal(t, 201, r.Status, "create chatbot: %d %s", r.Status, r.Body)
	require.Contains(t, string(r.Body), `"active":true`, "create chatbot")
	// A second active bot is refused while this one is active.
	r = do(t, "POST", "/v1/chatbots", org.APIKey.Key, []byte(`{"name":"Outro"}`))
	require.Equal(t, 409, r.Status, "second active bot: %d %s", r.Status, r.Body)
	require.Equal(t, "active_chatbot_exists", r.errorCode(t), "second active bot")

	const customer = "5511966660001"
	sentTo := func() []graphsim.Sent {
		var out []graphsim.Sent
		for _, s := range st.Sim.Sent() {
			if s.PhoneNumberID == acct.PhoneNumberID && s.To == customer {
				out = append(out, s)
			}
		}
		return out
	}
	// write sends a customer message and waits for the n-th bot reply.
	write := func(in graphsim.Inbound, n int, want string) {
		t.Helper()
		in.PhoneNumberID, in.From, in.Name = acct.PhoneNumberID, customer, "Carla"
		_, status, err := st.Sim.Inbound(ctx, in)
		require.NoError(t, err, "inbound: %d %v", status, err)
		require.Equal(t, 200, status, "inbound")
		var got []graphsim.Sent
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			got = sentTo()
			assert.GreaterOrEqual(c, len(got), n, "after %+v: bot replies at the simulator", in)
		}, 45*time.Second, 100*time.Millisecond)
		require.Contains(t, string(got[n-1].Body), want, "reply %d: %s, want %q", n, got[n-1].Body, want)
	}
	write(graphsim.Inbound{Text: "Oi!"}, 1, "Olá! Como posso ajudar?")
	write(graphsim.Inbound{Interactive: json.RawMessage(`{"type":"button_reply","button_reply":{"id":"btn_suporte","title":"Suporte"}}`)}, 2, `"id":"sup_pagto"`)
	write(graphsim.Inbound{Text: "qual o preco?"}, 3, "R$ 99")
	write(graphsim.Inbound{Text: "Quero falar com um ATENDENTE"}, 4, "Um atendente vai falar com você.")

	// The conversation is marked for agents and the event went out.
	r = do(t, "GET", "/v1/conversations?limit=5", org.APIKey.Key, nil)
	var convs struct {
		Data []struct {
			ID           string `json:"id"`
			Handoff      bool   `json:"handoff"`
			MessageCount int    `json:"message_count"`
		} `json:"data"`
	}
	r.json(t, &convs)
	require.Len(t, convs.Data, 1, "conversation after handoff: %s", r.Body)
	require.True(t, convs.Data[0].Handoff, "conversation after handoff")
	require.Equal(t, 8, convs.Data[0].MessageCount, "conversation after handoff")
	var samples response
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		samples = do(c, "GET", "/v1/hooks/samples/conversation.handoff", org.APIKey.Key, nil)
		assert.Contains(c, string(samples.Body), convs.Data[0].ID, "conversation.handoff never emitted")
	}, 20*time.Second, 200*time.Millisecond)
	require.Contains(t, string(samples.Body), convs.Data[0].ID, "conversation.handoff never emitted: %s", samples.Body)
	require.Contains(t, string(samples.Body), `"by":"chatbot"`, "conversation.handoff never emitted")

	// Quiet while handed off: the customer's message is stored, no reply.
	_, status, err := st.Sim.Inbound(ctx, graphsim.Inbound{PhoneNumberID: acct.PhoneNumberID, From: customer, Text: "preço?"})
	require.NoError(t, err, "inbound: %d %v", status, err)
	require.Equal(t, 200, status, "inbound")
	time.Sleep(3 * time.Second)
	n := len(sentTo())
	require.Equal(t, 4, n, "the bot answered a handed-off conversation: %d replies", n)
	// An agent hands it back to the bot: it answers again.
	r = do(t, "PATCH", "/v1/conversations/"+convs.Data[0].ID, org.APIKey.Key, []byte(`{"handoff":false}`))
	require.Equal(t, 200, r.Status, "hand back: %d %s", r.Status, r.Body)
	require.NotContains(t, string(r.Body), `"handoff":true`, "hand back")
	write(graphsim.Inbound{Text: "valor"}, 5, "R$ 99")
}
