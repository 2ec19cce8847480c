// Package shopconfig holds an organisation's e-commerce integration
// settings (Shopify, WooCommerce): what the REST API accepts and shows, how
// it is validated and normalised, the defaults, and where each part lives
// (the settings in the store, where the shop domain or site URL is claimed
// uniquely across organisations; the webhook secret in Secrets Manager,
// with the previous secret still accepted for an hour after a change). The
// REST API, the local stack's seed and the webhook functions go through
// here.
package shopconfig
