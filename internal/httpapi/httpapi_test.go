package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
)

func TestDecodeStrict(t *testing.T) {
	type in struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
		N    int      `json:"n"`
	}
	tests := []struct {
		name  string
		body  string
		kind  apperr.Kind
		field string
	}{
		{"ok", `{"name":"a","tags":["x"],"n":1}`, -1, ""},
		{"empty", ``, apperr.Invalid, ""},
		{"syntax", `{"name":`, apperr.Invalid, ""},
		{"unknown field", `{"nam":"a"}`, apperr.Unprocessable, "nam"},
		{"wrong type", `{"name":5}`, apperr.Unprocessable, "name"},
		{"wrong type nested", `{"tags":[1]}`, apperr.Unprocessable, "tags"},
		{"trailing data", `{} {}`, apperr.Invalid, ""},
		{"not an object", `[]`, apperr.Unprocessable, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v in
			err := DecodeStrict([]byte(tt.body), &v)
			if tt.kind == -1 {
				require.NoError(t, err)
				return
			}
			e, ok := apperr.As(err)
			require.True(t, ok, "err = %v, want kind %d", err, tt.kind)
			require.Equal(t, tt.kind, e.Kind, "err")
			if tt.field != "" && (len(e.Details) == 0 || e.Details[0].Field != tt.field) {
				t.Fatalf("details = %+v, want field %q", e.Details, tt.field)
			}
		})
	}
}

func FuzzDecodeStrict(f *testing.F) {
	f.Add([]byte(`{"a":1}`))
	f.Add([]byte(`{"a":`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var v struct {
			A int `json:"a"`
		}
		err := DecodeStrict(b, &v)
		if err != nil && apperr.KindOf(err).Status() >= 500 {
			t.Fatalf("5xx for client input: %v", err)
		}
	})
}

func TestRouterMatching(t *testing.T) {
	rt := NewRouter(slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	answer := func(name string) Handler {
		return func(ctx context.Context, r *Request) (*Response, error) {
			return JSON(200, map[string]any{"h": name, "params": r.Params})
		}
	}
	rt.Handle(http.MethodGet, "/v1/contacts/{id}", answer("get"))
	rt.Handle(http.MethodGet, "/v1/contacts/search", answer("search"))
	rt.Handle(http.MethodPost, "/v1/contacts/{id}/tags", answer("tags"))
	tests := []struct {
		method, path string
		status       int
		handler, id  string
	}{
		{"GET", "/v1/contacts/ct_1", 200, "get", "ct_1"},
		{"GET", "/v1/contacts/search", 200, "search", ""},
		{"GET", "/v1/contacts/a%2Fb", 200, "get", "a/b"},
		{"HEAD", "/v1/contacts/ct_1", 200, "get", "ct_1"},
		{"POST", "/v1/contacts/ct_1/tags", 200, "tags", "ct_1"},
		{"DELETE", "/v1/contacts/ct_1", 405, "", ""},
		{"GET", "/v1/contacts/ct_1/tags", 405, "", ""},
		{"GET", "/v1/contacts", 404, "", ""},
		{"GET", "/v1/contacts/ct_1/x", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			ev := events.APIGatewayV2HTTPRequest{RawPath: tt.path}
			ev.RequestContext.HTTP.Method = tt.method
			resp, _ := rt.Serve(context.Background(), ev)
			require.Equal(t, tt.status, resp.StatusCode, "status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			if tt.status != 200 {
				return
			}
			var got struct {
				H      string            `json:"h"`
				Params map[string]string `json:"params"`
			}
			_ = json.Unmarshal([]byte(resp.Body), &got)
			require.Equal(t, tt.handler, got.H, "got %+v", got)
			require.Equal(t, tt.id, got.Params["id"], "got %+v", got)
		})
	}
}

func TestInternalErrorsHideTheCause(t *testing.T) {
	resp := ErrorResponse(io.ErrUnexpectedEOF, "r1")
	require.Equal(t, 500, resp.Status, "internal error leaked: %d %s", resp.Status, resp.Body)
	require.NotEmpty(t, string(resp.Body), "internal error leaked")
	require.False(t, contains(resp.Body, "unexpected EOF"), "internal error leaked")
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

func TestErrorResponseHeaders(t *testing.T) {
	r := ErrorResponse(apperr.New(apperr.Unauthenticated, "no key"), "req_1")
	if r.Status != 401 || r.Headers["WWW-Authenticate"] != `Bearer realm="pytake"` {
		t.Errorf("401 headers %v", r.Headers)
	}
	r = ErrorResponse(apperr.New(apperr.MethodNotAllowed, "no").With("allowed", []string{"GET", "HEAD"}), "req_1")
	if r.Status != 405 || r.Headers["Allow"] != "GET, HEAD" {
		t.Errorf("405 headers %v", r.Headers)
	}
	r = ErrorResponse(apperr.New(apperr.RateLimited, "slow down").WithHeader("Retry-After", "3"), "req_1")
	if r.Status != 429 || r.Headers["Retry-After"] != "3" || r.Headers["Content-Type"] != "application/json" {
		t.Errorf("429 headers %v", r.Headers)
	}
}
