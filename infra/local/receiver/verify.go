package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Verify checks that a webhook request comes from PyTake: the
// webhook-signature header (Standard Webhooks) must hold a v1 signature,
// made with the subscription's secret, of "{webhook-id}.{webhook-timestamp}.{body}",
// and the timestamp must be within 5 minutes of now. body is the raw
// request body, before any JSON parsing.
func Verify(secret string, header http.Header, body []byte, now time.Time) error {
	// whsec_ secrets key with their decoded base64; a secret you chose
	// (such as the guide's "abc123"), with its own bytes.
	key := []byte(secret)
	if enc, ok := strings.CutPrefix(secret, "whsec_"); ok {
		var err error
		if key, err = base64.StdEncoding.DecodeString(enc); err != nil {
			return errors.New("the secret is not whsec_ followed by base64")
		}
	}
	id, ts := header.Get("webhook-id"), header.Get("webhook-timestamp")
	if id == "" || ts == "" || header.Get("webhook-signature") == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("webhook-timestamp is not a number")
	}
	if d := now.Sub(time.Unix(unix, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("webhook-timestamp is more than 5 minutes off")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	// One "v1,<base64>" per active secret, separated by spaces (two for
	// a day after a rotation): any of them may match.
	for _, sig := range strings.Fields(header.Get("webhook-signature")) {
		got, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, "v1,"))
		if err == nil && strings.HasPrefix(sig, "v1,") && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no signature matches")
}
