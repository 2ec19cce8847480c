package inbound_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/inbound"
	"github.com/pytake/pytake/internal/whatsapp"
)

// The hot path is verify + parse + plan the writes, with no I/O. The floor
// is what any handler must do at least: HMAC-SHA256 of the bytes and one
// json.Unmarshal of them. Target: hot path at most 3x the floor.
func benchBodies(b *testing.B) map[string][]byte {
	return map[string][]byte{"one_text": read(&testing.T{}, "message_text.json"), "50_statuses": read(&testing.T{}, "statuses_50.json")}
}

func BenchmarkFloor(b *testing.B) {
	for name, body := range benchBodies(b) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				mac := hmac.New(sha256.New, []byte(appSecret))
				mac.Write(body)
				_ = mac.Sum(nil)
				var v map[string]any
				require.NoError(b, json.Unmarshal(body, &v))
			}
		})
	}
}

func BenchmarkHotPath(b *testing.B) {
	for name, body := range benchBodies(b) {
		sig := whatsapp.Sign(body, []byte(appSecret))
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				require.NoError(b, whatsapp.VerifySignature(body, sig, []byte(appSecret)))
				_, err := inbound.ParsePlan(body)
				require.NoError(b, err)
			}
		})
	}
}
