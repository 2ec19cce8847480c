package delivery

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Standard Webhooks specification's own test vector.
func TestHeadersStandardWebhooksVector(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		msgID  = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	body := []byte(`{"test": 2432232314}`)
	ts := time.Unix(1614265330, 0)
	h := Headers(msgID, ts, body, []string{secret})
	if got := h.Get(HeaderSignature); got != want {
		t.Errorf("webhook-signature = %q, want %q", got, want)
	}
	if got := h.Get(HeaderTimestamp); got != "1614265330" {
		t.Errorf("webhook-timestamp = %q", got)
	}
	got := h.Get(HeaderID)
	assert.Equal(t, msgID, got, "webhook-id = %q", got)
	// The receiver side, with the spec's header only.
	in := http.Header{}
	in.Set("webhook-id", msgID)
	in.Set("webhook-timestamp", "1614265330")
	in.Set("webhook-signature", want)
	assert.NoError(t, Verify(secret, in, body, ts.Add(4*time.Minute), 0), "Verify")
}

// PyTake's own vector (also in ExampleHeaders), computed independently
// with Python's hmac module.
func TestHeadersPyTakeVector(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"id":"evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D","event":"message.received","timestamp":"2025-10-03T16:30:00Z","organization_id":"org_01K6NYQ2M4P6R8T0V2X4Z6B8D0","data":{"message":{"id":"msg_01K6NZ3F8Q","type":"text","content":{"text":"Olá <3"}}}}`)
	h := Headers("evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D", time.Date(2025, 10, 3, 16, 30, 0, 0, time.UTC), body, []string{secret})
	want := map[string]string{
		"Content-Type":       "application/json",
		"User-Agent":         "PyTake-Webhooks/1",
		"Webhook-Id":         "evt_01K6NZ3F8Q2W5R7T9V1X3Z5B7D",
		"Webhook-Timestamp":  "1759509000",
		"Webhook-Signature":  "v1,YmtOi3/QinsrQ+anQrjjIc3FPW6elWoZZfAXSR0i0No=",
		"X-Pytake-Signature": "sha256=3fc5bf983150beca3ba7de79ae90446a2c0a8553f07cba5e7024807deee35c55",
	}
	assert.Len(t, h, len(want), "got %d headers, want %d: %v", len(h), len(want), h)
	for name, v := range want {
		if got := h[name]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
}

func TestHeadersRotation(t *testing.T) {
	newest, older := mustSecret(t), mustSecret(t)
	body := []byte(`{"event":"message.sent"}`)
	ts := time.Unix(1759509000, 0)
	h := Headers("evt_1", ts, body, []string{newest, older})

	entries := strings.Split(h.Get(HeaderSignature), " ")
	require.Len(t, entries, 2, "webhook-signature = %q, want two entries", h.Get(HeaderSignature))
	for _, e := range entries {
		assert.True(t, strings.HasPrefix(e, "v1,"), "entry %q lacks v1,", e)
	}
	for _, s := range []string{newest, older} {
		assert.NoError(t, Verify(s, h, body, ts, 0), "Verify with an active secret")
	}
	// X-PyTake-Signature has room for one: the oldest, which receivers
	// already have, until it expires.
	assert.NoError(t, VerifyPyTake(older, h.Get(HeaderPyTakeSignature), body), "X-PyTake-Signature is not keyed with the older secret")
	err := VerifyPyTake(newest, h.Get(HeaderPyTakeSignature), body)
	assert.ErrorIs(t, err, ErrNoMatchingSignature, "X-PyTake-Signature verified with the newest secret during the overlap: %v", err)
}

func TestHeadersNoKeys(t *testing.T) {
	for _, secrets := range [][]string{nil, {"abc"}, {"whsec_x"}} {
		h := Headers("evt_1", time.Unix(1, 0), []byte(`{}`), secrets)
		if h.Get(HeaderSignature) != "" || h.Get(HeaderPyTakeSignature) != "" {
			t.Errorf("signature headers without a usable secret %q: %v", secrets, h)
		}
	}
	h := Headers("evt_1", time.Unix(1, 0), []byte(`{}`), nil)
	if h.Get(HeaderID) != "evt_1" || h.Get(HeaderTimestamp) != "1" {
		t.Errorf("headers = %v", h)
	}
}

func TestNewSecret(t *testing.T) {
	a, b := mustSecret(t), mustSecret(t)
	require.NotEqual(t, b, a, "two secrets are equal")
	assert.True(t, strings.HasPrefix(a, "whsec_"), "%q lacks whsec_", a)
	key := mustParse(t, a)
	assert.Len(t, key, 32, "key is %d bytes, want 32", len(key))
	assert.Equal(t, a, FormatSecret(mustParse(t, a)), "FormatSecret(ParseSecret(s)) != s")
}

func TestParseSecret(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, n)) }
	tests := []struct {
		name, secret string
		size         int // 0: invalid
	}{
		{"spec secret, 24 bytes", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 24},
		{"32 bytes", "whsec_" + b64(32), 32},
		{"64 bytes", "whsec_" + b64(64), 64},
		{"25 bytes, padded", "whsec_" + b64(25), 25},
		{"empty", "", 0},
		{"prefix only", "whsec_", 0},
		{"no prefix", b64(32), 0},
		{"guide's example secret", "abc123", 0},
		{"upper-case prefix", "WHSEC_" + b64(32), 0},
		{"23 bytes", "whsec_" + b64(23), 0},
		{"65 bytes", "whsec_" + b64(65), 0},
		{"padding missing", "whsec_" + strings.TrimRight(b64(25), "="), 0},
		{"url-safe alphabet", "whsec_" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), 0},
		{"line break", "whsec_" + b64(24)[:16] + "\n" + b64(24)[16:], 0},
		{"trailing space", "whsec_" + b64(32) + " ", 0},
		{"not base64", "whsec_!!!!" + b64(30), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ParseSecret(tt.secret)
			if tt.size == 0 {
				require.ErrorIs(t, err, ErrInvalidSecret, "err = %v, want ErrInvalidSecret", err)
				if len(tt.secret) > 10 && strings.Contains(err.Error(), tt.secret[6:]) {
					t.Errorf("the error quotes the secret: %v", err)
				}
				return
			}
			require.NoError(t, err)
			assert.Len(t, key, tt.size, "key is %d bytes, want %d", len(key), tt.size)
			assert.Equal(t, tt.secret, FormatSecret(key), "FormatSecret = %q, want %q", FormatSecret(key), tt.secret)
		})
	}
}

// TestSigningKey: whsec_ secrets key with their decoded base64, secrets
// the integrator chose with their own bytes (the guide's "abc123").
func TestSigningKey(t *testing.T) {
	tests := []struct {
		name, secret, form string
		key                []byte // nil: refused
	}{
		{"the guide's example", "abc123", KeySecretUTF8, []byte("abc123")},
		{"long chosen secret", strings.Repeat("Z", 256), KeySecretUTF8, bytes.Repeat([]byte("Z"), 256)},
		{"punctuation", "p@ss:w0rd/#!~", KeySecretUTF8, []byte("p@ss:w0rd/#!~")},
		{"whsec", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", KeyWhsecBase64, mustParse(t, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")},
		{"too short", "abc12", KeySecretUTF8, nil},
		{"too long", strings.Repeat("Z", 257), KeySecretUTF8, nil},
		{"space", "abc 123", KeySecretUTF8, nil},
		{"tab", "abc\t1234", KeySecretUTF8, nil},
		{"NUL", "abc\x001234", KeySecretUTF8, nil},
		{"non-ASCII", "sénha123", KeySecretUTF8, nil},
		{"broken whsec", "whsec_abc123", KeyWhsecBase64, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KeyForm(tt.secret); got != tt.form {
				t.Errorf("KeyForm = %q, want %q", got, tt.form)
			}
			key, err := SigningKey(tt.secret)
			if tt.key == nil {
				if !errors.Is(err, ErrInvalidSecret) {
					t.Fatalf("err = %v, want ErrInvalidSecret", err)
				}
				if len(tt.secret) > 6 && strings.Contains(err.Error(), tt.secret) {
					t.Errorf("the error quotes the secret: %v", err)
				}
				return
			}
			if err != nil || !bytes.Equal(key, tt.key) {
				t.Fatalf("SigningKey = %x, %v; want %x", key, err, tt.key)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	secret := mustSecret(t)
	other := mustSecret(t)
	body := []byte(`{"id":"evt_1","event":"message.received"}`)
	sent := time.Unix(1759509000, 0)
	signed := func() http.Header { return Headers("evt_1", sent, body, []string{secret}) }
	with := func(name, value string) http.Header {
		h := signed()
		if value == "" {
			h.Del(name)
		} else {
			h.Set(name, value)
		}
		return h
	}
	good := signed().Get(HeaderSignature)
	otherSig := Headers("evt_1", sent, body, []string{other}).Get(HeaderSignature)

	tests := []struct {
		name      string
		secret    string
		h         http.Header
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{"valid", secret, signed(), body, sent, 0, nil},
		{"valid, 5 min late", secret, signed(), body, sent.Add(5 * time.Minute), 0, nil},
		{"valid, 5 min early", secret, signed(), body, sent.Add(-5 * time.Minute), 0, nil},
		{"too old", secret, signed(), body, sent.Add(5*time.Minute + time.Second), 0, ErrTimestampOutOfRange},
		{"too new", secret, signed(), body, sent.Add(-5*time.Minute - time.Second), 0, ErrTimestampOutOfRange},
		{"custom tolerance", secret, signed(), body, sent.Add(time.Hour), 2 * time.Hour, nil},
		{"tampered body", secret, signed(), []byte(`{"id":"evt_2","event":"message.received"}`), sent, 0, ErrNoMatchingSignature},
		{"re-serialised body", secret, signed(), []byte(`{"id": "evt_1", "event": "message.received"}`), sent, 0, ErrNoMatchingSignature},
		{"wrong secret", other, signed(), body, sent, 0, ErrNoMatchingSignature},
		{"invalid secret", "abc", signed(), body, sent, 0, ErrInvalidSecret},
		{"chosen secret, not this one", "abc123", signed(), body, sent, 0, ErrNoMatchingSignature},
		{"tampered id", secret, with(HeaderID, "evt_2"), body, sent, 0, ErrNoMatchingSignature},
		{"tampered timestamp", secret, with(HeaderTimestamp, "1759509001"), body, sent, 0, ErrNoMatchingSignature},
		{"no id", secret, with(HeaderID, ""), body, sent, 0, ErrMissingHeader},
		{"no timestamp", secret, with(HeaderTimestamp, ""), body, sent, 0, ErrMissingHeader},
		{"no signature", secret, with(HeaderSignature, ""), body, sent, 0, ErrMissingHeader},
		{"timestamp with sign", secret, with(HeaderTimestamp, "+1759509000"), body, sent, 0, ErrInvalidTimestamp},
		{"timestamp in ms", secret, with(HeaderTimestamp, "1759509000000"), body, sent, 0, ErrTimestampOutOfRange},
		{"timestamp huge", secret, with(HeaderTimestamp, "999999999999999999"), body, sent, 0, ErrTimestampOutOfRange},
		{"timestamp too long", secret, with(HeaderTimestamp, "9999999999999999999999"), body, sent, 0, ErrInvalidTimestamp},
		{"timestamp RFC 3339", secret, with(HeaderTimestamp, "2025-10-03T16:30:00Z"), body, sent, 0, ErrInvalidTimestamp},
		{"second entry matches", secret, with(HeaderSignature, otherSig+" "+good), body, sent, 0, nil},
		{"v2 entry ignored", secret, with(HeaderSignature, "v2,"+strings.TrimPrefix(good, "v1,")), body, sent, 0, ErrNoMatchingSignature},
		{"entry without version", secret, with(HeaderSignature, strings.TrimPrefix(good, "v1,")), body, sent, 0, ErrNoMatchingSignature},
		{"bad base64 then good", secret, with(HeaderSignature, "v1,@@@ "+good), body, sent, 0, nil},
		{"truncated signature", secret, with(HeaderSignature, good[:20]), body, sent, 0, ErrNoMatchingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.h, tt.body, tt.now, tt.tolerance)
			if tt.want == nil {
				require.NoError(t, err, "Verify = %v, want nil", err)
				return
			}
			require.ErrorIs(t, err, tt.want, "Verify = %v, want %v", err, tt.want)
		})
	}
}

func TestVerifyPyTake(t *testing.T) {
	secret := mustSecret(t)
	body := []byte(`{"event":"message.read"}`)
	sig := Headers("evt_1", time.Unix(1, 0), body, []string{secret}).Get(HeaderPyTakeSignature)
	tests := []struct {
		name, secret, header string
		body                 []byte
		want                 error
	}{
		{"valid", secret, sig, body, nil},
		{"tampered body", secret, sig, []byte(`{"event":"message.sent"}`), ErrNoMatchingSignature},
		{"wrong secret", mustSecret(t), sig, body, ErrNoMatchingSignature},
		{"no prefix", secret, strings.TrimPrefix(sig, "sha256="), body, ErrNoMatchingSignature},
		{"upper-case hex", secret, "sha256=" + strings.ToUpper(strings.TrimPrefix(sig, "sha256=")), body, ErrNoMatchingSignature},
		{"missing", secret, "", body, ErrMissingHeader},
		{"empty secret", "", sig, body, ErrInvalidSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyPyTake(tt.secret, tt.header, tt.body)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("VerifyPyTake = %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"test": 2432232314}`), "msg_p5jXN8AQM9LWM0D4loKWxJek", int64(1614265330), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "1614265330", "")
	f.Add([]byte{}, "evt_1", int64(0), "", "", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	f.Add([]byte("\xff\x00"), "x", int64(-1), "v1, v1,,,", "-5", "p@ss\x00word")
	f.Add([]byte(`{}`), "evt_1", int64(5), "v1,x", "5", "abc123")
	f.Add([]byte(`{}`), "evt_1", int64(5), "", "", "whsec_!")
	key := bytes.Repeat([]byte{7}, 32)
	f.Fuzz(func(t *testing.T, body []byte, msgID string, unix int64, sigHeader, tsHeader, chosen string) {
		// Any secret SigningKey accepts signs and verifies; one it
		// refuses is refused by Verify too, and never panics.
		secret := FormatSecret(key)
		if k, err := SigningKey(chosen); err == nil {
			if !strings.HasPrefix(chosen, SecretPrefix) && string(k) != chosen {
				t.Fatalf("a chosen secret's key is not its bytes")
			}
			secret = chosen
		} else if !errors.Is(err, ErrInvalidSecret) || Verify(chosen, http.Header{}, body, time.Unix(unix, 0), 0) == nil {
			t.Fatalf("refused secret: %v", err)
		}
		// Arbitrary headers never panic.
		h := http.Header{}
		h.Set(HeaderID, msgID)
		h.Set(HeaderTimestamp, tsHeader)
		h.Set(HeaderSignature, sigHeader)
		_ = Verify(secret, h, body, time.Unix(unix, 0), 0)
		_ = VerifyPyTake(secret, sigHeader, body)

		// What Headers signs, Verify accepts.
		unix &= 1<<40 - 1 // non-negative and within a sane range
		ts := time.Unix(unix, 0)
		signed := Headers(msgID, ts, body, []string{secret})
		if err := Verify(secret, signed, body, ts, time.Minute); err != nil {
			// http.Header.Get cannot give back an empty id.
			require.Empty(t, msgID, "round trip: %v", err)
			require.ErrorIs(t, err, ErrMissingHeader, "round trip")
		}
		require.NoError(t, VerifyPyTake(secret, signed.Get(HeaderPyTakeSignature), body), "X-PyTake-Signature round trip")
		if len(body) > 0 {
			tampered := bytes.Clone(body)
			tampered[0] ^= 1
			if msgID != "" && Verify(secret, signed, tampered, ts, time.Minute) == nil {
				t.Fatal("a tampered body verified")
			}
		}
	})
}

func mustSecret(t testing.TB) string {
	t.Helper()
	s, err := NewSecret()
	require.NoError(t, err)
	return s
}

func mustParse(t testing.TB, s string) []byte {
	t.Helper()
	key, err := ParseSecret(s)
	require.NoError(t, err)
	return key
}
