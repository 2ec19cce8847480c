package crmsync

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/infra/local/crmsim"
	"github.com/pytake/pytake/internal/crmconfig"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/event/eventtest"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/hubspot"
	"github.com/pytake/pytake/internal/queue"
	"github.com/pytake/pytake/internal/salesforce"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

const (
	org        = "org_01KCRMTEST0000000000000000"
	hsToken    = "pat-na1-test-token"
	hsSecret   = "test-hubspot-client-secret"
	sfClient   = "test-consumer-key"
	sfSecret   = "test-consumer-secret"
	portal     = "62515"
	hubspotARN = "arn:aws:sqs:us-east-1:123456789012:pytake-test-HubSpotQueue"
	sfARN      = "arn:aws:sqs:us-east-1:123456789012:pytake-test-SalesforceQueue"
)

// fakeSource is a queue: records from its ARN, delays recorded.
type fakeSource struct {
	arn    string
	mu     sync.Mutex
	delays []time.Duration
}

func (f *fakeSource) IsSource(arn string) bool { return arn == f.arn }
func (f *fakeSource) Delay(_ context.Context, _ string, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delays = append(f.delays, d)
	return nil
}

// fakeQueue keeps what the webhook queues.
type fakeQueue struct {
	mu   sync.Mutex
	msgs []queue.Message
}

func (q *fakeQueue) Send(_ context.Context, msgs ...queue.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, msgs...)
	return nil
}

type fixture struct {
	st      *store.Store
	sec     *secretstest.Store
	hs      *crmsim.HubSpot
	sf      *crmsim.Salesforce
	hsURL   string
	sfURL   string
	events  *eventtest.Recorder
	sync    *Syncer
	hsQueue *fakeSource
	sfQueue *fakeSource
	hookQ   *fakeQueue
	hook    *Hook
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	tbl := storetest.New(t)
	f := &fixture{st: store.New(tbl.Client, tbl.Name, time.Now), sec: secretstest.New(), events: &eventtest.Recorder{},
		hsQueue: &fakeSource{arn: hubspotARN}, sfQueue: &fakeSource{arn: sfARN}, hookQ: &fakeQueue{}}
	p, _ := strconv.ParseInt(portal, 10, 64)
	f.hs = crmsim.NewHubSpot(crmsim.HubSpotConfig{PortalID: p, AccessToken: hsToken, ClientSecret: hsSecret})
	hsSrv := httptest.NewServer(f.hs)
	t.Cleanup(hsSrv.Close)
	f.sf = crmsim.NewSalesforce(crmsim.SalesforceConfig{ClientID: sfClient, ClientSecret: sfSecret})
	sfSrv := httptest.NewServer(f.sf)
	t.Cleanup(sfSrv.Close)
	f.sf.SetURL(sfSrv.URL)
	f.hsURL, f.sfURL = hsSrv.URL, sfSrv.URL
	ctx := context.Background()
	_, _, err := crmconfig.Configure(ctx, f.st, f.sec, org, crmconfig.HubSpot,
		[]byte(`{"portal_id":"`+portal+`","access_token":"`+hsToken+`","client_secret":"`+hsSecret+`"}`), true)
	require.NoError(t, err)
	_, _, err = crmconfig.Configure(ctx, f.st, f.sec, org, crmconfig.Salesforce,
		[]byte(`{"login_url":"`+sfSrv.URL+`","client_id":"`+sfClient+`","client_secret":"`+sfSecret+`"}`), true)
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.sync = New(Deps{Store: f.st, Secrets: f.sec, HubSpot: hubspot.NewClient(hsSrv.URL, http.DefaultClient),
		Salesforce: salesforce.NewClient(http.DefaultClient, true), Events: f.events,
		HubSpotQueue: f.hsQueue, SalesforceQueue: f.sfQueue, Log: log})
	f.hook = &Hook{Store: f.st, Secrets: f.sec, Queue: f.hookQ, Log: log, Now: time.Now}
	return f
}

func (f *fixture) contact(t *testing.T, phone, name string) store.Contact {
	t.Helper()
	c, err := f.st.CreateContact(context.Background(), store.Contact{OrgID: org, WhatsAppID: phone, ProfileName: name}, nil)
	require.NoError(t, err)
	return c
}

