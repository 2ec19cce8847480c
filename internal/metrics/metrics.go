// Package metrics writes CloudWatch metrics in Embedded Metric Format (EMF):
// JSON lines on the function's standard output, which Lambda sends to its
// log group and CloudWatch Logs turns into metrics. No API call, no
// permission beyond the logs the function already writes.
//
// Values are aggregated per invocation: a Recorder (one per invocation,
// carried by the context) sums counts and collects durations per dimension
// set, and Flush writes them at the end of the invocation, one directive
// per dimension set, the sets packed into as few lines as the format
// allows (usually one). Code that records a metric takes the Recorder from its
// context (From); without one (tests, the API function) recording does
// nothing.
//
// Dimensions are bounded on purpose: every metric has Function; the
// per-number metrics add PhoneNumberId (the business's WhatsApp phone
// number id, never a customer's number); statuses add Status. Each
// distinct combination is a custom metric CloudWatch bills monthly.
//
// A metric line must never break the function: a write that fails (or a
// writer that panics) is reported by Flush as an error for the caller to
// log, and the invocation's result is what the handler returned.
package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// Unit is a CloudWatch metric unit.
type Unit string

// The units used here.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Dimension names.
const (
	DimFunction      = "Function"
	DimPhoneNumberID = "PhoneNumberId"
	DimStatus        = "Status"
)

// Metric names. The dashboard in template.yaml graphs these.
const (
	// sender
	MessagesAccepted = "MessagesAccepted" // Meta accepted the POST (a wamid), per number
	MessagesFailed   = "MessagesFailed"   // failed for good (sender) or Meta's failed status (webhook), per number
	MessagesRetried  = "MessagesRetried"  // a send put back on the queue for later
	GraphLatency     = "GraphLatency"     // one Graph send call, ms
	LimiterWaitMs    = "LimiterWaitMs"    // time waiting for the number's send slot, ms
	// whatsapp-webhook
	MessagesReceived = "MessagesReceived" // inbound messages handled, per number (one Meta delivers again counts again)
	MessagesSent     = "MessagesSent"     // Meta's sent status, per number
	StatusesApplied  = "StatusesApplied"  // statuses applied, by Status
	// dispatcher
	EventsFannedOut      = "EventsFannedOut"      // events read from the events queue and fanned out
	DeliveriesQueued     = "DeliveriesQueued"     // delivery jobs queued by the fan-out
	Deliveries           = "Deliveries"           // webhook deliveries that succeeded
	DeliveryAttemptsFail = "DeliveryAttemptsFail" // attempts that failed (retried or not)
	DeliveriesFailed     = "DeliveriesFailed"     // deliveries failed for good
	DeliveryLatency      = "DeliveryLatency"      // one delivery POST, ms
	// every function that publishes
	EventsPublished = "EventsPublished"
)

// Names lists every metric the functions write (the dashboard graphs
// each; a test checks both ways).
func Names() []string {
	return []string{MessagesAccepted, MessagesFailed, MessagesRetried, GraphLatency, LimiterWaitMs,
		MessagesReceived, MessagesSent, StatusesApplied,
		EventsFannedOut, DeliveriesQueued, Deliveries, DeliveryAttemptsFail, DeliveriesFailed, DeliveryLatency,
		EventsPublished}
}

// EMF limits (the specification: at most 100 metrics per directive, and
// at most 100 values in a metric's array; 30 dimensions per set).
const (
	maxMetricsPerLine = 100
	maxValuesPerLine  = 100
	maxDimValue       = 64
)

// Dim is one dimension: a name and its value.
type Dim struct{ Name, Value string }

// Number is the PhoneNumberId dimension.
func Number(phoneNumberID string) Dim { return Dim{DimPhoneNumberID, phoneNumberID} }

// Emitter writes the lines of one function. It is made once per
// container; its Recorders are made once per invocation.
type Emitter struct {
	w         io.Writer
	namespace string
	function  string
	now       func() time.Time
	drop      map[string]bool // dimension names left out (Without)

	mu sync.Mutex // one line at a time on w
}

// Without returns a copy of e that leaves out the named dimensions (their
// values are then added to the function-level metrics only): the
// per-number dimension costs a custom metric per number.
func (e *Emitter) Without(names ...string) *Emitter {
	if e == nil {
		return nil
	}
	out := &Emitter{w: e.w, namespace: e.namespace, function: e.function, now: e.now, drop: map[string]bool{}}
	for _, n := range names {
		out.drop[n] = true
	}
	return out
}

// NewEmitter returns an Emitter writing to w (the function's stdout) in
// namespace, every metric with the Function dimension set to function.
func NewEmitter(w io.Writer, namespace, function string, now func() time.Time) (*Emitter, error) {
	if w == nil || now == nil {
		return nil, errors.New("metrics: a writer and a clock are required")
	}
	if strings.TrimSpace(namespace) == "" || strings.HasPrefix(namespace, "AWS/") {
		return nil, fmt.Errorf("metrics: namespace %q is empty or reserved", namespace)
	}
	if clean(function) != function {
		return nil, fmt.Errorf("metrics: function name %q is not a valid dimension value", function)
	}
	return &Emitter{w: w, namespace: namespace, function: function, now: now}, nil
}

