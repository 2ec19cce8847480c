// Package logctxtest captures what the functions' logger (logctx.Lambda)
// writes, so a test can show that a package's lines carry the invocation's
// Lambda request id.
package logctxtest

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/logctx"
)

// Capture returns logctx.Lambda writing to a file instead of standard
// output, and a function returning the lines written so far.
// lambdacontext's handler writes to os.Stdout as it is when the handler is
// made, so os.Stdout is swapped for that moment only; do not call Capture
// from parallel tests.
func Capture(t testing.TB) (*slog.Logger, func() []string) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "stdout")
	f, err := os.Create(name)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	stdout := os.Stdout
	os.Stdout = f
	log := logctx.Lambda()
	os.Stdout = stdout
	return log, func() []string {
		t.Helper()
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
}

// Invocation is ctx as the Lambda runtime hands it to a handler.
func Invocation(ctx context.Context, requestID string) context.Context {
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID})
}
