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
// # Phone normalisation
//
// NormalizePhone returns E.164 digits without '+' (8 to 15 digits, with the
// country calling code), the form the WhatsApp Cloud API takes:
//
//   - Separators are ignored: spaces, '-', '.', '/', parentheses and Unicode
//     dashes. '+' may appear once, before the first digit.
//   - A trailing extension ("ext. 12", "x12", "#12", "extension 12",
//     "ramal 12") is stripped: the main number still reaches the customer.
//     Any other letter rejects the number (vanity numbers such as
//     "555-555-SHIP" cannot be dialled reliably).
//   - "+" or "00" marks an international number; for NANP countries (calling
//     code 1) "011" does too. A trunk "0" written after the calling code
//     ("+44 (0)7911 123456", "+55 011 98765-4321") is dropped for countries
//     that use trunk 0, when what remains has a valid national length.
//   - Otherwise the number is local and needs a known country: a national
//     trunk prefix is dropped where the country uses one (0 in most of
//     Europe, Latin America, Asia and Africa; 06 in Hungary; 8 in Russia,
//     Kazakhstan and Belarus; 8 or 0 in Lithuania; 1 in the NANP), then the
//     calling code is prepended. GB "07911 123456" -> 447911123456,
//     BR "(11) 98765-4321" -> 5511987654321. The trunk is only dropped when
//     what remains has a valid national length (RU "800 123 4567" keeps its
//     8: it is the number, not a trunk).
//   - BR "011 98765-4321": the leading 0 is Brazil's trunk prefix and "11" the
//     area code, so it becomes 5511987654321. A Brazilian carrier-selection
//     code after the trunk 0 ("0 21 11 98765-4321") is dropped too.
//   - Digits that already start with the country's calling code and whose
//     remainder has a valid national length for that country are taken as
//     international (BR "5511987654321" stays). When both readings are
//     possible the international one wins.
//   - Countries with no trunk prefix (PT, ES, IT, DK, ...) keep a leading 0
//     as part of the number where the country uses it (Italian landlines).
//   - NANP numbers must have an area code and exchange starting with 2-9, so
//     placeholder numbers such as "123-123-1234" are rejected.
//   - A local number with an unknown or empty country is rejected.
//
// Mobile-only prefixes some countries add internationally (Argentina's 9,
// Mexico's legacy 1) are not inserted. National number lengths come from a
// table of about 145 countries and territories (the Americas including every
// NANP member, the EU, the UK, and the larger markets of Asia, the Middle East,
// Oceania and Africa); they are approximations meant to tell local from
// international digits, not full numbering-plan validation.
//
// # Templates
//
// Render fills {{name}} placeholders (spaces inside the braces allowed) from
// Order.Vars. Names are ASCII letters, digits and '_', matched case-sensitively.
// Unknown names, malformed placeholders and unclosed "{{" are errors, so a
// template can be validated when settings are saved (ValidateTemplate).
// Substituted values are not scanned again.
package shop
