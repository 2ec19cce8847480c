package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pytake/pytake/internal/awsapi"
	"github.com/pytake/pytake/internal/crmconfig"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/shopconfig"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/tenant"
)

// Demo WhatsApp credentials. They match the samples in events/whatsapp-webhook,
// so a sample's body, re-signed or not, routes to the demo organisation.
const (
	DemoPhoneNumberID = "106540352242922"
	DemoWABAID        = "102290129340398"
	DemoAppSecret     = "test-app-secret"
	DemoVerifyToken   = "verify-me-0123456789"
	DemoAccessToken   = "local-demo-access-token"
	// DemoDisplayPhoneNumber is the demo number as the simulator shows it
	// (one of Meta's +1 555 test numbers): the demo organisation's default
	// country is US until its settings say otherwise.
	DemoDisplayPhoneNumber = "15550783881"
)

// Demo e-commerce integrations, configured with the defaults. The samples in
// events/shopify-webhook and events/woocommerce-webhook are signed with these
// secrets.
const (
	DemoShopDomain         = "pytake-demo.myshopify.com"
	DemoShopifySecret      = "pytake-demo-shopify-secret"
	DemoWooCommerceSite    = "http://127.0.0.1:8080/shop"
	DemoWooCommerceSecret  = "pytake-demo-woocommerce-secret"
	demoIntegrationsFormat = `{"%s":%q,"webhook_secret":%q}`
)

// Demo is the seeded organisation.
type Demo struct {
	tenant.Result
	WhatsApp secrets.WhatsApp
}

// Store is a store client on the local table.
func (s *Stack) Store() *store.Store {
	return store.New(dynamodb.NewFromConfig(s.AWS), s.Names.Refs["Table"], time.Now)
}

// Secrets is a Secrets Manager client under the template's prefix.
func (s *Stack) Secrets() (*secrets.Store, error) {
	prefix, err := s.Names.Resolve(s.Template.GlobalEnv["SECRETS_PREFIX"])
	if err != nil {
		return nil, err
	}
	return secrets.New(awsapi.NewSecretsManager(s.AWS), prefix, 0, time.Now), nil
}

// SeedDemo creates the demo organisation with a live key and connects the
// demo WhatsApp number.
func (s *Stack) SeedDemo(ctx context.Context) (Demo, error) {
	res, err := tenant.CreateOrganization(ctx, s.Store(), "Demo", "live")
	if err != nil {
		return Demo{}, err
	}
	// The largest plan: the end-to-end suite sends a thousand messages
	// with the demo key at full speed.
	if err := s.Store().SetOrganizationPlan(ctx, res.Organization.ID, "scale"); err != nil {
		return Demo{}, fmt.Errorf("demo plan: %w", err)
	}
	sec, err := s.Secrets()
	if err != nil {
		return Demo{}, err
	}
	wa := secrets.WhatsApp{
		PhoneNumberID: DemoPhoneNumberID, WABAID: DemoWABAID, AccessToken: DemoAccessToken,
		AppSecret: DemoAppSecret, VerifyToken: DemoVerifyToken,
	}
	if _, err := tenant.ConfigureWhatsApp(ctx, s.Store(), sec, res.Organization.ID, wa, DemoDisplayPhoneNumber); err != nil {
		return Demo{}, fmt.Errorf("configure demo WhatsApp: %w", err)
	}
	for _, in := range []struct{ platform, field, source, secret string }{
		{shopconfig.Shopify, "shop_domain", DemoShopDomain, DemoShopifySecret},
		{shopconfig.WooCommerce, "site_url", DemoWooCommerceSite, DemoWooCommerceSecret},
	} {
		body := fmt.Sprintf(demoIntegrationsFormat, in.field, in.source, in.secret)
		if _, _, _, err := shopconfig.Configure(ctx, s.Store(), sec, res.Organization.ID, in.platform, []byte(body), time.Now()); err != nil {
			return Demo{}, fmt.Errorf("configure demo %s: %w", in.platform, err)
		}
	}
	crms := []struct{ platform, body string }{
		{crmconfig.HubSpot, fmt.Sprintf(`{"portal_id":%q,"access_token":%q,"client_secret":%q}`, DemoHubSpotPortal, DemoHubSpotToken, DemoHubSpotSecret)},
		{crmconfig.Salesforce, fmt.Sprintf(`{"login_url":%q,"client_id":%q,"client_secret":%q}`, s.SalesforceURL, DemoSalesforceClientID, DemoSalesforceSecret)},
	}
	for _, c := range crms {
		if _, _, err := crmconfig.Configure(ctx, s.Store(), sec, res.Organization.ID, c.platform, []byte(c.body), true); err != nil {
			return Demo{}, fmt.Errorf("configure demo %s: %w", c.platform, err)
		}
	}
	return Demo{Result: res, WhatsApp: wa}, nil
}

