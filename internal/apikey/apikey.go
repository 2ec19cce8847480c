// Package apikey makes and checks PyTake API keys: "pytake_live_" or
// "pytake_test_" followed by 32 random bytes in lower-case base32 (52
// characters). Only the SHA-256 of a key is ever stored.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Modes of a key.
const (
	Live = "live"
	Test = "test"
)

const (
	prefixBase = "pytake_"
	randomLen  = 32
	bodyLen    = 52 // base32 of 32 bytes, unpadded
)

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// Errors from Parse.
var (
	ErrMalformed = errors.New("apikey: malformed key")
)

// Key is a freshly generated key. Plaintext is shown once and never stored.
type Key struct {
	Plaintext string
	Hash      string // hex SHA-256 of Plaintext
	Prefix    string // "pytake_live_" or "pytake_test_"
	Last4     string
	Mode      string
}

// Generate makes a new key of the given mode.
func Generate(mode string) (Key, error) {
	if mode != Live && mode != Test {
		return Key{}, fmt.Errorf("apikey: unknown mode %q", mode)
	}
	var b [randomLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Key{}, fmt.Errorf("apikey: random: %w", err)
	}
	prefix := prefixBase + mode + "_"
	plain := prefix + strings.ToLower(enc.EncodeToString(b[:]))
	return Key{Plaintext: plain, Hash: Hash(plain), Prefix: prefix, Last4: plain[len(plain)-4:], Mode: mode}, nil
}

// Hash is the stored form of a key.
func Hash(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// Parse checks a presented key's shape and returns its hash and mode.
func Parse(plain string) (hash, mode string, err error) {
	rest, ok := strings.CutPrefix(plain, prefixBase)
	if !ok {
		return "", "", ErrMalformed
	}
	switch {
	case strings.HasPrefix(rest, Live+"_"):
		mode = Live
	case strings.HasPrefix(rest, Test+"_"):
		mode = Test
	default:
		return "", "", ErrMalformed
	}
	body := rest[len(mode)+1:]
	if len(body) != bodyLen {
		return "", "", ErrMalformed
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return "", "", ErrMalformed
		}
	}
	return Hash(plain), mode, nil
}

// Equal compares two hashes in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
