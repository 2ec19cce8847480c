//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/graphsim"
	"github.com/pytake/pytake/infra/local/stack"
	"github.com/pytake/pytake/internal/hubspot"
)

// contactsWith lists the demo organisation's contacts of a number (0 or 1).
func contactsWith(t tester, phone string) []map[string]any {
	t.Helper()
	r := do(t, "GET", "/v1/contacts?whatsapp_id=%2B"+phone, demo.APIKey.Key, nil)
	var page struct {
		Data []map[string]any `json:"data"`
	}
	r.json(t, &page)
	return page.Data
}

// TestHubSpotContactCreation: a signed contact.creation batch creates the
// PyTake contact with attributes.hubspot_id once, even delivered twice; an
// unsigned or stale batch is refused with 401 and nothing is stored.
func TestHubSpotContactCreation(t *testing.T) {
	env := st.DemoEnv(demo)
	require.Equal(t, st.URL+"/webhooks/hubspot", env["HUBSPOT_WEBHOOK_URL"], "demo.env")
	require.Equal(t, stack.DemoHubSpotSecret, env["HUBSPOT_CLIENT_SECRET"], "demo.env")
	require.Equal(t, stack.DemoHubSpotPortal, env["HUBSPOT_PORTAL_ID"], "demo.env")
	r := do(t, "GET", "/v1/integrations/hubspot", demo.APIKey.Key, nil)
	require.Equal(t, 200, r.Status, "settings: %s", r.Body)
	require.NotContains(t, string(r.Body), stack.DemoHubSpotSecret)
	require.NotContains(t, string(r.Body), stack.DemoHubSpotToken)
	require.Contains(t, string(r.Body), `"status":"healthy"`)

	const phone = "5511933330001"
	sim := st.HubSpotSim
	// The contact exists in HubSpot; its webhook is delivered unsigned, stale, then signed twice.
	c := map[string]any{"properties": map[string]string{"firstname": "Beatriz", "lastname": "Souza", "phone": "+55 11 93333-0001", "email": "bia@example.com"}, "notify": false}
	body, _ := json.Marshal(c)
	resp, err := httpPost(sim, "/_sim/contacts", body)
	require.NoError(t, err)
	id, _ := strconv.ParseInt(resp["id"].(string), 10, 64)
	batch := []hubspot.Event{sim.Event(hubspot.ContactCreation, id, "", "")}
	for _, sign := range []string{"none", "stale"} {
		status, b, err := sim.Deliver(batch, sign)
		require.NoError(t, err)
		require.Equal(t, 401, status, "%s: %s", sign, b)
	}
	time.Sleep(time.Second)
	require.Empty(t, contactsWith(t, phone), "a refused batch stored a contact")
	for i := 0; i < 2; i++ {
		status, b, err := sim.Deliver(batch, "v3")
		require.NoError(t, err)
		require.Equal(t, 200, status, "signed: %s", b)
	}
	var ct map[string]any
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		list := contactsWith(c, phone)
		if assert.Len(c, list, 1) {
			ct = list[0]
			assert.Equal(c, strconv.FormatInt(id, 10), ct["attributes"].(map[string]any)["hubspot_id"])
		}
	}, 60*time.Second, 200*time.Millisecond)
	assert.Equal(t, "Beatriz Souza", ct["name"])
	assert.Equal(t, "bia@example.com", ct["email"])
	// A v2-signed change of the same contact is also accepted; still one contact.
	status, b, err := sim.Deliver([]hubspot.Event{sim.Event(hubspot.ContactPropertyChange, id, "email", "bia@example.com")}, "v2")
	require.NoError(t, err)
	require.Equal(t, 200, status, "v2: %s", b)
	time.Sleep(2 * time.Second)
	require.Len(t, contactsWith(t, phone), 1)
}

