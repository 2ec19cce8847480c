// Package crmconfig is an organisation's CRM integrations (HubSpot,
// Salesforce): the settings PUT /v1/integrations/{hubspot,salesforce}
// takes, validated; the credentials, kept in Secrets Manager and masked
// when shown; and the integration's health (a revoked token marks it
// unhealthy until it is configured again).
package crmconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/jsoncheck"
	"github.com/pytake/pytake/internal/lazyre"
	"github.com/pytake/pytake/internal/salesforce"
	"github.com/pytake/pytake/internal/shopconfig"
	"github.com/pytake/pytake/internal/store"
)

// Platforms.
const (
	HubSpot    = "hubspot"
	Salesforce = "salesforce"
)

// Lead defaults: the integrations guide's values.
const (
	DefaultCompany    = "Unknown"
	DefaultLeadStatus = "Open - Not Contacted"
	DefaultLeadSource = "WhatsApp"
)

// Provider names a platform's secret (integrations/hubspot).
func Provider(platform string) string { return shopconfig.Provider(platform) }

// Store keeps the settings (the e-commerce integrations' items).
type Store = shopconfig.Store

// SecretStore keeps the credentials.
type SecretStore interface {
	shopconfig.SecretStore
	shopconfig.SecretDeleter
}

// HubSpotSync says what flows where.
type HubSpotSync struct {
	// Contacts: HubSpot contacts created or changed become PyTake contacts.
	Contacts bool `json:"contacts"`
	// PushContacts: contacts created from WhatsApp are found in HubSpot by
	// phone, or created there.
	PushContacts bool `json:"push_contacts"`
	// Notes: a resolved conversation is logged on the HubSpot contact.
	Notes bool `json:"notes"`
}

// LeadDefaults are the Lead fields that are not the contact's.
type LeadDefaults struct {
	Company    string `json:"company"`
	Status     string `json:"status"`
	LeadSource string `json:"lead_source"`
}

// Settings is one CRM integration. HubSpot uses PortalID and Sync;
// Salesforce LoginURL, ClientID, Lead and Tasks.
type Settings struct {
	OrgID     string                  `json:"-"`
	Platform  string                  `json:"-"`
	PortalID  string                  `json:"portal_id,omitempty"`
	Sync      *HubSpotSync            `json:"sync,omitempty"`
	LoginURL  string                  `json:"login_url,omitempty"`
	ClientID  string                  `json:"client_id,omitempty"`
	Lead      *LeadDefaults           `json:"lead,omitempty"`
	Tasks     *bool                   `json:"tasks,omitempty"`
	Health    store.IntegrationHealth `json:"-"`
	CreatedAt time.Time               `json:"-"`
	UpdatedAt time.Time               `json:"-"`
}

// Secret is a CRM integration's credentials.
type Secret struct {
	AccessToken  string `json:"access_token,omitempty"`  // HubSpot private app token
	ClientSecret string `json:"client_secret,omitempty"` // HubSpot app's client secret; Salesforce connected app's consumer secret
}

var (
	portalID = lazyre.New(`^[1-9][0-9]{0,19}$`)
	clientID = lazyre.New(`^[!-~]{1,256}$`)
)

