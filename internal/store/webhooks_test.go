package store_test

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/store"
)

// TestWebhookLimitHoldsUnderConcurrency: the limit is part of the write, so
// concurrent creates cannot overshoot it, and a delete frees a place.
func TestWebhookLimitHoldsUnderConcurrency(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	other, _ := s.CreateOrganization(ctx, "B")
	hook := func(o string) store.Webhook {
		return store.Webhook{OrgID: o, URL: "https://crm.example.com/h", Events: []string{"*"}, Active: true}
	}
	for i := 0; i < store.MaxWebhooks-20; i++ {
		if _, err := s.CreateWebhook(ctx, hook(org.ID)); err != nil {
			t.Fatal(err)
		}
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ok, lim int
		ids     []string
	)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := s.CreateWebhook(ctx, hook(org.ID))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
				ids = append(ids, w.ID)
			case apperr.Is(err, apperr.Unprocessable):
				lim++
			default:
				t.Errorf("create: %v", err)
			}
		}()
	}
	wg.Wait()
	all, err := s.Webhooks(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != store.MaxWebhooks || ok != 20 || lim != 20 {
		t.Fatalf("40 concurrent creates on top of %d: %d stored, %d created, %d refused; want %d stored",
			store.MaxWebhooks-20, len(all), ok, lim, store.MaxWebhooks)
	}
	// Another organisation has its own limit.
	if _, err := s.CreateWebhook(ctx, hook(other.ID)); err != nil {
		t.Fatalf("other org: %v", err)
	}
	// A delete gives one place back, once.
	if err := s.DeleteWebhook(ctx, org.ID, ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWebhook(ctx, org.ID, ids[0]); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.CreateWebhook(ctx, hook(org.ID)); err != nil {
		t.Fatalf("after a delete: %v", err)
	}
	if _, err := s.CreateWebhook(ctx, hook(org.ID)); !apperr.Is(err, apperr.Unprocessable) {
		t.Fatalf("over the limit again: %v", err)
	}
}

// TestUpdateWebhook: re-activating clears the disabled reason and failure
// streak; an update leaves the secret version a rotation wrote.
func TestUpdateWebhook(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	w, err := s.CreateWebhook(ctx, store.Webhook{OrgID: org.ID, URL: "https://x.example.com", Events: []string{"*"}, Active: true})
	if err != nil || w.SecretVersion != 1 {
		t.Fatalf("create: %+v %v", w, err)
	}
	_, _ = s.MarkWebhookFailing(ctx, org.ID, w.ID)
	if err := s.DisableWebhook(ctx, org.ID, w.ID, "gone"); err != nil {
		t.Fatal(err)
	}
	stale, _ := s.Webhook(ctx, org.ID, w.ID)
	if err := s.SetWebhookSecretVersion(ctx, org.ID, w.ID, 2); err != nil {
		t.Fatal(err)
	}
	stale.Active, stale.Name = true, "renamed"
	if _, err := s.UpdateWebhook(ctx, stale); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Webhook(ctx, org.ID, w.ID)
	if got.DisabledReason != "" || got.FailingSince != nil || !got.Active || got.Name != "renamed" || got.SecretVersion != 2 {
		t.Fatalf("after re-activation: %+v", got)
	}
	if err := s.SetWebhookSecretVersion(ctx, org.ID, "wh_missing", 3); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("missing webhook: %v", err)
	}
}

// TestWebhookCounterOfAnOverLimitOrganisation: an organisation whose
// webhooks predate the counter may hold more than the limit (concurrent
// creates overshot it). Its counter starts from the true number, so
// deleting them all brings it to zero, never below, and the limit holds
// again afterwards.
func TestWebhookCounterOfAnOverLimitOrganisation(t *testing.T) {
	s, _, tbl := newStore(t)
	ctx := context.Background()
	org, _ := s.CreateOrganization(ctx, "A")
	hook := store.Webhook{OrgID: org.ID, URL: "https://crm.example.com/h", Events: []string{"*"}, Active: true}
	first, err := s.CreateWebhook(ctx, hook)
	if err != nil {
		t.Fatal(err)
	}
	pk := &types.AttributeValueMemberS{Value: "ORG#" + org.ID}
	got, err := tbl.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl.Name),
		Key: map[string]types.AttributeValue{"pk": pk, "sk": &types.AttributeValueMemberS{Value: "WEBHOOK#" + first.ID}}})
	if err != nil || got.Item == nil {
		t.Fatalf("read the webhook: %v", err)
	}
	// 85 subscriptions written before the counter existed, and no counter.
	over := 85
	ids := []string{first.ID}
	for i := 1; i < over; i++ {
		item := maps.Clone(got.Item)
		id := fmt.Sprintf("%s%03d", first.ID, i)
		item["sk"], item["id"] = &types.AttributeValueMemberS{Value: "WEBHOOK#" + id}, &types.AttributeValueMemberS{Value: id}
		if _, err := tbl.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tbl.Name), Item: item}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := tbl.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(tbl.Name),
		Key: map[string]types.AttributeValue{"pk": pk, "sk": &types.AttributeValueMemberS{Value: "WEBHOOKCOUNT"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateWebhook(ctx, hook); !apperr.Is(err, apperr.Unprocessable) {
		t.Fatalf("create with %d webhooks: %v", over, err)
	}
	for _, id := range ids {
		if err := s.DeleteWebhook(ctx, org.ID, id); err != nil {
			t.Fatalf("delete %s: %v", id, err)
		}
	}
	created := 0
	for i := 0; i < store.MaxWebhooks+5; i++ {
		if _, err := s.CreateWebhook(ctx, hook); err == nil {
			created++
		} else if !apperr.Is(err, apperr.Unprocessable) {
			t.Fatal(err)
		}
	}
	if created != store.MaxWebhooks {
		t.Fatalf("after deleting all %d: %d creates succeeded; want %d", over, created, store.MaxWebhooks)
	}
}
