package inbound

import (
	"sync"
	"time"
)

// MaxRoutes bounds the distinct phone number ids (and WABA ids) of one body
// that are looked up before its signature is verified. Meta sends a handful
// per delivery; a forged body naming thousands costs at most this many
// reads, and the rest of a body that does verify is routed afterwards.
const MaxRoutes = 20

// RouteTTL is how long a warm container trusts a phone number id's
// organisation without reading it again. A number that moved to another
// organisation meanwhile fails the signature check, which re-reads it (at
// most every refreshEvery per organisation) before answering 401.
const RouteTTL = 5 * time.Minute

// maxCachedRoutes bounds the cache: only numbers some organisation owns are
// cached (an unknown number is never remembered, so a number connected a
// moment ago is routed at once), so this is the platform's number count at
// most; past it the cache starts over.
const maxCachedRoutes = 10000

// routeCache maps routes (phone number ids, "waba:<id>") to organisations
// for the warm container.
type routeCache struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]cachedRoute
}

type cachedRoute struct {
	org     string
	expires time.Time
}

func newRouteCache(now func() time.Time) *routeCache {
	return &routeCache{now: now, m: map[string]cachedRoute{}}
}

func (c *routeCache) get(route string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[route]
	if !ok || !c.now().Before(e.expires) {
		return "", false
	}
	return e.org, true
}

func (c *routeCache) put(route, org string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedRoutes {
		c.m = map[string]cachedRoute{}
	}
	c.m[route] = cachedRoute{org: org, expires: c.now().Add(RouteTTL)}
}

func (c *routeCache) forget(route string) {
	c.mu.Lock()
	delete(c.m, route)
	c.mu.Unlock()
}

// refresher rate-limits the forced re-reads of an organisation's route and
// credentials after a failed check, so a flood of forged signatures costs
// one re-read per organisation per refreshEvery, not one per request.
type refresher struct {
	now  func() time.Time
	mu   sync.Mutex
	last map[string]time.Time
}

// refreshEvery bounds forced re-reads per organisation.
const refreshEvery = 30 * time.Second

func (r *refresher) may(org string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if t, ok := r.last[org]; ok && now.Sub(t) < refreshEvery {
		return false
	}
	if len(r.last) >= maxCachedRoutes {
		r.last = map[string]time.Time{}
	}
	r.last[org] = now
	return true
}
