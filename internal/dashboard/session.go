package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pytake/pytake/internal/awsapi"
)

// Cookie names. The session and the sign-in token are HttpOnly, Secure and
// SameSite=Strict (always Secure: browsers keep Secure cookies from
// http://localhost and 127.0.0.1 too, secure contexts, so the local stack
// works over http). Both are __Host- cookies (Path=/, no Domain: see
// login.go), so a sibling subdomain cannot plant one: an unprefixed session
// cookie could be set by one for the whole domain, with a longer path so it
// is sent first, and put the victim in the attacker's organisation with
// the attacker's own valid session. The language is scoped to /dashboard.
const (
	sessionCookie = "__Host-pytake_session"
	loginCookie   = "__Host-pytake_login"
	langCookie    = "pytake_lang"
	cookiePath    = "/dashboard"
)

// session is what the signed cookie carries: who signed in (the key, read
// again on every request, so a revoked key ends its sessions at once), a
// random id the CSRF token is derived from, and when it ends.
type session struct {
	OrgID   string `json:"o"`
	KeyID   string `json:"k"`
	ID      string `json:"s"`
	Expires int64  `json:"e"` // unix seconds
}

// signer signs and checks cookies and CSRF tokens with the session key.
type signer struct {
	key []byte
}

func (g signer) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, g.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

var b64 = base64.RawURLEncoding

// seal encodes s as "v1.<payload>.<mac>".
func (g signer) seal(s session) string {
	b, _ := json.Marshal(s)
	p := b64.EncodeToString(b)
	return "v1." + p + "." + b64.EncodeToString(g.mac("session", p))
}

// open checks a cookie's signature and expiry.
func (g signer) open(v string, now time.Time) (session, error) {
	ver, rest, ok := strings.Cut(v, ".")
	if !ok || ver != "v1" {
		return session{}, errors.New("unknown session format")
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return session{}, errors.New("session has no signature")
	}
	want := g.mac("session", p)
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, want) {
		return session{}, errors.New("session signature does not verify")
	}
	b, err := b64.DecodeString(p)
	if err != nil {
		return session{}, fmt.Errorf("session payload: %w", err)
	}
	var s session
	if err := json.Unmarshal(b, &s); err != nil {
		return session{}, fmt.Errorf("session payload: %w", err)
	}
	if s.OrgID == "" || s.KeyID == "" || s.ID == "" {
		return session{}, errors.New("session is incomplete")
	}
	if now.Unix() >= s.Expires {
		return session{}, errSessionExpired
	}
	return s, nil
}

var errSessionExpired = errors.New("session expired")

// csrf is the token every form of a session carries.
func (g signer) csrf(sessionID string) string {
	return b64.EncodeToString(g.mac("csrf", sessionID))
}

// checkCSRF compares a form's token with the one expected, in constant time.
func (g signer) checkCSRF(sessionID, token string) bool {
	got, err := b64.DecodeString(token)
	return err == nil && token != "" && hmac.Equal(got, g.mac("csrf", sessionID))
}

func randomID() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return b64.EncodeToString(b), nil
}

// cookie renders a Set-Cookie value: HttpOnly, Secure, SameSite=Strict,
// path /dashboard; maxAge 0 deletes it.
func cookie(name, value string, maxAge time.Duration) string {
	return cookieAt(cookiePath, name, value, maxAge)
}

// hostCookie is cookie for a __Host- name: path / (the prefix demands it,
// with Secure and no Domain).
func hostCookie(name, value string, maxAge time.Duration) string {
	return cookieAt("/", name, value, maxAge)
}

func cookieAt(path, name, value string, maxAge time.Duration) string {
	c := http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode}
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
	} else {
		c.MaxAge = -1
	}
	return c.String()
}

// readCookie finds a cookie among payload 2.0's "name=value" entries.
func readCookie(cookies []string, name string) string {
	for _, c := range cookies {
		for _, part := range strings.Split(c, ";") {
			// Only the header's own white space (SP, HTAB) is trimmed:
			// strings.TrimSpace would also trim Unicode spaces, turning a
			// cookie any sibling subdomain may set, such as
			// "\u2000__Host-pytake_login", into the __Host- one.
			k, v, ok := strings.Cut(strings.Trim(part, " \t"), "=")
			if ok && k == name {
				return v
			}
		}
	}
	return ""
}

// SecretsAPI is the part of Secrets Manager the session key needs.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *awsapi.GetSecretValueInput) (*awsapi.GetSecretValueOutput, error)
	CreateSecret(ctx context.Context, in *awsapi.CreateSecretInput) error
}

// lazyKey is the session key, read on the first request that needs it
// (not at the cold start: a request that needs none, and the start itself,
// do not wait for Secrets Manager) and kept for the container's life.
// Concurrent first requests wait for one read; a failed read is not kept,
// so the next request tries again.
type lazyKey struct {
	load func(ctx context.Context) ([]byte, error)
	mu   sync.Mutex
	sign *signer
}

func (k *lazyKey) signer(ctx context.Context) (signer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sign != nil {
		return *k.sign, nil
	}
	key, err := k.load(ctx)
	if err == nil {
		err = checkSessionKey(key)
	}
	if err != nil {
		return signer{}, fmt.Errorf("dashboard: %w", err)
	}
	k.sign = &signer{key: key}
	return *k.sign, nil
}

func checkSessionKey(key []byte) error {
	if len(key) < 32 {
		return fmt.Errorf("the session key must be at least 32 bytes, got %d", len(key))
	}
	return nil
}

// SessionKeyFrom is a Deps.SessionKeyLoader reading the key named name
// (SessionKeyName) with LoadSessionKey.
func SessionKeyFrom(sm SecretsAPI, name string) func(ctx context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) { return LoadSessionKey(ctx, sm, name) }
}

// SessionKeyName is the Secrets Manager name of the key that signs
// sessions, under the stage's prefix.
func SessionKeyName(prefix string) string { return prefix + "dashboard/session-key" }

// LoadSessionKey reads the session signing key from Secrets Manager,
// creating it (32 random bytes) the first time; when two containers race
// to create it, the loser reads the winner's. Rotating it (a new value of
// the secret) signs everyone out once the running containers, which read it
// on their first request that needs it, are replaced (a deploy or a
// configuration update).
func LoadSessionKey(ctx context.Context, sm SecretsAPI, name string) ([]byte, error) {
	for attempt := 0; attempt < 2; attempt++ {
		out, err := sm.GetSecretValue(ctx, &awsapi.GetSecretValueInput{SecretID: name})
		if err == nil {
			key, derr := b64.DecodeString(out.SecretString)
			if derr != nil || len(key) < 32 {
				return nil, fmt.Errorf("session key %s: not 32 or more base64url bytes", name)
			}
			return key, nil
		}
		if !awsapi.HasCode(err, awsapi.ResourceNotFound) {
			return nil, fmt.Errorf("session key %s: %w", name, err)
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("session key: %w", err)
		}
		err = sm.CreateSecret(ctx, &awsapi.CreateSecretInput{Name: name,
			Description:  "Signs the PyTake dashboard's session cookies and CSRF tokens",
			SecretString: b64.EncodeToString(key)})
		if err == nil {
			return key, nil
		}
		if !awsapi.HasCode(err, awsapi.ResourceExists) {
			return nil, fmt.Errorf("session key %s: create: %w", name, err)
		}
	}
	return nil, fmt.Errorf("session key %s: neither read nor created", name)
}