// record wraps a body as an SQS record of a queue.
func record(arn string, body any) events.SQSMessage {
	b, _ := json.Marshal(body)
	return events.SQSMessage{MessageId: "m-" + strconv.Itoa(len(b)), ReceiptHandle: "rh", Body: string(b), EventSourceARN: arn}
}

func messageReceived(t *testing.T, c store.Contact) event.Event {
	t.Helper()
	ev, err := event.MessageEvent(event.MessageReceived, org, "wamid."+c.ID, time.Now(),
		store.Message{ID: "msg_1", Direction: store.Inbound, Type: "text", Content: json.RawMessage(`{"text":"oi"}`)},
		c, store.Conversation{ID: "cv_1", ContactID: c.ID})
	require.NoError(t, err)
	return ev
}

func (f *fixture) leads(t *testing.T) []crmsim.Record {
	t.Helper()
	rec := httptest.NewRecorder()
	f.sf.ServeHTTP(rec, httptest.NewRequest("GET", "/_sim/leads", nil))
	var out []crmsim.Record
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
	return out
}

func (f *fixture) simPost(t *testing.T, h http.Handler, path, body string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(body)))
	require.Less(t, rec.Code, 300, "%s: %s", path, rec.Body.String())
}

// TestLeadExactlyOnce: concurrent deliveries of the first messages and
// redeliveries create one Lead, with the guide's fields, whose id lands on
// the contact.
func TestLeadExactlyOnce(t *testing.T) {
	f := newFixture(t)
	c := f.contact(t, "5511999990001", "Maria da Silva")
	ev := messageReceived(t, c)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.sync.process(context.Background(), record(sfARN, ev))
		}()
	}
	wg.Wait()
	for i := 0; i < 3; i++ { // redeliveries after the lease of any loser
		f.sync.process(context.Background(), record(sfARN, ev))
	}
	leads := f.leads(t)
	require.Len(t, leads, 1)
	assert.Equal(t, map[string]any{"FirstName": "Maria", "LastName": "Silva", "Phone": "+5511999990001", "Company": "Unknown",
		"Status": "Open - Not Contacted", "LeadSource": "WhatsApp"}, leads[0].Fields)
	got, err := f.st.Contact(context.Background(), org, c.ID)
	require.NoError(t, err)
	assert.Equal(t, leads[0].ID, got.Attributes[AttrSalesforceLead])
	assert.Len(t, f.events.Distinct(event.CRMContactSynced), 1)
}

// TestLeadRecoveredAfterCrash: an attempt that created the Lead and died
// before recording it (its claim's lease ran out) is not repeated: the
// next attempt finds the Lead by phone.
func TestLeadRecoveredAfterCrash(t *testing.T) {
	f := newFixture(t)
	c := f.contact(t, "5511999990002", "João")
	ctx := context.Background()
	_, claimed, err := f.st.ClaimCRM(ctx, org, claimLead, c.ID, -time.Second, 0) // a crashed attempt, lease over
	require.NoError(t, err)
	require.True(t, claimed)
	cl := salesforce.NewClient(http.DefaultClient, true)
	id, err := cl.Create(ctx, salesforce.Credentials{LoginURL: f.sfURL, ClientID: sfClient, ClientSecret: sfSecret}, "Lead",
		LeadFields(event.ViewContact(c), crmconfig.LeadDefaults{Company: "Unknown", Status: "Open - Not Contacted", LeadSource: "WhatsApp"}))
	require.NoError(t, err)
	require.True(t, f.sync.process(ctx, record(sfARN, messageReceived(t, c))))
	require.Len(t, f.leads(t), 1)
	got, _ := f.st.Contact(ctx, org, c.ID)
	assert.Equal(t, id, got.Attributes[AttrSalesforceLead])
}

