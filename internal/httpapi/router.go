package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pytake/pytake/internal/apperr"
)

// Router dispatches payload 2.0 events to handlers by method and path
// pattern. Patterns are literal segments and {name} parameters; a request
// whose path matches a pattern under another method gets 405, otherwise 404.
type Router struct {
	routes  []route
	log     *slog.Logger
	now     func() time.Time
	maxBody int
}

type route struct {
	method  string
	pattern string
	parts   []string
	h       Handler
	maxBody int // 0: the router's
}

// NewRouter returns a router logging to log with clock now.
func NewRouter(log *slog.Logger, now func() time.Time) *Router {
	return &Router{log: log, now: now, maxBody: DefaultMaxBody}
}

// SetMaxBody sets the request body limit in bytes.
func (rt *Router) SetMaxBody(n int) { rt.maxBody = n }

// SetRouteMaxBody gives the route registered as method and pattern its own
// body limit (a file upload's, say), instead of the router's.
func (rt *Router) SetRouteMaxBody(method, pattern string, n int) {
	for i := range rt.routes {
		if rt.routes[i].method == method && rt.routes[i].pattern == pattern {
			rt.routes[i].maxBody = n
		}
	}
}

// Handle registers h for method and pattern, wrapped in mw (first is outermost).
func (rt *Router) Handle(method, pattern string, h Handler, mw ...Middleware) {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	rt.routes = append(rt.routes, route{method: method, pattern: pattern, parts: split(pattern), h: h})
}

// Routes lists "METHOD pattern" for every registered route, sorted.
func (rt *Router) Routes() []string {
	out := make([]string, 0, len(rt.routes))
	for _, r := range rt.routes {
		out = append(out, r.method+" "+r.pattern)
	}
	sort.Strings(out)
	return out
}

func split(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match reports whether parts match the route and returns its parameters.
func (r route) match(parts []string) (map[string]string, bool) {
	if len(parts) != len(r.parts) {
		return nil, false
	}
	var params map[string]string
	for i, p := range r.parts {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			v, err := url.PathUnescape(parts[i])
			if err != nil || v == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:len(p)-1]] = v
			continue
		}
		if p != parts[i] {
			return nil, false
		}
	}
	return params, true
}

// find picks the route for method and path. Literal segments win over
// parameters when several patterns match.
func (rt *Router) find(method string, parts []string) (route, map[string]string, []string) {
	var best *route
	var bestParams map[string]string
	bestScore := -1
	var allowed []string
	for i := range rt.routes {
		r := &rt.routes[i]
		params, ok := r.match(parts)
		if !ok {
			continue
		}
		if r.method != method && !(method == http.MethodHead && r.method == http.MethodGet) {
			allowed = append(allowed, r.method)
			continue
		}
		score := len(r.parts) - len(params)
		if score > bestScore {
			best, bestParams, bestScore = r, params, score
		}
	}
	if best == nil {
		return route{}, nil, allowed
	}
	return *best, bestParams, nil
}

// Serve answers one API Gateway HTTP API (payload 2.0) event.
func (rt *Router) Serve(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := rt.now()
	rid := requestID(&ev, start)
	method := strings.ToUpper(ev.RequestContext.HTTP.Method)
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	log := rt.log.With("request_id", rid)
	req := &Request{Event: &ev, Method: method, Path: path, RequestID: rid, log: log}

	resp, err := rt.dispatch(ctx, req)
	if err != nil {
		resp = ErrorResponse(err, rid)
		level := slog.LevelInfo
		if resp.Status >= 500 {
			level = slog.LevelError
		}
		log.Log(ctx, level, "request failed", "error", err.Error(), "status", resp.Status)
	}
	log.InfoContext(ctx, "request", "method", method, "path", path, "route", req.Route, "status", resp.Status,
		"duration_ms", rt.now().Sub(start).Milliseconds(), "org_id", req.Value(orgKey{}))
	return toEvent(resp, rid), nil
}

func (rt *Router) dispatch(ctx context.Context, req *Request) (*Response, error) {
	r, params, allowed := rt.find(req.Method, split(req.Path))
	if r.h == nil {
		if len(allowed) > 0 {
			return nil, apperr.Newf(apperr.MethodNotAllowed, "method %s is not allowed on %s; allowed: %s",
				req.Method, req.Path, strings.Join(dedupe(allowed), ", ")).With("allowed", dedupe(allowed))
		}
		return nil, apperr.Newf(apperr.NotFound, "no route for %s %s", req.Method, req.Path).WithCode("route_not_found")
	}
	req.Route, req.Params = r.pattern, params
	q, err := url.ParseQuery(req.Event.RawQueryString)
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "query string is malformed").WithCause(err)
	}
	req.Query = q
	body, err := decodeBody(req.Event)
	if err != nil {
		return nil, err
	}
	limit := rt.maxBody
	if r.maxBody > 0 {
		limit = r.maxBody
	}
	if len(body) > limit {
		return nil, apperr.Newf(apperr.TooLarge, "request body is %d bytes; the limit is %d", len(body), limit)
	}
	req.Body = body
	return r.h(ctx, req)
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// orgKey is where the authenticated organisation id is kept for logging.
type orgKey struct{}

// SetOrgID records the caller's organisation (for logs and handlers).
func (r *Request) SetOrgID(org string) { r.Set(orgKey{}, org) }

// OrgID is the caller's organisation, "" before authentication.
func (r *Request) OrgID() string {
	s, _ := r.Value(orgKey{}).(string)
	return s
}
