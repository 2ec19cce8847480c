// Package httpapi is the HTTP machinery shared by PyTake's HTTP functions: a
// router over API Gateway HTTP API payload 2.0 events, the JSON error model
// {"error":{"code","message","details","request_id"}}, request ids, strict
// size-limited JSON decoding and one access-log line per request.
package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pytake/pytake/internal/apperr"
	"github.com/pytake/pytake/internal/id"
	"github.com/pytake/pytake/internal/jsoncheck"
)

// DefaultMaxBody is the request body limit unless a router sets another.
const DefaultMaxBody = 1 << 20

// Request is one HTTP request as a handler sees it.
type Request struct {
	Event     *events.APIGatewayV2HTTPRequest
	Method    string
	Path      string
	Route     string            // the matched pattern, e.g. /v1/contacts/{id}
	Params    map[string]string // path parameters of the matched pattern
	Query     url.Values
	RequestID string
	Body      []byte // decoded (API Gateway may base64-encode it)
	// Values set by middleware (the authenticated principal, for example).
	values map[any]any
	log    *slog.Logger
}

// Header returns a request header (API Gateway lower-cases names).
func (r *Request) Header(name string) string {
	return r.Event.Headers[strings.ToLower(name)]
}

// Set stores a value for later handlers.
func (r *Request) Set(k, v any) {
	if r.values == nil {
		r.values = map[any]any{}
	}
	r.values[k] = v
}

// Value reads a value stored by Set.
func (r *Request) Value(k any) any { return r.values[k] }

// Logger is the request's logger (request id attached).
func (r *Request) Logger() *slog.Logger { return r.log }

// Response is what a handler answers.
type Response struct {
	Status  int
	Headers map[string]string
	Body    []byte
	Base64  bool // Body is binary: send it base64-encoded
	// Cookies are Set-Cookie values (payload 2.0 carries them apart from
	// the headers, so a response may set several).
	Cookies []string
}

// JSON makes a JSON response.
func JSON(status int, v any) (*Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &Response{Status: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: b}, nil
}

// NoContent is a 204.
func NoContent() (*Response, error) { return &Response{Status: http.StatusNoContent}, nil }

// Handler answers a request.
type Handler func(ctx context.Context, r *Request) (*Response, error)

// Middleware wraps a handler.
type Middleware func(Handler) Handler

// DecodeJSON strictly decodes the request body into v: JSON content type,
// one object, no unknown fields. Errors are 4xx apperr errors naming the field.
func (r *Request) DecodeJSON(v any) error {
	if err := r.JSONBody(); err != nil {
		return err
	}
	return DecodeStrict(r.Body, v)
}

// JSONBody refuses a body sent with a content type other than JSON (415),
// for handlers that parse the body themselves.
func (r *Request) JSONBody() error {
	if ct := r.Header("content-type"); ct != "" {
		mt := strings.TrimSpace(strings.ToLower(strings.SplitN(ct, ";", 2)[0]))
		if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			return apperr.Newf(apperr.UnsupportedMedia, "content type %q is not supported, send application/json", mt)
		}
	}
	return nil
}

// DecodeStrict decodes one JSON value with no unknown fields into v; its
// strings must be valid UTF-8 (jsoncheck.CheckUTF8).
func DecodeStrict(body []byte, v any) error {
	switch strings.TrimSpace(string(body)) {
	case "":
		return apperr.New(apperr.Invalid, "request body is empty, send a JSON object").WithCode("invalid_json")
	case "null":
		return apperr.New(apperr.Invalid, "request body is null, send a JSON object").WithCode("invalid_json")
	}
	if err := jsoncheck.CheckUTF8(body); err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return apperr.New(apperr.Invalid, "request body has data after the JSON value").WithCode("invalid_json")
	}
	return nil
}

func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	msg := err.Error()
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		issue := "must be " + jsonKind(typeErr.Type.Kind().String())
		return apperr.Field(field, issue).WithCause(err)
	case errors.As(err, &syntaxErr):
		return apperr.Newf(apperr.Invalid, "request body is not valid JSON (at byte %d)", syntaxErr.Offset).WithCode("invalid_json").WithCause(err)
	case strings.HasPrefix(msg, "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return apperr.New(apperr.Unprocessable, "unknown field "+field).
			WithDetails(apperr.Detail{Field: field, Issue: "is not a known field"}).WithCause(err)
	default:
		return apperr.New(apperr.Invalid, "request body is not valid JSON").WithCode("invalid_json").WithCause(err)
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	default:
		return "a number"
	}
}

// errorBody is the wire form of an error.
func errorBody(e *apperr.Error, requestID string) map[string]any {
	obj := map[string]any{
		"code":       e.Code,
		"message":    e.Message,
		"details":    e.Details,
		"request_id": requestID,
	}
	if e.Details == nil {
		obj["details"] = []apperr.Detail{}
	}
	for k, v := range e.Extra {
		obj[k] = v
	}
	return map[string]any{"error": obj}
}

// ErrorResponse renders err. Unclassified errors become a 500 whose message
// hides the cause.
func ErrorResponse(err error, requestID string) *Response {
	e, ok := apperr.As(err)
	if !ok || e.Kind == apperr.Internal {
		e = apperr.New(apperr.Internal, "internal error; quote the request id when reporting it")
	}
	b, _ := json.Marshal(errorBody(e, requestID))
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range e.Headers {
		h[k] = v
	}
	switch e.Kind {
	case apperr.Unauthenticated:
		h["WWW-Authenticate"] = `Bearer realm="pytake"`
	case apperr.MethodNotAllowed:
		if allowed, ok := e.Extra["allowed"].([]string); ok {
			h["Allow"] = strings.Join(allowed, ", ")
		}
	}
	return &Response{Status: e.Kind.Status(), Headers: h, Body: b}
}

// requestID takes API Gateway's id when there is one.
func requestID(ev *events.APIGatewayV2HTTPRequest, now time.Time) string {
	if ev.RequestContext.RequestID != "" {
		return ev.RequestContext.RequestID
	}
	return id.New(id.Request, now)
}

// decodeBody returns the raw body bytes.
func decodeBody(ev *events.APIGatewayV2HTTPRequest) ([]byte, error) {
	if !ev.IsBase64Encoded {
		return []byte(ev.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(ev.Body)
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "request body is not valid base64").WithCause(err)
	}
	return b, nil
}

func toEvent(resp *Response, requestID string) events.APIGatewayV2HTTPResponse {
	h := make(map[string]string, len(resp.Headers)+1)
	for k, v := range resp.Headers {
		h[k] = v
	}
	h["X-Request-Id"] = requestID
	out := events.APIGatewayV2HTTPResponse{StatusCode: resp.Status, Headers: h, Cookies: resp.Cookies}
	if resp.Base64 {
		out.Body = base64.StdEncoding.EncodeToString(resp.Body)
		out.IsBase64Encoded = true
	} else {
		out.Body = string(resp.Body)
	}
	return out
}
