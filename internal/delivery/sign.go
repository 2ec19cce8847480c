package delivery

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names and fixed values of every delivery request. http.Header
// stores names in canonical form (Webhook-Id); HTTP header names are
// case-insensitive, and receivers' frameworks usually lower-case them.
const (
	HeaderID              = "webhook-id"
	HeaderTimestamp       = "webhook-timestamp"
	HeaderSignature       = "webhook-signature"
	HeaderPyTakeSignature = "X-PyTake-Signature"
	UserAgent             = "PyTake-Webhooks/1"
	ContentType           = "application/json"
)

// Secrets.
const (
	// SecretPrefix starts every generated signing secret: whsec_<standard
	// base64>.
	SecretPrefix = "whsec_"
	// MinSecretBytes and MaxSecretBytes bound the decoded key of a whsec_
	// secret (Standard Webhooks: 24 to 64 bytes).
	MinSecretBytes = 24
	MaxSecretBytes = 64
	// MinChosenSecretLen and MaxChosenSecretLen bound a secret the
	// integrator chooses that is not a whsec_ secret (the integrations
	// guide's own example, "abc123", is 6 characters).
	MinChosenSecretLen = 6
	MaxChosenSecretLen = 256
	// newSecretBytes is the size of the keys NewSecret makes.
	newSecretBytes = 32
)

// How a secret keys the Standard Webhooks signature (KeyForm).
const (
	// KeyWhsecBase64: the key is the base64 after "whsec_", decoded, as
	// Standard Webhooks libraries read a whsec_ secret.
	KeyWhsecBase64 = "whsec_base64"
	// KeySecretUTF8: the key is the secret string's own bytes (give
	// Standard Webhooks libraries the raw bytes, e.g. format: "raw").
	KeySecretUTF8 = "secret_utf8"
)

// DefaultTolerance is how far a webhook-timestamp may be from the
// receiver's clock (either way) when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Verification errors. Verify and VerifyPyTake wrap them with details;
// test with errors.Is.
var (
	ErrInvalidSecret       = errors.New("delivery: invalid webhook secret")
	ErrMissingHeader       = errors.New("delivery: missing webhook header")
	ErrInvalidTimestamp    = errors.New("delivery: invalid webhook timestamp")
	ErrTimestampOutOfRange = errors.New("delivery: webhook timestamp outside the tolerance")
	ErrNoMatchingSignature = errors.New("delivery: no matching webhook signature")
)

// NewSecret returns a fresh signing secret: "whsec_" followed by the
// standard base64 (with padding) of 32 random bytes. It is shown to the
// integrator once and stored as is.
func NewSecret() (string, error) {
	key := make([]byte, newSecretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("delivery: new secret: %w", err)
	}
	return FormatSecret(key), nil
}

// FormatSecret is the inverse of ParseSecret: "whsec_" + standard base64 of
// key.
func FormatSecret(key []byte) string {
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// ParseSecret returns the HMAC key of a "whsec_<base64>" secret: the
// decoded bytes, 24 to 64 of them. Only the canonical form is accepted
// (standard alphabet, padding present, nothing else such as spaces or
// newlines), so FormatSecret(key) gives back exactly s: X-PyTake-Signature
// is keyed with that string (see Headers). Errors wrap ErrInvalidSecret and
// never quote the secret.
func ParseSecret(s string) ([]byte, error) {
	enc, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: it must start with %q", ErrInvalidSecret, SecretPrefix)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: the part after %q is not standard base64", ErrInvalidSecret, SecretPrefix)
	}
	if base64.StdEncoding.EncodeToString(key) != enc {
		return nil, fmt.Errorf("%w: the part after %q is not canonical standard base64 (padding, line breaks?)", ErrInvalidSecret, SecretPrefix)
	}
	if len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return nil, fmt.Errorf("%w: the key is %d bytes, want %d to %d", ErrInvalidSecret, len(key), MinSecretBytes, MaxSecretBytes)
	}
	return key, nil
}

