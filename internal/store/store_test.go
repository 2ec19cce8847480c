package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	miniserver "github.com/truora/minidyn/server"

	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTable(t *testing.T) (*storetest.Table, *clock) {
	t.Helper()
	return storetest.New(t), &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
}

func newStore(t *testing.T) (*store.Store, *clock, *storetest.Table) {
	t.Helper()
	tbl, c := newTable(t)
	return store.New(tbl.Client, tbl.Name, c.Now), c, tbl
}

func TestOrganizationCreateAndRead(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	org, err := s.CreateOrganization(ctx, "  Acme  ")
	require.NoError(t, err)
	require.Equal(t, "Acme", org.Name, "org = %+v", org)
	require.NotEmpty(t, org.ID, "org")
	got, err := s.Organization(ctx, org.ID)
	if err != nil || got != org {
		t.Fatalf("Organization = %+v, %v; want %+v", got, err, org)
	}
	_, err = s.Organization(ctx, "org_missing")
	require.True(t, apperr.Is(err, apperr.NotFound), "missing org: %v", err)
	_, err = s.CreateOrganization(ctx, " ")
	require.True(t, apperr.Is(err, apperr.Unprocessable), "empty name: %v", err)
}

func TestIssueLookupRevoke(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "Acme")

	k, plain, err := s.IssueKey(ctx, org.ID, "ci", apikey.Live)
	require.NoError(t, err)
	hash, mode, err := apikey.Parse(plain)
	require.NoError(t, err, "issued key does not parse: %v", err)
	require.Equal(t, apikey.Live, mode, "issued key does not parse")
	got, err := s.KeyByHash(ctx, hash)
	require.NoError(t, err)
	require.Equal(t, k.ID, got.ID, "KeyByHash = %+v", got)
	require.Equal(t, org.ID, got.OrgID, "KeyByHash")
	require.False(t, got.Revoked(), "KeyByHash")
	require.Equal(t, plain[len(plain)-4:], got.Last4, "KeyByHash")

	_, err = s.RevokeKey(ctx, org.ID, k.ID)
	require.NoError(t, err)
	got, err = s.KeyByHash(ctx, hash)
	require.NoError(t, err, "after revoke: %+v %v", got, err)
	require.True(t, got.Revoked(), "after revoke")
	// The conditional write's failure path: revoking twice is a conflict.
	_, err = s.RevokeKey(ctx, org.ID, k.ID)
	require.True(t, apperr.Is(err, apperr.Conflict), "second revoke: %v", err)
	require.ErrorIs(t, err, store.ErrConditionFailed, "second revoke")
	keys, err := s.Keys(ctx, org.ID, "", 20)
	require.NoError(t, err, "Keys = %+v, %v", keys, err)
	require.Len(t, keys.Items, 1, "Keys")
	require.True(t, keys.Items[0].Revoked(), "Keys")
}

func TestIssueKeyFailurePaths(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	tests := []struct {
		name, org, mode string
		kind            apperr.Kind
	}{
		{"unknown organization", "org_nope", apikey.Live, apperr.NotFound},
		{"bad mode", "org_nope", "prod", apperr.Unprocessable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.IssueKey(ctx, tt.org, "x", tt.mode)
			require.True(t, apperr.Is(err, tt.kind), "err = %v, want kind %d", err, tt.kind)
		})
	}
	if _, err := s.KeyByHash(ctx, apikey.Hash("pytake_live_nothing")); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
	_, err := s.RevokeKey(ctx, "org_nope", "key_nope")
	require.True(t, apperr.Is(err, apperr.NotFound), "revoke unknown: %v", err)
}

func TestKeysAreScopedToTheirOrganization(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	a, _ := s.CreateOrganization(ctx, "A")
	b, _ := s.CreateOrganization(ctx, "B")
	k, _, err := s.IssueKey(ctx, a.ID, "a", apikey.Test)
	require.NoError(t, err)
	_, err = s.RevokeKey(ctx, b.ID, k.ID)
	require.True(t, apperr.Is(err, apperr.NotFound), "B revoked A's key: %v", err)
	keys, _ := s.Keys(ctx, b.ID, "", 20)
	require.Empty(t, keys.Items, "B lists A's keys: %+v", keys)
}

func TestTouchKeyAtMostOncePerMinute(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	k, plain, _ := s.IssueKey(ctx, org.ID, "a", apikey.Live)
	require.NoError(t, s.TouchKey(ctx, k))
	first, _ := s.APIKey(ctx, org.ID, k.ID)
	require.NotNil(t, first.LastUsedAt, "last used = %v", first.LastUsedAt)
	require.True(t, first.LastUsedAt.Equal(c.Now()), "last used")
	c.Add(10 * time.Second)
	if err := s.TouchKey(ctx, k); err != nil { // k has no LastUsedAt: the condition decides
		t.Fatal(err)
	}
	again, _ := s.APIKey(ctx, org.ID, k.ID)
	require.True(t, again.LastUsedAt.Equal(*first.LastUsedAt), "touched twice within a minute: %v", again.LastUsedAt)
	c.Add(time.Minute)
	h, _, _ := apikey.Parse(plain)
	k2, _ := s.KeyByHash(ctx, h)
	require.NoError(t, s.TouchKey(ctx, k2))
	later, _ := s.APIKey(ctx, org.ID, k.ID)
	require.True(t, later.LastUsedAt.Equal(c.Now()), "not touched after a minute: %v", later.LastUsedAt)
}

func TestUnavailableWhenDynamoFails(t *testing.T) {
	s, _, tbl := newStore(t)
	tbl.Server.EmulateFailure(miniserver.FailureConditionInternalServerError)
	_, err := s.CreateOrganization(context.Background(), "A")
	require.True(t, apperr.Is(err, apperr.Unavailable), "err = %v, want Unavailable", err)
}
