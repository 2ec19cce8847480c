package stack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeInvoker struct {
	fn      string
	payload []byte
	answer  Invocation
}

func (f *fakeInvoker) Invoke(_ context.Context, fn string, payload []byte) Invocation {
	f.fn, f.payload = fn, payload
	return f.answer
}

var testRoutes = []Route{
	{Function: "Api", Method: "ANY", Path: "/v1"},
	{Function: "Api", Method: "ANY", Path: "/v1/{proxy+}"},
	{Function: "Hook", Method: "GET", Path: "/webhooks/whatsapp"},
	{Function: "Hook", Method: "POST", Path: "/webhooks/whatsapp"},
	{Function: "Item", Method: "GET", Path: "/v1/items/{id}"},
}

func TestGatewayMatch(t *testing.T) {
	g := NewGateway(testRoutes, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	for _, c := range []struct {
		method, path, fn string
		params           map[string]string
	}{
		{"GET", "/v1", "Api", map[string]string{}},
		{"GET", "/v1/health", "Api", map[string]string{"proxy": "health"}},
		{"DELETE", "/v1/contacts/c_1/tags/vip", "Api", map[string]string{"proxy": "contacts/c_1/tags/vip"}},
		{"GET", "/v1/items/42", "Item", map[string]string{"id": "42"}},
		{"POST", "/v1/items/42", "Api", map[string]string{"proxy": "items/42"}},
		{"GET", "/webhooks/whatsapp", "Hook", map[string]string{}},
		{"PUT", "/webhooks/whatsapp", "", nil},
		{"GET", "/", "", nil},
		{"GET", "/v2/health", "", nil},
	} {
		r, params, ok := g.match(c.method, c.path)
		if c.fn == "" {
			assert.False(t, ok, "%s %s matched %+v", c.method, c.path, r)
			continue
		}
		if !ok || r.Function != c.fn || len(params) != len(c.params) {
			t.Errorf("%s %s -> %+v %v %v, want %s %v", c.method, c.path, r, params, ok, c.fn, c.params)
			continue
		}
		for k, v := range c.params {
			assert.Equal(t, v, params[k], "%s %s param %s=%q want %q", c.method, c.path, k, params[k], v)
		}
	}
}

func TestGatewayEventAndResponse(t *testing.T) {
	inv := &fakeInvoker{answer: Invocation{Payload: mustJSON(t, events.APIGatewayV2HTTPResponse{
		StatusCode: 201, Headers: map[string]string{"Content-Type": "application/json", "X-Request-Id": "r"},
		Body: base64.StdEncoding.EncodeToString([]byte(`{"ok":true}`)), IsBase64Encoded: true,
		Cookies: []string{"a=1"},
	})}}
	srv := httptest.NewServer(NewGateway(testRoutes, inv, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now))
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/v1/contacts?tag=vip&tag=new&limit=5", strings.NewReader(`{"name":"Ana"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	req.Header.Set("Cookie", "s=1; t=2")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 201, resp.StatusCode, "response %d %s %v", resp.StatusCode, body, resp.Header)
	require.Equal(t, `{"ok":true}`, string(body), "response %d %s %v", resp.StatusCode, body, resp.Header)
	require.Equal(t, "r", resp.Header.Get("X-Request-Id"), "response %d %s %v", resp.StatusCode, body, resp.Header)
	require.Equal(t, "a=1", resp.Header.Get("Set-Cookie"), "response %d %s %v", resp.StatusCode, body, resp.Header)
	require.NotEmpty(t, resp.Header.Get("Apigw-Requestid"), "response %d %s %v", resp.StatusCode, body, resp.Header)
	var ev events.APIGatewayV2HTTPRequest
	require.NoError(t, json.Unmarshal(inv.payload, &ev))
	require.Equal(t, "Api", inv.fn, "event %+v", ev)
	require.Equal(t, "2.0", ev.Version, "event %+v", ev)
	require.Equal(t, "ANY /v1/{proxy+}", ev.RouteKey, "event %+v", ev)
	require.Equal(t, "/v1/contacts", ev.RawPath, "event %+v", ev)
	require.Equal(t, "tag=vip&tag=new&limit=5", ev.RawQueryString, "event %+v", ev)
	require.Equal(t, "vip,new", ev.QueryStringParameters["tag"], "event %+v", ev)
	require.Equal(t, "Bearer k", ev.Headers["authorization"], "event %+v", ev)
	require.Equal(t, "a,b", ev.Headers["x-multi"], "event %+v", ev)
	require.Equal(t, "contacts", ev.PathParameters["proxy"], "event %+v", ev)
	require.Equal(t, `{"name":"Ana"}`, ev.Body, "event %+v", ev)
	require.False(t, ev.IsBase64Encoded, "event %+v", ev)
	require.Equal(t, "POST", ev.RequestContext.HTTP.Method, "event %+v", ev)
	require.NotEmpty(t, ev.RequestContext.RequestID, "event %+v", ev)
	require.Len(t, ev.Cookies, 2, "event %+v", ev)

	// Binary bodies arrive base64-encoded.
	resp, err = http.Post(srv.URL+"/webhooks/whatsapp", "application/octet-stream", strings.NewReader("\x00\xff"))
	require.NoError(t, err)
	resp.Body.Close()
	_ = json.Unmarshal(inv.payload, &ev)
	require.True(t, ev.IsBase64Encoded, "binary event %+v", ev)
	require.Equal(t, base64.StdEncoding.EncodeToString([]byte("\x00\xff")), ev.Body, "binary event %+v", ev)
	require.Equal(t, "Hook", inv.fn, "binary event %+v", ev)
}

func TestGatewayErrors(t *testing.T) {
	inv := &fakeInvoker{}
	srv := httptest.NewServer(NewGateway(testRoutes, inv, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/nothing"); code != 404 || body != `{"message":"Not Found"}` {
		t.Errorf("unknown route: %d %s", code, body)
	}
	inv.answer = Invocation{Payload: []byte(`{"errorType":"x"}`), Err: errors.New("boom")}
	if code, body := get("/v1/health"); code != 500 || body != `{"message":"Internal Server Error"}` {
		t.Errorf("function error: %d %s", code, body)
	}
	inv.answer = Invocation{Payload: []byte(`{"hello":"world"}`)}
	if code, body := get("/v1/health"); code != 200 || body != `{"hello":"world"}` {
		t.Errorf("bare result: %d %s", code, body)
	}
	inv.answer = Invocation{Payload: []byte(`{"statusCode":99}`)}
	code, _ := get("/v1/health")
	assert.Equal(t, 500, code, "bad status: %d", code)
}

func TestIsFunctionError(t *testing.T) {
	for body, want := range map[string]bool{
		`{"errorMessage":"x","errorType":"y"}`: true,
		`Task timed out after 10.00 seconds`:   true,
		`{"statusCode":500,"body":"x"}`:        false,
		`{"batchItemFailures":[]}`:             false,
		`null`:                                 false,
	} {
		got := isFunctionError([]byte(body))
		assert.Equal(t, want, got, "isFunctionError(%s) = %v", body, got)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// TestGatewayFiles: /docs serves the built page ahead of the routes, only
// for GET and HEAD, and says how to build it when it is missing.
func TestGatewayFiles(t *testing.T) {
	dir := t.TempDir()
	page := dir + "/reference.html"
	inv := &fakeInvoker{answer: Invocation{Payload: []byte(`{"from":"function"}`)}}
	gw := NewGateway(append(testRoutes, Route{Function: "Api", Method: "ANY", Path: "/{proxy+}"}), inv,
		slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	gw.ServeFile("/docs", page)
	srv := httptest.NewServer(gw)
	defer srv.Close()
	do := func(method, path string) (int, string, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if code, _, body := do("GET", "/docs"); code != 404 || !strings.Contains(body, "make docs") {
		t.Errorf("missing page: %d %s", code, body)
	}
	require.NoError(t, os.WriteFile(page, []byte("<!doctype html><title>PyTake API</title>"), 0o644))
	tests := []struct {
		method, path string
		code         int
		ctype, body  string
	}{
		{"GET", "/docs", 200, "text/html; charset=utf-8", "<!doctype html><title>PyTake API</title>"},
		{"HEAD", "/docs", 200, "text/html; charset=utf-8", ""},
		{"POST", "/docs", 200, "application/json", `{"from":"function"}`}, // not a page method: the routes
		{"GET", "/docs/other", 200, "application/json", `{"from":"function"}`},
	}
	for _, tc := range tests {
		code, ctype, body := do(tc.method, tc.path)
		assert.Equal(t, tc.code, code, "%s %s: %d %q %q, want %d %q %q", tc.method, tc.path, code, ctype, body, tc.code, tc.ctype, tc.body)
		assert.Equal(t, tc.ctype, ctype, "%s %s: %d %q %q, want %d %q %q", tc.method, tc.path, code, ctype, body, tc.code, tc.ctype, tc.body)
		assert.Equal(t, tc.body, body, "%s %s: %d %q %q, want %d %q %q", tc.method, tc.path, code, ctype, body, tc.code, tc.ctype, tc.body)
	}
}

// A body whose event would exceed Lambda's 6 MB synchronous invoke limit
// never reaches the function: the gateway answers 413 with PyTake's JSON
// error model. (Over API Gateway's own 10 MB it answers as API Gateway
// does, {"message":"Request Entity Too Large"}.)
func TestGatewayPayloadLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		b64    bool // a binary content type makes the event carry base64
		status int
	}{
		{"5 MB JSON reaches the function", 5 << 20, false, 200},
		{"7 MB JSON", 7 << 20, false, 413},
		{"5 MB binary, 6.7 MB as base64", 5 << 20, true, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := &fakeInvoker{answer: Invocation{Payload: []byte(`{"statusCode":200,"body":"{}"}`)}}
			g := NewGateway(testRoutes, inv, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
			req := httptest.NewRequest("POST", "/v1/contacts", strings.NewReader(strings.Repeat("a", tc.size)))
			req.Header.Set("Content-Type", "application/json")
			if tc.b64 {
				req.Header.Set("Content-Type", "application/octet-stream")
			}
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %.200s", rec.Code, tc.status, rec.Body.String())
			}
			if tc.status != 413 {
				return
			}
			if inv.fn != "" {
				t.Fatal("the function was invoked")
			}
			var body struct {
				Error struct {
					Code      string `json:"code"`
					Message   string `json:"message"`
					RequestID string `json:"request_id"`
					Details   []any  `json:"details"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "payload_too_large" ||
				body.Error.RequestID == "" || body.Error.Details == nil || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("body %s (%v)", rec.Body.String(), err)
			}
		})
	}
}