// SigningKey is the Standard Webhooks HMAC key of a subscription's secret:
// for a "whsec_..." secret, the decoded base64 after the prefix (ParseSecret:
// it must be canonical); for any other secret the integrator chose, the
// string's own bytes, after CheckChosenSecret. Errors wrap ErrInvalidSecret
// and never quote the secret.
func SigningKey(secret string) ([]byte, error) {
	if strings.HasPrefix(secret, SecretPrefix) {
		return ParseSecret(secret)
	}
	if err := CheckChosenSecret(secret); err != nil {
		return nil, err
	}
	return []byte(secret), nil
}

// CheckChosenSecret accepts a secret the integrator chose that is not a
// whsec_ secret: MinChosenSecretLen to MaxChosenSecretLen printable ASCII
// characters, no spaces (it goes into code and configuration files, and the
// guide's snippets encode it as UTF-8, which for ASCII is the same bytes in
// every language). Errors wrap ErrInvalidSecret and never quote the secret.
func CheckChosenSecret(secret string) error {
	if n := len(secret); n < MinChosenSecretLen || n > MaxChosenSecretLen {
		return fmt.Errorf("%w: it is %d characters, want %d to %d", ErrInvalidSecret, n, MinChosenSecretLen, MaxChosenSecretLen)
	}
	for i := 0; i < len(secret); i++ {
		if c := secret[i]; c < '!' || c > '~' {
			return fmt.Errorf("%w: character %d is not printable ASCII (spaces and control characters are refused)", ErrInvalidSecret, i+1)
		}
	}
	return nil
}

// KeyForm says how secret keys the Standard Webhooks signature:
// KeyWhsecBase64 or KeySecretUTF8.
func KeyForm(secret string) string {
	if strings.HasPrefix(secret, SecretPrefix) {
		return KeyWhsecBase64
	}
	return KeySecretUTF8
}

// Headers returns the headers of one delivery attempt of body, the exact
// bytes sent (see CanonicalBody):
//
//	Content-Type:       application/json
//	User-Agent:         PyTake-Webhooks/1
//	webhook-id:         msgID (the event id: the same on every retry)
//	webhook-timestamp:  ts in unix seconds (this attempt's time)
//	webhook-signature:  v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>
//	                    one space-separated entry per secret
//	X-PyTake-Signature: sha256=<hex HMAC-SHA256(secret string, body)>
//
// secrets are the subscription's active secrets, newest first; during a
// rotation there are several and a receiver accepts the request if any
// webhook-signature entry matches. Each entry's key is SigningKey(secret);
// secrets SigningKey refuses are left out.
//
// X-PyTake-Signature is what the integrations guide's snippets check:
// hmac.new(secret.encode(), payload.encode(), sha256).hexdigest() in Python
// and crypto.createHmac('sha256', secret) in Node.js, where secret is the
// configured secret string. Its HMAC key is therefore the whole secret
// string as UTF-8 bytes ("whsec_" prefix included, when there is one), not
// the decoded key. It carries one signature, so during a rotation it is
// keyed with the oldest active secret, the one receivers already have: it
// switches to the new secret when the previous one expires. The signed
// message is the body alone, with no timestamp, so it does not protect
// against replays: new integrations should verify webhook-signature.
//
// With no usable secret, no signature headers are set. msgID must be a
// valid header value (PyTake's ids are).
func Headers(msgID string, ts time.Time, body []byte, secrets []string) http.Header {
	h := make(http.Header, 7)
	h.Set("Content-Type", ContentType)
	h.Set("User-Agent", UserAgent)
	unix := strconv.FormatInt(ts.Unix(), 10)
	h.Set(HeaderID, msgID)
	h.Set(HeaderTimestamp, unix)
	var sig strings.Builder
	oldest := ""
	for _, secret := range secrets {
		key, err := SigningKey(secret)
		if err != nil {
			continue
		}
		if sig.Len() > 0 {
			sig.WriteByte(' ')
		}
		sig.WriteString("v1,")
		sig.WriteString(base64.StdEncoding.EncodeToString(standardMAC(key, msgID, unix, body)))
		oldest = secret
	}
	if sig.Len() == 0 {
		return h
	}
	h.Set(HeaderSignature, sig.String())
	h.Set(HeaderPyTakeSignature, "sha256="+hex.EncodeToString(bodyMAC([]byte(oldest), body)))
	return h
}

