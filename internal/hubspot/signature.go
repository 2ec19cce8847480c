// Package hubspot is PyTake's side of HubSpot: the webhook signature
// checks (v3, and v2 for older apps), the webhook batch, and a client for
// the CRM v3 API (contacts read, search and create; notes on a contact).
package hubspot

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// MaxSkew is how old (or how far ahead) a v3 request's timestamp may be.
const MaxSkew = 5 * time.Minute

// Signature headers, lower-cased as API Gateway hands them.
const (
	HeaderSignatureV3 = "x-hubspot-signature-v3"
	HeaderTimestamp   = "x-hubspot-request-timestamp"
	HeaderSignature   = "x-hubspot-signature"
	HeaderVersion     = "x-hubspot-signature-version"
)

// Errors of Verify; each is a reason to answer 401.
var (
	ErrNoSignature = errors.New("hubspot: no X-HubSpot-Signature-v3 (or v2 X-HubSpot-Signature)")
	ErrStale       = errors.New("hubspot: X-HubSpot-Request-Timestamp is missing, malformed or more than 5 minutes off")
	ErrSignature   = errors.New("hubspot: the signature does not match")
	ErrVersion     = errors.New("hubspot: signature version not accepted (v3, or v2)")
)

// Request is what a signature covers.
type Request struct {
	Method string
	URI    string // the full URL HubSpot called: https://host/path?query
	Body   []byte
	Header func(name string) string // lower-case names
}

// Verify checks a request against the app's client secret: v3 when
// X-HubSpot-Signature-v3 is present (base64 HMAC-SHA256 of method, URI,
// body and timestamp; the timestamp within MaxSkew of now), else v2 (hex
// SHA-256 of secret, method, URI and body). Comparisons are constant-time.
// It answers the version that matched.
func Verify(secret string, r Request, now time.Time) (string, error) {
	if secret == "" {
		return "", ErrSignature
	}
	if sig := strings.TrimSpace(r.Header(HeaderSignatureV3)); sig != "" {
		ts := strings.TrimSpace(r.Header(HeaderTimestamp))
		ms, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || ms <= 0 {
			return "", ErrStale
		}
		if d := now.Sub(time.UnixMilli(ms)); d > MaxSkew || d < -MaxSkew {
			return "", ErrStale
		}
		want := SignV3(secret, r.Method, r.URI, r.Body, ts)
		if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
			return "", ErrSignature
		}
		return "v3", nil
	}
	sig := strings.TrimSpace(r.Header(HeaderSignature))
	if sig == "" {
		return "", ErrNoSignature
	}
	if v := strings.ToLower(strings.TrimSpace(r.Header(HeaderVersion))); v != "v2" {
		return "", ErrVersion
	}
	want := SignV2(secret, r.Method, r.URI, r.Body)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(sig)), []byte(want)) != 1 {
		return "", ErrSignature
	}
	return "v2", nil
}

// SignV3 is HubSpot's v3 signature: base64 of HMAC-SHA256(secret,
// method + decoded URI + body + timestamp).
func SignV3(secret, method, uri string, body []byte, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(method))
	m.Write([]byte(DecodeURI(uri)))
	m.Write(body)
	m.Write([]byte(timestamp))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// SignV2 is HubSpot's v2 signature: hex SHA-256 of secret + method + URI
// (exactly as called) + body.
func SignV2(secret, method, uri string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(secret))
	h.Write([]byte(method))
	h.Write([]byte(uri))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// v3Decoded are the only escapes HubSpot decodes in the URI before signing.
var v3Decoded = map[string]string{
	"3A": ":", "2F": "/", "3F": "?", "40": "@", "21": "!", "24": "$", "27": "'", "28": "(", "29": ")",
	"2A": "*", "2C": ",", "3B": ";",
}

// DecodeURI decodes, in a URI, exactly the escapes HubSpot's v3 signature
// decodes (%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B, either case);
// every other byte is kept.
func DecodeURI(uri string) string {
	if !strings.Contains(uri, "%") {
		return uri
	}
	var b strings.Builder
	b.Grow(len(uri))
	for i := 0; i < len(uri); i++ {
		if uri[i] == '%' && i+2 < len(uri) {
			if d, ok := v3Decoded[strings.ToUpper(uri[i+1:i+3])]; ok {
				b.WriteString(d)
				i += 2
				continue
			}
		}
		b.WriteByte(uri[i])
	}
	return b.String()
}
