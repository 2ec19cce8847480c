package shop

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"mime"
	"net/url"
	"strings"
)

// Platform names.
const (
	Shopify     = "shopify"
	WooCommerce = "woocommerce"
)

// maxPingBody bounds the body WooPing looks at; the real ping is about 20
// bytes.
const maxPingBody = 64

// VerifyShopify reports whether header (X-Shopify-Hmac-Sha256, the base64
// HMAC-SHA256 of the raw body) matches any of the secrets: the current one
// and, after a rotation, the previous one. Comparison is constant time. An
// empty header or no non-empty secret gives false.
func VerifyShopify(body []byte, header string, secrets ...string) bool {
	return verifyHMAC(body, header, secrets)
}

// VerifyWooCommerce reports whether header (X-WC-Webhook-Signature, the
// base64 HMAC-SHA256 of the raw body keyed with the webhook secret) matches
// any of the secrets. Same rules as VerifyShopify.
func VerifyWooCommerce(body []byte, header string, secrets ...string) bool {
	return verifyHMAC(body, header, secrets)
}

// Sign returns the base64 HMAC-SHA256 of body keyed with secret: the value
// Shopify and WooCommerce put in their signature headers. Useful for tests
// and local replays.
func Sign(body []byte, secret string) string {
	return base64.StdEncoding.EncodeToString(mac(body, secret))
}

func mac(body []byte, secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

func verifyHMAC(body []byte, header string, secrets []string) bool {
	header = strings.TrimSpace(header)
	if header == "" {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	ok := false
	// Every secret is tried, so timing does not say which one matched.
	for _, s := range secrets {
		if s != "" && hmac.Equal(mac(body, s), got) {
			ok = true
		}
	}
	return ok
}

// WooPing reports whether a request is WooCommerce's webhook-creation ping:
// the form-encoded body "webhook_id=<digits>", unsigned, that must be answered
// with 200. The content type must be application/x-www-form-urlencoded
// (parameters such as charset allowed) or empty; the body must hold exactly
// that one field with one decimal value.
func WooPing(contentType string, body []byte) (webhookID string, ok bool) {
	if ct := strings.TrimSpace(contentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return "", false
		}
	}
	b := bytes.TrimSpace(body)
	if len(b) == 0 || len(b) > maxPingBody {
		return "", false
	}
	vals, err := url.ParseQuery(string(b))
	if err != nil || len(vals) != 1 {
		return "", false
	}
	ids := vals["webhook_id"]
	if len(ids) != 1 || len(ids[0]) > maxIDDigits || !allDigits(ids[0]) {
		return "", false
	}
	return ids[0], true
}

// allDigits reports whether s is non-empty and only ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
