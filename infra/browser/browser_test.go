package browser

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestProblems opens pages on a local server and checks what the helper
// reports: nothing for a clean page, and each kind of breakage otherwise.
// It needs Chromium (make chromium) and is skipped without it.
func TestProblems(t *testing.T) {
	if path, ok := Available(Options{}); !ok {
		t.Skipf("chromium not installed at %s (make chromium)", path)
	}
	pages := map[string]string{
		"/clean":   `<!doctype html><title>ok</title><p id="x">hello</p><script>console.log("fine"); console.warn("not an error")</script>`,
		"/console": `<!doctype html><title>c</title><script>console.error("boom", 42)</script>`,
		"/throw":   `<!doctype html><title>t</title><script>null.f()</script>`,
		"/missing": `<!doctype html><title>m</title><script src="/nope.js"></script>`,
		"/late":    `<!doctype html><title>l</title><script>setTimeout(() => { document.body.dataset.ready = "yes" }, 300)</script>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b, err := Start(ctx, Options{})
	require.NoError(t, err)
	defer b.Close()

	tests := []struct {
		path string
		want string // a substring of the only problem; "" for none
	}{
		{"/clean", ""},
		{"/console", `console.error: "boom" 42`},
		{"/throw", "uncaught exception"},
		{"/missing", "HTTP 404"},
	}
	for _, tc := range tests {
		t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
			p, err := b.Open(ctx, srv.URL+tc.path)
			require.NoError(t, err)
			defer p.Close()
			// Console and exception events arrive asynchronously.
			time.Sleep(200 * time.Millisecond)
			got := p.Problems()
			switch {
			case tc.want == "" && len(got) != 0:
				t.Fatalf("problems on a clean page: %q", got)
			case tc.want != "" && (len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), tc.want)):
				t.Fatalf("problems %q, want one containing %q", got, tc.want)
			}
		})
	}

	t.Run("wait", func(t *testing.T) {
		p, err := b.Open(ctx, srv.URL+"/late")
		require.NoError(t, err)
		defer p.Close()
		require.NoError(t, p.WaitFor(`document.body.dataset.ready === "yes"`, 10*time.Second))
		if text, err := Eval[string](p, `document.title`); err != nil || text != "l" {
			t.Fatalf("title %q, %v", text, err)
		}
		err = p.WaitFor(`false`, 300*time.Millisecond)
		require.Error(t, err, "WaitFor(false) did not time out")
	})
}
