package shopconfig

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/shop"
)

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
