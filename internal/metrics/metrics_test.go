package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pytake/pytake/internal/metrics"
)

var t0 = time.Date(2026, 12, 2, 5, 30, 0, 123_000_000, time.UTC)

func fixed() time.Time { return t0 }

func emitter(t testing.TB, w *bytes.Buffer) *metrics.Emitter {
	t.Helper()
	e, err := metrics.NewEmitter(w, "PyTake/test", "sender", fixed)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// lines decodes every line written, checking each is one JSON object
// ending in a newline.
func lines(t *testing.T, out string) []map[string]any {
	t.Helper()
	if out == "" {
		return nil
	}
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("output does not end with a newline: %q", out)
	}
	var docs []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var d map[string]any
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatalf("line is not a JSON object: %v: %s", err, l)
		}
		docs = append(docs, d)
	}
	return docs
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// The exact document: the _aws block with the millisecond timestamp, a
// directive per dimension set with the namespace, the function-level and
// per-number dimension sets, each metric with its unit; the values and
// dimension values at the root.
func TestFlushWritesTheExactEMFDocument(t *testing.T) {
	var buf bytes.Buffer
	r := emitter(t, &buf).Begin()
	r.Count(metrics.MessagesAccepted, 1, metrics.Number("106540352242922"))
	r.Count(metrics.MessagesAccepted, 2, metrics.Number("106540352242922"))
	r.Duration(metrics.GraphLatency, 212*time.Millisecond+500*time.Microsecond, metrics.Number("106540352242922"))
	r.Duration(metrics.GraphLatency, 198*time.Millisecond, metrics.Number("106540352242922"))
	r.Count(metrics.MessagesRetried, 1)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	got := lines(t, buf.String())
	// One line: a directive per dimension set, sharing the _aws block and
	// the Function member.
	want := []map[string]any{
		decode(t, `{
			"_aws": {
				"Timestamp": 1796189400123,
				"CloudWatchMetrics": [{
					"Namespace": "PyTake/test",
					"Dimensions": [["Function"], ["Function", "PhoneNumberId"]],
					"Metrics": [
						{"Name": "MessagesAccepted", "Unit": "Count"},
						{"Name": "GraphLatency", "Unit": "Milliseconds"}
					]
				}, {
					"Namespace": "PyTake/test",
					"Dimensions": [["Function"]],
					"Metrics": [{"Name": "MessagesRetried", "Unit": "Count"}]
				}]
			},
			"Function": "sender",
			"PhoneNumberId": "106540352242922",
			"MessagesAccepted": 3,
			"GraphLatency": [212.5, 198],
			"MessagesRetried": 1
		}`),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("documents:\n got %v\nwant %v", got, want)
	}
	if t0.UnixMilli() != 1796189400123 {
		t.Fatalf("the expected timestamp is not t0 in ms: %d", t0.UnixMilli())
	}
	// Flushed: a second flush writes nothing.
	buf.Reset()
	if err := r.Flush(); err != nil || buf.Len() != 0 {
		t.Fatalf("second flush: %v, %q", err, buf.String())
	}
}

