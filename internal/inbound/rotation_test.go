package inbound_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pytake/pytake/internal/inbound"
	"github.com/pytake/pytake/internal/secrets"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/whatsapp"
)

// TestRotatedCredentialsAreReadBeforeRefusing: the webhook's secrets cache
// is warm with the old app secret and verify token when the settings are
// saved (by another function); Meta's next delivery, signed with the new
// secret, and its verification with the new token are accepted, not
// refused until the cache expires.
func TestRotatedCredentialsAreReadBeforeRefusing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := f.now
	clock := func() time.Time { return now }
	sm := secretstest.NewSecretsManager()
	old := inbound.Credentials{PhoneNumberID: phoneID, AppSecret: appSecret, VerifyToken: verifyToken, AccessToken: "EAAG"}
	writer := secrets.New(sm, "pytake/test/", 5*time.Minute, clock)
	if err := writer.Put(ctx, f.org, inbound.Provider, old); err != nil {
		t.Fatal(err)
	}
	webhookSecrets := secrets.New(sm, "pytake/test/", 5*time.Minute, clock)
	hook := inbound.New(f.store, webhookSecrets, f.pub, slog.New(slog.NewJSONHandler(io.Discard, nil)), clock)
	f.router = hook.Router()

	// Warm the cache with the old credentials.
	if resp := f.postSigned(read(t, "message_text.json")); resp.StatusCode != 200 {
		t.Fatalf("before rotation: %d %s", resp.StatusCode, resp.Body)
	}
	verify := func(token string) int {
		ev := events.APIGatewayV2HTTPRequest{RawPath: "/webhooks/whatsapp", RawQueryString: url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {token}, "hub.challenge": {"7"}}.Encode()}
		ev.RequestContext.HTTP.Method = "GET"
		resp, _ := f.router.Serve(ctx, ev)
		return resp.StatusCode
	}
	if c := verify(verifyToken); c != 200 {
		t.Fatalf("verification before rotation: %d", c)
	}

	// Rotate both, as PUT /v1/settings/whatsapp does in the API function.
	rotated := old
	rotated.AppSecret, rotated.VerifyToken = "rotated-app-secret", "rotated-verify-token"
	if _, err := f.store.PutWhatsAppAccount(ctx, store.WhatsAppAccount{OrgID: f.org, PhoneNumberID: phoneID, WABAID: wabaID, VerifyTokenHash: whatsapp.HashVerifyToken(rotated.VerifyToken)}); err != nil {
		t.Fatal(err)
	}
	if err := writer.Put(ctx, f.org, inbound.Provider, rotated); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)

	body := read(t, "message_image.json")
	if resp := f.post(body, whatsapp.Sign(body, []byte(rotated.AppSecret)), false); resp.StatusCode != 200 {
		t.Fatalf("signed with the new secret: %d %s", resp.StatusCode, resp.Body)
	}
	if c := verify(rotated.VerifyToken); c != 200 {
		t.Fatalf("verification with the new token: %d", c)
	}
	// The old secret no longer verifies, and a flood of bad signatures does
	// not turn into a Secrets Manager read per request.
	gets := sm.Reads()
	for i := 0; i < 20; i++ {
		if resp := f.post(body, whatsapp.Sign(body, []byte(appSecret)), false); resp.StatusCode != 401 {
			t.Fatalf("old secret: %d", resp.StatusCode)
		}
	}
	if n := sm.Reads() - gets; n > 1 {
		t.Fatalf("%d secret reads for 20 forged deliveries; want at most 1", n)
	}
}
