package delivery

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// FuzzCheckURL: an accepted URL is absolute, https (http only when
// allowed), without credentials, with a host that is not a blocked or
// numeric-but-invalid address, within MaxURLLength; and its canonical form
// is accepted again (what is stored passes the same check). A refusal
// always wraps ErrInvalidURL.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://crm.example.com/hooks/pytake", "http://127.0.0.1:8080/x", "https://[::ffff:169.254.169.254]/",
		"https://2130706433/", "https://0x7f.1/", "https://user:pw@example.com/", "https://example.com:0/",
		"https://[fe80::1%25eth0]/", "https://100.64.0.1/", "ftp://example.com/", "https:opaque", "//example.com",
		"https://exa mple.com/", "https://xn--nxasmq6b.example/ü?q=1#f", "HTTPS://EXAMPLE.COM",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, allowHTTP bool) {
		u, err := CheckURL(raw, allowHTTP)
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("error %v does not wrap ErrInvalidURL", err)
			}
			return
		}
		if len(raw) > MaxURLLength || !u.IsAbs() || u.User != nil || u.Hostname() == "" {
			t.Fatalf("accepted %q: %+v", raw, u)
		}
		if u.Scheme != "https" && !(allowHTTP && u.Scheme == "http") {
			t.Fatalf("accepted scheme %q", u.Scheme)
		}
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil && blockReason(ip) != "" {
			t.Fatalf("accepted blocked address %s", ip)
		}
		if s := u.String(); len(s) <= MaxURLLength {
			if _, err := CheckURL(s, allowHTTP); err != nil {
				t.Fatalf("accepted %q but not its canonical form %q: %v", raw, s, err)
			}
		}
	})
}

// FuzzParseRetryAfter: never negative; delay-seconds are taken as given;
// a date is relative to now and never in the past.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", " 7 ", "99999999999999999999999", "-1", "1.5",
		"Wed, 21 Oct 2026 07:28:00 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "soon", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 10, 21, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, h string) {
		d := ParseRetryAfter(h, now)
		if d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v", h, d)
		}
		s := strings.TrimSpace(h)
		if s != "" && len(s) < 10 && strings.TrimLeft(s, "0123456789") == "" {
			var n time.Duration
			for _, c := range s {
				n = n*10 + time.Duration(c-'0')
			}
			if d != n*time.Second {
				t.Fatalf("ParseRetryAfter(%q) = %v, want %v", h, d, n*time.Second)
			}
		}
		if strings.TrimLeft(s, "0123456789") != "" {
			want := time.Duration(0)
			if at, err := http.ParseTime(s); err == nil {
				want = max(at.Sub(now), 0)
			}
			if d != want {
				t.Fatalf("ParseRetryAfter(%q) = %v, want %v", h, d, want)
			}
		}
	})
}

// FuzzParseSecret: an accepted secret is exactly FormatSecret of its key,
// 24 to 64 bytes; a refused one wraps ErrInvalidSecret and its message
// never quotes the secret.
func FuzzParseSecret(f *testing.F) {
	for _, s := range []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_" + strings.Repeat("A", 88),
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa", "abc123", "whsec_", "whsec_====",
		"whsec_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := ParseSecret(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidSecret) {
				t.Fatalf("error %v does not wrap ErrInvalidSecret", err)
			}
			if len(s) > len(SecretPrefix)+8 && strings.Contains(err.Error(), s[len(SecretPrefix):]) {
				t.Fatalf("the error quotes the secret: %v", err)
			}
			return
		}
		if FormatSecret(key) != s || len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
			t.Fatalf("accepted %q: key of %d bytes, formats as %q", s, len(key), FormatSecret(key))
		}
	})
}