// TestSalesforceLeadOnFirstMessage: a customer's first WhatsApp messages
// (several, at once) create exactly one Lead with the guide's fields, and
// its id lands on the contact; resolving the conversation logs a Task on
// the Lead and a note on the HubSpot contact.
func TestSalesforceLeadOnFirstMessage(t *testing.T) {
	const phone = "5511933330002"
	ctx := context.Background()
	done := make(chan error, 3)
	for i := 0; i < 3; i++ {
		go func(i int) {
			_, status, err := st.Sim.Inbound(ctx, graphsim.Inbound{From: phone, Name: "Carlos Alberto Lima", Text: "Olá " + strconv.Itoa(i)})
			if err == nil && status != 200 {
				err = assert.AnError
			}
			done <- err
		}(i)
	}
	for i := 0; i < 3; i++ {
		require.NoError(t, <-done)
	}
	var leadID string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		list := contactsWith(c, phone)
		if assert.Len(c, list, 1) {
			leadID, _ = list[0]["attributes"].(map[string]any)["salesforce_lead_id"].(string)
			assert.NotEmpty(c, leadID, "salesforce_lead_id: %v", list[0]["attributes"])
		}
	}, 60*time.Second, 200*time.Millisecond)
	var leads []map[string]any
	for _, l := range simList(t, st.SalesforceSim, "/_sim/leads") {
		if l["fields"].(map[string]any)["Phone"] == "+"+phone {
			leads = append(leads, l)
		}
	}
	require.Len(t, leads, 1, "Leads for the number")
	assert.Equal(t, leadID, leads[0]["id"])
	assert.Equal(t, map[string]any{"FirstName": "Carlos", "LastName": "Lima", "Phone": "+" + phone, "Company": "Unknown",
		"Status": "Open - Not Contacted", "LeadSource": "WhatsApp"}, leads[0]["fields"])

	// Resolve the conversation: a Task on the Lead, a note in HubSpot.
	r := do(t, "GET", "/v1/conversations?contact_id="+contactsWith(t, phone)[0]["id"].(string), demo.APIKey.Key, nil)
	var convs struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	r.json(t, &convs)
	require.NotEmpty(t, convs.Data, "conversations: %s", r.Body)
	r = do(t, "PATCH", "/v1/conversations/"+convs.Data[0].ID, demo.APIKey.Key, []byte(`{"status":"resolved","satisfaction":5}`))
	require.Equal(t, 200, r.Status, "resolve: %s", r.Body)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		n := 0
		for _, tk := range simList(c, st.SalesforceSim, "/_sim/tasks") {
			f := tk["fields"].(map[string]any)
			if f["WhoId"] == leadID {
				n++
				assert.Equal(c, "Completed", f["Status"])
				assert.Contains(c, f["Description"], "Messages: 3")
				assert.Contains(c, f["Description"], "Satisfaction: 5/5")
			}
		}
		assert.Equal(c, 1, n, "Tasks on the Lead")
	}, 60*time.Second, 200*time.Millisecond)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		hubID, _ := contactsWith(c, phone)[0]["attributes"].(map[string]any)["hubspot_id"].(string)
		if !assert.NotEmpty(c, hubID, "the contact was pushed to HubSpot") {
			return
		}
		n := 0
		for _, nt := range simList(c, st.HubSpotSim, "/_sim/notes") {
			if nt["contact_id"] == hubID {
				n++
				assert.Contains(c, nt["hs_note_body"], "Satisfaction: 5/5")
				assert.EqualValues(c, hubspot.NoteToContact, nt["association_type_id"])
			}
		}
		assert.Equal(c, 1, n, "notes on the HubSpot contact")
	}, 60*time.Second, 200*time.Millisecond)
}

type handler interface {
	ServeHTTP(w http.ResponseWriter, r *http.Request)
}

// httpPost calls a simulator's control surface in process.
func httpPost(h handler, path string, body []byte) (map[string]any, error) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", path, bytes.NewReader(body)))
	var out map[string]any
	err := json.Unmarshal(rec.Body.Bytes(), &out)
	return out, err
}

func simList(t tester, h handler, path string) []map[string]any {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	var out []map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), "%s", rec.Body.Bytes())
	return out
}

// TestSlowSalesforceDoesNotDelayWebhooks: while Salesforce takes longer
// than the sync waits (its calls time out), an integrator's webhook still
// gets message.received at once; once Salesforce answers again, the
// contact has exactly one Lead (the timed-out create that Salesforce
// finished anyway is found, not repeated).
func TestSlowSalesforceDoesNotDelayWebhooks(t *testing.T) {
	const phone = "5511933330003"
	set := func(body string) {
		rec := httptest.NewRecorder()
		st.SalesforceSim.ServeHTTP(rec, httptest.NewRequest("POST", "/_sim/settings", strings.NewReader(body)))
		require.Equal(t, 204, rec.Code, rec.Body.String())
	}
	set(`{"delay_ms":25000}`)
	t.Cleanup(func() { set(`{"delay_ms":0}`) })
	sub := newSubscriber(t)
	subscribe(t, sub, "message.received")
	_, status, err := st.Sim.Inbound(context.Background(), graphsim.Inbound{From: phone, Name: "Sofia Prado", Text: "Salesforce lento"})
	require.NoError(t, err)
	require.Equal(t, 200, status)
	got := sub.wait(t, 1, 30*time.Second)
	require.Contains(t, string(got[0].body), "Salesforce lento")
	for _, l := range simList(t, st.SalesforceSim, "/_sim/leads") {
		require.NotEqual(t, "+"+phone, l["fields"].(map[string]any)["Phone"], "the Lead came first: the webhook waited for Salesforce")
	}
	set(`{"delay_ms":0}`)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		list := contactsWith(c, phone)
		if assert.Len(c, list, 1) {
			assert.NotEmpty(c, list[0]["attributes"].(map[string]any)["salesforce_lead_id"])
		}
		// The timed-out create keeps its claim to its lease (2 minutes):
		// the retry after it finds the Lead Salesforce made meanwhile.
	}, 200*time.Second, 500*time.Millisecond)
	time.Sleep(2 * time.Second)
	n := 0
	for _, l := range simList(t, st.SalesforceSim, "/_sim/leads") {
		if l["fields"].(map[string]any)["Phone"] == "+"+phone {
			n++
		}
	}
	require.Equal(t, 1, n, "Leads for the number")
}
