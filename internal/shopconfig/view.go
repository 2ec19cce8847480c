package shopconfig

import (
	"strings"
	"time"
)

// Mask shows a secret's last four characters at most.
func Mask(s string) string {
	if len(s) < 12 {
		return "********"
	}
	return "********" + s[len(s)-4:]
}

// View is the settings as the API shows them: the secret masked, never
// returned.
type View struct {
	Platform                string             `json:"platform"`
	ShopDomain              string             `json:"shop_domain,omitempty"`
	SiteURL                 string             `json:"site_url,omitempty"`
	WebhookURL              string             `json:"webhook_url,omitempty"`
	WebhookSecret           string             `json:"webhook_secret"`
	PreviousSecretExpiresAt *time.Time         `json:"previous_webhook_secret_expires_at,omitempty"`
	Topics                  map[string]Trigger `json:"topics,omitempty"`
	Statuses                map[string]Trigger `json:"statuses,omitempty"`
	Contact                 ContactOptions     `json:"contact"`
	CreatedAt               time.Time          `json:"created_at"`
	UpdatedAt               time.Time          `json:"updated_at"`
}

// NewView shows settings; baseURL (scheme and host of the API, "" when
// unknown) gives the webhook URL to configure on the platform.
func NewView(s Settings, sec Secret, now time.Time, baseURL string) View {
	v := View{Platform: s.Platform, WebhookSecret: Mask(sec.WebhookSecret), Contact: s.Contact,
		CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
	if sec.Previous != "" && sec.PreviousExpiresAt != nil && now.Before(*sec.PreviousExpiresAt) {
		t := sec.PreviousExpiresAt.UTC()
		v.PreviousSecretExpiresAt = &t
	}
	if v.Contact.Tags == nil {
		v.Contact.Tags = []string{}
	}
	triggers := map[string]Trigger{}
	for k, t := range s.Triggers {
		if t.Message != nil && t.Message.Template != nil && t.Message.Template.Parameters == nil {
			t.Message.Template.Parameters = []string{}
		}
		triggers[k] = t
	}
	if s.Platform == Shopify {
		v.ShopDomain, v.Topics = s.Source, triggers
	} else {
		v.SiteURL, v.Statuses = s.Source, triggers
	}
	if baseURL != "" {
		v.WebhookURL = strings.TrimRight(baseURL, "/") + "/webhooks/" + s.Platform
	}
	return v
}
