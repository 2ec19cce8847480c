package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/httpapi"
	"github.com/pytake/pytake/internal/store"
)

// InProcess runs /v1 operations inside the calling process for a key that
// was authenticated by other means (the dashboard's signed session): the
// same routes, policies (scope, test mode), rate limits, validation and
// handlers as Router, with no HTTP round trip. It is not a Lambda handler:
// nothing outside the process reaches it.
type InProcess struct {
	rt     *httpapi.Router
	groups []RouteGroup
}

// InProcess returns the in-process entry to the API's routes of groups
// (AllRoutes for every one): a binary links the handlers of the groups it
// names, and no others. A call to a route of another group is an error,
// not a 404 answer.
func (s *Server) InProcess(groups ...RouteGroup) *InProcess {
	return &InProcess{rt: s.routes(s.asInvoker, groups...), groups: groups}
}

// invokerKey carries the key an in-process call runs as.
type invokerKey struct{}

// asInvoker authenticates an in-process call: the key Do was given, which
// its caller read from the store for this request. Its use is recorded as
// authenticate records it (the key list's "last used").
func (s *Server) asInvoker(next httpapi.Handler) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		k, ok := ctx.Value(invokerKey{}).(store.APIKey)
		switch {
		case !ok || k.ID == "" || k.OrgID == "":
			return nil, unauthorized("no key for this call")
		case k.Revoked():
			return nil, unauthorized("the API key has been revoked").WithCode("api_key_revoked")
		case k.Scopes == nil:
			return nil, unauthorized("the API key's scopes are unknown")
		}
		r.Set(principalKey{}, k)
		r.SetOrgID(k.OrgID)
		if err := s.store.TouchKey(ctx, k); err != nil {
			r.Logger().WarnContext(ctx, "could not record api key use", "key_id", k.ID, "error", err.Error())
		}
		return next(ctx, r)
	}
}

// Result is an in-process call's answer.
type Result struct {
	Status int
	Body   []byte
}

// OK says whether the call succeeded (2xx).
func (r Result) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Decode reads a successful answer's JSON into v.
func (r Result) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("api answer (%d): %w", r.Status, err)
	}
	return nil
}

// Err is a failed answer as an *apperr.Error carrying the API's code,
// message and field details; nil for a success.
func (r Result) Err() *apperr.Error {
	if r.OK() {
		return nil
	}
	var body struct {
		Error struct {
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Details []apperr.Detail `json:"details"`
		} `json:"error"`
	}
	kind := apperr.KindForStatus(r.Status)
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Error.Message == "" {
		return apperr.Newf(kind, "the API answered %d", r.Status)
	}
	e := apperr.New(kind, body.Error.Message).WithDetails(body.Error.Details...)
	if body.Error.Code != "" {
		e.Code = body.Error.Code // the API's own code, read back
	}
	return e
}

// Do runs method path (query, and body marshalled as JSON when not nil) as
// key k. k must be the key as stored, read for this call.
func (p *InProcess) Do(ctx context.Context, k store.APIKey, method, path string, query url.Values, body any) (Result, error) {
	ev := events.APIGatewayV2HTTPRequest{
		RawPath: path, RawQueryString: query.Encode(),
		Headers: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
		},
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return Result{}, fmt.Errorf("in-process %s %s: %w", method, path, err)
		}
		ev.Body = string(b)
		ev.Headers["content-type"] = "application/json"
	}
	if method == "" {
		ev.RequestContext.HTTP.Method = http.MethodGet
	}
	resp, err := p.rt.Serve(context.WithValue(ctx, invokerKey{}, k), ev)
	if err != nil {
		return Result{}, fmt.Errorf("in-process %s %s: %w", method, path, err)
	}
	res := Result{Status: resp.StatusCode, Body: []byte(resp.Body)}
	if e := res.Err(); e != nil && (e.Code == "route_not_found" || res.Status == http.StatusMethodNotAllowed) {
		// The router matched nothing: the route's group was not given
		// to InProcess (or the path is not /v1's).
		return Result{}, fmt.Errorf("in-process %s %s: no such route among the groups %v: %s", method, path, p.groups, e.Message)
	}
	return res, nil
}

// Routes lists "METHOD pattern" for every route p serves, sorted.
func (p *InProcess) Routes() []string { return p.rt.Routes() }
