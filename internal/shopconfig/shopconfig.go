// Package shopconfig holds an organisation's e-commerce integration
// settings (Shopify, WooCommerce): what the REST API accepts and shows, how
// it is validated and normalised, the defaults, and where each part lives
// (the settings in the store, where the shop domain or site URL is claimed
// uniquely across organisations; the webhook secret in Secrets Manager,
// with the previous secret still accepted for an hour after a change). The
// REST API, the local stack's seed and the webhook functions go through
// here.
package shopconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/shop"
	"github.com/pytake/pytake/internal/store"
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

// ---------------------------------------------------------------- defaults

// DefaultTags are set on a customer's contact unless the settings say
// otherwise.
var DefaultTags = []string{"customer", "purchased"}

// Defaults: orders/create sends the order_confirmation template (pt_BR)
// with the order number and the total; fulfilled and cancelled are off
// (a text only reaches customers who wrote in the last 24 hours; use an
// approved template to turn them on), with a suggested text kept for
// "enabled": true; WooCommerce's completed sends the completion text.
func defaultTrigger(platform, key string) (Trigger, bool) {
	switch platform + " " + key {
	case Shopify + " " + TopicOrdersCreate:
		return Trigger{Enabled: true, Message: &Message{Type: "template", Template: &Template{
			Name: "order_confirmation", Language: Language{Code: "pt_BR"},
			Parameters: []string{"{{order_number}}", "{{total_price}} {{currency}}"},
		}}}, true
	case Shopify + " " + TopicOrdersFulfilled:
		return Trigger{Enabled: false, Message: &Message{Type: "text", Text: "Seu pedido {{order_name}} foi enviado! Obrigado pela compra."}}, true
	case Shopify + " " + TopicOrdersCancelled:
		return Trigger{Enabled: false, Message: &Message{Type: "text", Text: "Seu pedido {{order_name}} foi cancelado. Se tiver dúvidas, responda esta mensagem."}}, true
	case WooCommerce + " completed":
		return Trigger{Enabled: true, Message: &Message{Type: "text", Text: "Seu pedido #{{number}} foi concluído!"}}, true
	}
	return Trigger{}, false
}

func defaultKeys(platform string) []string {
	if platform == Shopify {
		return ShopifyTopics
	}
	return []string{"completed"}
}

// ---------------------------------------------------------------- sources

var shopName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,99}$`)

// ShopDomain normalises a Shopify shop domain ("My-Shop.myshopify.com",
// "https://my-shop.myshopify.com/", "my-shop") to "my-shop.myshopify.com";
// ok is false for anything else (custom domains included: Shopify's
// X-Shopify-Shop-Domain header is always the myshopify.com domain).
func ShopDomain(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, p := range []string{"https://", "http://"} {
		s = strings.TrimPrefix(s, p)
	}
	s = strings.TrimSuffix(s, "/")
	name, ok := strings.CutSuffix(s, ".myshopify.com")
	if !ok && strings.Contains(s, ".") {
		return "", false
	}
	if !shopName.MatchString(name) || strings.HasSuffix(name, "-") {
		return "", false
	}
	return name + ".myshopify.com", true
}

// SiteURL normalises a WooCommerce site URL: scheme and lower-case host
// (default port dropped) and path without a trailing slash, no query,
// fragment or credentials. key is the lookup key, without the scheme (the
// X-WC-Webhook-Source header is the site's home URL, whose scheme may
// differ from what the merchant typed).
func SiteURL(s string) (display, key string, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxSiteURL {
		return "", "", false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" || strings.ContainsAny(host, " /\\") {
		return "", "", false
	}
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	hostport := host
	if strings.Contains(host, ":") {
		hostport = "[" + host + "]"
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return "", "", false
		}
		hostport = net.JoinHostPort(host, port)
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	return u.Scheme + "://" + hostport + path, hostport + path, true
}

// SourceKey normalises a webhook's source header for the lookup: the shop
// domain for Shopify, the site URL's key for WooCommerce.
func SourceKey(platform, header string) (string, bool) {
	if platform == Shopify {
		return ShopDomain(header)
	}
	_, key, ok := SiteURL(header)
	return key, ok
}

// ---------------------------------------------------------------- input

type input struct {
	ShopDomain    *string                  `json:"shop_domain"`
	SiteURL       *string                  `json:"site_url"`
	WebhookSecret *string                  `json:"webhook_secret"`
	Topics        map[string]*triggerInput `json:"topics"`
	Statuses      map[string]*triggerInput `json:"statuses"`
	Contact       *contactInput            `json:"contact"`
}

type triggerInput struct {
	Enabled *bool         `json:"enabled"`
	Message *messageInput `json:"message"`
}

type messageInput struct {
	Type     string         `json:"type"`
	Template *templateInput `json:"template"`
	Text     *string        `json:"text"`
}

type templateInput struct {
	Name       string         `json:"name"`
	Language   *languageInput `json:"language"`
	Parameters []string       `json:"parameters"`
}

type languageInput struct {
	Code string `json:"code"`
}

type contactInput struct {
	Tags       *[]string        `json:"tags"`
	Attributes *attributesInput `json:"attributes"`
}

type attributesInput struct {
	LastPurchase *bool `json:"last_purchase"`
	TotalSpent   *bool `json:"total_spent"`
}

// problems collects field problems.
type problems []apperr.Detail

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, apperr.Detail{Field: field, Issue: fmt.Sprintf(format, args...)})
}

var (
	templateName = regexp.MustCompile(`^[a-z0-9_]+$`)
	languageCode = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)
	statusSlug   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,19}$`)
)

