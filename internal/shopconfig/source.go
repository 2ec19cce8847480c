package shopconfig

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/pytake/pytake/internal/lazyre"
)

var shopName = lazyre.New(`^[a-z0-9][a-z0-9-]{0,99}$`)

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
	if !shopName().MatchString(name) || strings.HasSuffix(name, "-") {
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