// Parse reads a PUT body for platform; allowLoopback accepts an http
// loopback Salesforce login URL (the local stack's simulator).
func Parse(platform string, body []byte, allowLoopback bool) (Settings, Secret, error) {
	raw, err := jsoncheck.DecodeBody(body)
	if err != nil {
		return Settings{}, Secret{}, err
	}
	c := jsoncheck.New("settings")
	o := c.Object("", raw)
	if o == nil {
		return Settings{}, Secret{}, c.Err()
	}
	s := Settings{Platform: platform}
	var sec Secret
	secret := func(key string, min int) string {
		v, ok := o.Str(key, false)
		v = strings.TrimSpace(v)
		if ok && (len(v) < min || len(v) > 1024 || strings.ContainsAny(v, " \t\r\n")) {
			c.Fail(o.At(key), "must be %d to 1024 characters without spaces", min)
		}
		return v
	}
	switch platform {
	case HubSpot:
		if v, ok := o.Str("portal_id", true); ok {
			if !portalID().MatchString(v) {
				c.Fail("portal_id", "must be the HubSpot account id (digits)")
			}
			s.PortalID = v
		}
		sec.AccessToken = secret("access_token", 8)
		sec.ClientSecret = secret("client_secret", 8)
		sync := HubSpotSync{Contacts: true, PushContacts: true, Notes: true}
		if so := o.Child("sync", false); so != nil {
			for key, dst := range map[string]*bool{"contacts": &sync.Contacts, "push_contacts": &sync.PushContacts, "notes": &sync.Notes} {
				if b := so.Boolean(key); b != nil {
					*dst = *b
				}
			}
			so.Done()
		}
		s.Sync = &sync
	case Salesforce:
		if v, ok := o.Str("login_url", true); ok {
			v = strings.TrimRight(strings.TrimSpace(v), "/")
			if err := salesforce.CheckURL(v, allowLoopback); err != nil {
				c.Fail("login_url", "%s", err.Error())
			}
			s.LoginURL = v
		}
		if v, ok := o.Str("client_id", true); ok {
			if !clientID().MatchString(v) {
				c.Fail("client_id", "must be the connected app's consumer key (1 to 256 printable characters)")
			}
			s.ClientID = v
		}
		sec.ClientSecret = secret("client_secret", 8)
		lead := LeadDefaults{Company: DefaultCompany, Status: DefaultLeadStatus, LeadSource: DefaultLeadSource}
		if lo := o.Child("lead", false); lo != nil {
			for key, dst := range map[string]*string{"company": &lead.Company, "status": &lead.Status, "lead_source": &lead.LeadSource} {
				if v := lo.Text(key, false, 255); v != "" {
					*dst = v
				}
			}
			lo.Done()
		}
		s.Lead = &lead
		tasks := true
		if b := o.Boolean("tasks"); b != nil {
			tasks = *b
		}
		s.Tasks = &tasks
	default:
		return Settings{}, Secret{}, apperr.New(apperr.NotFound, "unknown CRM "+platform)
	}
	o.Done()
	if err := c.Err(); err != nil {
		return Settings{}, Secret{}, err
	}
	return s, sec, nil
}

// Configure saves an organisation's settings for platform from a PUT body.
// The credentials are required the first time and kept when left out later;
// a HubSpot portal belongs to one organisation (409 otherwise). Saving
// makes the integration healthy again.
func Configure(ctx context.Context, st Store, sec SecretStore, org, platform string, body []byte, allowLoopback bool) (Settings, Secret, error) {
	s, given, err := Parse(platform, body, allowLoopback)
	if err != nil {
		return Settings{}, Secret{}, err
	}
	s.OrgID = org
	var cur Secret
	if err := sec.Get(ctx, org, Provider(platform), &cur); err != nil && !apperr.Is(err, apperr.NotFound) {
		return Settings{}, Secret{}, err
	}
	next := cur
	if given.AccessToken != "" {
		next.AccessToken = given.AccessToken
	}
	if given.ClientSecret != "" {
		next.ClientSecret = given.ClientSecret
	}
	c := jsoncheck.New("settings")
	if platform == HubSpot && next.AccessToken == "" {
		c.Fail("access_token", "is required when the integration is first configured (the private app's access token)")
	}
	if next.ClientSecret == "" {
		c.Fail("client_secret", "is required when the integration is first configured")
	}
	if err := c.Err(); err != nil {
		return Settings{}, Secret{}, err
	}
	cfg, err := json.Marshal(s)
	if err != nil {
		return Settings{}, Secret{}, fmt.Errorf("crmconfig: encode: %w", err)
	}
	source, key := s.PortalID, s.PortalID
	if platform == Salesforce {
		// A Salesforce org may serve several PyTake organisations: nothing to claim.
		source, key = s.LoginURL, "org:"+org
	}
	saved, _, err := st.PutIntegration(ctx, store.Integration{OrgID: org, Platform: platform, Source: source, SourceKey: key, Config: cfg})
	if errors.Is(err, store.ErrSourceTaken) {
		return Settings{}, Secret{}, store.OwnershipConflict(err)
	}
	if err != nil {
		return Settings{}, Secret{}, err
	}
	if next != cur {
		if err := sec.Put(ctx, org, Provider(platform), next); err != nil {
			return Settings{}, Secret{}, err
		}
	}
	s.CreatedAt, s.UpdatedAt, s.Health = saved.CreatedAt, saved.UpdatedAt, saved.Health
	return s, next, nil
}

