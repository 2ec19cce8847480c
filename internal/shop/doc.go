// Package shop reads e-commerce order webhooks (Shopify and WooCommerce)
// into one platform-neutral Order, verifies their signatures, finds the
// customer's WhatsApp number and fills message templates with order data.
// It is pure: no network, no storage, no AWS; callers own transport,
// deduplication and persistence.
//
// # Signatures
//
// Both platforms sign the raw request body with HMAC-SHA256 and send the
// base64 digest: Shopify in X-Shopify-Hmac-Sha256 (keyed with the app's client
// secret), WooCommerce in X-WC-Webhook-Signature (keyed with the webhook
// secret). VerifyShopify and VerifyWooCommerce accept several secrets so that
// the previous secret keeps working while a rotation settles. Verify the exact
// bytes received, before any parsing. WooCommerce's creation ping
// (webhook_id=<n>, form-encoded, unsigned) is recognised by WooPing and must be
// answered with 200.
//
// # Phone candidates
//
// Phones are free text and often null or empty; empty ones are skipped. The
// candidates are listed in this order, and Order.Phone takes the first one
// that normalises:
//
//	Shopify:     customer.phone, billing_address.phone, shipping_address.phone,
//	             phone (top level), customer.default_address.phone
//	WooCommerce: billing.phone, shipping.phone
//
// Each candidate carries a country (ISO 3166-1 alpha-2) used to complete local
// numbers: the country of the address the phone came from (country_code for
// Shopify addresses, country for WooCommerce), else the billing address's,
// else the shipping address's, else (Shopify) the customer's default
// address's. Phones outside an address (customer.phone, phone) use that
// fallback chain directly.
//
// # Phones
//
// A candidate is read with phone.Parse (internal/phone owns phone numbers):
// its address's country completes a local number, digits that already start
// with that country's calling code and fit its national length stay
// international, and a local number with no known country is not used.
// Mobile-only prefixes some countries add internationally (Argentina's 9,
// Mexico's legacy 1) are not inserted: phone.Variants makes those forms one
// contact.
//
// # Templates
//
// Render fills {{name}} placeholders (spaces inside the braces allowed) from
// Order.Vars. Names are ASCII letters, digits and '_', matched case-sensitively.
// Unknown names, malformed placeholders and unclosed "{{" are errors, so a
// template can be validated when settings are saved (ValidateTemplate).
// Substituted values are not scanned again.
package shop
