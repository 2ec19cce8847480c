package crmconfig

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, platform, body string
		loopback             bool
		fields               []string // the fields a 422 names; nil: valid
	}{
		{"hubspot", HubSpot, `{"portal_id":"62515","access_token":"pat-na1-xxxx","client_secret":"secret-123"}`, false, nil},
		{"hubspot sync off", HubSpot, `{"portal_id":"62515","sync":{"notes":false}}`, false, nil},
		{"hubspot portal not digits", HubSpot, `{"portal_id":"abc"}`, false, []string{"portal_id"}},
		{"hubspot portal missing", HubSpot, `{}`, false, []string{"portal_id"}},
		{"hubspot token with spaces", HubSpot, `{"portal_id":"1","access_token":"a b c d e f g h"}`, false, []string{"access_token"}},
		{"hubspot unknown field", HubSpot, `{"portal_id":"1","sync":{"deals":true}}`, false, []string{"sync.deals"}},
		{"hubspot salesforce field", HubSpot, `{"portal_id":"1","login_url":"https://x.my.salesforce.com"}`, false, []string{"login_url"}},
		{"salesforce", Salesforce, `{"login_url":"https://acme.my.salesforce.com/","client_id":"3MVG9abc","client_secret":"s3cret-value"}`, false, nil},
		{"salesforce lead defaults", Salesforce, `{"login_url":"https://acme.my.salesforce.com","client_id":"k","lead":{"company":"ACME"},"tasks":false}`, false, nil},
		{"salesforce http", Salesforce, `{"login_url":"http://acme.my.salesforce.com","client_id":"k"}`, false, []string{"login_url"}},
		{"salesforce other host", Salesforce, `{"login_url":"https://169.254.169.254","client_id":"k"}`, false, []string{"login_url"}},
		{"salesforce look-alike host", Salesforce, `{"login_url":"https://evil-salesforce.com","client_id":"k"}`, false, []string{"login_url"}},
		{"salesforce path", Salesforce, `{"login_url":"https://acme.my.salesforce.com/services/x","client_id":"k"}`, false, []string{"login_url"}},
		{"salesforce loopback refused", Salesforce, `{"login_url":"http://127.0.0.1:9000","client_id":"k"}`, false, []string{"login_url"}},
		{"salesforce loopback locally", Salesforce, `{"login_url":"http://127.0.0.1:9000","client_id":"k"}`, true, nil},
		{"salesforce missing", Salesforce, `{}`, false, []string{"client_id", "login_url"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse(tc.platform, []byte(tc.body), tc.loopback)
			if tc.fields == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ElementsMatch(t, tc.fields, apperr.Fields(err))
		})
	}
}

func TestParseDefaults(t *testing.T) {
	s, _, err := Parse(Salesforce, []byte(`{"login_url":"https://acme.my.salesforce.com","client_id":"k","lead":{"status":"Working"}}`), false)
	require.NoError(t, err)
	assert.Equal(t, LeadDefaults{Company: "Unknown", Status: "Working", LeadSource: "WhatsApp"}, *s.Lead)
	assert.True(t, *s.Tasks)
	h, _, err := Parse(HubSpot, []byte(`{"portal_id":"1","sync":{"push_contacts":false}}`), false)
	require.NoError(t, err)
	assert.Equal(t, HubSpotSync{Contacts: true, PushContacts: false, Notes: true}, *h.Sync)
}

// TestConfigure: credentials required the first time, kept later, never
// shown; a portal belongs to one organisation.
func TestConfigure(t *testing.T) {
	ctx := context.Background()
	tbl := storetest.New(t)
	st := store.New(tbl.Client, tbl.Name, nil)
	sec := secretstest.New()
	_, _, err := Configure(ctx, st, sec, "org_a", HubSpot, []byte(`{"portal_id":"100"}`), false)
	assert.ElementsMatch(t, []string{"access_token", "client_secret"}, apperr.Fields(err))
	_, _, err = Configure(ctx, st, sec, "org_a", HubSpot, []byte(`{"portal_id":"100","access_token":"pat-na1-aaaa-bbbb","client_secret":"client-secret-1"}`), false)
	require.NoError(t, err)
	s, secret, err := Configure(ctx, st, sec, "org_a", HubSpot, []byte(`{"portal_id":"100","sync":{"notes":false}}`), false)
	require.NoError(t, err)
	assert.Equal(t, "pat-na1-aaaa-bbbb", secret.AccessToken, "kept when left out")
	v := NewView(s, secret, "https://api.example.com")
	assert.Equal(t, "********bbbb", v.AccessToken)
	assert.Equal(t, "********et-1", v.ClientSecret)
	assert.Equal(t, "https://api.example.com/webhooks/hubspot", v.WebhookURL)
	_, _, err = Configure(ctx, st, sec, "org_b", HubSpot, []byte(`{"portal_id":"100","access_token":"pat-na1-cccc","client_secret":"client-secret-2"}`), false)
	assert.True(t, apperr.Is(err, apperr.Conflict), "%v", err)
	require.NoError(t, Delete(ctx, st, sec, "org_a", HubSpot))
	_, _, err = Get(ctx, st, sec, "org_a", HubSpot)
	assert.True(t, apperr.Is(err, apperr.NotFound))
	assert.False(t, sec.Has("org_a", Provider(HubSpot)))
}
