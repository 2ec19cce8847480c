package delivery_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/delivery"
)

// BenchmarkSign: the headers of one delivery (Standard Webhooks signature
// and X-PyTake-Signature) for a typical 1 KB event.
//
//	go test -run '^$' -bench Sign -benchmem ./internal/delivery/
func BenchmarkSign(b *testing.B) {
	secret, _ := delivery.NewSecret()
	body := bytes.Repeat([]byte("x"), 1024)
	ts := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		_ = delivery.Headers("evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D", ts, body, []string{secret})
	}
}
