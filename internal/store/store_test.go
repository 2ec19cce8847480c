package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

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
	if err != nil {
		t.Fatal(err)
	}
	if org.Name != "Acme" || org.ID == "" {
		t.Fatalf("org = %+v", org)
	}
	got, err := s.Organization(ctx, org.ID)
	if err != nil || got != org {
		t.Fatalf("Organization = %+v, %v; want %+v", got, err, org)
	}
	if _, err := s.Organization(ctx, "org_missing"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("missing org: %v", err)
	}
	if _, err := s.CreateOrganization(ctx, " "); !apperr.Is(err, apperr.Unprocessable) {
		t.Fatalf("empty name: %v", err)
	}
}

func TestIssueLookupRevoke(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "Acme")

	k, plain, err := s.IssueKey(ctx, org.ID, "ci", apikey.Live)
	if err != nil {
		t.Fatal(err)
	}
	hash, mode, err := apikey.Parse(plain)
	if err != nil || mode != apikey.Live {
		t.Fatalf("issued key does not parse: %v", err)
	}
	got, err := s.KeyByHash(ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != k.ID || got.OrgID != org.ID || got.Revoked() || got.Last4 != plain[len(plain)-4:] {
		t.Fatalf("KeyByHash = %+v", got)
	}

	if _, err := s.RevokeKey(ctx, org.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	got, err = s.KeyByHash(ctx, hash)
	if err != nil || !got.Revoked() {
		t.Fatalf("after revoke: %+v %v", got, err)
	}
	// The conditional write's failure path: revoking twice is a conflict.
	_, err = s.RevokeKey(ctx, org.ID, k.ID)
	if !apperr.Is(err, apperr.Conflict) || !errors.Is(err, store.ErrConditionFailed) {
		t.Fatalf("second revoke: %v", err)
	}
	keys, err := s.Keys(ctx, org.ID, "", 20)
	if err != nil || len(keys.Items) != 1 || !keys.Items[0].Revoked() {
		t.Fatalf("Keys = %+v, %v", keys, err)
	}
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
			if !apperr.Is(err, tt.kind) {
				t.Fatalf("err = %v, want kind %d", err, tt.kind)
			}
		})
	}
	if _, err := s.KeyByHash(ctx, apikey.Hash("pytake_live_nothing")); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
	if _, err := s.RevokeKey(ctx, "org_nope", "key_nope"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
}

func TestKeysAreScopedToTheirOrganization(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	a, _ := s.CreateOrganization(ctx, "A")
	b, _ := s.CreateOrganization(ctx, "B")
	k, _, err := s.IssueKey(ctx, a.ID, "a", apikey.Test)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeKey(ctx, b.ID, k.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("B revoked A's key: %v", err)
	}
	if keys, _ := s.Keys(ctx, b.ID, "", 20); len(keys.Items) != 0 {
		t.Fatalf("B lists A's keys: %+v", keys)
	}
}

func TestTouchKeyAtMostOncePerMinute(t *testing.T) {
	s, c, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	k, plain, _ := s.IssueKey(ctx, org.ID, "a", apikey.Live)
	if err := s.TouchKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	first, _ := s.APIKey(ctx, org.ID, k.ID)
	if first.LastUsedAt == nil || !first.LastUsedAt.Equal(c.Now()) {
		t.Fatalf("last used = %v", first.LastUsedAt)
	}
	c.Add(10 * time.Second)
	if err := s.TouchKey(ctx, k); err != nil { // k has no LastUsedAt: the condition decides
		t.Fatal(err)
	}
	again, _ := s.APIKey(ctx, org.ID, k.ID)
	if !again.LastUsedAt.Equal(*first.LastUsedAt) {
		t.Fatalf("touched twice within a minute: %v", again.LastUsedAt)
	}
	c.Add(time.Minute)
	h, _, _ := apikey.Parse(plain)
	k2, _ := s.KeyByHash(ctx, h)
	if err := s.TouchKey(ctx, k2); err != nil {
		t.Fatal(err)
	}
	later, _ := s.APIKey(ctx, org.ID, k.ID)
	if !later.LastUsedAt.Equal(c.Now()) {
		t.Fatalf("not touched after a minute: %v", later.LastUsedAt)
	}
}

func TestUnavailableWhenDynamoFails(t *testing.T) {
	s, _, tbl := newStore(t)
	tbl.Server.EmulateFailure(miniserver.FailureConditionInternalServerError)
	_, err := s.CreateOrganization(context.Background(), "A")
	if !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("err = %v, want Unavailable", err)
	}
}
