// Package docs holds the integrator reference (integrators.md) and the API
// reference page's build (make docs). Its tests keep the reference in step
// with the code: every error code the code can answer is documented with its
// status, every event of the catalogue has its generated sample, and the
// signature verification examples run against what the dispatcher signs.
package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pytake/pytake/internal/apperr"
)

const root = "../.."

// reference is the integrator reference this package checks.
const reference = "integrators.md"

// dynamicCodes lists the codes of WithCode calls whose argument is not a
// string literal, keyed by the argument's source text. A new computed code
// fails TestErrorCodesDocumented until it is listed here (and documented).
var dynamicCodes = map[string][]string{}

// kinds maps apperr's kind names to kinds, as the source spells them.
var kinds = map[string]apperr.Kind{
	"Internal": apperr.Internal, "Invalid": apperr.Invalid, "Unprocessable": apperr.Unprocessable,
	"Unauthenticated": apperr.Unauthenticated, "Forbidden": apperr.Forbidden, "NotFound": apperr.NotFound,
	"MethodNotAllowed": apperr.MethodNotAllowed, "Conflict": apperr.Conflict, "TooLarge": apperr.TooLarge,
	"UnsupportedMedia": apperr.UnsupportedMedia, "RateLimited": apperr.RateLimited, "Unavailable": apperr.Unavailable,
	"BadGateway": apperr.BadGateway,
}

// codeUse is one code the code can answer, with the statuses it comes with.
type codeUse struct {
	statuses map[int]bool
	where    []string
}

// answerableCodes reads every non-test Go file under internal/ and
// functions/ and returns the error codes a client can see: each
// WithCode("...") with the status of the error it is set on, and the
// default code of each kind that is built without WithCode (internal_error
// always).
func answerableCodes(t *testing.T) map[string]*codeUse {
	t.Helper()
	out := map[string]*codeUse{}
	add := func(code string, k apperr.Kind, where string) {
		u := out[code]
		if u == nil {
			u = &codeUse{statuses: map[int]bool{}}
			out[code] = u
		}
		u.statuses[k.Status()] = true
		u.where = append(u.where, where)
	}
	add(apperr.New(apperr.Internal, "").Code, apperr.Internal, "httpapi.ErrorResponse (any unclassified error)")
	for _, dir := range []string{"internal", "functions"} {
		pkgs := map[string][]*ast.File{}
		fset := token.NewFileSet()
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			pkgs[filepath.Dir(path)] = append(pkgs[filepath.Dir(path)], f)
			return nil
		})
		require.NoError(t, err)
		for _, files := range pkgs {
			funcs := map[string]*ast.FuncDecl{}
			for _, f := range files {
				for _, d := range f.Decls {
					if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
						funcs[fd.Name.Name] = fd
					}
				}
			}
			for _, f := range files {
				coded := map[*ast.CallExpr]bool{}
				ast.Inspect(f, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok || !isMethod(call, "WithCode") || len(call.Args) != 1 {
						return true
					}
					pos := fset.Position(call.Pos()).String()
					base := baseCall(call)
					coded[base] = true
					k, ok := kindOf(base, funcs)
					if !ok {
						t.Errorf("%s: cannot tell the status of this WithCode's error; build it with apperr.New(apperr.<Kind>, ...)", pos)
						return true
					}
					switch a := call.Args[0].(type) {
					case *ast.BasicLit:
						code, _ := strconv.Unquote(a.Value)
						add(code, k, pos)
					default:
						src := exprSource(t, fset, a)
						codes, ok := dynamicCodes[src]
						assert.True(t, ok, "%s: WithCode(%s) is computed: list the codes it makes in dynamicCodes", pos, src)
						for _, c := range codes {
							add(c, k, pos)
						}
					}
					return true
				})
				ast.Inspect(f, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok || coded[call] {
						return true
					}
					if k, ok := constructorKind(call); ok {
						add(apperr.New(k, "").Code, k, fset.Position(call.Pos()).String())
					}
					return true
				})
			}
		}
	}
	return out
}

func isMethod(call *ast.CallExpr, name string) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == name
}

