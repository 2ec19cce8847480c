// Package eventtest is an in-memory event publisher for tests of the
// packages that publish events: it records what was published and can be
// told to fail like an unavailable queue.
package eventtest

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/event"
	"github.com/pytake/pytake/internal/store"
)

// Recorder records published events; the zero value is ready to use.
type Recorder struct {
	mu        sync.Mutex
	events    []event.Event
	fail      int
	failNamed map[string]int
}

// Publish records the events, or fails (as event.Publisher does when the
// queue is down) while failures set by FailNext remain.
func (r *Recorder) Publish(_ context.Context, evs ...event.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		return apperr.New(apperr.Unavailable, "the event queue is unavailable, retry")
	}
	for _, e := range evs {
		if r.failNamed[e.Event] > 0 {
			r.failNamed[e.Event]--
			return apperr.New(apperr.Unavailable, "the event queue is unavailable, retry")
		}
	}
	r.events = append(r.events, evs...)
	return nil
}

// FailNext makes the next n calls of Publish fail.
func (r *Recorder) FailNext(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = n
}

// FailNextNamed makes the next n calls of Publish that carry an event of
// this name fail.
func (r *Recorder) FailNextNamed(name string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failNamed == nil {
		r.failNamed = map[string]int{}
	}
	r.failNamed[name] = n
}

// All are the published events in order.
func (r *Recorder) All() []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event.Event(nil), r.events...)
}

// Named are the published events of one name in order, republished ones
// included.
func (r *Recorder) Named(name string) []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []event.Event
	for _, e := range r.events {
		if e.Event == name {
			out = append(out, e)
		}
	}
	return out
}

// Distinct are the events of one name once each by id (a republished event
// keeps its id), in order of first publication.
func (r *Recorder) Distinct(name string) []event.Event {
	seen := map[string]bool{}
	var out []event.Event
	for _, e := range r.Named(name) {
		if !seen[e.ID] {
			seen[e.ID] = true
			out = append(out, e)
		}
	}
	return out
}

// Outbox records an outbox item's events as the outbox relay publishes
// them (storetest.Stream's Relay).
func (r *Recorder) Outbox(o store.Outbox) {
	for _, raw := range o.Events {
		var e event.Event
		if err := json.Unmarshal(raw, &e); err != nil {
			panic(err) // the store wrote an event it cannot read: a bug
		}
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
	}
}
