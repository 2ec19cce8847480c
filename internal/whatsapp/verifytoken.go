package whatsapp

import (
	"crypto/sha256"
	"encoding/hex"
)

// HashVerifyToken is how a webhook verify token (Meta's hub.verify_token)
// is stored and looked up: only its hash is kept.
func HashVerifyToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
