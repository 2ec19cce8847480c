package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/delivery"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func key(t testing.TB, s string) []byte {
	t.Helper()
	k, err := delivery.SigningKey(s)
	require.NoError(t, err)
	return k
}

// TestVerify checks Verify against what PyTake's dispatcher sends
// (delivery.Headers), including the reference's test vector.
func TestVerify(t *testing.T) {
	rotated, err := delivery.NewSecret()
	require.NoError(t, err)
	at := time.Unix(1759509000, 0)
	body := []byte(`{"id":"evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D","event":"message.received","timestamp":"2025-10-03T16:30:00Z","organization_id":"org_01K6NYQ2M4P6R8T0V2X4Z6B8D0","data":{"message":{"id":"msg_01K6NZ3F8Q","type":"text","content":{"text":"Olá <3"}}}}`)
	signed := func(secrets ...string) http.Header {
		for _, s := range secrets {
			key(t, s) // secrets PyTake accepts: whsec_ or chosen
		}
		return delivery.Headers("evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D", at, body, secrets)
	}
	with := func(h http.Header, k, v string) http.Header {
		h = h.Clone()
		h.Set(k, v)
		return h
	}
	tests := []struct {
		name   string
		secret string
		header http.Header
		body   []byte
		now    time.Time
		ok     bool
	}{
		{"signed", testSecret, signed(testSecret), body, at, true},
		{"reference vector", testSecret, with(signed(testSecret), "webhook-signature", "v1,YmtOi3/QinsrQ+anQrjjIc3FPW6elWoZZfAXSR0i0No="), body, at, true},
		{"after a rotation, the new secret", rotated, signed(rotated, testSecret), body, at, true},
		{"after a rotation, the old secret", testSecret, signed(rotated, testSecret), body, at, true},
		{"4 minutes late", testSecret, signed(testSecret), body, at.Add(4 * time.Minute), true},
		{"6 minutes late", testSecret, signed(testSecret), body, at.Add(6 * time.Minute), false},
		{"6 minutes early", testSecret, signed(testSecret), body, at.Add(-6 * time.Minute), false},
		{"body changed", testSecret, signed(testSecret), bytes.Replace(body, []byte("Olá"), []byte("Ola"), 1), at, false},
		{"body re-serialised", testSecret, signed(testSecret), append([]byte(" "), body...), at, false},
		{"another secret", rotated, signed(testSecret), body, at, false},
		{"id changed", testSecret, with(signed(testSecret), "webhook-id", "evt_other"), body, at, false},
		{"timestamp changed", testSecret, with(signed(testSecret), "webhook-timestamp", "1759509001"), body, at, false},
		{"timestamp not a number", testSecret, with(signed(testSecret), "webhook-timestamp", "soon"), body, at, false},
		{"no signature", testSecret, with(signed(testSecret), "webhook-signature", ""), body, at, false},
		{"v2 scheme", testSecret, with(signed(testSecret), "webhook-signature", strings.Replace(signed(testSecret).Get("webhook-signature"), "v1,", "v2,", 1)), body, at, false},
		{"only the X-PyTake-Signature", testSecret, with(with(signed(testSecret), "webhook-signature", ""), "X-PyTake-Signature", signed(testSecret).Get("X-PyTake-Signature")), body, at, false},
		{"secret not base64", "whsec_***", signed(testSecret), body, at, false},
		{"the guide's chosen secret", "abc123", signed("abc123"), body, at, true},
		{"a chosen secret, rotated to whsec_", "abc123", signed(testSecret, "abc123"), body, at, true},
		{"another chosen secret", "abc124", signed("abc123"), body, at, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.header, tc.body, tc.now)
			require.Equal(t, tc.ok, err == nil, "Verify = %v, want ok=%v", err, tc.ok)
		})
	}
}

// FuzzVerify: Verify never panics, and accepts a body only with the
// signature PyTake makes for it.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"event":"message.received"}`), "evt_1", int64(1759509000), "v1,AAAA")
	f.Add([]byte{}, "", int64(0), "")
	f.Add([]byte("x"), "evt_2", int64(-1), "v1, v1,=== v2,abc")
	key(f, testSecret)
	f.Fuzz(func(t *testing.T, body []byte, id string, unix int64, sig string) {
		at := time.Unix(1759509000, 0)
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", itoa(unix))
		h.Set("webhook-signature", sig)
		if Verify(testSecret, h, body, at) == nil {
			good := delivery.Headers(id, time.Unix(unix, 0), body, []string{testSecret}).Get("webhook-signature")
			require.True(t, containsSig(sig, good), "accepted signature %q, PyTake would send %q", sig, good)
		}
		if id != "" && !strings.ContainsAny(id, "\r\n") {
			good := delivery.Headers(id, at, body, []string{testSecret})
			require.NoError(t, Verify(testSecret, good, body, at), "refused PyTake's own signature")
		}
	})
}

// containsSig: base64 decoding tolerates nothing else, so an accepted
// entry must decode to the same MAC as PyTake's.
func containsSig(sig, good string) bool {
	for _, s := range strings.Fields(sig) {
		if strings.HasPrefix(s, "v1,") && strings.TrimRight(s, "=") == strings.TrimRight(good, "=") {
			return true
		}
	}
	return false
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// TestHandler serves deliveries through the receiver: a signed event is
// printed once even when retried, a bad signature gets 401, and the
// receiver stops after -count events.
func TestHandler(t *testing.T) {
	var out, logs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	addr := freeAddr(t)
	go func() { done <- run(ctx, addr, testSecret, 2, &out, &logs) }()
	post := func(id string, body string, secret string) int {
		t.Helper()
		key(t, secret)
		h := delivery.Headers(id, time.Now(), []byte(body), []string{secret})
		var resp *http.Response
		var err error
		for i := 0; i < 50; i++ {
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/pytake", strings.NewReader(body))
			req.Header = h
			if resp, err = http.DefaultClient.Do(req); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	other, _ := delivery.NewSecret()
	steps := []struct {
		id, body, secret string
		want             int
	}{
		{"evt_1", `{"id":"evt_1","event":"contact.created"}`, testSecret, 204},
		{"evt_1", `{"id":"evt_1","event":"contact.created"}`, testSecret, 204}, // a retry
		{"evt_x", `{"id":"evt_x"}`, other, 401},
		{"evt_2", `{"id":"evt_2","event":"message.received"}`, testSecret, 204},
	}
	for _, s := range steps {
		got := post(s.id, s.body, s.secret)
		require.Equal(t, s.want, got, "%s: status %d, want %d", s.id, got, s.want)
	}
	require.NoError(t, <-done)
	want := "{\"id\":\"evt_1\",\"event\":\"contact.created\"}\n{\"id\":\"evt_2\",\"event\":\"message.received\"}\n"
	require.Equal(t, want, out.String(), "printed %q, want %q", out.String(), want)
	require.Contains(t, logs.String(), "rejected evt_x", "log: %s", logs.String())
	require.Contains(t, logs.String(), "evt_1 again", "log")
}
