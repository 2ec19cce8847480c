package shopconfig

import (
	"time"

	"github.com/pytake/pytake/internal/shop"
)

// Platforms.
const (
	Shopify     = shop.Shopify
	WooCommerce = shop.WooCommerce
)

// Shopify topics that send a message.
const (
	TopicOrdersCreate    = "orders/create"
	TopicOrdersFulfilled = "orders/fulfilled"
	TopicOrdersCancelled = "orders/cancelled"
)

// ShopifyTopics are the handled Shopify topics, in display order.
var ShopifyTopics = []string{TopicOrdersCreate, TopicOrdersFulfilled, TopicOrdersCancelled}

// RotationGrace is how long the previous webhook secret is still accepted
// after a new one is saved (Shopify signs with the old secret for up to an
// hour after a rotation).
const RotationGrace = time.Hour

// Limits.
const (
	minSecret     = 8
	maxSecret     = 512
	maxParameters = 20
	maxParameter  = 1024 // Meta's body parameter limit
	maxText       = 4096 // Meta's text body limit
	maxTemplate   = 512
	maxTags       = 20
	maxTagLen     = 64
	maxSiteURL    = 255
)

// Message is what a trigger sends: an approved template whose body
// parameters are filled from the order, or a text (only delivered inside
// the 24-hour customer-service window).
type Message struct {
	Type     string    `json:"type"` // template | text
	Template *Template `json:"template,omitempty"`
	Text     string    `json:"text,omitempty"`
}

// Template is a template message: name, language and the body
// parameters, each a text with {{placeholders}} from the order.
type Template struct {
	Name       string   `json:"name"`
	Language   Language `json:"language"`
	Parameters []string `json:"parameters"`
}

// Language is a template's language.
type Language struct {
	Code string `json:"code"`
}

// Trigger is what happens for a Shopify topic or a WooCommerce status.
type Trigger struct {
	Enabled bool     `json:"enabled"`
	Message *Message `json:"message"`
}

// Sends reports whether the trigger sends a message.
func (t Trigger) Sends() bool { return t.Enabled && t.Message != nil }

// ContactOptions say what an order does to its customer's contact.
type ContactOptions struct {
	Tags       []string         `json:"tags"`
	Attributes AttributeOptions `json:"attributes"`
}

// AttributeOptions turn the purchase attributes on or off.
type AttributeOptions struct {
	LastPurchase bool `json:"last_purchase"` // the order's date, YYYY-MM-DD
	TotalSpent   bool `json:"total_spent"`   // the sum of the contact's order totals
}

// Config is the stored part of the settings besides the source.
type Config struct {
	Triggers map[string]Trigger `json:"triggers"`
	Contact  ContactOptions     `json:"contact"`
}

// Settings are an organisation's settings for one platform.
type Settings struct {
	OrgID     string
	Platform  string
	Source    string // shop domain or site URL
	SourceKey string
	Config
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Trigger returns the trigger for a topic or status ("" when none).
func (s Settings) Trigger(key string) (Trigger, bool) {
	t, ok := s.Triggers[key]
	return t, ok
}

// Secret is the platform's webhook secret as kept in Secrets Manager.
type Secret struct {
	WebhookSecret     string     `json:"webhook_secret"`
	Previous          string     `json:"previous_webhook_secret,omitempty"`
	PreviousExpiresAt *time.Time `json:"previous_expires_at,omitempty"`
}

// Active are the secrets a signature may use at now: the current one and,
// within RotationGrace of a change, the previous one.
func (s Secret) Active(now time.Time) []string {
	out := []string{}
	if s.WebhookSecret != "" {
		out = append(out, s.WebhookSecret)
	}
	if s.Previous != "" && s.PreviousExpiresAt != nil && now.Before(*s.PreviousExpiresAt) {
		out = append(out, s.Previous)
	}
	return out
}

// rotate makes the secret after saving next (empty: keep the current one).
func (s Secret) rotate(next string, now time.Time) (Secret, bool) {
	if next == "" || next == s.WebhookSecret {
		return s, false
	}
	out := Secret{WebhookSecret: next}
	if s.WebhookSecret != "" {
		exp := now.Add(RotationGrace).UTC()
		out.Previous, out.PreviousExpiresAt = s.WebhookSecret, &exp
	}
	return out, true
}

// Provider is the Secrets Manager provider name of a platform's secret
// (pytake/<stage>/org/<org>/integrations/<platform>).
func Provider(platform string) string { return "integrations/" + platform }