// Parse reads and validates a PUT body for platform. It returns the
// settings (defaults filled in) and the webhook secret given, if any.
// Every problem is reported, each naming its field.
func Parse(platform string, body []byte) (Settings, string, error) {
	var in input
	if err := httpapi.DecodeStrict(body, &in); err != nil {
		return Settings{}, "", err
	}
	var p problems
	st := Settings{Platform: platform, Config: Config{Triggers: map[string]Trigger{}}}
	triggersField := "topics"
	var given map[string]*triggerInput
	switch platform {
	case Shopify:
		if in.SiteURL != nil {
			p.add("site_url", "is a WooCommerce setting; Shopify uses shop_domain")
		}
		if in.Statuses != nil {
			p.add("statuses", "is a WooCommerce setting; Shopify uses topics")
		}
		switch {
		case in.ShopDomain == nil || strings.TrimSpace(*in.ShopDomain) == "":
			p.add("shop_domain", "is required: the shop's myshopify.com domain, e.g. my-shop.myshopify.com")
		default:
			d, ok := ShopDomain(*in.ShopDomain)
			if !ok {
				p.add("shop_domain", "must be the shop's myshopify.com domain, e.g. my-shop.myshopify.com (Shopify sends it in X-Shopify-Shop-Domain)")
			}
			st.Source, st.SourceKey = d, d
		}
		given = in.Topics
	case WooCommerce:
		triggersField = "statuses"
		if in.ShopDomain != nil {
			p.add("shop_domain", "is a Shopify setting; WooCommerce uses site_url")
		}
		if in.Topics != nil {
			p.add("topics", "is a Shopify setting; WooCommerce uses statuses")
		}
		switch {
		case in.SiteURL == nil || strings.TrimSpace(*in.SiteURL) == "":
			p.add("site_url", "is required: the store's address, e.g. https://shop.example.com")
		default:
			d, k, ok := SiteURL(*in.SiteURL)
			if !ok {
				p.add("site_url", "must be an http or https URL of the store (scheme, host, optional path; at most 255 characters)")
			}
			st.Source, st.SourceKey = d, k
		}
		given = in.Statuses
	default:
		return Settings{}, "", apperr.New(apperr.NotFound, "unknown platform "+platform)
	}

	secret := ""
	if in.WebhookSecret != nil {
		secret = strings.TrimSpace(*in.WebhookSecret)
		if n := len(secret); n < minSecret || n > maxSecret {
			p.add("webhook_secret", "must be %d to %d characters", minSecret, maxSecret)
		}
	}

	// Triggers: the given ones, then defaults for the keys left out.
	keys := make([]string, 0, len(given))
	for k := range given {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, raw := range keys {
		field := triggersField + "." + raw
		key := raw
		if platform == Shopify {
			if !contains(ShopifyTopics, key) {
				p.add(field, "is not a handled topic; use one of %s", strings.Join(ShopifyTopics, ", "))
				continue
			}
		} else {
			key = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(raw)), "wc-")
			if !statusSlug.MatchString(key) {
				p.add(field, "is not an order status (a WooCommerce status slug such as processing, completed, on-hold)")
				continue
			}
			if _, dup := st.Triggers[key]; dup {
				p.add(field, "repeats the status %q", key)
				continue
			}
		}
		st.Triggers[key] = parseTrigger(&p, field, platform, key, given[raw])
	}
	for _, k := range defaultKeys(platform) {
		if _, ok := st.Triggers[k]; !ok {
			st.Triggers[k], _ = defaultTrigger(platform, k)
		}
	}

	st.Contact = ContactOptions{Tags: append([]string(nil), DefaultTags...), Attributes: AttributeOptions{LastPurchase: true, TotalSpent: true}}
	if c := in.Contact; c != nil {
		if c.Tags != nil {
			st.Contact.Tags = cleanTags(&p, *c.Tags)
		}
		if a := c.Attributes; a != nil {
			if a.LastPurchase != nil {
				st.Contact.Attributes.LastPurchase = *a.LastPurchase
			}
			if a.TotalSpent != nil {
				st.Contact.Attributes.TotalSpent = *a.TotalSpent
			}
		}
	}
	if len(p) > 0 {
		name := "Shopify"
		if platform == WooCommerce {
			name = "WooCommerce"
		}
		return Settings{}, "", apperr.New(apperr.Unprocessable, "the "+name+" settings are invalid").WithDetails(p...)
	}
	return st, secret, nil
}