// DemoEnv is what .local/demo.env holds.
func (s *Stack) DemoEnv(d Demo) map[string]string {
	env := s.ClientEnv()
	env["PYTAKE_API_URL"] = s.URL + "/v1"
	env["PYTAKE_BASE_URL"] = s.URL
	env["PYTAKE_DASHBOARD_URL"] = s.URL + "/dashboard"
	env["PYTAKE_API_KEY"] = d.APIKey.Key
	env["PYTAKE_ORG_ID"] = d.Organization.ID
	env["WHATSAPP_WEBHOOK_URL"] = s.URL + "/webhooks/whatsapp"
	env["WHATSAPP_GRAPH_URL"] = s.GraphURL
	env["WHATSAPP_ACCESS_TOKEN"] = d.WhatsApp.AccessToken
	env["WHATSAPP_PHONE_NUMBER_ID"] = d.WhatsApp.PhoneNumberID
	env["WHATSAPP_WABA_ID"] = d.WhatsApp.WABAID
	env["WHATSAPP_VERIFY_TOKEN"] = d.WhatsApp.VerifyToken
	env["WHATSAPP_APP_SECRET"] = d.WhatsApp.AppSecret
	env["SHOPIFY_WEBHOOK_URL"] = s.URL + "/webhooks/shopify"
	env["SHOPIFY_SHOP_DOMAIN"] = DemoShopDomain
	env["SHOPIFY_WEBHOOK_SECRET"] = DemoShopifySecret
	env["WOOCOMMERCE_WEBHOOK_URL"] = s.URL + "/webhooks/woocommerce"
	env["WOOCOMMERCE_SOURCE_URL"] = DemoWooCommerceSite + "/"
	env["WOOCOMMERCE_WEBHOOK_SECRET"] = DemoWooCommerceSecret
	env["HUBSPOT_WEBHOOK_URL"] = s.URL + "/webhooks/hubspot"
	env["HUBSPOT_CLIENT_SECRET"] = DemoHubSpotSecret
	env["HUBSPOT_PORTAL_ID"] = DemoHubSpotPortal
	env["HUBSPOT_API_URL"] = s.HubSpotURL
	env["SALESFORCE_LOGIN_URL"] = s.SalesforceURL
	for _, id := range []string{"Table", "EventsQueue", "OutboundQueue", "OutboundBulkQueue", "EventsDeadLetterQueue", "OutboundDeadLetterQueue", "OutboundBulkDeadLetterQueue"} {
		if v, ok := s.Names.Refs[id]; ok {
			env[envName(id)] = v
		}
	}
	return env
}

// envName: Table -> TABLE_NAME, EventsQueue -> EVENTS_QUEUE_URL.
func envName(id string) string {
	var b strings.Builder
	for i, r := range id {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	n := strings.ToUpper(b.String())
	if strings.HasSuffix(n, "QUEUE") {
		return n + "_URL"
	}
	return n + "_NAME"
}

// WriteEnvFile writes KEY=value lines (sorted) readable by `source` and by
// dotenv loaders.
func WriteEnvFile(path string, env map[string]string) error {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by `make run`; valid while it runs. Load with: set -a; source .local/demo.env; set +a\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, env[k])
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// SAMEnvJSON is an --env-vars file for `sam local start-api` / `sam local
// invoke` (the Docker route): each function's environment pointing at this
// stack's moto.
func (s *Stack) SAMEnvJSON() ([]byte, error) {
	out := map[string]map[string]string{}
	for _, f := range s.Functions {
		env, err := s.FunctionEnv(f.LogicalID)
		if err != nil {
			return nil, err
		}
		for k, v := range s.ClientEnv() {
			env[k] = v
		}
		out[f.LogicalID] = env
	}
	return json.MarshalIndent(out, "", "  ")
}