// Load reads an organisation's settings for platform (NotFound when none).
func Load(ctx context.Context, st interface {
	Integration(ctx context.Context, org, platform string) (store.Integration, error)
}, org, platform string) (Settings, error) {
	it, err := st.Integration(ctx, org, platform)
	if err != nil {
		return Settings{}, err
	}
	var s Settings
	if err := json.Unmarshal(it.Config, &s); err != nil {
		return Settings{}, fmt.Errorf("crmconfig: decode %s settings of %s: %w", platform, org, err)
	}
	s.OrgID, s.Platform, s.CreatedAt, s.UpdatedAt, s.Health = org, platform, it.CreatedAt, it.UpdatedAt, it.Health
	return s, nil
}

// Get reads settings and credentials.
func Get(ctx context.Context, st Store, sec SecretStore, org, platform string) (Settings, Secret, error) {
	s, err := Load(ctx, st, org, platform)
	if err != nil {
		return Settings{}, Secret{}, err
	}
	var cur Secret
	if err := sec.Get(ctx, org, Provider(platform), &cur); err != nil && !apperr.Is(err, apperr.NotFound) {
		return Settings{}, Secret{}, err
	}
	return s, cur, nil
}

// Delete removes settings and credentials (the credentials even when the
// settings are already gone).
func Delete(ctx context.Context, st Store, sec SecretStore, org, platform string) error {
	return shopconfig.Delete(ctx, st, sec, org, platform)
}

// Health is how an integration is doing, as GET shows it.
type Health struct {
	Status    string     `json:"status"` // healthy | unhealthy
	Reason    string     `json:"reason,omitempty"`
	CheckedAt *time.Time `json:"checked_at,omitempty"`
}

// View is an integration as the API shows it: credentials masked.
type View struct {
	Platform     string        `json:"platform"`
	PortalID     string        `json:"portal_id,omitempty"`
	Sync         *HubSpotSync  `json:"sync,omitempty"`
	AccessToken  string        `json:"access_token,omitempty"`
	WebhookURL   string        `json:"webhook_url,omitempty"`
	LoginURL     string        `json:"login_url,omitempty"`
	ClientID     string        `json:"client_id,omitempty"`
	Lead         *LeadDefaults `json:"lead,omitempty"`
	Tasks        *bool         `json:"tasks,omitempty"`
	ClientSecret string        `json:"client_secret"`
	Health       Health        `json:"health"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
}

// NewView shows settings; baseURL (the API's scheme and host, "" when
// unknown) gives HubSpot's webhook target URL.
func NewView(s Settings, sec Secret, baseURL string) View {
	v := View{Platform: s.Platform, PortalID: s.PortalID, Sync: s.Sync, LoginURL: s.LoginURL, ClientID: s.ClientID,
		Lead: s.Lead, Tasks: s.Tasks, ClientSecret: shopconfig.Mask(sec.ClientSecret),
		Health: Health{Status: "healthy"}, CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
	if s.Platform == HubSpot {
		v.AccessToken = shopconfig.Mask(sec.AccessToken)
		if baseURL != "" {
			v.WebhookURL = strings.TrimRight(baseURL, "/") + "/webhooks/hubspot"
		}
	}
	if s.Health.Unhealthy {
		at := s.Health.At.UTC()
		v.Health = Health{Status: "unhealthy", Reason: s.Health.Reason, CheckedAt: &at}
	}
	return v
}