// baseCall follows a chain such as apperr.New(...).WithDetails(...).WithCode(...)
// down to its first call.
func baseCall(call *ast.CallExpr) *ast.CallExpr {
	for {
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return call
		}
		inner, ok := sel.X.(*ast.CallExpr)
		if !ok {
			return call
		}
		call = inner
	}
}

// constructorKind recognises a call that makes an error of a known kind:
// any call whose first argument is apperr.<Kind> (apperr.New, apperr.Newf,
// helpers such as the store's conditionErr), and apperr.Field (422).
func constructorKind(call *ast.CallExpr) (apperr.Kind, bool) {
	if sel, ok := call.Fun.(*ast.SelectorExpr); ok && isIdent(sel.X, "apperr") && sel.Sel.Name == "Field" {
		return apperr.Unprocessable, true
	}
	if sel, ok := call.Fun.(*ast.SelectorExpr); ok && isIdent(sel.X, "apperr") && (sel.Sel.Name == "Is" || sel.Sel.Name == "KindOf") {
		return 0, false
	}
	if len(call.Args) == 0 {
		return 0, false
	}
	sel, ok := call.Args[0].(*ast.SelectorExpr)
	if !ok || !isIdent(sel.X, "apperr") {
		return 0, false
	}
	k, ok := kinds[sel.Sel.Name]
	return k, ok
}

// kindOf is the kind of the error a chain starts from: a constructor, or a
// function of the same package whose body builds one (api's unauthorized).
func kindOf(base *ast.CallExpr, funcs map[string]*ast.FuncDecl) (apperr.Kind, bool) {
	if k, ok := constructorKind(base); ok {
		return k, true
	}
	id, ok := base.Fun.(*ast.Ident)
	if !ok || funcs[id.Name] == nil {
		return 0, false
	}
	var k apperr.Kind
	found := false
	ast.Inspect(funcs[id.Name].Body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok && !found {
			k, found = constructorKind(c)
		}
		return !found
	})
	return k, found
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func exprSource(t *testing.T, fset *token.FileSet, e ast.Expr) string {
	t.Helper()
	p := fset.Position(e.Pos())
	b, err := os.ReadFile(p.Filename)
	require.NoError(t, err)
	return string(b[p.Offset:fset.Position(e.End()).Offset])
}

// documentedCodes reads the error table of the reference: rows
// "| `code` | status | meaning |", the status column one status or several
// ("404, 409").
func documentedCodes(t *testing.T) map[string][]int {
	t.Helper()
	b, err := os.ReadFile(reference)
	require.NoError(t, err)
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9_]+)` \\| (\\d{3}(?:, \\d{3})*) \\| (.+) \\|\\s*$")
	out := map[string][]int{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		var status []int
		for _, s := range strings.Split(m[2], ", ") {
			n, _ := strconv.Atoi(s)
			status = append(status, n)
		}
		_, dup := out[m[1]]
		assert.False(t, dup, "%s: %s is documented twice", reference, m[1])
		assert.NotEmpty(t, strings.TrimSpace(m[3]), "%s: %s has no meaning", reference, m[1])
		out[m[1]] = status
	}
	require.NotEmpty(t, out, "%s: no error table found", reference)
	return out
}

// TestErrorCodesDocumented: the reference's error table lists exactly the
// codes the code can answer, each with its status. A new code, or a code
// answered with another status, fails here until it is documented.
func TestErrorCodesDocumented(t *testing.T) {
	code := answerableCodes(t)
	doc := documentedCodes(t)
	var names []string
	for c := range code {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		u := code[c]
		status, ok := doc[c]
		switch {
		case !ok:
			t.Errorf("error code %q (answered at %s) is not in %s's error table", c, u.where[0], reference)
		case !slices.Equal(status, keys(u.statuses)):
			t.Errorf("error code %q is documented with status %v, answered with %v (at %v)", c, status, keys(u.statuses), u.where)
		}
	}
	for c := range doc {
		assert.NotNil(t, code[c], "%s documents %q, which no code answers", reference, c)
	}
	if testing.Verbose() {
		for _, c := range names {
			t.Logf("%-34s %v %s", c, keys(code[c].statuses), code[c].where[0])
		}
	}
}

func keys(m map[int]bool) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
