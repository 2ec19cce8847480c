package lazyre

import (
	"regexp"
	"testing"
)

func TestNewCompilesOnceOnFirstUse(t *testing.T) {
	re := New(`^[!-~]{1,256}$`)
	a, b := re(), re()
	if a != b {
		t.Fatal("compiled twice")
	}
	for _, tc := range []struct {
		in   string
		want bool
	}{{"abc", true}, {"", false}, {"a b", false}} {
		if got := a.MatchString(tc.in); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an invalid expression did not panic on use")
		}
	}()
	bad := New(`(`)
	bad()
}

// The package-level expressions the functions compiled at start (before
// this package), compiled eagerly and lazily: what a cold start saves.
var startExprs = []string{
	`^[1-9][0-9]{0,19}$`, `^[!-~]{1,256}$`, // crmconfig
	`^[a-z0-9][a-z0-9-]{0,99}$`, `^[a-z0-9_]+$`, `^[a-z]{2,3}(_[A-Z]{2})?$`, `^[a-z0-9][a-z0-9_-]{0,19}$`, // shopconfig
	`^[0-9]{5,32}$`, `^v[0-9]{1,3}\.[0-9]$`, `^[!-~]+$`, // tenant
	`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,2})?$`, // shophook
	`\{\{\s*([^{}]*?)\s*\}\}`, // msgtemplate
}

func BenchmarkStart(b *testing.B) {
	b.Run("eager", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			for _, e := range startExprs {
				_ = regexp.MustCompile(e)
			}
		}
	})
	b.Run("lazy", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			for _, e := range startExprs {
				_ = New(e)
			}
		}
	})
}
