package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/api"
)

// The OpenAPI document, loaded once for every test that validates a
// response against it.
type openAPI struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema
}

const docURL = "file:///openapi.json"

var (
	specOnce sync.Once
	spec     *openAPI
	specErr  error
)

func loadSpec(t testing.TB) *openAPI {
	t.Helper()
	specOnce.Do(func() {
		b, err := os.ReadFile("openapi.json")
		if err != nil {
			specErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			specErr = fmt.Errorf("openapi.json: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		c.AssertFormat()
		if err := c.AddResource(docURL, doc); err != nil {
			specErr = err
			return
		}
		spec = &openAPI{doc: doc.(map[string]any), compiler: c, schemas: map[string]*jsonschema.Schema{}}
	})
	require.NoError(t, specErr, "load openapi.json")
	return spec
}

func (o *openAPI) paths() map[string]any { return o.doc["paths"].(map[string]any) }

var methods = []string{"get", "put", "post", "delete", "patch"}

// operation finds the operation a request is served by: the path template
// matching the raw path with the most literal segments (as the router does).
func (o *openAPI) operation(method, path string) (tmpl string, op map[string]any) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	best := -1
	for p, item := range o.paths() {
		segs := strings.Split(strings.Trim(p, "/"), "/")
		if len(segs) != len(parts) {
			continue
		}
		literal, ok := 0, true
		for i, s := range segs {
			if strings.HasPrefix(s, "{") {
				if parts[i] == "" {
					ok = false
				}
				continue
			}
			if s != parts[i] {
				ok = false
				break
			}
			literal++
		}
		if !ok {
			continue
		}
		m, has := item.(map[string]any)[strings.ToLower(method)].(map[string]any)
		if has && literal > best {
			best, tmpl, op = literal, p, m
		}
	}
	return tmpl, op
}

func pointer(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("/")
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(p))
	}
	return b.String()
}

// response resolves an operation's response object for a status (or the
// default) and the JSON pointer of the object it came from.
func (o *openAPI) response(op map[string]any, opPtr string, status int) (map[string]any, string) {
	rs, _ := op["responses"].(map[string]any)
	code := strconv.Itoa(status)
	r, ok := rs[code].(map[string]any)
	ptr := opPtr + pointer("responses", code)
	if !ok {
		if r, ok = rs[code[:1]+"XX"].(map[string]any); ok {
			ptr = opPtr + pointer("responses", code[:1]+"XX")
		} else if r, ok = rs["default"].(map[string]any); ok {
			ptr = opPtr + pointer("responses", "default")
		} else {
			return nil, ""
		}
	}
	if ref, ok := r["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/responses/")
		r = o.doc["components"].(map[string]any)["responses"].(map[string]any)[name].(map[string]any)
		ptr = pointer("components", "responses", name)
	}
	return r, ptr
}

func (o *openAPI) schema(t testing.TB, ptr string) *jsonschema.Schema {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if s, ok := o.schemas[ptr]; ok {
		return s
	}
	s, err := o.compiler.Compile(docURL + "#" + ptr)
	require.NoError(t, err, "openapi.json: compile %s: %v", ptr, err)
	o.schemas[ptr] = s
	return s
}

// checkResponse fails the test when a response does not match the document:
// an undocumented status, a missing documented header, another content type,
// or a body its schema refuses. Requests to paths the document does not have
// (router 404s and 405s) are not checked.
func checkResponse(t testing.TB, ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	o := loadSpec(t)
	tmpl, op := o.operation(ev.RequestContext.HTTP.Method, ev.RawPath)
	if op == nil {
		return
	}
	where := fmt.Sprintf("%s %s -> %d", ev.RequestContext.HTTP.Method, tmpl, resp.StatusCode)
	r, rptr := o.response(op, pointer("paths", tmpl, strings.ToLower(ev.RequestContext.HTTP.Method)), resp.StatusCode)
	require.NotNil(t, r, "openapi: %s: status not documented (body %s)", where, resp.Body)
	if hs, ok := r["headers"].(map[string]any); ok {
		for name, h := range hs {
			if req, _ := h.(map[string]any)["required"].(bool); req && header(resp.Headers, name) == "" {
				t.Errorf("openapi: %s: documented header %s missing", where, name)
			}
		}
	}
	content, _ := r["content"].(map[string]any)
	if len(content) == 0 {
		assert.Empty(t, resp.Body, "openapi: %s: documented without a body, got %q", where, resp.Body)
		return
	}
	ct := header(resp.Headers, "Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	if _, ok := content[mt]; !ok {
		if _, any := content["*/*"]; !any {
			t.Fatalf("openapi: %s: content type %q not documented", where, ct)
		}
		return
	}
	if mt != "application/json" {
		return
	}
	if _, ok := content[mt].(map[string]any)["schema"]; !ok {
		return
	}
	body, err := jsonschema.UnmarshalJSON(strings.NewReader(resp.Body))
	require.NoError(t, err, "openapi: %s: body is not JSON: %v", where, err)
	s := o.schema(t, rptr+pointer("content", mt, "schema"))
	err = s.Validate(body)
	assert.NoError(t, err, "openapi: %s: body breaks the schema: %v\nbody: %s", where, err, resp.Body)
}