// FromEnv is the function's Emitter on stdout when METRICS_NAMESPACE is
// set (template.yaml sets it), nil (no metrics) when it is not;
// METRICS_PER_NUMBER=no (template.yaml's PerNumberMetrics) leaves out the
// PhoneNumberId dimension.
func FromEnv(getenv func(string) string, w io.Writer, function string, now func() time.Time) (*Emitter, error) {
	ns := getenv("METRICS_NAMESPACE")
	if ns == "" {
		return nil, nil
	}
	e, err := NewEmitter(w, ns, function, now)
	if err != nil {
		return nil, err
	}
	switch v := getenv("METRICS_PER_NUMBER"); v {
	case "", "yes":
		return e, nil
	case "no":
		return e.Without(DimPhoneNumberID), nil
	default:
		return nil, fmt.Errorf("metrics: METRICS_PER_NUMBER must be yes or no, got %q", v)
	}
}

// Begin starts an invocation's Recorder. A nil Emitter gives a nil
// Recorder, which records nothing.
func (e *Emitter) Begin() *Recorder {
	if e == nil {
		return nil
	}
	return &Recorder{e: e, sets: map[string]*set{}}
}

// Recorder aggregates one invocation's metrics; it is safe for concurrent
// use. The nil Recorder records nothing.
type Recorder struct {
	e *Emitter

	mu    sync.Mutex
	sets  map[string]*set
	order []string
}

type set struct {
	dims    []Dim // extra dimensions, beyond Function
	metrics map[string]*metric
	names   []string
}

type metric struct {
	unit   Unit
	sum    float64   // Count: summed into one value
	values []float64 // other units: every value
}

// Count adds n to a counter.
func (r *Recorder) Count(name string, n int, dims ...Dim) {
	r.add(name, Count, float64(n), dims)
}

// Duration records a duration in milliseconds (fractions kept); a
// negative one (a clock stepped back between the two readings) counts as 0.
func (r *Recorder) Duration(name string, d time.Duration, dims ...Dim) {
	r.add(name, Milliseconds, float64(max(d, 0))/float64(time.Millisecond), dims)
}

func (r *Recorder) add(name string, unit Unit, v float64, dims []Dim) {
	if r == nil || math.IsNaN(v) || math.IsInf(v, 0) || reserved(name) {
		return
	}
	dims = cleanDims(dims, r.e.drop)
	key := setKey(dims)
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sets[key]
	if !ok {
		s = &set{dims: dims, metrics: map[string]*metric{}}
		r.sets[key] = s
		r.order = append(r.order, key)
	}
	m, ok := s.metrics[name]
	if !ok {
		m = &metric{unit: unit}
		s.metrics[name] = m
		s.names = append(s.names, name)
	}
	if unit == Count {
		m.sum += v
	} else {
		m.values = append(m.values, v)
	}
}

