package api_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRouteOrderIrrelevant: no path matches two routes of one method with
// as many literal segments each (the router's tie, which registration
// order breaks), so the order in which Router registers the route groups
// (AllRoutes) changes no route's precedence.
func TestRouteOrderIrrelevant(t *testing.T) {
	f := newFixture(t)
	routes := f.router.Routes()
	assert.Greater(t, len(routes), 60)
	literals := func(parts []string) int {
		n := 0
		for _, p := range parts {
			if !strings.HasPrefix(p, "{") {
				n++
			}
		}
		return n
	}
	for i, a := range routes {
		for _, b := range routes[i+1:] {
			am, ap, _ := strings.Cut(a, " ")
			bm, bp, _ := strings.Cut(b, " ")
			as, bs := strings.Split(ap, "/"), strings.Split(bp, "/")
			if am != bm || len(as) != len(bs) || literals(as) != literals(bs) {
				continue
			}
			overlap := true
			for k := range as {
				if as[k] != bs[k] && !strings.HasPrefix(as[k], "{") && !strings.HasPrefix(bs[k], "{") {
					overlap = false
				}
			}
			assert.False(t, overlap, "%s and %s match the same paths with equal precedence", a, b)
		}
	}
}
