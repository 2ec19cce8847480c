// Package lazyre compiles a package-level regular expression on its first
// use instead of at program start: a Lambda function's cold start pays
// only for the expressions its request needs (a counted repetition such
// as {1,256} compiles into hundreds of instructions and took about a
// millisecond at init).
package lazyre

import (
	"regexp"
	"sync"
)

// New returns a function giving expr compiled, compiling it once, on the
// first call; an invalid expr panics there (each package's tests use its
// expressions, so they find it).
func New(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
