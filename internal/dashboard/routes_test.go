package dashboard_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// apiCall is an API operation the dashboard's code makes: its method and
// path, each argument of the path as "x".
type apiCall struct {
	method, path string
	at           string
}

// apiCalls reads the dashboard's source for its API operations: every
// s.call and s.webhookAction, whose method must be an http.Method constant
// (but in webhookAction itself, which forwards its own), and whose path
// is string literals joined with arguments. It fails on a call it cannot
// read, and when the API is called other than through s.call.
func apiCalls(t *testing.T) []apiCall {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var calls []apiCall
	dos := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				ce, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := ce.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				at := fset.Position(ce.Pos()).String()
				if sel.Sel.Name == "Do" {
					if inner, ok := sel.X.(*ast.SelectorExpr); ok && inner.Sel.Name == "api" {
						dos++
						assert.Equal(t, "call", fn.Name.Name, "%s: the API is called only through s.call", at)
					}
					return true
				}
				if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "s" || (sel.Sel.Name != "call" && sel.Sel.Name != "webhookAction") {
					return true
				}
				require.GreaterOrEqual(t, len(ce.Args), 4, at)
				m, ok := ce.Args[2].(*ast.SelectorExpr)
				if !ok {
					require.Equal(t, "webhookAction", fn.Name.Name, "%s: the method of an API call must be an http.Method constant", at)
					return true
				}
				require.True(t, strings.HasPrefix(m.Sel.Name, "Method"), at)
				calls = append(calls, apiCall{method: strings.ToUpper(strings.TrimPrefix(m.Sel.Name, "Method")),
					path: pathOf(t, ce.Args[3], at), at: at})
				return true
			})
		}
	}
	assert.Equal(t, 1, dos, "s.api.Do is called once, in s.call")
	return calls
}

// pathOf is a path expression's value, each non-literal part as "x".
func pathOf(t *testing.T, e ast.Expr, at string) string {
	switch e := e.(type) {
	case *ast.BasicLit:
		s, err := strconv.Unquote(e.Value)
		require.NoError(t, err, at)
		return s
	case *ast.BinaryExpr:
		require.Equal(t, token.ADD, e.Op, at)
		return pathOf(t, e.X, at) + pathOf(t, e.Y, at)
	default:
		return "x"
	}
}

// TestAPIRoutesCoverCalls: every API operation in the dashboard's code has
// its route among dashboard.APIRoutes, the only groups its in-process API
// is built with (functions/dashboard): a route left out answers an error,
// not a page, and this fails.
func TestAPIRoutesCoverCalls(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin, err := f.st.APIKey(ctx, f.org.ID, f.keyID)
	require.NoError(t, err)
	calls := apiCalls(t)
	require.GreaterOrEqual(t, len(calls), 20, "the dashboard's API calls were read")
	seen := map[string]bool{}
	for _, c := range calls {
		seen[c.method+" "+c.path] = true
		res, err := f.api.Do(ctx, admin, c.method, c.path, nil, nil)
		if assert.NoError(t, err, "%s: %s %s", c.at, c.method, c.path) {
			assert.NotEqual(t, http.StatusInternalServerError, res.Status, "%s: %s %s: %s", c.at, c.method, c.path, res.Body)
		}
	}
	for _, want := range []string{"GET /v1/settings/whatsapp", "POST /v1/webhooks/x/deliveries/x/retry", "DELETE /v1/api-keys/x",
		"PATCH /v1/conversations/x", "GET /v1/contacts"} {
		assert.True(t, seen[want], "%s is among the calls read: %v", want, seen)
	}
}