// cleanDims drops Function (always the emitter's) and the dropped names,
// and sorts the rest by
// name, one value per name, each value made a valid dimension value.
func cleanDims(dims []Dim, drop map[string]bool) []Dim {
	out := make([]Dim, 0, len(dims))
	seen := map[string]bool{DimFunction: true}
	for _, d := range dims {
		if d.Name == "" || seen[d.Name] || drop[d.Name] {
			continue
		}
		seen[d.Name] = true
		out = append(out, Dim{d.Name, clean(d.Value)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// clean makes a dimension value CloudWatch accepts and a reader can trust:
// ASCII letters, digits and ._:- only, at most 64 characters; anything
// else (empty, too long, other characters) is "invalid", so a value taken
// from input can neither smuggle text into the line nor create unbounded
// metrics of arbitrary names.
func clean(v string) string {
	if v == "" || len(v) > maxDimValue {
		return "invalid"
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return "invalid"
		}
	}
	return v
}

// reserved names cannot be metrics: they are the document's other members.
func reserved(name string) bool {
	return name == "" || name == "_aws" || name == DimFunction || name == DimPhoneNumberID || name == DimStatus
}

func setKey(dims []Dim) string {
	var b strings.Builder
	for _, d := range dims {
		b.WriteString(d.Name)
		b.WriteByte(0)
		b.WriteString(d.Value)
		b.WriteByte(0)
	}
	return b.String()
}

// Flush writes the recorded metrics, usually in one line (one directive
// per dimension set; more lines when two sets' dimension values clash,
// the same metric appears in two sets, or a set has over 100 metrics or a
// metric over 100 values), and empties the Recorder. Every line is written whatever happens to the
// others; the first error (a write that failed, a writer that panicked)
// is returned.
func (r *Recorder) Flush() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	sets, order := r.sets, r.order
	r.sets, r.order = map[string]*set{}, nil
	r.mu.Unlock()
	if len(order) == 0 {
		return nil
	}
	var ps []piece
	for _, key := range order {
		ps = append(ps, pieces(sets[key])...)
	}
	var first error
	for _, line := range r.e.documents(ps, r.e.now().UnixMilli()) {
		if err := r.e.write(line); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// piece is one directive's worth of a dimension set: its dimensions,
// its metric definitions and their values.
type piece struct {
	dims []Dim
	defs []map[string]string
	vals map[string]any
}

// pieces splits a dimension set at the specification's limits: chunks of
// at most 100 metrics, and, for value lists, rounds of at most 100 values
// each (round i carries values [100i, 100i+100) of every metric that has
// that many; counts go in round 0).
func pieces(s *set) []piece {
	var out []piece
	for start := 0; start < len(s.names); start += maxMetricsPerLine {
		names := s.names[start:min(start+maxMetricsPerLine, len(s.names))]
		for round := 0; ; round++ {
			p := piece{dims: s.dims, vals: map[string]any{}}
			for _, n := range names {
				m := s.metrics[n]
				if m.unit == Count {
					if round == 0 {
						p.vals[n] = m.sum
						p.defs = append(p.defs, map[string]string{"Name": n, "Unit": string(m.unit)})
					}
					continue
				}
				lo := round * maxValuesPerLine
				if lo >= len(m.values) {
					continue
				}
				p.vals[n] = m.values[lo:min(lo+maxValuesPerLine, len(m.values))]
				p.defs = append(p.defs, map[string]string{"Name": n, "Unit": string(m.unit)})
			}
			if len(p.defs) == 0 {
				break
			}
			out = append(out, p)
		}
	}
	return out
}

// documents packs pieces into as few EMF documents (lines) as it can,
// one directive per piece: a piece joins a document whose dimension
// values agree with its own and which has none of its metric names, up to
// 100 metrics a document. An invocation's sets (per number, per status,
// the function's) then share one line, its _aws block and Function.
func (e *Emitter) documents(ps []piece, ts int64) [][]byte {
	type doc struct {
		root map[string]any
		dirs []map[string]any
		n    int
	}
	fits := func(d *doc, p piece) bool {
		if d.n+len(p.defs) > maxMetricsPerLine {
			return false
		}
		for _, dm := range p.dims {
			if v, ok := d.root[dm.Name]; ok && v != dm.Value {
				return false
			}
		}
		for k := range p.vals {
			if _, ok := d.root[k]; ok {
				return false
			}
		}
		return true
	}
	var docs []*doc
	for _, p := range ps {
		var d *doc
		for _, c := range docs {
			if fits(c, p) {
				d = c
				break
			}
		}
		if d == nil {
			d = &doc{root: map[string]any{DimFunction: e.function}}
			docs = append(docs, d)
		}
		dimSets := [][]string{{DimFunction}}
		if len(p.dims) > 0 {
			full := []string{DimFunction}
			for _, dm := range p.dims {
				full = append(full, dm.Name)
				d.root[dm.Name] = dm.Value
			}
			dimSets = append(dimSets, full)
		}
		for k, v := range p.vals {
			d.root[k] = v
		}
		d.n += len(p.defs)
		d.dirs = append(d.dirs, map[string]any{"Namespace": e.namespace, "Dimensions": dimSets, "Metrics": p.defs})
	}
	var out [][]byte
	for _, d := range docs {
		d.root["_aws"] = map[string]any{"Timestamp": ts, "CloudWatchMetrics": d.dirs}
		b, err := json.Marshal(d.root)
		if err != nil {
			// Only numbers and cleaned strings go in: not reached.
			continue
		}
		out = append(out, append(b, '\n'))
	}
	return out
}

// write writes one line in one Write call, so lines from concurrent
// invocations' flushes never interleave; a panicking writer is an error.
func (e *Emitter) write(line []byte) (err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("metrics: writer panicked: %v", p)
		}
	}()
	if _, err := e.w.Write(line); err != nil {
		return fmt.Errorf("metrics: write: %w", err)
	}
	return nil
}

type ctxKey struct{}

// NewContext returns ctx carrying r.
func NewContext(ctx context.Context, r *Recorder) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// From is the Recorder ctx carries, or nil (which records nothing).
func From(ctx context.Context) *Recorder {
	r, _ := ctx.Value(ctxKey{}).(*Recorder)
	return r
}

// Handler wraps a Lambda handler: each invocation gets a Recorder in its
// context and its metrics are flushed when it returns (a panic too). A
// flush error goes to report (a log line), never to the invocation's
// result. A nil Emitter returns h unchanged.
func Handler[In, Out any](e *Emitter, report func(ctx context.Context, err error), h func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	if e == nil {
		return h
	}
	return func(ctx context.Context, in In) (Out, error) {
		rec := e.Begin()
		defer func() {
			if err := rec.Flush(); err != nil && report != nil {
				report(ctx, err)
			}
		}()
		return h(NewContext(ctx, rec), in)
	}
}
