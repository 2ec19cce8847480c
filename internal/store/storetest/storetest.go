// Package storetest gives tests a real DynamoDB API in process: minidyn's
// HTTP server under httptest, reached by the real SDK client, with the
// store's table created in it.
package storetest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	miniserver "github.com/truora/minidyn/server"

	"github.com/pytake/pytake/internal/store"
)

// Table is an in-process table.
type Table struct {
	Client *dynamodb.Client
	Name   string
	Server *miniserver.Server
	URL    string // the server's endpoint, for clients built elsewhere
}

// New starts a server, creates the store's table and closes it when t ends.
func New(t testing.TB) *Table {
	t.Helper()
	return newWith(t, func(h http.Handler) http.Handler { return h })
}

// newWith is New with the server's handler wrapped.
func newWith(t testing.TB, wrap func(http.Handler) http.Handler) *Table {
	t.Helper()
	srv := miniserver.NewServer()
	hs := httptest.NewServer(wrap(srv))
	t.Cleanup(hs.Close)
	client := dynamodb.New(dynamodb.Options{
		Region:                          "us-east-1",
		BaseEndpoint:                    aws.String(hs.URL),
		Credentials:                     credentials.NewStaticCredentialsProvider("test", "test", ""),
		DisableValidateResponseChecksum: true,
		Retryer:                         ConnectionRetryer(),
	})
	const name = "pytake-test"
	if _, err := client.CreateTable(context.Background(), store.CreateTableInput(name)); err != nil {
		t.Fatalf("create table: %v", err)
	}
	return &Table{Client: client, Name: name, Server: srv, URL: hs.URL}
}

// ConnectionRetryer retries what the SDK's default would (a request
// whose connection was reset or closed under it, as a loaded machine's
// loopback now and then does), and nothing else: a test's emulated
// failures (500s, throttling) reach the store at their first attempt.
func ConnectionRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
	})
}
