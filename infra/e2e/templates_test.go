//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/internal/dispatch"
)

// The template life cycle through the stack: a template created through
// /v1/templates reaches the simulator (Meta), its APPROVED webhook arrives
// signed after the review delay and becomes template.status_updated at a
// subscriber; a send with the wrong parameter count is refused before it
// reaches Meta, the right one goes out; an uploaded image's id is sent; a
// read receipt with the typing indicator reaches Meta.
func TestTemplateLifeCycle(t *testing.T) {
	org, acct, _ := connectedOrg(t, "Templates Co", 4)
	key := org.APIKey.Key
	sub := newSubscriber(t)
	hook, _ := json.Marshal(map[string]any{"name": "templates", "url": sub.url, "events": []string{"template.status_updated"}})
	r := do(t, "POST", "/v1/webhooks", key, hook)
	require.Equal(t, 201, r.Status, "subscribe: %s", r.Body)
	var w struct{ Secret string }
	r.json(t, &w)
	sub.mu.Lock()
	sub.secret = w.Secret
	sub.mu.Unlock()
	time.Sleep(dispatch.HookCacheTTL + 200*time.Millisecond) // see subscribe

	// The first sync: the WABA has no templates yet; from now on template
	// sends are checked against PyTake's copy.
	r = do(t, "POST", "/v1/templates/sync", key, nil)
	require.Equal(t, 200, r.Status, "sync: %s", r.Body)
	require.Contains(t, string(r.Body), `"count":0`)

	tpl := `{"name":"e2e_order","language":"pt_BR","category":"UTILITY","components":[
	  {"type":"BODY","text":"Olá! Seu pedido {{1}} de {{2}} foi confirmado.","example":{"body_text":[["1001","R$ 150,00"]]}},
	  {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Falar com atendente"}]}]}`
	r = do(t, "POST", "/v1/templates", key, []byte(tpl))
	require.Equal(t, 201, r.Status, "create: %s", r.Body)
	var created struct{ ID, Status string }
	r.json(t, &created)
	require.Equal(t, "PENDING", created.Status)
	atMeta := st.Sim.Templates(acct.WABAID)
	require.Len(t, atMeta, 1, "the template at the simulator")
	require.Equal(t, created.ID, atMeta[0].ID)

	// Meta's review: the signed APPROVED webhook becomes the event.
	got := sub.wait(t, 1, 60*time.Second)
	require.NoError(t, got[0].verified, "signature")
	var ev struct {
		Event string `json:"event"`
		Data  struct {
			Template       struct{ ID, Name, Status string } `json:"template"`
			PreviousStatus string                            `json:"previous_status"`
			Source         string                            `json:"source"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(got[0].body, &ev))
	require.Equal(t, "template.status_updated", ev.Event)
	require.Equal(t, "e2e_order", ev.Data.Template.Name)
	require.Equal(t, "APPROVED", ev.Data.Template.Status)
	require.Equal(t, "PENDING", ev.Data.PreviousStatus)
	require.Equal(t, "webhook", ev.Data.Source)
	r = do(t, "GET", "/v1/templates/e2e_order", key, nil)
	require.Equal(t, 200, r.Status, "%s", r.Body)
	require.Contains(t, string(r.Body), `"status":"APPROVED"`)

	// Meta's account webhooks, on request at the simulator: the connection's
	// signals change and whatsapp.quality_updated is emitted.
	ev2, _ := json.Marshal(graphsim.SignalEvent{PhoneNumberID: acct.PhoneNumberID, Field: "phone_number_quality_update",
		Value: json.RawMessage(`{"display_phone_number":"` + acct.DisplayPhoneNumber + `","event":"THROUGHPUT_UPGRADE","max_daily_conversations_per_business":"TIER_10K"}`)})
	resp, err := http.Post(st.GraphURL+"/_sim/account-event", "application/json", bytes.NewReader(ev2))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, "account event: %s", b)
	r = do(t, "GET", "/v1/settings/whatsapp", key, nil)
	require.Equal(t, 200, r.Status, "%s", r.Body)
	require.Contains(t, string(r.Body), `"throughput_level":"HIGH"`)
	require.Contains(t, string(r.Body), `"messaging_limit_tier":"TIER_10K"`)

	// The wrong parameter count never reaches Meta; the right one does.
	const to = "5511944440004"
	send := func(params string) response {
		return do(t, "POST", "/v1/messages", key, []byte(`{"to":"+`+to+`","type":"template","template":{"name":"e2e_order",
		  "language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[`+params+`]}]}}`))
	}
	r = send(`{"type":"text","text":"1001"}`)
	require.Equal(t, 422, r.Status, "%s", r.Body)
	require.Equal(t, "template_parameter_mismatch", r.errorCode(t))
	require.Contains(t, string(r.Body), "the body expects 2 parameters, not 1")
	r = send(`{"type":"text","text":"1001"},{"type":"text","text":"R$ 150,00"}`)
	require.Equal(t, 202, r.Status, "%s", r.Body)
	sent := sentTo(t, to, 1, 30*time.Second)
	require.Len(t, sent, 1, "only the right send reached the simulator")
	require.Equal(t, "template", sent[0].Type)
	require.Contains(t, string(sent[0].Body), `"name":"e2e_order"`)

	// An uploaded image is sent by its id (inside the customer's window).
	const customer = "5511944440014"
	customerWrites(t, acct, customer)
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, 32)...)
	r = do(t, "POST", "/v1/media?filename=nota.png", key, png, "Content-Type", "image/png")
	require.Equal(t, 201, r.Status, "upload: %s", r.Body)
	var up struct{ ID string }
	r.json(t, &up)
	require.NotEmpty(t, up.ID)
	r = do(t, "POST", "/v1/messages", key, []byte(`{"to":"+`+customer+`","type":"image","image":{"id":"`+up.ID+`","caption":"Seu comprovante"}}`))
	require.Equal(t, 202, r.Status, "send the image: %s", r.Body)
	img := sentTo(t, customer, 1, 30*time.Second)
	require.Equal(t, "image", img[0].Type)
	require.Contains(t, string(img[0].Body), `"id":"`+up.ID+`"`)

	// The customer's message is marked read, with the typing indicator.
	inbound := inboundMessageOf(t, key, customer)
	r = do(t, "POST", "/v1/messages/"+inbound+"/read", key, []byte(`{"typing":true}`))
	require.Equal(t, 200, r.Status, "read: %s", r.Body)
	var found *graphsim.Read
	for _, rd := range st.Sim.Reads() {
		if rd.PhoneNumberID == acct.PhoneNumberID {
			found = &rd
		}
	}
	require.NotNil(t, found, "the read receipt reached the simulator")
	require.True(t, found.Typing)
	require.True(t, strings.HasPrefix(found.WAMID, "wamid."), "read %+v", found)
}

// inboundMessageOf finds the id of the last message a customer sent.
func inboundMessageOf(t *testing.T, key, customer string) string {
	t.Helper()
	var id string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		r := do(c, "GET", "/v1/conversations?limit=100", key, nil)
		var convs struct {
			Data []struct {
				ID        string `json:"id"`
				ContactID string `json:"contact_id"`
			} `json:"data"`
		}
		r.json(c, &convs)
		for _, cv := range convs.Data {
			r := do(c, "GET", "/v1/conversations/"+cv.ID+"/messages?limit=100", key, nil)
			var msgs struct {
				Data []struct{ ID, Direction, Type string } `json:"data"`
			}
			r.json(c, &msgs)
			for _, m := range msgs.Data {
				if m.Direction == "inbound" {
					id = m.ID
				}
			}
		}
		assert.NotEmpty(c, id, "the customer's message")
	}, 30*time.Second, 200*time.Millisecond)
	return id
}
