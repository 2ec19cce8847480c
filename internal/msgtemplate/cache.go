package msgtemplate

import (
	"context"
	"sync"
	"time"

	"github.com/pytake/pytake/internal/store"
)

// CacheTTL is how long a container (the API's) keeps what a template send
// read of an organisation's copy of its templates (ORG#<org>#TPL: when it
// was last synced, and the template sent): every template send read it
// before, one partition per organisation, 1,000 reads a second at a
// number's 1,000 sends/s and 9,700 read units a second at one
// organisation's 10,000/s, over a partition's 3,000.
//
// Consequences, for up to the TTL after the change reaches the copy (per
// container):
//   - a template paused, disabled, deleted or edited by Meta may still be
//     accepted as it was (only sendable templates are kept: one found not
//     approved is read again at every send). The sender still sends it to
//     Meta, which refuses it (132001 does not exist, 132015 paused, 132016
//     disabled, 132000 parameter mismatch: a 4xx the sender fails the
//     message with, message.failed carrying Meta's error; never retried);
//   - a first sync may leave sends unchecked, as they were before it.
//
// A template not found, or not sendable, is never kept (always read):
// a template just approved is sendable at once.
const CacheTTL = time.Second

// cacheMax bounds the entries one container keeps (templates and
// organisations' sync times each); over it, expired entries go, then any.
// An API container serves one request at a time (≈ 30 accepts a second),
// a campaign runner at most its campaigns' templates: far fewer within a
// TTL; a template's components are a few KB, so at most a few MB.
const cacheMax = 1000

// Cache is a Copy kept CacheTTL per container, for the send path
// (accept.Accepter.WithTemplates). Keys are the organisation with the name and
// language (never the name alone): one organisation's template is never
// another's.
type Cache struct {
	copy Copy
	now  func() time.Time
	ttl  time.Duration

	mu     sync.Mutex
	synced map[string]entry[*time.Time]
	tpls   map[templateKey]entry[store.Template]
}

type templateKey struct{ org, name, language string }

// entry is a value read at at.
type entry[V any] struct {
	at time.Time
	v  V
}

var _ Copy = (*Cache)(nil)

// NewCache keeps what c answers for ttl, by the clock now.
func NewCache(c Copy, now func() time.Time, ttl time.Duration) *Cache {
	return &Cache{copy: c, now: now, ttl: ttl, synced: map[string]entry[*time.Time]{}, tpls: map[templateKey]entry[store.Template]{}}
}

// fresh says whether an entry taken at at is still within the TTL (a clock
// gone back counts as expired).
func (c *Cache) fresh(at, now time.Time) bool {
	return !now.Before(at) && now.Sub(at) < c.ttl
}

// cached is m's value for k while it is fresh at now.
func cached[K comparable, V any](c *Cache, m map[K]entry[V], k K, now time.Time) (V, bool) {
	c.mu.Lock()
	e, ok := m[k]
	c.mu.Unlock()
	if ok && c.fresh(e.at, now) {
		return e.v, true
	}
	var zero V
	return zero, false
}

// keep puts v, read at now, in m under k, within cacheMax entries.
func keep[K comparable, V any](c *Cache, m map[K]entry[V], k K, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m[k] = entry[V]{at: now, v: v}
	bound(m, k, func(e entry[V]) bool { return c.fresh(e.at, now) })
}

// TemplatesSyncedAt is the organisation's last sync, read at most once a
// TTL.
func (c *Cache) TemplatesSyncedAt(ctx context.Context, org string) (*time.Time, error) {
	now := c.now()
	if synced, ok := cached(c, c.synced, org, now); ok {
		return synced, nil
	}
	synced, err := c.copy.TemplatesSyncedAt(ctx, org)
	if err != nil {
		return nil, err
	}
	keep(c, c.synced, org, synced, now)
	return synced, nil
}

// Template is one template of the organisation's copy; a sendable one is
// kept a TTL.
func (c *Cache) Template(ctx context.Context, org, name, language string) (store.Template, error) {
	k := templateKey{org, name, language}
	now := c.now()
	if t, ok := cached(c, c.tpls, k, now); ok {
		return t, nil
	}
	t, err := c.copy.Template(ctx, org, name, language)
	if err != nil {
		return t, err
	}
	if Sendable(t.Status) && t.OrgID == org {
		keep(c, c.tpls, k, t, now)
	} else {
		c.mu.Lock()
		delete(c.tpls, k)
		c.mu.Unlock()
	}
	return t, nil
}

// TemplatesNamed is not kept (read only for a template not found).
func (c *Cache) TemplatesNamed(ctx context.Context, org, name string) ([]store.Template, error) {
	return c.copy.TemplatesNamed(ctx, org, name)
}

// bound keeps m within cacheMax entries: over it, the expired
// entries are dropped, then any but keep (an entry is only a read saved).
func bound[K comparable, V any](m map[K]V, keep K, fresh func(V) bool) {
	if len(m) <= cacheMax {
		return
	}
	for k, v := range m {
		if !fresh(v) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) <= cacheMax {
			return
		}
		if k != keep {
			delete(m, k)
		}
	}
}
