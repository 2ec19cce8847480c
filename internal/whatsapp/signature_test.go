package whatsapp

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	secret, old := []byte("app-secret"), []byte("old-secret")
	good := Sign(body, secret)
	altered := append([]byte{}, body...)
	altered[5] ^= 1
	tests := []struct {
		name    string
		body    []byte
		header  string
		secrets [][]byte
		want    error
	}{
		{"valid", body, good, [][]byte{secret}, nil},
		{"valid with spaces", body, " " + good + " ", [][]byte{secret}, nil},
		{"rotation: second secret", body, good, [][]byte{old, secret}, nil},
		{"wrong secret", body, good, [][]byte{old}, ErrSignatureMismatch},
		{"body altered by one bit", altered, good, [][]byte{secret}, ErrSignatureMismatch},
		{"missing", body, "", [][]byte{secret}, ErrMissingSignature},
		{"no prefix", body, strings.TrimPrefix(good, "sha256="), [][]byte{secret}, ErrMalformedSignature},
		{"sha1 prefix", body, "sha1=" + strings.TrimPrefix(good, "sha256="), [][]byte{secret}, ErrMalformedSignature},
		{"bad hex", body, "sha256=" + strings.Repeat("z", 64), [][]byte{secret}, ErrMalformedSignature},
		{"short", body, good[:len(good)-2], [][]byte{secret}, ErrMalformedSignature},
		{"no secret", body, good, nil, ErrNoSecret},
		{"empty secret", body, good, [][]byte{{}}, ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(tt.body, tt.header, tt.secrets...)
			require.ErrorIs(t, err, tt.want, "err = %v, want %v", err, tt.want)
		})
	}
}

func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte(`{}`), []byte("s"), "sha256=00")
	f.Fuzz(func(t *testing.T, body, secret []byte, header string) {
		_ = VerifySignature(body, header, secret) // never panics
		if len(secret) == 0 {
			return
		}
		require.NoError(t, VerifySignature(body, Sign(body, secret), secret), "round trip")
	})
}
