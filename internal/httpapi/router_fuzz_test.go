package httpapi

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzRouterMatch: path matching never panics; a parameter segment gives
// back exactly the value that was escaped into it (any bytes but "/" once
// escaped); literal segments only match themselves; and a literal route
// wins over a parameter one.
func FuzzRouterMatch(f *testing.F) {
	for _, s := range []string{"ct_01K6", "a b", "100%", "%zz", "é", "..", "x/y", "", "{id}", "tags"} {
		f.Add(s, "/v1/contacts/"+s+"/tags/vip")
	}
	rt := NewRouter(nil, nil)
	rt.Handle("GET", "/v1/contacts/{id}", nil)
	rt.Handle("GET", "/v1/contacts/{id}/tags/{tag}", nil)
	rt.Handle("GET", "/v1/contacts/export", nil)
	f.Fuzz(func(t *testing.T, value, rawPath string) {
		// Any path: no panic, and a match has the route's shape.
		if r, params, _ := rt.find("GET", split(rawPath)); r.pattern != "" {
			if strings.Count(strings.Trim(r.pattern, "/"), "/") != len(split(rawPath))-1 {
				t.Fatalf("%q matched %q", rawPath, r.pattern)
			}
			for _, v := range params {
				if v == "" {
					t.Fatalf("%q matched %q with an empty parameter", rawPath, r.pattern)
				}
			}
		}
		if value == "" {
			return
		}
		path := "/v1/contacts/" + url.PathEscape(value)
		r, params, _ := rt.find("GET", split(path))
		if value == "export" {
			if r.pattern != "/v1/contacts/export" {
				t.Fatalf("the literal route lost to %q", r.pattern)
			}
			return
		}
		if r.pattern != "/v1/contacts/{id}" || params["id"] != value {
			t.Fatalf("%q: route %q params %v, want id %q", path, r.pattern, params, value)
		}
	})
}
