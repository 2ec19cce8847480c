// Package apperr holds PyTake's error kinds and the one table that maps them
// to HTTP statuses. Adapters return errors of these kinds (or wrap them);
// the HTTP layer turns them into {"error":{...}} bodies. Anything else is an
// internal error whose details are logged, never returned.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind classifies an error for clients.
type Kind int

// The kinds. The zero value is Internal.
const (
	Internal         Kind = iota
	Invalid               // 400: the request cannot be read
	Unprocessable         // 422: the request was read but a field breaks a rule
	Unauthenticated       // 401
	Forbidden             // 403
	NotFound              // 404
	MethodNotAllowed      // 405
	Conflict              // 409
	TooLarge              // 413
	UnsupportedMedia      // 415
	RateLimited           // 429
	Unavailable           // 503: a dependency failed; retry
	BadGateway            // 502: an upstream (Meta) answered with an error
)

var statuses = map[Kind]int{
	Internal:         http.StatusInternalServerError,
	Invalid:          http.StatusBadRequest,
	Unprocessable:    http.StatusUnprocessableEntity,
	Unauthenticated:  http.StatusUnauthorized,
	Forbidden:        http.StatusForbidden,
	NotFound:         http.StatusNotFound,
	MethodNotAllowed: http.StatusMethodNotAllowed,
	Conflict:         http.StatusConflict,
	TooLarge:         http.StatusRequestEntityTooLarge,
	UnsupportedMedia: http.StatusUnsupportedMediaType,
	RateLimited:      http.StatusTooManyRequests,
	Unavailable:      http.StatusServiceUnavailable,
	BadGateway:       http.StatusBadGateway,
}

var defaultCodes = map[Kind]string{
	Internal:         "internal_error",
	Invalid:          "invalid_request",
	Unprocessable:    "validation_failed",
	Unauthenticated:  "unauthorized",
	Forbidden:        "forbidden",
	NotFound:         "not_found",
	MethodNotAllowed: "method_not_allowed",
	Conflict:         "conflict",
	TooLarge:         "payload_too_large",
	UnsupportedMedia: "unsupported_media_type",
	RateLimited:      "rate_limited",
	Unavailable:      "service_unavailable",
	BadGateway:       "upstream_error",
}

// Status is the HTTP status for k.
func (k Kind) Status() int { return statuses[k] }

// KindForStatus is the kind whose status is status (Internal for any
// other): how an answer read back from an HTTP status is classified again.
func KindForStatus(status int) Kind {
	for k, s := range statuses {
		if s == status {
			return k
		}
	}
	return Internal
}

// Detail names one problem with one field.
type Detail struct {
	Field string `json:"field,omitempty"`
	Issue string `json:"issue"`
}

// Error is an error a client may see.
type Error struct {
	Kind    Kind
	Code    string   // machine-readable, snake_case
	Message string   // for people
	Details []Detail // per-field problems
	// Extra is merged into the error object (e.g. "existing_id" on a conflict).
	Extra map[string]any
	// Headers are added to the HTTP answer (e.g. Retry-After on a 429).
	Headers map[string]string
	Err     error // the cause, for logs and errors.Is; never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New makes an error of kind k with the kind's default code.
func New(k Kind, message string) *Error {
	return &Error{Kind: k, Code: defaultCodes[k], Message: message}
}

// Newf is New with formatting.
func Newf(k Kind, format string, args ...any) *Error {
	return New(k, fmt.Sprintf(format, args...))
}

// WithCode sets a specific code.
func (e *Error) WithCode(code string) *Error { e.Code = code; return e }

// WithDetails appends field details.
func (e *Error) WithDetails(d ...Detail) *Error { e.Details = append(e.Details, d...); return e }

// WithCause records the underlying error.
func (e *Error) WithCause(err error) *Error { e.Err = err; return e }

// With adds an extra member to the error object.
func (e *Error) With(key string, v any) *Error {
	if e.Extra == nil {
		e.Extra = map[string]any{}
	}
	e.Extra[key] = v
	return e
}

// WithHeader adds a header to the HTTP answer of the error.
func (e *Error) WithHeader(name, value string) *Error {
	if e.Headers == nil {
		e.Headers = map[string]string{}
	}
	e.Headers[name] = value
	return e
}

// Field is a one-detail Unprocessable error naming a field.
func Field(field, issue string) *Error {
	return New(Unprocessable, field+": "+issue).WithDetails(Detail{Field: field, Issue: issue})
}

// As extracts the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// KindOf reports err's kind; Internal when it carries none.
func KindOf(err error) Kind {
	if e, ok := As(err); ok {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// DetailsOf returns the details of the *Error in err's chain (nil when none).
func DetailsOf(err error) []Detail {
	if e, ok := As(err); ok {
		return e.Details
	}
	return nil
}

// Fields lists the fields err's details name, in order.
func Fields(err error) []string {
	var out []string
	for _, d := range DetailsOf(err) {
		out = append(out, d.Field)
	}
	return out
}