func parseTrigger(p *problems, field, platform, key string, in *triggerInput) Trigger {
	def, hasDef := defaultTrigger(platform, key)
	if in == nil { // "topic": null
		if hasDef {
			return def
		}
		return Trigger{}
	}
	t := Trigger{Enabled: true}
	if in.Enabled != nil {
		t.Enabled = *in.Enabled
	}
	if in.Message != nil {
		t.Message = parseMessage(p, field+".message", in.Message)
	} else if hasDef {
		t.Message = def.Message
	} else if t.Enabled {
		p.add(field+".message", "is required when the trigger is enabled")
	}
	return t
}

func parseMessage(p *problems, field string, in *messageInput) *Message {
	typ := in.Type
	if typ == "" {
		switch {
		case in.Template != nil && in.Text == nil:
			typ = "template"
		case in.Text != nil && in.Template == nil:
			typ = "text"
		}
	}
	m := &Message{Type: typ}
	switch typ {
	case "template":
		if in.Text != nil {
			p.add(field+".text", "is only allowed on text messages")
		}
		if in.Template == nil {
			p.add(field+".template", "is required for a template message")
			return m
		}
		t := &Template{Name: strings.TrimSpace(in.Template.Name), Parameters: []string{}}
		tf := field + ".template"
		switch {
		case t.Name == "":
			p.add(tf+".name", "is required: the approved template's name")
		case len(t.Name) > maxTemplate || !templateName.MatchString(t.Name):
			p.add(tf+".name", "must be the template's name: lowercase letters, digits and underscores (at most %d)", maxTemplate)
		}
		if in.Template.Language == nil || in.Template.Language.Code == "" {
			p.add(tf+".language.code", "is required, e.g. pt_BR")
		} else {
			t.Language.Code = in.Template.Language.Code
			if !languageCode.MatchString(t.Language.Code) {
				p.add(tf+".language.code", "must be a language code such as pt_BR, en_US or en")
			}
		}
		if len(in.Template.Parameters) > maxParameters {
			p.add(tf+".parameters", "at most %d parameters", maxParameters)
		}
		for i, s := range in.Template.Parameters {
			pf := tf + ".parameters[" + strconv.Itoa(i) + "]"
			checkText(p, pf, s, maxParameter)
			t.Parameters = append(t.Parameters, s)
		}
		m.Template = t
	case "text":
		if in.Template != nil {
			p.add(field+".template", "is only allowed on template messages")
		}
		if in.Text == nil {
			p.add(field+".text", "is required for a text message")
			return m
		}
		checkText(p, field+".text", *in.Text, maxText)
		m.Text = *in.Text
	case "":
		p.add(field+".type", `is required: "template" or "text"`)
	default:
		p.add(field+".type", `must be "template" or "text"`)
	}
	return m
}

// checkText validates a text with {{placeholders}}.
func checkText(p *problems, field, s string, limit int) {
	switch {
	case strings.TrimSpace(s) == "":
		p.add(field, "must not be empty")
	case utf8.RuneCountInString(s) > limit:
		p.add(field, "must be at most %d characters", limit)
	default:
		if err := shop.ValidateTemplate(s); err != nil {
			var u *shop.UnknownPlaceholdersError
			if errors.As(err, &u) {
				names := make([]string, len(u.Names))
				for i, n := range u.Names {
					names[i] = "{{" + n + "}}"
				}
				p.add(field, "unknown placeholder %s; known: %s", strings.Join(names, ", "), strings.Join(u.Known, ", "))
				return
			}
			p.add(field, "%s", strings.TrimPrefix(err.Error(), shop.ErrTemplate.Error()+": "))
		}
	}
}