// TestLeadIDRecordedAfterCrash: an attempt that recorded the Lead on its
// claim and crashed (or failed to save the contact) before the contact got
// the id: the redelivery puts the id on the contact, without a second Lead.
func TestLeadIDRecordedAfterCrash(t *testing.T) {
	f := newFixture(t)
	c := f.contact(t, "5511999990011", "Tito")
	ctx := context.Background()
	_, claimed, err := f.st.ClaimCRM(ctx, org, claimLead, c.ID, Lease, 0)
	require.NoError(t, err)
	require.True(t, claimed)
	cl := salesforce.NewClient(http.DefaultClient, true)
	id, err := cl.Create(ctx, salesforce.Credentials{LoginURL: f.sfURL, ClientID: sfClient, ClientSecret: sfSecret}, "Lead",
		LeadFields(event.ViewContact(c), crmconfig.LeadDefaults{Company: "Unknown", Status: "Open - Not Contacted", LeadSource: "WhatsApp"}))
	require.NoError(t, err)
	require.NoError(t, f.st.FinishCRM(ctx, org, claimLead, c.ID, store.TriggerDone, id, ""))
	// The crash: the contact was never saved with the id.
	require.True(t, f.sync.process(ctx, record(sfARN, messageReceived(t, c))))
	require.Len(t, f.leads(t), 1)
	got, _ := f.st.Contact(ctx, org, c.ID)
	assert.Equal(t, id, got.Attributes[AttrSalesforceLead])
}

// TestLeadTimeoutNotRepeated: Salesforce creates the Lead after PyTake
// gave up waiting for its answer; a concurrent message from the same
// contact arriving meanwhile must not create a second one (the timed-out
// attempt keeps its claim until its lease ends, then the Lead is looked up).
func TestLeadTimeoutNotRepeated(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d := f.sync.Deps
	d.Salesforce = salesforce.NewClient(&http.Client{Timeout: 300 * time.Millisecond}, true)
	s := New(d)
	c := f.contact(t, "5511999990012", "Ivo")
	// Get a token first, so only the Lead's create is slow.
	_, err := d.Salesforce.Token(ctx, salesforce.Credentials{LoginURL: f.sfURL, ClientID: sfClient, ClientSecret: sfSecret})
	require.NoError(t, err)
	f.simPost(t, f.sf, "/_sim/settings", `{"delay_ms":800}`)
	require.False(t, s.process(ctx, record(sfARN, messageReceived(t, c))), "the timed-out create is retried")
	f.simPost(t, f.sf, "/_sim/settings", `{"delay_ms":0}`)
	// A second message.received of the same contact, while Salesforce is still creating the first Lead.
	require.False(t, s.process(ctx, record(sfARN, messageReceived(t, c))), "waits for the first attempt's lease")
	time.Sleep(time.Second)
	assert.Len(t, f.leads(t), 1)
}

