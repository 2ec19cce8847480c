// Package whatsapp holds what PyTake knows of Meta's WhatsApp Cloud API
// wire formats: the webhook signature and the verify token's stored hash.
package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// Signature errors.
var (
	ErrMissingSignature   = errors.New("whatsapp: missing X-Hub-Signature-256")
	ErrMalformedSignature = errors.New("whatsapp: malformed X-Hub-Signature-256")
	ErrSignatureMismatch  = errors.New("whatsapp: signature does not match")
	ErrNoSecret           = errors.New("whatsapp: no app secret to verify with")
)

// Sign returns the X-Hub-Signature-256 value of body: "sha256=<hex>".
func Sign(body, secret []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks header (X-Hub-Signature-256) against the HMAC-SHA256
// of the raw body under any of the secrets (more than one during rotation),
// in constant time.
func VerifySignature(body []byte, header string, secrets ...[]byte) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrMissingSignature
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(hexSig) != sha256.Size*2 {
		return ErrMalformedSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return ErrMalformedSignature
	}
	tried := false
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		tried = true
		mac := hmac.New(sha256.New, s)
		mac.Write(body)
		if hmac.Equal(mac.Sum(nil), got) {
			return nil
		}
	}
	if !tried {
		return ErrNoSecret
	}
	return ErrSignatureMismatch
}
