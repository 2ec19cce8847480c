package accept

import (
	"context"
	"log/slog"
	"time"

	"github.com/pytake/pytake/internal/event"
)

// Publisher publishes events.
type Publisher interface {
	Publish(ctx context.Context, evs ...event.Event) error
}

// Replier is what a reaction to an inbound message that may accept a reply
// holds (the chatbot's runner, opt-out keywords): the Accepter for the
// reply, the publisher of the events the reaction emits, a log and a clock.
type Replier struct {
	Accepter *Accepter
	Events   Publisher
	Log      *slog.Logger
	Now      func() time.Time
}

// NewReplier returns a Replier that accepts replies through s.
func NewReplier(s Store, p Publisher, log *slog.Logger, now func() time.Time) Replier {
	return Replier{Accepter: New(s), Events: p, Log: log, Now: now}
}
