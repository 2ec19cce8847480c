package stack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// maxPayload is API Gateway's request payload limit (10 MB).
const maxPayload = 10 << 20

// maxInvokePayload is Lambda's synchronous invocation request limit
// (6 MiB): it applies to the whole event (headers, base64 body), so a JSON
// body a little under 6 MB, or a binary one over about 4.5 MB, exceeds it.
const maxInvokePayload = 6 << 20

// writeTooLarge answers a body whose event Lambda would refuse: 413 with
// PyTake's error model.
func writeTooLarge(w http.ResponseWriter, bodyLen, eventLen int, reqID string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Apigw-Requestid", reqID)
	w.Header().Set("X-Request-Id", reqID)
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code": "payload_too_large",
		"message": fmt.Sprintf("request body is %d bytes (a %d-byte Lambda event); Lambda accepts at most %d bytes per invocation",
			bodyLen, eventLen, maxInvokePayload),
		"details":    []any{},
		"request_id": reqID,
	}})
	_, _ = w.Write(b)
}

// Gateway serves template.yaml's HttpApi routes the way API Gateway's HTTP
// API does with payload format 2.0: a request becomes an event, the
// function's answer becomes the response.
type Gateway struct {
	routes  []Route
	invoker Invoker
	log     *slog.Logger
	now     func() time.Time
	files   map[string]string // URL path -> file, served before the routes
}

// ServeFile serves file at urlPath (GET and HEAD), ahead of the API's
// routes: the local stack's extra pages, such as the API reference at
// /docs, which is deployed as a static file rather than behind API
// Gateway. A missing file answers 404 saying how to build it (hint).
func (g *Gateway) ServeFile(urlPath, file string) {
	if g.files == nil {
		g.files = map[string]string{}
	}
	g.files[urlPath] = file
}

func (g *Gateway) serveFile(w http.ResponseWriter, r *http.Request, file string) {
	if _, err := os.Stat(file); err != nil {
		http.Error(w, "not built: "+file+" is missing (make docs builds it)", http.StatusNotFound)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFile(w, r, file)
}

// NewGateway routes to invoker. Routes are matched as API Gateway does:
// exact paths before parameterised ones, greedy {proxy+} last, a specific
// method before ANY.
func NewGateway(routes []Route, invoker Invoker, log *slog.Logger, now func() time.Time) *Gateway {
	rs := append([]Route(nil), routes...)
	sort.SliceStable(rs, func(i, j int) bool { return rank(rs[i]) < rank(rs[j]) })
	return &Gateway{routes: rs, invoker: invoker, log: log, now: now}
}

func rank(r Route) int {
	n := 0
	switch {
	case strings.Contains(r.Path, "+}"):
		n = 200
	case strings.Contains(r.Path, "{"):
		n = 100
	}
	n -= strings.Count(r.Path, "/") // longer paths first within a class
	if r.Method == "ANY" {
		n += 50
	}
	return n
}

// match finds the route and its path parameters.
func (g *Gateway) match(method, path string) (Route, map[string]string, bool) {
	for _, r := range g.routes {
		if r.Method != "ANY" && r.Method != method {
			continue
		}
		if params, ok := matchPath(r.Path, path); ok {
			return r, params, true
		}
	}
	return Route{}, nil, false
}

func matchPath(pattern, path string) (map[string]string, bool) {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	params := map[string]string{}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}") {
			rest := strings.Join(xs[min(i, len(xs)):], "/")
			if i >= len(xs) || rest == "" {
				return nil, false
			}
			params[p[1:len(p)-2]] = rest
			return params, true
		}
		if i >= len(xs) {
			return nil, false
		}
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if xs[i] == "" {
				return nil, false
			}
			params[p[1:len(p)-1]] = xs[i]
			continue
		}
		if p != xs[i] {
			return nil, false
		}
	}
	if len(xs) != len(ps) {
		return nil, false
	}
	return params, true
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if file, ok := g.files[r.URL.Path]; ok && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		g.serveFile(w, r, file)
		return
	}
	start := g.now()
	reqID := requestID()
	route, params, ok := g.match(r.Method, r.URL.Path)
	if !ok {
		writeGatewayError(w, http.StatusNotFound, "Not Found", reqID)
		g.access(r, reqID, http.StatusNotFound, start, "")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		writeGatewayError(w, http.StatusBadRequest, "Bad Request", reqID)
		return
	}
	if len(body) > maxPayload {
		writeGatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large", reqID)
		g.access(r, reqID, http.StatusRequestEntityTooLarge, start, route.Function)
		return
	}
	ev := g.event(r, route, params, body, reqID, start)
	payload, err := json.Marshal(ev)
	if err != nil {
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error", reqID)
		return
	}
	if len(payload) > maxInvokePayload {
		// On AWS, Lambda refuses this invocation and the function never sees
		// it; here the gateway answers what PyTake promises for it.
		writeTooLarge(w, len(body), len(payload), reqID)
		g.access(r, reqID, http.StatusRequestEntityTooLarge, start, route.Function)
		return
	}
	// As on AWS, a client that hangs up does not cancel the invocation.
	inv := g.invoker.Invoke(context.WithoutCancel(r.Context()), route.Function, payload)
	if inv.Err != nil {
		g.log.Error("function failed", "function", route.Function, "request_id", reqID, "error", inv.Err.Error())
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error", reqID)
		g.access(r, reqID, http.StatusInternalServerError, start, route.Function)
		return
	}
	status := writeResponse(w, inv.Payload, reqID)
	g.access(r, reqID, status, start, route.Function)
}

