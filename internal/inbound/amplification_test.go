package inbound_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pytake/pytake/internal/inbound"
	"github.com/pytake/pytake/internal/secrets/secretstest"
	"github.com/pytake/pytake/internal/store"
	"github.com/pytake/pytake/internal/whatsapp"
)

// countingStore counts the organisation lookups the webhook makes.
type countingStore struct {
	*store.Store
	mu      sync.Mutex
	lookups int
}

func (c *countingStore) OrgByPhoneNumberID(ctx context.Context, id string) (string, error) {
	c.mu.Lock()
	c.lookups++
	c.mu.Unlock()
	return c.Store.OrgByPhoneNumberID(ctx, id)
}

func (c *countingStore) OrgByWABAID(ctx context.Context, id string) (string, error) {
	c.mu.Lock()
	c.lookups++
	c.mu.Unlock()
	return c.Store.OrgByWABAID(ctx, id)
}

func (c *countingStore) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.lookups }

// manyNumbers is a body naming n distinct phone number ids, the first one
// first (ours, or not).
func manyNumbers(first string, n int) []byte {
	var b strings.Builder
	b.WriteString(`{"object":"whatsapp_business_account","entry":[`)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("7%014d", i)
		if i == 0 {
			id = first
		}
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%s","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":"%s"},"statuses":[{"id":"wamid.X%d","status":"sent","timestamp":"1796040000","recipient_id":"5511777777777"}]}}]}`, wabaID, id, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// unrouted lists the items kept of unauthenticated input.
func (f *fixture) unrouted() []map[string]types.AttributeValue {
	f.t.Helper()
	out, err := f.tbl.Client.Scan(context.Background(), &dynamodb.ScanInput{
		TableName:                 aws.String(f.tbl.Name),
		FilterExpression:          aws.String("#t = :t"),
		ExpressionAttributeNames:  map[string]string{"#t": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberS{Value: "unrouted"}},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out.Items
}

// TestUnsignedBodiesCostBoundedWork: a body naming thousands of phone
// number ids with a wrong signature costs at most MaxRoutes lookups, and
// the organisation of a number is then served from memory for the warm
// container until its TTL passes.
func TestUnsignedBodiesCostBoundedWork(t *testing.T) {
	f := newFixture(t)
	cs := &countingStore{Store: f.store}
	now := f.now
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sec := secretstest.New()
	sec.Set(f.org, inbound.Provider, inbound.Credentials{PhoneNumberID: phoneID, AppSecret: appSecret, VerifyToken: verifyToken, AccessToken: "EAAG"})
	f.router = inbound.New(cs, sec, f.pub, slog.New(slog.NewJSONHandler(io.Discard, nil)), clock).Router()

	// 5,001 ids, ours first, a wrong signature: 401 after a bounded number
	// of lookups (the issue measured 5,001).
	body := manyNumbers(phoneID, 5001)
	for i := 0; i < 10; i++ {
		if resp := f.post(body, whatsapp.Sign(body, []byte("forged")), false); resp.StatusCode != 401 {
			t.Fatalf("forged: %d %s", resp.StatusCode, resp.Body)
		}
	}
	if n := cs.count(); n > 11*inbound.MaxRoutes {
		t.Fatalf("%d lookups for 10 forged bodies of 5,001 ids; want at most %d", n, 11*inbound.MaxRoutes)
	}
	// 5,001 unknown ids: recorded (a hash, the size, a prefix) and
	// acknowledged, after at most MaxRoutes lookups.
	before := cs.count()
	unknown := manyNumbers("999999999999999", 5001)
	if resp := f.post(unknown, "sha256=00", false); resp.StatusCode != 200 {
		t.Fatalf("unknown: %d %s", resp.StatusCode, resp.Body)
	}
	if n := cs.count() - before; n > inbound.MaxRoutes {
		t.Fatalf("%d lookups for a body of 5,001 unknown ids", n)
	}

	// The phone number's organisation is cached: signed deliveries for it
	// need no lookup until the TTL passes.
	before = cs.count()
	for i := 0; i < 3; i++ {
		if resp := f.postSigned(read(t, "message_text.json")); resp.StatusCode != 200 {
			t.Fatalf("signed: %d %s", resp.StatusCode, resp.Body)
		}
	}
	if n := cs.count() - before; n != 0 {
		t.Fatalf("%d lookups for a cached number", n)
	}
	mu.Lock()
	now = now.Add(inbound.RouteTTL + time.Second)
	mu.Unlock()
	if resp := f.postSigned(read(t, "message_image.json")); resp.StatusCode != 200 {
		t.Fatalf("signed: %d %s", resp.StatusCode, resp.Body)
	}
	if n := cs.count() - before; n != 1 {
		t.Fatalf("%d lookups after the TTL, want 1", n)
	}

	// A signed body naming more numbers than MaxRoutes is not cut short:
	// once it is authenticated the rest are routed too.
	big := manyNumbers(phoneID, inbound.MaxRoutes+5)
	if resp := f.postSigned(big); resp.StatusCode != 200 {
		t.Fatalf("big signed body: %d %s", resp.StatusCode, resp.Body)
	}
}

// TestUnauthenticatedBodiesKeepOnlyAHashSizeAndPrefix: input that cannot
// be authenticated (an unknown number, not JSON) leaves a digest, not the
// body.
func TestUnauthenticatedBodiesKeepOnlyAHashSizeAndPrefix(t *testing.T) {
	f := newFixture(t)
	big := manyNumbers("999999999999999", 1500) // ~500 KB
	for _, body := range [][]byte{big, append([]byte("not json "), make([]byte, 300<<10)...)} {
		if resp := f.post(body, "sha256=00", false); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	items := f.unrouted()
	if len(items) != 2 {
		t.Fatalf("%d records, want 2", len(items))
	}
	for _, it := range items {
		if _, ok := it["body"]; ok {
			t.Errorf("the whole body was kept: %v", it["sk"])
		}
		p, ok := it["prefix"].(*types.AttributeValueMemberB)
		if !ok || len(p.Value) == 0 || len(p.Value) > store.UnroutedPrefix {
			t.Errorf("prefix: %T", it["prefix"])
		}
		if _, ok := it["sha256"].(*types.AttributeValueMemberS); !ok {
			t.Errorf("no sha256: %v", it)
		}
	}
}
