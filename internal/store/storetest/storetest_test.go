package storetest

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	miniserver "github.com/truora/minidyn/server"
)

// A request whose connection is closed under it is tried again, as the
// SDK's default client would (CI once failed a store test on one);
// an emulated 500 is not (TestStoreUnavailable and others depend on it).
func TestClientRetriesAClosedConnection(t *testing.T) {
	var n atomic.Int64
	var dropNext atomic.Bool
	tbl := newWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			if dropNext.CompareAndSwap(true, false) {
				if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
					conn.Close()
				}
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	ctx := context.Background()
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "A"}, "sk": &types.AttributeValueMemberS{Value: "B"}}
	dropNext.Store(true)
	before := n.Load()
	if _, err := tbl.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl.Name), Key: key}); err != nil {
		t.Fatalf("GetItem after a closed connection: %v", err)
	}
	if got := n.Load() - before; got != 2 {
		t.Fatalf("%d requests, want 2 (one closed, one retried)", got)
	}

	tbl.Server.EmulateFailure(miniserver.FailureConditionInternalServerError)
	before = n.Load()
	if _, err := tbl.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl.Name), Key: key}); err == nil {
		t.Fatal("GetItem succeeded under an emulated 500")
	}
	if got := n.Load() - before; got != 1 {
		t.Fatalf("%d requests under an emulated 500, want 1", got)
	}
}