func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// TestOpenAPIDescribesEveryRoute: every route has an operation with an id,
// a summary and a description, and every operation has a route.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	o := loadSpec(t)
	srv := api.New(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	routes := map[string]bool{}
	for _, r := range srv.Router().Routes() {
		routes[r] = true
	}
	documented := map[string]bool{}
	ids := map[string]string{}
	for p, item := range o.paths() {
		for _, m := range methods {
			op, ok := item.(map[string]any)[m].(map[string]any)
			if !ok {
				continue
			}
			name := strings.ToUpper(m) + " " + p
			documented[name] = true
			for _, f := range []string{"operationId", "summary", "description"} {
				s, _ := op[f].(string)
				assert.NotEmpty(t, strings.TrimSpace(s), "%s: no %s", name, f)
			}
			id, _ := op["operationId"].(string)
			other, dup := ids[id]
			assert.False(t, dup, "operationId %q used by %s and %s", id, other, name)
			ids[id] = name
			if _, ok := op["responses"].(map[string]any); !ok {
				t.Errorf("%s: no responses", name)
			}
			// Every documented response schema compiles.
			for code := range op["responses"].(map[string]any) {
				n, _ := strconv.Atoi(code)
				r, ptr := o.response(op, pointer("paths", p, m), n)
				if code == "default" {
					r, ptr = o.response(op, pointer("paths", p, m), 999)
				}
				content, _ := r["content"].(map[string]any)
				if c, ok := content["application/json"].(map[string]any); ok && c["schema"] != nil {
					o.schema(t, ptr+pointer("content", "application/json", "schema"))
				}
			}
		}
	}
	var missing, extra []string
	for r := range routes {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !routes[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	assert.Empty(t, missing, "routes without a description in openapi.json:\n  %s", strings.Join(missing, "\n  "))
	assert.Empty(t, extra, "openapi.json describes routes the router does not have:\n  %s", strings.Join(extra, "\n  "))
}

// TestOpenAPIServed: GET /v1/openapi.json serves internal/api/openapi.json
// (the binary embeds it gzipped: go generate ./internal/api/ after editing
// it), compressed to a client accepting gzip, as it is to the others.
func TestOpenAPIServed(t *testing.T) {
	f := newFixture(t)
	want, err := os.ReadFile("openapi.json")
	require.NoError(t, err)
	for _, tc := range []struct {
		acceptEncoding string
		gzipped        bool
	}{
		{"", false},
		{"gzip", true},
		{"gzip, deflate, br, zstd", true},
		{"br;q=1.0, GZIP;q=0.5", true},
		{"x-gzip", true},
		{"*", true},
		{"identity", false},
		{"br", false},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
	} {
		t.Run(tc.acceptEncoding, func(t *testing.T) {
			ev := event("GET", "/v1/openapi.json", "", "")
			if tc.acceptEncoding != "" {
				ev.Headers["accept-encoding"] = tc.acceptEncoding
			}
			resp, err := f.router.Serve(context.Background(), ev)
			require.NoError(t, err)
			require.Equal(t, 200, resp.StatusCode, "status %d", resp.StatusCode)
			assert.Equal(t, "application/json", resp.Headers["Content-Type"])
			assert.Equal(t, "Accept-Encoding", resp.Headers["Vary"])
			body := []byte(resp.Body)
			if tc.gzipped {
				assert.Equal(t, "gzip", resp.Headers["Content-Encoding"])
				require.True(t, resp.IsBase64Encoded, "a binary body")
				b, err := base64.StdEncoding.DecodeString(resp.Body)
				require.NoError(t, err)
				zr, err := gzip.NewReader(bytes.NewReader(b))
				require.NoError(t, err)
				body, err = io.ReadAll(zr)
				require.NoError(t, err)
				assert.Less(t, len(b), len(want)/5, "compressed")
			} else {
				assert.Empty(t, resp.Headers["Content-Encoding"])
				assert.False(t, resp.IsBase64Encoded)
			}
			require.Equal(t, string(want), string(body),
				"GET /v1/openapi.json does not serve internal/api/openapi.json: run go generate ./internal/api/")
		})
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	err = json.Unmarshal(want, &doc)
	require.NoError(t, err, "openapi = %q, %v", doc.OpenAPI, err)
	require.Equal(t, "3.1.0", doc.OpenAPI, "openapi")
}
