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
			if ok {
				t.Errorf("%s %s matched %+v", c.method, c.path, r)
			}
			continue
		}
		if !ok || r.Function != c.fn || len(params) != len(c.params) {
			t.Errorf("%s %s -> %+v %v %v, want %s %v", c.method, c.path, r, params, ok, c.fn, c.params)
			continue
		}
		for k, v := range c.params {
			if params[k] != v {
				t.Errorf("%s %s param %s=%q want %q", c.method, c.path, k, params[k], v)
			}
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
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || string(body) != `{"ok":true}` || resp.Header.Get("X-Request-Id") != "r" ||
		resp.Header.Get("Set-Cookie") != "a=1" || resp.Header.Get("Apigw-Requestid") == "" {
		t.Fatalf("response %d %s %v", resp.StatusCode, body, resp.Header)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(inv.payload, &ev); err != nil {
		t.Fatal(err)
	}
	if inv.fn != "Api" || ev.Version != "2.0" || ev.RouteKey != "ANY /v1/{proxy+}" || ev.RawPath != "/v1/contacts" ||
		ev.RawQueryString != "tag=vip&tag=new&limit=5" || ev.QueryStringParameters["tag"] != "vip,new" ||
		ev.Headers["authorization"] != "Bearer k" || ev.Headers["x-multi"] != "a,b" ||
		ev.PathParameters["proxy"] != "contacts" || ev.Body != `{"name":"Ana"}` || ev.IsBase64Encoded ||
		ev.RequestContext.HTTP.Method != "POST" || ev.RequestContext.RequestID == "" || len(ev.Cookies) != 2 {
		t.Fatalf("event %+v", ev)
	}

	// Binary bodies arrive base64-encoded.
	resp, err = http.Post(srv.URL+"/webhooks/whatsapp", "application/octet-stream", strings.NewReader("\x00\xff"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_ = json.Unmarshal(inv.payload, &ev)
	if !ev.IsBase64Encoded || ev.Body != base64.StdEncoding.EncodeToString([]byte("\x00\xff")) || inv.fn != "Hook" {
		t.Fatalf("binary event %+v", ev)
	}
}

func TestGatewayErrors(t *testing.T) {
	inv := &fakeInvoker{}
	srv := httptest.NewServer(NewGateway(testRoutes, inv, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
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
	if code, _ := get("/v1/health"); code != 500 {
		t.Errorf("bad status: %d", code)
	}
}

func TestIsFunctionError(t *testing.T) {
	for body, want := range map[string]bool{
		`{"errorMessage":"x","errorType":"y"}`: true,
		`Task timed out after 10.00 seconds`:   true,
		`{"statusCode":500,"body":"x"}`:        false,
		`{"batchItemFailures":[]}`:             false,
		`null`:                                 false,
	} {
		if got := isFunctionError([]byte(body)); got != want {
			t.Errorf("isFunctionError(%s) = %v", body, got)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
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
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if code, _, body := do("GET", "/docs"); code != 404 || !strings.Contains(body, "make docs") {
		t.Errorf("missing page: %d %s", code, body)
	}
	if err := os.WriteFile(page, []byte("<!doctype html><title>PyTake API</title>"), 0o644); err != nil {
		t.Fatal(err)
	}
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
		if code != tc.code || ctype != tc.ctype || body != tc.body {
			t.Errorf("%s %s: %d %q %q, want %d %q %q", tc.method, tc.path, code, ctype, body, tc.code, tc.ctype, tc.body)
		}
	}
}