// TestSalesforceErrors: errors that would fail again are recorded on the
// contact and reported once, never retried; the request limit is retried
// later; an expired token is renewed.
func TestSalesforceErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("required field missing is recorded, not retried", func(t *testing.T) {
		f := newFixture(t)
		c := f.contact(t, "5511999990003", "Ana")
		f.simPost(t, f.sf, "/_sim/faults", `{"status":400,"code":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [Company]","count":1}`)
		ev := messageReceived(t, c)
		require.True(t, f.sync.process(ctx, record(sfARN, ev)), "a terminal error is not retried")
		got, _ := f.st.Contact(ctx, org, c.ID)
		sfErr, _ := got.Attributes[AttrSalesforceError].(map[string]any)
		require.NotNil(t, sfErr, "attributes %v", got.Attributes)
		assert.Equal(t, "REQUIRED_FIELD_MISSING", sfErr["code"])
		require.Len(t, f.events.Named(event.CRMSyncFailed), 1)
		// Redelivered: the failure stands, Salesforce is not called again.
		require.True(t, f.sync.process(ctx, record(sfARN, ev)))
		assert.Empty(t, f.leads(t))
		assert.Len(t, f.events.Named(event.CRMSyncFailed), 1)
	})
	t.Run("duplicates rule", func(t *testing.T) {
		f := newFixture(t)
		f.simPost(t, f.sf, "/_sim/settings", `{"duplicates":true}`)
		a := f.contact(t, "5511999990004", "Rui")
		require.True(t, f.sync.process(ctx, record(sfARN, messageReceived(t, a))))
		// Another contact with the same Lead phone cannot exist in PyTake; simulate the CRM's own duplicate.
		b := f.contact(t, "5511999990005", "Rui Dois")
		cl := salesforce.NewClient(http.DefaultClient, true)
		_, err := cl.Create(ctx, salesforce.Credentials{LoginURL: f.sfURL, ClientID: sfClient, ClientSecret: sfSecret}, "Lead",
			map[string]any{"LastName": "X", "Company": "Y", "Phone": "+5511999990005"})
		require.NoError(t, err)
		require.True(t, f.sync.process(ctx, record(sfARN, messageReceived(t, b))))
		got, _ := f.st.Contact(ctx, org, b.ID)
		assert.Equal(t, "DUPLICATES_DETECTED", got.Attributes[AttrSalesforceError].(map[string]any)["code"])
		assert.Nil(t, got.Attributes[AttrSalesforceLead])
	})
	t.Run("request limit is retried later", func(t *testing.T) {
		f := newFixture(t)
		c := f.contact(t, "5511999990006", "Lia")
		f.simPost(t, f.sf, "/_sim/faults", `{"status":403,"code":"REQUEST_LIMIT_EXCEEDED","count":1}`)
		ev := messageReceived(t, c)
		require.False(t, f.sync.process(ctx, record(sfARN, ev)), "retried")
		require.Equal(t, []time.Duration{15 * time.Minute}, f.sfQueue.delays)
		assert.Empty(t, f.events.Named(event.CRMSyncFailed), "a retried failure is not reported")
		require.True(t, f.sync.process(ctx, record(sfARN, ev)))
		assert.Len(t, f.leads(t), 1)
	})
	t.Run("refused credentials mark the integration, the Lead waits for new ones", func(t *testing.T) {
		f := newFixture(t)
		_, _, err := crmconfig.Configure(ctx, f.st, f.sec, org, crmconfig.Salesforce,
			[]byte(`{"login_url":"`+f.sfURL+`","client_id":"`+sfClient+`","client_secret":"a-wrong-secret"}`), true)
		require.NoError(t, err)
		c := f.contact(t, "5511999990009", "Davi")
		ev := messageReceived(t, c)
		require.True(t, f.sync.process(ctx, record(sfARN, ev)))
		st, sec, err := crmconfig.Get(ctx, f.st, f.sec, org, crmconfig.Salesforce)
		require.NoError(t, err)
		v := crmconfig.NewView(st, sec, "")
		assert.Equal(t, "unhealthy", v.Health.Status)
		assert.Contains(t, v.Health.Reason, "invalid_client")
		assert.NotContains(t, v.Health.Reason, "a-wrong-secret")
		got, _ := f.st.Contact(ctx, org, c.ID)
		assert.Nil(t, got.Attributes[AttrSalesforceError], "not the contact's fault")
		_, _, err = crmconfig.Configure(ctx, f.st, f.sec, org, crmconfig.Salesforce,
			[]byte(`{"login_url":"`+f.sfURL+`","client_id":"`+sfClient+`","client_secret":"`+sfSecret+`"}`), true)
		require.NoError(t, err)
		require.True(t, f.sync.process(ctx, record(sfARN, ev)))
		assert.Len(t, f.leads(t), 1)
	})
	t.Run("expired token is renewed", func(t *testing.T) {
		f := newFixture(t)
		a := f.contact(t, "5511999990007", "Bia")
		require.True(t, f.sync.process(ctx, record(sfARN, messageReceived(t, a))))
		f.simPost(t, f.sf, "/_sim/expire", ``)
		b := f.contact(t, "5511999990008", "Caio")
		require.True(t, f.sync.process(ctx, record(sfARN, messageReceived(t, b))))
		assert.Len(t, f.leads(t), 2)
		rec := httptest.NewRecorder()
		f.sf.ServeHTTP(rec, httptest.NewRequest("GET", "/_sim/stats", nil))
		assert.Contains(t, rec.Body.String(), `"token_calls":2`, "one token, then a new one after INVALID_SESSION_ID")
	})
}

func signedRequest(t *testing.T, body []byte, secret string, at time.Time) *httpapi.Request {
	t.Helper()
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	uri := "https://api.example.com/webhooks/hubspot"
	h := map[string]string{"host": "api.example.com", "x-forwarded-proto": "https", "content-type": "application/json",
		"x-hubspot-request-timestamp": ts, "x-hubspot-signature-v3": hubspot.SignV3(secret, "POST", uri, body, ts)}
	return apiRequest(body, h)
}

func apiRequest(body []byte, h map[string]string) *httpapi.Request {
	return &httpapi.Request{Body: body, Event: &events.APIGatewayV2HTTPRequest{RawPath: "/webhooks/hubspot", Headers: h,
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}}}}
}

