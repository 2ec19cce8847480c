package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apikey"
	"github.com/pytake/pytake/internal/apperr"
)

// TestFirstKeyIsAdmin: with no scopes asked for, an organisation's first
// key holds admin and every later one all but admin, even when the first
// keys are issued concurrently.
func TestFirstKeyIsAdmin(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		admins int
	)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, _, err := s.IssueKey(ctx, org.ID, "k", apikey.Live)
			if err != nil {
				t.Errorf("issue: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case slices.Equal(k.Scopes, apikey.FirstKeyScopes()):
				admins++
			case !slices.Equal(k.Scopes, apikey.DefaultScopes()):
				t.Errorf("scopes %v", k.Scopes)
			}
		}()
	}
	wg.Wait()
	if admins != 1 {
		t.Fatalf("%d admin keys among 8 first keys, want 1", admins)
	}
	k, _, err := s.IssueKey(ctx, org.ID, "reader", apikey.Live, apikey.ScopeContactsRead, apikey.ScopeContactsRead)
	if !apperr.Is(err, apperr.Unprocessable) {
		t.Fatalf("a scope twice: %+v %v", k, err)
	}
	if _, _, err := s.IssueKey(ctx, "org_missing", "k", apikey.Live); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("no organisation: %v", err)
	}
}

// TestMigrateKeyScopes: keys stored before scopes existed get them on
// first use: the oldest unrevoked key admin, the others all but admin.
func TestMigrateKeyScopes(t *testing.T) {
	s, c, tbl := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "Legacy")
	var ids []string
	for _, n := range []string{"revoked", "oldest", "newer"} {
		k, _, err := s.IssueKey(ctx, org.ID, n, apikey.Live, apikey.ScopeContactsRead)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, k.ID)
		c.Add(1000000) // 1 ms: ids sort by time
	}
	// Make them legacy: no scopes attribute on either item.
	keys := map[string]string{}
	for _, id := range ids {
		k, err := s.APIKey(ctx, org.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		keys[id] = k.Hash
		for _, kk := range []map[string]types.AttributeValue{
			{"pk": &types.AttributeValueMemberS{Value: "ORG#" + org.ID}, "sk": &types.AttributeValueMemberS{Value: "APIKEY#" + id}},
			{"pk": &types.AttributeValueMemberS{Value: "KEY#" + k.Hash}, "sk": &types.AttributeValueMemberS{Value: "KEY"}},
		} {
			got, err := tbl.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl.Name), Key: kk})
			if err != nil || got.Item == nil {
				t.Fatalf("get %v: %v", kk, err)
			}
			delete(got.Item, "scopes")
			if _, err := tbl.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tbl.Name), Item: got.Item}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.RevokeKey(ctx, org.ID, ids[0]); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{ids[1]: apikey.FirstKeyScopes(), ids[2]: apikey.DefaultScopes(), ids[0]: apikey.DefaultScopes()}
	for _, id := range []string{ids[2], ids[1], ids[0]} {
		k, err := s.KeyByHash(ctx, keys[id])
		if err != nil || k.Scopes != nil {
			t.Fatalf("legacy key %s: %+v %v", id, k, err)
		}
		got, err := s.MigrateKeyScopes(ctx, k)
		if err != nil || !slices.Equal(got, want[id]) {
			t.Fatalf("migrate %s: %v %v, want %v", id, got, err, want[id])
		}
		// Written once, on both items.
		again, _ := s.KeyByHash(ctx, keys[id])
		listed, _ := s.APIKey(ctx, org.ID, id)
		if !slices.Equal(again.Scopes, want[id]) || !slices.Equal(listed.Scopes, want[id]) {
			t.Fatalf("stored scopes of %s: %v / %v", id, again.Scopes, listed.Scopes)
		}
	}
	// A migration that wrote the listed item but not the one
	// authentication reads (a lost write) is completed by the next use,
	// with the scopes already written, instead of being redone on every
	// request.
	hk := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "KEY#" + keys[ids[2]]}, "sk": &types.AttributeValueMemberS{Value: "KEY"}}
	got, err := tbl.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl.Name), Key: hk})
	if err != nil || got.Item == nil {
		t.Fatalf("get: %v", err)
	}
	delete(got.Item, "scopes")
	if _, err := tbl.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tbl.Name), Item: got.Item}); err != nil {
		t.Fatal(err)
	}
	k, _ := s.KeyByHash(ctx, keys[ids[2]])
	if got, err := s.MigrateKeyScopes(ctx, k); err != nil || !slices.Equal(got, want[ids[2]]) {
		t.Fatalf("half-migrated key: %v %v", got, err)
	}
	if again, _ := s.KeyByHash(ctx, keys[ids[2]]); !slices.Equal(again.Scopes, want[ids[2]]) {
		t.Fatalf("half-migrated key: authentication still reads %v", again.Scopes)
	}
}
