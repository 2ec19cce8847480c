// Package id makes the identifiers PyTake hands out: a short type prefix and a
// ULID-style body (48-bit millisecond time + 80 random bits, Crockford base32),
// so ids sort by creation time as DynamoDB sort keys.
package id

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Prefixes of the ids of each kind of object.
const (
	Organization = "org"
	APIKey       = "key"
	Contact      = "ct"
	Conversation = "cv"
	Message      = "msg"
	Event        = "evt"
	Webhook      = "wh"
	Delivery     = "dlv"
	Chatbot      = "bot"
	Request      = "req"
	Campaign     = "cmp"
)

// New returns prefix_<26 chars>, ordered by t at millisecond resolution.
func New(prefix string, t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint64(b[0:8], ms<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(fmt.Sprintf("id: crypto/rand failed: %v", err)) // never happens on Linux
	}
	return prefix + "_" + encode(b)
}

// Valid reports whether s looks like an id with the given prefix. It is a
// cheap shape check used to reject garbage before it reaches the store.
func Valid(prefix, s string) bool {
	body, ok := strings.CutPrefix(s, prefix+"_")
	if !ok || len(body) != 26 {
		return false
	}
	for i := 0; i < len(body); i++ {
		if strings.IndexByte(alphabet, body[i]) < 0 {
			return false
		}
	}
	return body[0] <= '7'
}

func encode(b [16]byte) string {
	// 128 bits -> 26 base32 digits, most significant first (the first digit holds 3 bits).
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
