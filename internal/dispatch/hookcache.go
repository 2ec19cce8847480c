package dispatch

import (
	"context"
	"sync"
	"time"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/store"
)

// HookCacheTTL is how long a container keeps an organisation's webhook
// subscriptions: its fan-outs and deliveries within it read them once
// instead of once per event and per delivery (ORG#<org> would otherwise
// take ~8,000 read units a second at 1,000 sends/s). A change (disabled,
// deleted, secret rotated) reaches a container within it: a disabled or
// deleted webhook may get deliveries for about a second more; a rotated
// secret signs alongside the old one for RotationOverlap, so a second of
// the old set still verifies.
const HookCacheTTL = time.Second

// hookCache is one container's copy of organisations' subscriptions.
type hookCache struct {
	st  Store
	now func() time.Time
	ttl time.Duration

	mu   sync.Mutex
	orgs map[string]cachedHooks
}

type cachedHooks struct {
	at    time.Time
	hooks []store.Webhook
	// gone: webhooks missing from a list read for them (webhook), so
	// deleted: not read for again while the list is kept.
	gone map[string]bool
}

func newHookCache(st Store, now func() time.Time, ttl time.Duration) *hookCache {
	return &hookCache{st: st, now: now, ttl: ttl, orgs: map[string]cachedHooks{}}
}

// webhooks are the organisation's subscriptions, read at most once a ttl.
func (c *hookCache) webhooks(ctx context.Context, org string) ([]store.Webhook, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.orgs[org]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl && !now.Before(e.at) {
		return e.hooks, nil
	}
	return c.read(ctx, org)
}

// read reads the organisation's subscriptions and keeps them.
func (c *hookCache) read(ctx context.Context, org string) ([]store.Webhook, error) {
	now := c.now()
	hooks, err := c.st.Webhooks(ctx, org)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	// The webhooks found gone stay so (ids are never reused) until the
	// entry is older than the ttl.
	var gone map[string]bool
	if e, ok := c.orgs[org]; ok && now.Sub(e.at) < c.ttl {
		gone = e.gone
	}
	c.orgs[org] = cachedHooks{at: now, hooks: hooks, gone: gone}
	if len(c.orgs) > 10000 { // bounded: an old entry is only a read saved
		for k := range c.orgs {
			if k != org {
				delete(c.orgs, k)
				break
			}
		}
	}
	c.mu.Unlock()
	return hooks, nil
}

// webhook is one subscription, from the organisation's list. One missing
// from a cached list is looked for in a fresh one (created since: the API's
// test delivery of a new webhook) before it is NotFound (deleted).
func (c *hookCache) webhook(ctx context.Context, org, id string) (store.Webhook, error) {
	hooks, err := c.webhooks(ctx, org)
	if err != nil {
		return store.Webhook{}, err
	}
	if h, ok := findHook(hooks, id); ok {
		return h, nil
	}
	notFound := apperr.New(apperr.NotFound, "webhook not found")
	c.mu.Lock()
	gone := c.orgs[org].gone
	c.mu.Unlock()
	if gone[id] {
		// Looked for within the ttl already: the jobs of a deleted
		// webhook (its queued retries) do not each read the
		// organisation's subscriptions again, throwing away the list
		// its fan-outs use.
		return store.Webhook{}, notFound
	}
	if hooks, err = c.read(ctx, org); err != nil {
		return store.Webhook{}, err
	}
	if h, ok := findHook(hooks, id); ok {
		return h, nil
	}
	c.mu.Lock()
	if e, ok := c.orgs[org]; ok {
		// Webhook ids are never reused: the ones found gone before stay gone.
		was := e.gone
		e.gone = make(map[string]bool, len(was)+1)
		for k := range was {
			e.gone[k] = true
		}
		e.gone[id] = true
		c.orgs[org] = e
	}
	c.mu.Unlock()
	return store.Webhook{}, notFound
}

func findHook(hooks []store.Webhook, id string) (store.Webhook, bool) {
	for _, h := range hooks {
		if h.ID == id {
			return h, true
		}
	}
	return store.Webhook{}, false
}

// update changes the cached copy of one subscription (a failure streak
// marked or ended here), so the container does not write it again for
// every delivery until its copy expires.
func (c *hookCache) update(org, id string, change func(*store.Webhook)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.orgs[org]
	if !ok {
		return
	}
	hooks := make([]store.Webhook, len(e.hooks))
	copy(hooks, e.hooks)
	for i := range hooks {
		if hooks[i].ID == id {
			change(&hooks[i])
		}
	}
	c.orgs[org] = cachedHooks{at: e.at, hooks: hooks, gone: e.gone}
}