func cleanTags(p *problems, in []string) []string {
	out := []string{}
	for i, t := range in {
		f := "contact.tags[" + strconv.Itoa(i) + "]"
		t = strings.TrimSpace(t)
		switch {
		case t == "":
			p.add(f, "must not be empty")
		case utf8.RuneCountInString(t) > maxTagLen:
			p.add(f, "at most %d characters", maxTagLen)
		case !contains(out, t):
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		p.add("contact.tags", "at most %d tags", maxTags)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- service

// Store keeps the settings.
type Store interface {
	Integration(ctx context.Context, org, platform string) (store.Integration, error)
	PutIntegration(ctx context.Context, in store.Integration) (store.Integration, bool, error)
	DeleteIntegration(ctx context.Context, org, platform string) (store.Integration, error)
}

// SecretStore keeps the webhook secrets.
type SecretStore interface {
	Get(ctx context.Context, orgID, provider string, v any) error
	Put(ctx context.Context, orgID, provider string, v any) error
}

// SecretDeleter deletes secrets.
type SecretDeleter interface {
	Delete(ctx context.Context, orgID, provider string) error
}

// Configure saves an organisation's settings for platform from a PUT body:
// validated; the webhook secret required the first time and kept when left
// out later (a new one keeps the previous one valid for RotationGrace); the
// source claimed uniquely (409 naming the field). created says whether the
// integration is new.
func Configure(ctx context.Context, st Store, sec SecretStore, org, platform string, body []byte, now time.Time) (Settings, Secret, bool, error) {
	s, newSecret, err := Parse(platform, body)
	if err != nil {
		return Settings{}, Secret{}, false, err
	}
	s.OrgID = org
	cur, err := currentSecret(ctx, sec, org, platform)
	if err != nil {
		return Settings{}, Secret{}, false, err
	}
	if newSecret == "" && cur.WebhookSecret == "" {
		return Settings{}, Secret{}, false, apperr.Field("webhook_secret", "is required when the integration is first configured")
	}
	cfg, err := json.Marshal(s.Config)
	if err != nil {
		return Settings{}, Secret{}, false, err
	}
	saved, created, err := st.PutIntegration(ctx, store.Integration{OrgID: org, Platform: platform, Source: s.Source, SourceKey: s.SourceKey, Config: cfg})
	if errors.Is(err, store.ErrSourceTaken) {
		field, what := "shop_domain", "shop domain"
		if platform == WooCommerce {
			field, what = "site_url", "site URL"
		}
		return Settings{}, Secret{}, false, apperr.New(apperr.Conflict, "another organization has configured this "+what).
			WithCode(field + "_taken").WithDetails(apperr.Detail{Field: field, Issue: "is configured by another organization"}).WithCause(err)
	}
	if err != nil {
		return Settings{}, Secret{}, false, err
	}
	next, changed := cur.rotate(newSecret, now)
	if changed {
		if err := sec.Put(ctx, org, Provider(platform), next); err != nil {
			return Settings{}, Secret{}, false, err
		}
	}
	s.CreatedAt, s.UpdatedAt = saved.CreatedAt, saved.UpdatedAt
	return s, next, created, nil
}

func currentSecret(ctx context.Context, sec SecretStore, org, platform string) (Secret, error) {
	var cur Secret
	err := sec.Get(ctx, org, Provider(platform), &cur)
	if err != nil && !errors.Is(err, secrets.ErrNotFound) && !apperr.Is(err, apperr.NotFound) {
		return Secret{}, err
	}
	return cur, nil
}

// Load reads an organisation's settings for platform (NotFound when none).
func Load(ctx context.Context, st interface {
	Integration(ctx context.Context, org, platform string) (store.Integration, error)
}, org, platform string) (Settings, error) {
	it, err := st.Integration(ctx, org, platform)
	if err != nil {
		return Settings{}, err
	}
	s := Settings{OrgID: org, Platform: platform, Source: it.Source, SourceKey: it.SourceKey, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt}
	if err := json.Unmarshal(it.Config, &s.Config); err != nil {
		return Settings{}, fmt.Errorf("integrations: decode %s settings of %s: %w", platform, org, err)
	}
	if s.Triggers == nil {
		s.Triggers = map[string]Trigger{}
	}
	return s, nil
}

// Get reads an organisation's settings and secret for platform.
func Get(ctx context.Context, st Store, sec SecretStore, org, platform string) (Settings, Secret, error) {
	s, err := Load(ctx, st, org, platform)
	if err != nil {
		return Settings{}, Secret{}, err
	}
	cur, err := currentSecret(ctx, sec, org, platform)
	return s, cur, err
}

// Delete removes an organisation's settings for platform, the source's
// lookup item and the secret. The secret is deleted even when the settings
// are already gone (a retried DELETE cleans up after a failed one).
func Delete(ctx context.Context, st Store, sec SecretDeleter, org, platform string) error {
	_, err := st.DeleteIntegration(ctx, org, platform)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return err
	}
	if sec != nil {
		if derr := sec.Delete(ctx, org, Provider(platform)); derr != nil {
			return derr
		}
	}
	return err
}

// ---------------------------------------------------------------- view

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
