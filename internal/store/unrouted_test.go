package store_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/store/storetest"
)

// TestUnroutedInputIsCappedPerSourcePerHour: a flood of unauthenticated
// bodies leaves at most UnroutedPerHour digests per source and hour, each
// a hash, a size and a prefix; other sources and the next hour are not
// held back.
func TestUnroutedInputIsCappedPerSourcePerHour(t *testing.T) {
	ctx := context.Background()
	tb := storetest.New(t)
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	st := store.New(tb.Client, tb.Name, c.Now)
	body := bytes.Repeat([]byte("x"), 300<<10)
	recorded := 0
	for i := 0; i < store.UnroutedPerHour+25; i++ {
		_, ok, err := st.RecordUnroutable(ctx, "whatsapp", "unknown number", body)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			recorded++
		}
	}
	if recorded != store.UnroutedPerHour {
		t.Fatalf("%d recorded, want the cap %d", recorded, store.UnroutedPerHour)
	}
	// A second store (another warm container) is refused by the counter.
	other := store.New(tb.Client, tb.Name, c.Now)
	if _, ok, err := other.RecordUnroutable(ctx, "whatsapp", "unknown number", body); ok || err != nil {
		t.Fatalf("another container past the cap: %v %v", ok, err)
	}
	if _, ok, err := st.RecordUnroutable(ctx, "shopify", "unknown shop", body); !ok || err != nil {
		t.Fatalf("another source: %v %v", ok, err)
	}
	c.Add(time.Hour)
	rec, ok, err := st.RecordUnroutable(ctx, "whatsapp", "unknown number", body)
	if !ok || err != nil {
		t.Fatalf("next hour: %v %v", ok, err)
	}
	out, err := tb.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tb.Name), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "UNROUTED#whatsapp#2026-11-28T13"}, "sk": &types.AttributeValueMemberS{Value: rec},
	}})
	if err != nil || out.Item == nil {
		t.Fatalf("record %s: %v", rec, err)
	}
	if p := out.Item["prefix"].(*types.AttributeValueMemberB).Value; len(p) != store.UnroutedPrefix {
		t.Fatalf("prefix of %d bytes", len(p))
	}
	if n := out.Item["size"].(*types.AttributeValueMemberN).Value; n != "307200" {
		t.Fatalf("size %s", n)
	}
}