func (f *fixture) serve(t *testing.T, r *httpapi.Request) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := f.hook.Router().Serve(context.Background(), *r.Event)
	require.NoError(t, err)
	return resp
}

func withBody(r *httpapi.Request) *httpapi.Request {
	r.Event.Body = string(r.Body)
	return r
}

// TestHubSpotWebhook: a signed batch is queued; unsigned, stale, forged or
// foreign batches are refused and nothing is queued.
func TestHubSpotWebhook(t *testing.T) {
	f := newFixture(t)
	body := []byte(`[{"eventId":1,"subscriptionId":2,"portalId":` + portal + `,"occurredAt":1796040000000,"subscriptionType":"contact.creation","objectId":1001}]`)
	now := time.Now()
	for _, tc := range []struct {
		name   string
		req    *httpapi.Request
		status int
	}{
		{"unsigned", apiRequest(body, map[string]string{"host": "api.example.com"}), 401},
		{"stale", signedRequest(t, body, hsSecret, now.Add(-6*time.Minute)), 401},
		{"other secret", signedRequest(t, body, "not-the-secret", now), 401},
		{"unknown portal", signedRequest(t, []byte(strings.Replace(string(body), portal, "999", 1)), hsSecret, now), 404},
		{"not a batch", signedRequest(t, []byte(`{"portalId":62515}`), hsSecret, now), 400},
		{"empty batch", signedRequest(t, []byte(`[]`), hsSecret, now), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.serve(t, withBody(tc.req))
			assert.Equal(t, tc.status, resp.StatusCode, resp.Body)
			assert.Empty(t, f.hookQ.msgs)
		})
	}
	// Another organisation's portal in the same batch, signed with this one's secret: all refused.
	_, _, err := crmconfig.Configure(context.Background(), f.st, f.sec, "org_other", crmconfig.HubSpot,
		[]byte(`{"portal_id":"777","access_token":"pat-na1-other","client_secret":"other-client-secret"}`), true)
	require.NoError(t, err)
	mixed := []byte(strings.TrimSuffix(string(body), "]") + `,{"eventId":2,"subscriptionId":2,"portalId":777,"occurredAt":1796040000000,"subscriptionType":"contact.creation","objectId":5}]`)
	resp := f.serve(t, withBody(signedRequest(t, mixed, hsSecret, now)))
	assert.Equal(t, 401, resp.StatusCode, resp.Body)
	assert.Empty(t, f.hookQ.msgs)
	resp = f.serve(t, withBody(signedRequest(t, body, hsSecret, now)))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	require.Len(t, f.hookQ.msgs, 1)
	assert.Equal(t, org, f.hookQ.msgs[0].Body.(Job).OrgID)
}

