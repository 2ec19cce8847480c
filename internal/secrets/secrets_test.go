package secrets

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/secrets/secretstest"
)

func TestPutGetCache(t *testing.T) {
	fake := secretstest.NewSecretsManager()
	now := time.Unix(0, 0)
	s := New(fake, "pytake/dev/", time.Minute, func() time.Time { return now })
	ctx := context.Background()
	type cred struct{ Token string }
	var got cred
	if err := s.Get(ctx, "org_1", "whatsapp", &got); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("missing secret: %v", err)
	}
	require.NoError(t, s.Put(ctx, "org_1", "whatsapp", cred{"a"}))
	require.True(t, fake.Has("pytake/dev/org/org_1/whatsapp"), "secret name: %v", fake.Names())
	require.NoError(t, s.Put(ctx, "org_1", "whatsapp", cred{"b"}))
	s.Forget("org_1", "whatsapp")
	gets := fake.Reads()
	for i := 0; i < 3; i++ {
		err := s.Get(ctx, "org_1", "whatsapp", &got)
		require.NoError(t, err, "Get = %+v %v", got, err)
		require.Equal(t, "b", got.Token, "Get")
	}
	require.Equal(t, 1, fake.Reads()-gets, "cache: %d reads for 3 gets", fake.Reads()-gets)
	now = now.Add(2 * time.Minute)
	_ = s.Get(ctx, "org_1", "whatsapp", &got)
	require.Equal(t, 2, fake.Reads()-gets, "ttl not honoured: %d reads", fake.Reads()-gets)
}
