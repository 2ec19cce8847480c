//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/graphsim"
)

// TestCampaignToVIPs is issue 17's scenario over the local stack: three
// contacts tagged vip, one of whom wrote "parar" first; a campaign to vip
// with {{contact.first_name}} sends two templates to the simulator, each
// with the right name, none to the one who opted out; the counts show 2
// sent (then delivered and read) and 1 skipped; campaign.completed reaches
// a subscriber; running the campaign's work again sends nothing more.
func TestCampaignToVIPs(t *testing.T) {
	ctx := context.Background()
	org := newOrg(t, "Campaign Co")
	key := org.APIKey.Key
	acct := graphsim.Account{PhoneNumberID: "109999000000017", WABAID: "209999000000017", DisplayPhoneNumber: "+55 11 4000-0017",
		VerifiedName: "Campaign Co", AccessToken: "campaign-co-token-0001", AppSecret: "campaign-co-app-secret"}
	st.Sim.AddAccount(acct)
	settings, _ := json.Marshal(map[string]string{"phone_number_id": acct.PhoneNumberID, "waba_id": acct.WABAID,
		"access_token": acct.AccessToken, "app_secret": acct.AppSecret, "verify_token": "campaign-co-verify-0001"})
	r := do(t, "PUT", "/v1/settings/whatsapp", key, settings)
	require.Equal(t, 200, r.Status, "settings: %s", r.Body)
	st.Sim.AddTemplate(graphsim.Template{WABAID: acct.WABAID, Name: "vip_offer", Language: "pt_BR", Category: "MARKETING", Status: "APPROVED",
		Components: json.RawMessage(`[{"type":"BODY","text":"Olá {{1}}, sua oferta VIP chegou!","example":{"body_text":[["Ana"]]}}]`)})
	r = do(t, "POST", "/v1/templates/sync", key, nil)
	require.Equal(t, 200, r.Status, "sync: %s", r.Body)

	sub := newSubscriber(t)
	hook, _ := json.Marshal(map[string]any{"name": "campaigns", "url": sub.url, "events": []string{"campaign.completed", "contact.opted_out"}})
	r = do(t, "POST", "/v1/webhooks", key, hook)
	require.Equal(t, 201, r.Status, "subscribe: %s", r.Body)
	var w struct{ Secret string }
	r.json(t, &w)
	sub.mu.Lock()
	sub.secret = w.Secret
	sub.mu.Unlock()

	people := []struct{ wa, name, first string }{
		{"5511955550001", "Ana Souza", "Ana"}, {"5511955550002", "Bruno Lima", "Bruno"}, {"5511955550003", "Carla Dias", "Carla"}}
	ids := map[string]string{}
	for _, p := range people {
		_, status, err := st.Sim.Inbound(ctx, graphsim.Inbound{PhoneNumberID: acct.PhoneNumberID, From: p.wa, Name: p.name, Text: "Oi!"})
		require.NoError(t, err)
		require.Equal(t, 200, status)
		var page struct {
			Data []struct{ ID string } `json:"data"`
		}
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			do(c, "GET", "/v1/contacts?whatsapp_id="+url.QueryEscape("+"+p.wa), key, nil).json(c, &page)
			assert.Len(c, page.Data, 1)
		}, 30*time.Second, 100*time.Millisecond)
		ids[p.wa] = page.Data[0].ID
		r = do(t, "POST", "/v1/contacts/"+page.Data[0].ID+"/tags", key, []byte(`{"tags":["vip"]}`))
		require.Equal(t, 200, r.Status, "tag: %s", r.Body)
	}
	// Carla writes "parar" first: opted out.
	carla := people[2]
	_, status, err := st.Sim.Inbound(ctx, graphsim.Inbound{PhoneNumberID: acct.PhoneNumberID, From: carla.wa, Name: carla.name, Text: "Parar"})
	require.NoError(t, err)
	require.Equal(t, 200, status)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		r := do(c, "GET", "/v1/contacts/"+ids[carla.wa], key, nil)
		assert.Contains(c, string(r.Body), `"opted_out":true`)
	}, 30*time.Second, 100*time.Millisecond)

	body := `{"name":"VIP","template":{"name":"vip_offer","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[{"type":"text","text":"{{contact.first_name}}"}]}]},"audience":{"tags":["vip"]}}`
	r = do(t, "POST", "/v1/campaigns", key, []byte(body))
	require.Equal(t, 201, r.Status, "create: %s", r.Body)
	var created struct {
		ID     string
		Status string
		Counts struct{ Recipients int }
	}
	r.json(t, &created)
	require.Equal(t, "running", created.Status)
	require.Equal(t, 3, created.Counts.Recipients)

	templatesTo := func() map[string]string {
		out := map[string]string{}
		for _, s := range st.Sim.Sent() {
			if s.PhoneNumberID == acct.PhoneNumberID && s.Type == "template" {
				out[s.To] += string(s.Body)
			}
		}
		return out
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, templatesTo(), 2, "templates at the simulator")
	}, 60*time.Second, 200*time.Millisecond)
	sent := templatesTo()
	for _, p := range people[:2] {
		require.Contains(t, sent[p.wa], `"text":"`+p.first+`"`, "%s's template: %s", p.name, sent[p.wa])
	}
	require.NotContains(t, sent, carla.wa, "the opted-out contact got a template")

	var got struct {
		Status string
		Counts struct {
			Sent, Delivered, Read int
			Skipped               map[string]int
		}
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		do(c, "GET", "/v1/campaigns/"+created.ID, key, nil).json(c, &got)
		assert.Equal(c, "completed", got.Status)
		assert.Equal(c, 2, got.Counts.Sent)
		assert.Equal(c, 2, got.Counts.Delivered)
		assert.Equal(c, 2, got.Counts.Read)
		assert.Equal(c, map[string]int{"opted_out": 1}, got.Counts.Skipped)
	}, 60*time.Second, 250*time.Millisecond)

	var completed string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		sub.mu.Lock()
		defer sub.mu.Unlock()
		for _, g := range sub.got {
			if strings.Contains(string(g.body), `"event":"campaign.completed"`) && strings.Contains(string(g.body), created.ID) {
				completed = string(g.body)
			}
		}
		assert.NotEmpty(c, completed, "campaign.completed at the subscriber")
	}, 30*time.Second, 100*time.Millisecond)
	require.Contains(t, completed, `"opted_out":1`)

	// The campaign's work, run twice more: nothing more is sent.
	schedule := []byte(`{"version":"0","id":"e2e","detail-type":"Scheduled Event","source":"aws.scheduler","detail":"{}"}`)
	for i := 0; i < 2; i++ {
		inv := st.Invoke(ctx, "CampaignRunnerFunction", schedule)
		require.NoError(t, inv.Err)
	}
	time.Sleep(2 * time.Second)
	n := 0
	for _, s := range st.Sim.Sent() {
		if s.PhoneNumberID == acct.PhoneNumberID && s.Type == "template" {
			n++
		}
	}
	require.Equal(t, 2, n, "templates sent after running the work again")
	r = do(t, "GET", "/v1/campaigns/"+created.ID+"/recipients?status=skipped", key, nil)
	require.Equal(t, 200, r.Status)
	require.Contains(t, string(r.Body), ids[carla.wa])
}
