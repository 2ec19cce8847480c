// Package ctxsleep waits for a duration unless the context ends first: the
// default sleeper of the campaign runner, the sender, the send limiter and
// the outbox relay, each of which also takes an injected one for tests.
package ctxsleep

import (
	"context"
	"time"
)

// Sleep waits d, returning nil, or returns ctx.Err() as soon as ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
