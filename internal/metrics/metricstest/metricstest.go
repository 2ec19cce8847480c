// Package metricstest captures a function's EMF lines in tests and reads
// them back.
package metricstest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/metrics"
)

// Capture collects the lines an Emitter writes.
type Capture struct {
	mu  sync.Mutex
	buf bytes.Buffer
	E   *metrics.Emitter
}

// New returns a Capture whose Emitter names function.
func New(t testing.TB, function string) *Capture {
	t.Helper()
	c := &Capture{}
	e, err := metrics.NewEmitter(c, "PyTake/test", function, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	c.E = e
	return c
}

// Write implements io.Writer.
func (c *Capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

// Wrap runs h as the function's main does: a Recorder per invocation,
// flushed when it returns; a flush error fails the test.
func Wrap[In, Out any](t testing.TB, c *Capture, h func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return metrics.Handler(c.E, func(_ context.Context, err error) { t.Errorf("metrics flush: %v", err) }, h)
}

// Raw is everything written so far.
func (c *Capture) Raw() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// Docs decodes every line.
func (c *Capture) Docs(t testing.TB) []map[string]any {
	t.Helper()
	var docs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(c.Raw()), "\n") {
		if l == "" {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatalf("metric line is not JSON: %v: %s", err, l)
		}
		if _, ok := d["_aws"]; !ok {
			t.Fatalf("metric line has no _aws: %s", l)
		}
		docs = append(docs, d)
	}
	return docs
}

// Sum adds up a metric (counts, or the number of values of a duration)
// over the lines whose dimensions include dims (name → value; nil: any).
func (c *Capture) Sum(t testing.TB, name string, dims map[string]string) float64 {
	t.Helper()
	var total float64
	for _, d := range c.Docs(t) {
		if !matches(d, dims) {
			continue
		}
		switch v := d[name].(type) {
		case float64:
			total += v
		case []any:
			total += float64(len(v))
		}
	}
	return total
}

// Values lists a duration metric's values over every line.
func (c *Capture) Values(t testing.TB, name string) []float64 {
	t.Helper()
	var out []float64
	for _, d := range c.Docs(t) {
		if vs, ok := d[name].([]any); ok {
			for _, v := range vs {
				out = append(out, v.(float64))
			}
		}
	}
	return out
}

func matches(d map[string]any, dims map[string]string) bool {
	for k, v := range dims {
		if d[k] != v {
			return false
		}
	}
	return true
}