// standardMAC is HMAC-SHA256(key, "{id}.{timestamp}.{body}").
func standardMAC(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// bodyMAC is HMAC-SHA256(key, body).
func bodyMAC(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a request the Standard Webhooks way, as an integrator
// should: secret is the subscription's secret (its key is
// SigningKey(secret)), h the request's headers, body
// the raw bytes received (before any JSON parsing). It fails unless
//
//   - webhook-id, webhook-timestamp and webhook-signature are present;
//   - webhook-timestamp is unix seconds at most tolerance away from now,
//     either way (DefaultTolerance when tolerance <= 0), which bounds
//     replays;
//   - one of the space-separated "v1,<base64>" entries of webhook-signature
//     equals HMAC-SHA256(key, "{id}.{timestamp}.{body}"), compared in
//     constant time. Entries of other versions are ignored.
//
// Errors wrap ErrInvalidSecret, ErrMissingHeader, ErrInvalidTimestamp,
// ErrTimestampOutOfRange or ErrNoMatchingSignature.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := SigningKey(secret)
	if err != nil {
		return err
	}
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	for _, v := range [...]struct{ name, value string }{{HeaderID, id}, {HeaderTimestamp, ts}, {HeaderSignature, sigs}} {
		if v.value == "" {
			return fmt.Errorf("%w: %s", ErrMissingHeader, v.name)
		}
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	sent, err := parseUnix(ts)
	if err != nil {
		return err
	}
	switch d := now.Sub(sent); {
	case d > tolerance:
		return fmt.Errorf("%w: %s is %s old, tolerance %s", ErrTimestampOutOfRange, ts, d, tolerance)
	case d < -tolerance:
		return fmt.Errorf("%w: %s is %s in the future, tolerance %s", ErrTimestampOutOfRange, ts, sent.Sub(now), tolerance)
	}
	want := standardMAC(key, id, ts, body)
	for entry := range strings.SplitSeq(sigs, " ") {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrNoMatchingSignature
}

// parseUnix reads unix seconds written as decimal digits only.
func parseUnix(s string) (time.Time, error) {
	if len(s) > 18 || strings.TrimLeft(s, "0123456789") != "" {
		return time.Time{}, fmt.Errorf("%w: %q is not unix seconds", ErrInvalidTimestamp, s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q: %w", ErrInvalidTimestamp, s, err)
	}
	return time.Unix(n, 0), nil
}

// VerifyPyTake checks an X-PyTake-Signature header value the way the
// integrations guide's snippets do: header is "sha256=" followed by the
// lower-case hex HMAC-SHA256 of body keyed with the secret string itself
// (all of it, "whsec_" included, as UTF-8 bytes), compared in constant time. Errors
// wrap ErrInvalidSecret, ErrMissingHeader or ErrNoMatchingSignature.
func VerifyPyTake(secret string, header string, body []byte) error {
	if secret == "" {
		return fmt.Errorf("%w: empty", ErrInvalidSecret)
	}
	if header == "" {
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderPyTakeSignature)
	}
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return fmt.Errorf("%w: %s does not start with sha256=", ErrNoMatchingSignature, HeaderPyTakeSignature)
	}
	want := hex.EncodeToString(bodyMAC([]byte(secret), body))
	if !hmac.Equal([]byte(got), []byte(want)) {
		return ErrNoMatchingSignature
	}
	return nil
}
