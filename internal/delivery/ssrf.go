package delivery

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrBlockedAddress is wrapped by the errors of CheckURL and of the
// guarded client when the destination is not a public unicast address.
var ErrBlockedAddress = errors.New("delivery: destination address not allowed")

// ErrInvalidURL is wrapped by every error of CheckURL.
var ErrInvalidURL = errors.New("delivery: invalid webhook URL")

// MaxURLLength bounds a webhook URL.
const MaxURLLength = 2048

// blockedRange is one range of addresses no webhook may reach.
type blockedRange struct {
	prefix netip.Prefix
	reason string
}

// blockedV4 and blockedV6 are the ranges Blocked refuses (IANA's
// special-purpose registries, minus the globally reachable entries). They
// are constant tables: never modified. The first match gives the reason.
var (
	blockedV4 = [...]blockedRange{
		{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\" address"},
		{netip.MustParsePrefix("10.0.0.0/8"), "private address"},
		{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT) address"},
		{netip.MustParsePrefix("127.0.0.0/8"), "loopback address"},
		{netip.MustParsePrefix("169.254.0.0/16"), "link-local address (cloud metadata)"},
		{netip.MustParsePrefix("172.16.0.0/12"), "private address"},
		{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment address"},
		{netip.MustParsePrefix("192.0.2.0/24"), "documentation address"},
		{netip.MustParsePrefix("192.168.0.0/16"), "private address"},
		{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking address"},
		{netip.MustParsePrefix("198.51.100.0/24"), "documentation address"},
		{netip.MustParsePrefix("203.0.113.0/24"), "documentation address"},
		{netip.MustParsePrefix("224.0.0.0/4"), "multicast address"},
		{netip.MustParsePrefix("255.255.255.255/32"), "broadcast address"},
		{netip.MustParsePrefix("240.0.0.0/4"), "reserved address"},
	}
	blockedV6 = [...]blockedRange{
		{netip.MustParsePrefix("::/128"), "unspecified address"},
		{netip.MustParsePrefix("::1/128"), "loopback address"},
		{netip.MustParsePrefix("::/96"), "IPv4-compatible address (deprecated)"},
		{netip.MustParsePrefix("::ffff:0:0:0/96"), "IPv4-translated address"},
		{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64 address"},
		{netip.MustParsePrefix("100::/64"), "discard-only address"},
		{netip.MustParsePrefix("2001::/32"), "Teredo address"},
		{netip.MustParsePrefix("2001:2::/48"), "benchmarking address"},
		{netip.MustParsePrefix("2001:db8::/32"), "documentation address"},
		{netip.MustParsePrefix("3fff::/20"), "documentation address"},
		{netip.MustParsePrefix("fc00::/7"), "unique-local (private) address"},
		{netip.MustParsePrefix("fe80::/10"), "link-local address"},
		{netip.MustParsePrefix("fec0::/10"), "site-local address (deprecated)"},
		{netip.MustParsePrefix("ff00::/8"), "multicast address"},
	}
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96")
	sixToFourPfx = netip.MustParsePrefix("2002::/16")
)

// Blocked reports whether a webhook must not be delivered to ip: anything
// but a public unicast address. IPv4: 0/8, 10/8, 100.64/10 (CGNAT),
// 127/8, 169.254/16 (link-local, cloud metadata), 172.16/12, 192.0.0/24,
// the documentation ranges 192.0.2/24, 198.51.100/24 and 203.0.113/24,
// 192.168/16, 198.18/15 (benchmarking), 224/4 (multicast), 240/4
// (reserved) and 255.255.255.255. IPv6: ::, ::1, ::/96 (IPv4-compatible),
// fe80::/10, fec0::/10, fc00::/7, ff00::/8, 2001:db8::/32 and 3fff::/20
// (documentation), 100::/64, 2001::/32 (Teredo), 2001:2::/48,
// 64:ff9b:1::/48 and ::ffff:0:0:0/96. IPv4-mapped addresses
// (::ffff:a.b.c.d) are judged as the IPv4 address, and so are the IPv4
// addresses embedded in NAT64 64:ff9b::/96 and 6to4 2002::/16 addresses.
// The invalid zero Addr is blocked. Zones are ignored.
func Blocked(ip netip.Addr) bool { return blockReason(ip) != "" }

// blockReason says why ip is blocked, or "" when it is not.
func blockReason(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid address"
	}
	ip = ip.WithZone("") // Prefix.Contains never matches an address with a zone
	switch {
	case ip.Is4In6():
		return embedded("IPv4-mapped", ip.Unmap())
	case ip.Is4():
		for _, r := range blockedV4 {
			if r.prefix.Contains(ip) {
				return r.reason
			}
		}
		return ""
	case nat64Prefix.Contains(ip):
		b := ip.As16()
		return embedded("NAT64-embedded", netip.AddrFrom4([4]byte(b[12:16])))
	case sixToFourPfx.Contains(ip):
		b := ip.As16()
		return embedded("6to4-embedded", netip.AddrFrom4([4]byte(b[2:6])))
	}
	for _, r := range blockedV6 {
		if r.prefix.Contains(ip) {
			return r.reason
		}
	}
	return ""
}

// embedded is the reason for an IPv6 address carrying v4.
func embedded(kind string, v4 netip.Addr) string {
	if r := blockReason(v4); r != "" {
		return r + " (" + kind + " " + v4.String() + ")"
	}
	return ""
}

// CheckURL validates a webhook URL when a subscription is created or
// changed: an absolute URL of scheme https (or http when allowHTTP, for the
// local stack), with a host, no user info (credentials do not belong in a
// URL that is stored and logged), a port from 1 to 65535 if any, and at
// most MaxURLLength bytes. A host that is an IP literal is refused right
// away when Blocked, naming the reason ("private address", "loopback
// address", ...), and so is a numeric host that is no valid IP literal
// (2130706433, 0x7f.1, 127.1), which some resolvers read as an address.
//
// A DNS name is not resolved here: what it resolves to can change at any
// time (DNS rebinding), so the client from NewClient checks the address
// actually dialled on every connection. Errors wrap ErrInvalidURL, and
// also ErrBlockedAddress for a blocked IP literal.
func CheckURL(raw string, allowHTTP bool) (*url.URL, error) {
	if len(raw) > MaxURLLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidURL, MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	if !u.IsAbs() || u.Opaque != "" {
		return nil, fmt.Errorf("%w: %q is not an absolute URL", ErrInvalidURL, raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowHTTP {
			return nil, fmt.Errorf("%w: the scheme must be https", ErrInvalidURL)
		}
	default:
		return nil, fmt.Errorf("%w: scheme %q is not allowed, use https", ErrInvalidURL, u.Scheme)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: it must not contain a user name or password", ErrInvalidURL)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("%w: it has no host", ErrInvalidURL)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w: port %q is out of range", ErrInvalidURL, p)
		}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if r := blockReason(ip); r != "" {
			return nil, &multiError{
				msg:  fmt.Sprintf("%v: host %s is not allowed: %s", ErrInvalidURL, host, r),
				errs: []error{ErrInvalidURL, ErrBlockedAddress},
			}
		}
		return u, nil
	}
	if strings.Contains(host, ":") {
		return nil, fmt.Errorf("%w: host %q is not a valid IPv6 address", ErrInvalidURL, host)
	}
	if numericHost(host) {
		return nil, fmt.Errorf("%w: host %q is numeric but not a dotted-quad IPv4 address", ErrInvalidURL, host)
	}
	return u, nil
}

// multiError is an error with its own message that wraps several
// sentinels.
type multiError struct {
	msg  string
	errs []error
}

func (e *multiError) Error() string   { return e.msg }
func (e *multiError) Unwrap() []error { return e.errs }

// numericHost reports whether host's last label is a number (decimal, or
// hex with 0x): no DNS name ends so, but inet_aton reads 127.1, 0x7f.1 and
// 2130706433 as addresses.
func numericHost(host string) bool {
	h := strings.TrimSuffix(host, ".")
	last := h[strings.LastIndexByte(h, '.')+1:]
	if hexPart, ok := strings.CutPrefix(strings.ToLower(last), "0x"); ok {
		return strings.TrimLeft(hexPart, "0123456789abcdef") == ""
	}
	return last != "" && strings.TrimLeft(last, "0123456789") == ""
}

// ClientOptions configure NewClient. Zero values take the defaults.
type ClientOptions struct {
	// Timeout bounds a whole request, reading the response body included
	// (default 10 s).
	Timeout time.Duration
	// DialTimeout bounds connecting (default 5 s).
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake (default 5 s).
	TLSHandshakeTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the response headers once
	// the request is written (default Timeout).
	ResponseHeaderTimeout time.Duration
	// MaxIdleConnsPerHost is the idle keep-alive connections kept per host
	// (default 4).
	MaxIdleConnsPerHost int
	// AllowLoopback lets the client dial 127.0.0.0/8 and ::1, for the local
	// stack only. Every other blocked address stays blocked.
	AllowLoopback bool
	// Resolver resolves host names (nil: net.DefaultResolver). Whatever it
	// answers, the address dialled is checked.
	Resolver *net.Resolver
}

// Client defaults.
const (
	DefaultTimeout             = 10 * time.Second
	defaultDialTimeout         = 5 * time.Second
	defaultTLSHandshakeTimeout = 5 * time.Second
	defaultMaxIdleConnsPerHost = 4
	maxResponseHeaderBytes     = 64 << 10
)

// NewClient returns the HTTP client deliveries go through. It
//
//   - checks every address it dials with Blocked, in the dialer's Control
//     hook, after name resolution and just before connecting: a DNS name
//     resolving, or rebinding, to a private address is refused, with an
//     error wrapping ErrBlockedAddress (AllowLoopback exempts loopback);
//   - follows no redirects: a 3xx response is returned as it is (Classify
//     counts it as a failure);
//   - uses no proxy, whatever the environment says, since a proxy would
//     dial in our place, unchecked;
//   - bounds the request, the dial, the TLS handshake and the wait for
//     headers, requires TLS 1.2 or later, and limits response headers to
//     64 KiB.
//
// The caller still limits how much of the response body it reads.
func NewClient(opts ClientOptions) *http.Client {
	opts.Timeout = cmpOr(opts.Timeout, DefaultTimeout)
	g := guard{allowLoopback: opts.AllowLoopback}
	dialer := &net.Dialer{
		Timeout:  cmpOr(opts.DialTimeout, defaultDialTimeout),
		Resolver: opts.Resolver,
		Control:  g.control,
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    cmpOr(opts.TLSHandshakeTimeout, defaultTLSHandshakeTimeout),
		ResponseHeaderTimeout:  cmpOr(opts.ResponseHeaderTimeout, opts.Timeout),
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    cmpOr(opts.MaxIdleConnsPerHost, defaultMaxIdleConnsPerHost),
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// cmpOr is v when positive, else def.
func cmpOr[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// guard is the dialer's address check.
type guard struct{ allowLoopback bool }

// control runs after the socket is created and before it connects, with
// the resolved address: the one that will really be reached.
func (g guard) control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp4", "tcp6":
	default:
		return fmt.Errorf("%w: network %s", ErrBlockedAddress, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot read %q: %w", ErrBlockedAddress, address, err)
	}
	ip := ap.Addr().Unmap()
	if g.allowLoopback && ip.IsLoopback() {
		return nil
	}
	if r := blockReason(ip); r != "" {
		return fmt.Errorf("%w: %s: %s", ErrBlockedAddress, address, r)
	}
	return nil
}