// One line per dimension set, however many values: at most 100 values
// per metric and 100 metrics per line (the specification's limits), the
// rest in further lines; counts once.
func TestFlushSplitsAtTheSpecificationsLimits(t *testing.T) {
	var buf bytes.Buffer
	r := emitter(t, &buf).Begin()
	for i := 0; i < 250; i++ {
		r.Duration(metrics.DeliveryLatency, time.Duration(i)*time.Millisecond)
		r.Count(metrics.Deliveries, 1)
	}
	for i := 0; i < 120; i++ {
		r.Count("M"+strconv.Itoa(i), i, metrics.Dim{Name: metrics.DimStatus, Value: "read"})
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	docs := lines(t, buf.String())
	// 3 rounds of latencies (each its own line: the same metric), 2 chunks
	// of the 120 metrics: the chunk of 20 joins the first line.
	if len(docs) != 4 {
		t.Fatalf("%d lines, want 4", len(docs))
	}
	var values, deliveries float64
	var seenMetrics int
	for _, d := range docs {
		var defs []any
		for _, dir := range d["_aws"].(map[string]any)["CloudWatchMetrics"].([]any) {
			defs = append(defs, dir.(map[string]any)["Metrics"].([]any)...)
		}
		if len(defs) > 100 {
			t.Fatalf("%d metrics in one line", len(defs))
		}
		for _, def := range defs {
			name := def.(map[string]any)["Name"].(string)
			switch v := d[name].(type) {
			case []any:
				if len(v) > 100 {
					t.Fatalf("%d values of %s in one line", len(v), name)
				}
				values += float64(len(v))
			case float64:
				if name == metrics.Deliveries {
					deliveries += v
				} else {
					seenMetrics++
				}
			default:
				t.Fatalf("metric %s has no value in its line: %v", name, d)
			}
		}
	}
	if values != 250 || deliveries != 250 || seenMetrics != 120 {
		t.Fatalf("values %v deliveries %v metrics %d; want 250, 250, 120", values, deliveries, seenMetrics)
	}
}

// Dimension values come from input (a webhook body's phone_number_id):
// anything but a short token of [A-Za-z0-9._:-] becomes "invalid", so a
// customer's formatted number, a line break or JSON can neither reach the
// log line nor create metrics; the Function dimension cannot be replaced.
func TestDimensionValuesAreCleaned(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"106540352242922", "106540352242922"},
		{"+55 11 91234-5678", "invalid"},
		{"5511912345678\n{\"_aws\":1}", "invalid"},
		{"", "invalid"},
		{strings.Repeat("9", 65), "invalid"},
		{"waba:1234", "waba:1234"},
		{"número", "invalid"},
	} {
		var buf bytes.Buffer
		r := emitter(t, &buf).Begin()
		r.Count(metrics.MessagesReceived, 1, metrics.Number(tc.in), metrics.Dim{Name: metrics.DimFunction, Value: "api"})
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		docs := lines(t, buf.String())
		if len(docs) != 1 {
			t.Fatalf("%q: %d lines", tc.in, len(docs))
		}
		if got := docs[0]["PhoneNumberId"]; got != tc.want {
			t.Errorf("%q: PhoneNumberId %v, want %q", tc.in, got, tc.want)
		}
		if docs[0]["Function"] != "sender" {
			t.Errorf("%q: Function replaced: %v", tc.in, docs[0]["Function"])
		}
	}
}

// Names that would collide with the document's members are not metrics.
func TestReservedNamesAreNotRecorded(t *testing.T) {
	var buf bytes.Buffer
	r := emitter(t, &buf).Begin()
	for _, n := range []string{"", "_aws", "Function", "PhoneNumberId", "Status"} {
		r.Count(n, 1)
	}
	if err := r.Flush(); err != nil || buf.Len() != 0 {
		t.Fatalf("reserved names written: %v %q", err, buf.String())
	}
}

