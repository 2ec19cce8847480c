package stack

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLambdaBuildFlagsAreTheMakefiles: the local stack and the cold-start
// benchmark build with the flags of the deployed artifacts (the Makefile's
// LAMBDA_FLAGS, which sam build uses too), written as the Makefile does.
func TestLambdaBuildFlagsAreTheMakefiles(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^LAMBDA_FLAGS\s*:?=(.*)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("no LAMBDA_FLAGS in the Makefile")
	}
	words := LambdaBuildFlags()
	for i, w := range words {
		if strings.ContainsAny(w, " \t") {
			words[i] = `"` + w + `"`
		}
	}
	if got, want := strings.Join(words, " "), strings.TrimSpace(string(m[1])); got != want {
		t.Fatalf("LambdaBuildFlags() is %s; the Makefile's LAMBDA_FLAGS: %s", got, want)
	}
}