func (g *Gateway) access(r *http.Request, reqID string, status int, start time.Time, fn string) {
	g.log.Info("request", "request_id", reqID, "method", r.Method, "path", r.URL.Path, "status", status,
		"function", fn, "latency_ms", g.now().Sub(start).Milliseconds())
}

// event builds the payload 2.0 request.
func (g *Gateway) event(r *http.Request, route Route, params map[string]string, body []byte, reqID string, at time.Time) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lk] = strings.Join(vs, ",")
	}
	headers["host"] = r.Host
	if r.ContentLength > 0 || len(body) > 0 {
		headers["content-length"] = strconv.Itoa(len(body))
	}
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	headers["x-forwarded-for"] = sourceIP
	headers["x-forwarded-proto"] = "http"
	headers["x-amzn-trace-id"] = "Root=1-" + strconv.FormatInt(at.Unix(), 16) + "-" + reqID[:24]
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = make(map[string]string, len(q))
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	routeKey := route.Method + " " + route.Path
	if route.Method == "ANY" {
		routeKey = "ANY " + route.Path
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    "123456789012",
			Stage:        "$default",
			RequestID:    reqID,
			APIID:        "local",
			DomainName:   r.Host,
			DomainPrefix: strings.Split(r.Host, ".")[0],
			Time:         at.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    at.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(params) > 0 {
		ev.PathParameters = params
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type"), body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// isText: API Gateway passes text media types through and base64-encodes
// the rest.
func isText(contentType string, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case strings.HasPrefix(mt, "text/"), mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"), mt == "application/x-www-form-urlencoded",
		mt == "application/javascript":
		return utf8.Valid(body)
	}
	return false
}

// writeResponse turns a payload 2.0 response into HTTP. A function result
// that is not a response object is sent as a 200 JSON body, as API Gateway
// does.
func writeResponse(w http.ResponseWriter, payload []byte, reqID string) int {
	var resp events.APIGatewayV2HTTPResponse
	var probe map[string]json.RawMessage
	if json.Unmarshal(payload, &probe) != nil || probe["statusCode"] == nil || json.Unmarshal(payload, &resp) != nil {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Apigw-Requestid", reqID)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(payload)
		return http.StatusOK
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	h.Set("Apigw-Requestid", reqID)
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error", reqID)
			return http.StatusInternalServerError
		}
		body = b
	}
	if h.Get("Content-Type") == "" && len(body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	status := resp.StatusCode
	if status < 100 || status > 599 {
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error", reqID)
		return http.StatusInternalServerError
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

// writeGatewayError answers as API Gateway itself does ({"message": ...}).
func writeGatewayError(w http.ResponseWriter, status int, msg, reqID string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Apigw-Requestid", reqID)
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"message": msg})
	_, _ = w.Write(b)
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Serve runs the gateway on addr until ctx ends.
func (g *Gateway) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err := srv.Serve(l)
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}