// Concurrent recording (the sender's concurrent message groups, the
// dispatcher's records) loses nothing.
func TestRecorderIsSafeForConcurrentUse(t *testing.T) {
	var buf bytes.Buffer
	r := emitter(t, &buf).Begin()
	var wg sync.WaitGroup
	for g := 0; g < 50; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				r.Count(metrics.MessagesAccepted, 1, metrics.Number("1"))
				r.Duration(metrics.GraphLatency, time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	var accepted, latencies float64
	for _, d := range lines(t, buf.String()) {
		if v, ok := d[metrics.MessagesAccepted].(float64); ok {
			accepted += v
		}
		if v, ok := d[metrics.GraphLatency].([]any); ok {
			latencies += float64(len(v))
		}
	}
	if accepted != 1000 || latencies != 1000 {
		t.Fatalf("accepted %v latencies %v, want 1000 each", accepted, latencies)
	}
}

type failingWriter struct{ calls int }

func (w *failingWriter) Write([]byte) (int, error) {
	w.calls++
	return 0, errors.New("write /dev/stdout: broken pipe")
}

type panickingWriter struct{}

func (panickingWriter) Write([]byte) (int, error) { panic("closed") }

// stdout failing never breaks an invocation: the handler's own result
// is returned, the error reported once, every line still tried.
func TestHandlerSurvivesAFailingStdout(t *testing.T) {
	for name, w := range map[string]interface{ Write([]byte) (int, error) }{
		"error": &failingWriter{}, "panic": panickingWriter{},
	} {
		t.Run(name, func(t *testing.T) {
			e, err := metrics.NewEmitter(w, "PyTake/test", "dispatcher", fixed)
			if err != nil {
				t.Fatal(err)
			}
			var reported []error
			h := metrics.Handler(e, func(_ context.Context, err error) { reported = append(reported, err) },
				func(ctx context.Context, in string) (string, error) {
					metrics.From(ctx).Count(metrics.Deliveries, 1)
					metrics.From(ctx).Count(metrics.Deliveries, 1, metrics.Number("2"))
					return "done " + in, nil
				})
			out, err := h(context.Background(), "x")
			if out != "done x" || err != nil {
				t.Fatalf("handler result changed: %q %v", out, err)
			}
			if len(reported) != 1 || reported[0] == nil {
				t.Fatalf("reported %v, want one error", reported)
			}
			if fw, ok := w.(*failingWriter); ok && fw.calls != 2 {
				t.Fatalf("%d writes, want both lines tried", fw.calls)
			}
		})
	}
}

// Without an emitter (METRICS_NAMESPACE unset, unit tests) nothing is
// recorded and nothing breaks.
func TestNoEmitterRecordsNothing(t *testing.T) {
	ctx := context.Background()
	metrics.From(ctx).Count(metrics.Deliveries, 1)
	metrics.From(ctx).Duration(metrics.DeliveryLatency, time.Second)
	if err := metrics.From(ctx).Flush(); err != nil {
		t.Fatal(err)
	}
	var e *metrics.Emitter
	if e.Begin() != nil {
		t.Fatal("nil emitter made a recorder")
	}
	e, err := metrics.FromEnv(func(string) string { return "" }, &bytes.Buffer{}, "sender", fixed)
	if e != nil || err != nil {
		t.Fatalf("FromEnv without METRICS_NAMESPACE: %v %v", e, err)
	}
	h := func(context.Context, int) (int, error) { return 7, nil }
	if got, _ := metrics.Handler(nil, nil, h)(ctx, 0); got != 7 {
		t.Fatal("nil emitter changed the handler")
	}
}

// Every invocation flushes its own recorder: values never leak into the
// next invocation's lines.
func TestHandlerFlushesPerInvocation(t *testing.T) {
	var buf bytes.Buffer
	h := metrics.Handler(emitter(t, &buf), nil, func(ctx context.Context, n int) (int, error) {
		metrics.From(ctx).Count(metrics.EventsPublished, n)
		return n, nil
	})
	for _, n := range []int{3, 4} {
		buf.Reset()
		if _, err := h(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		docs := lines(t, buf.String())
		if len(docs) != 1 || docs[0][metrics.EventsPublished] != float64(n) {
			t.Fatalf("invocation %d wrote %v", n, docs)
		}
	}
}

func TestNewEmitterRefusesBadSettings(t *testing.T) {
	for _, tc := range []struct {
		name, ns, fn string
		w            *bytes.Buffer
		ok           bool
	}{
		{"ok", "PyTake/prod", "sender", &bytes.Buffer{}, true},
		{"empty namespace", " ", "sender", &bytes.Buffer{}, false},
		{"AWS namespace", "AWS/Lambda", "sender", &bytes.Buffer{}, false},
		{"bad function", "PyTake", "send er", &bytes.Buffer{}, false},
		{"no writer", "PyTake", "sender", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.w == nil {
				_, err = metrics.NewEmitter(nil, tc.ns, tc.fn, fixed)
			} else {
				_, err = metrics.NewEmitter(tc.w, tc.ns, tc.fn, fixed)
			}
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// Whatever a dimension value is, the output is one valid JSON line whose
// dimension values are clean tokens.
func FuzzDimensionValue(f *testing.F) {
	for _, s := range []string{"106540352242922", "+55 11 9", "a\nb", `"}`, "\x00", strings.Repeat("x", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		var buf bytes.Buffer
		r := emitter(t, &buf).Begin()
		r.Count(metrics.MessagesSent, 1, metrics.Number(v))
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		docs := lines(t, buf.String())
		if len(docs) != 1 {
			t.Fatalf("%d lines", len(docs))
		}
		got, _ := docs[0]["PhoneNumberId"].(string)
		if got != v && got != "invalid" {
			t.Fatalf("value %q became %q", v, got)
		}
		if strings.ContainsAny(got, " \n\r\"\\+") {
			t.Fatalf("unclean value %q", got)
		}
	})
}

// METRICS_PER_NUMBER=no leaves the per-number dimension out: the counts
// go to the function-level metric only; other values are refused.
func TestPerNumberDimensionCanBeLeftOut(t *testing.T) {
	for _, tc := range []struct {
		setting   string
		perNumber bool
		bad       bool
	}{{"", true, false}, {"yes", true, false}, {"no", false, false}, {"0", false, true}} {
		t.Run("METRICS_PER_NUMBER="+tc.setting, func(t *testing.T) {
			var buf bytes.Buffer
			env := map[string]string{"METRICS_NAMESPACE": "PyTake/test", "METRICS_PER_NUMBER": tc.setting}
			e, err := metrics.FromEnv(func(k string) string { return env[k] }, &buf, "sender", fixed)
			if tc.bad {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := e.Begin()
			r.Count(metrics.MessagesAccepted, 2, metrics.Number("1"))
			r.Count(metrics.MessagesAccepted, 3, metrics.Number("2"))
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			docs := lines(t, buf.String())
			if tc.perNumber {
				if len(docs) != 2 || docs[0]["PhoneNumberId"] != "1" {
					t.Fatalf("per number: %v", docs)
				}
				return
			}
			if len(docs) != 1 || docs[0][metrics.MessagesAccepted] != 5.0 || docs[0]["PhoneNumberId"] != nil {
				t.Fatalf("without numbers: %v", docs)
			}
			dims := docs[0]["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Dimensions"]
			if !reflect.DeepEqual(dims, []any{[]any{"Function"}}) {
				t.Fatalf("dimensions %v", dims)
			}
		})
	}
}

// A clock stepped back gives a negative duration: recorded as 0, never as
// a negative latency.
func TestNegativeDurationIsZero(t *testing.T) {
	var buf bytes.Buffer
	r := emitter(t, &buf).Begin()
	r.Duration(metrics.GraphLatency, -3*time.Second)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	docs := lines(t, buf.String())
	if len(docs) != 1 || !reflect.DeepEqual(docs[0][metrics.GraphLatency], []any{0.0}) {
		t.Fatalf("%v", docs)
	}
}

// Sets whose dimension values clash (two numbers, two statuses) cannot
// share a line: each value must be its own root member.
func TestClashingSetsGetTheirOwnLines(t *testing.T) {
	var buf bytes.Buffer
	r := emitter(t, &buf).Begin()
	r.Count(metrics.MessagesAccepted, 1, metrics.Number("1"))
	r.Count(metrics.MessagesAccepted, 2, metrics.Number("2"))
	r.Count(metrics.StatusesApplied, 1, metrics.Dim{Name: metrics.DimStatus, Value: "sent"})
	r.Count(metrics.EventsPublished, 4)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	docs := lines(t, buf.String())
	if len(docs) != 2 {
		t.Fatalf("%d lines, want 2: %v", len(docs), docs)
	}
	// The first line: number 1, the status, the function's count.
	first := docs[0]
	if first["PhoneNumberId"] != "1" || first[metrics.MessagesAccepted] != 1.0 || first["Status"] != "sent" || first[metrics.EventsPublished] != 4.0 {
		t.Fatalf("first line %v", first)
	}
	if docs[1]["PhoneNumberId"] != "2" || docs[1][metrics.MessagesAccepted] != 2.0 || docs[1]["Status"] != nil {
		t.Fatalf("second line %v", docs[1])
	}
	// Each directive names only its own dimensions.
	dirs := first["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)
	var got []any
	for _, d := range dirs {
		got = append(got, d.(map[string]any)["Dimensions"].([]any)...)
	}
	want := []any{[]any{"Function"}, []any{"Function", "PhoneNumberId"}, []any{"Function"}, []any{"Function", "Status"}, []any{"Function"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("dimension sets %v, want %v", got, want)
	}
}