// TestHubSpotInbound: a HubSpot contact becomes one PyTake contact with
// attributes.hubspot_id however often its event comes; 429 waits for
// Retry-After; a revoked token marks the integration unhealthy.
func TestHubSpotInbound(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := httptest.NewRecorder()
	f.hs.ServeHTTP(rec, httptest.NewRequest("POST", "/_sim/contacts",
		strings.NewReader(`{"properties":{"firstname":"Lu","lastname":"Reis","phone":"+55 (11) 98888-0001","email":"lu@example.com"},"notify":false}`)))
	var created struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &created))
	id, _ := strconv.ParseInt(created.ID, 10, 64)
	p, _ := strconv.ParseInt(portal, 10, 64)
	ev := hubspot.Event{EventID: 7, SubscriptionID: 2, PortalID: p, OccurredAt: 1796040000000, SubscriptionType: hubspot.ContactCreation, ObjectID: id}
	job := Job{OrgID: org, HubSpot: &ev}
	// HubSpot is rate limiting: the job waits for Retry-After.
	f.simPost(t, f.hs, "/_sim/faults", `{"status":429,"retry_after":"7","count":1}`)
	require.False(t, f.sync.process(ctx, record(hubspotARN, job)))
	require.Equal(t, []time.Duration{7 * time.Second}, f.hsQueue.delays)
	for i := 0; i < 3; i++ {
		require.True(t, f.sync.process(ctx, record(hubspotARN, job)))
	}
	page, err := f.st.Contacts(ctx, org, "", "5511988880001", "", 10)
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, created.ID, page.Items[0].Attributes[AttrHubSpotID])
	assert.Equal(t, "Lu Reis", page.Items[0].Name)
	assert.Len(t, f.events.Named(event.ContactCreated), 1)
	assert.Len(t, f.events.Named(event.CRMContactSynced), 1)

	// A contact without a usable phone is skipped with the reason.
	rec = httptest.NewRecorder()
	f.hs.ServeHTTP(rec, httptest.NewRequest("POST", "/_sim/contacts", strings.NewReader(`{"properties":{"firstname":"Sem","phone":"12345"},"notify":false}`)))
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &created))
	id2, _ := strconv.ParseInt(created.ID, 10, 64)
	ev2 := ev
	ev2.EventID, ev2.ObjectID = 8, id2
	require.True(t, f.sync.process(ctx, record(hubspotARN, Job{OrgID: org, HubSpot: &ev2})))
	failed := f.events.Named(event.CRMSyncFailed)
	require.Len(t, failed, 1)
	assert.Contains(t, string(failed[0].Data), `"code":"no_phone"`)

	// The token is revoked: the integration says so on GET.
	f.simPost(t, f.hs, "/_sim/revoke", ``)
	ev3 := ev
	ev3.EventID, ev3.SubscriptionType, ev3.PropertyName = 9, hubspot.ContactPropertyChange, "email"
	require.True(t, f.sync.process(ctx, record(hubspotARN, Job{OrgID: org, HubSpot: &ev3})))
	st, sec, err := crmconfig.Get(ctx, f.st, f.sec, org, crmconfig.HubSpot)
	require.NoError(t, err)
	v := crmconfig.NewView(st, sec, "")
	assert.Equal(t, "unhealthy", v.Health.Status)
	assert.Contains(t, v.Health.Reason, "access token")
	// Configured again: healthy.
	st2, sec2, err := crmconfig.Configure(ctx, f.st, f.sec, org, crmconfig.HubSpot, []byte(`{"portal_id":"`+portal+`","access_token":"pat-na1-new-token"}`), true)
	require.NoError(t, err)
	assert.Equal(t, "healthy", crmconfig.NewView(st2, sec2, "").Health.Status)
}

// TestOutageBacksOff: a CRM that keeps failing with retryable errors is
// retried further and further apart, so its queue's 20 receives span hours
// of outage instead of minutes before the dead-letter queue.
func TestOutageBacksOff(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	c := f.contact(t, "5511999990010", "Leo")
	f.simPost(t, f.sf, "/_sim/faults", `{"status":503,"code":"SERVER_UNAVAILABLE","message":"down","count":100}`)
	ev := messageReceived(t, c)
	var total time.Duration
	for n := 1; n <= 20; n++ {
		rec := record(sfARN, ev)
		rec.Attributes = map[string]string{"ApproximateReceiveCount": strconv.Itoa(n)}
		require.False(t, f.sync.process(ctx, rec), "receive %d is retried", n)
	}
	require.Len(t, f.sfQueue.delays, 20)
	assert.Equal(t, 30*time.Second, f.sfQueue.delays[0], "the first retry is soon")
	for i := 1; i < len(f.sfQueue.delays); i++ {
		assert.GreaterOrEqual(t, f.sfQueue.delays[i], f.sfQueue.delays[i-1], "receive %d", i+1)
		assert.LessOrEqual(t, f.sfQueue.delays[i], maxBackoff)
	}
	for _, d := range f.sfQueue.delays {
		total += d
	}
	assert.GreaterOrEqual(t, total, 6*time.Hour, "20 receives span an outage of hours")
	assert.Empty(t, f.leads(t))
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		name  string
		asked time.Duration
		n     int
		want  time.Duration
	}{
		{"no receive count (not from SQS)", 30 * time.Second, 0, 30 * time.Second},
		{"first receive: what was asked", 7 * time.Second, 1, 7 * time.Second},
		{"third receive doubles twice", 30 * time.Second, 3, 2 * time.Minute},
		{"capped", 30 * time.Second, 20, maxBackoff},
		{"a longer wait asked for is kept", 2 * time.Hour, 5, 2 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, backoff(tc.asked, tc.n))
		})
	}
}
