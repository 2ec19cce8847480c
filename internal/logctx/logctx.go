// Package logctx makes every log line of an invocation findable. The
// functions log with the invocation's context (InfoContext and friends):
// lambdacontext's handler adds the Lambda request id from it, and the
// handler here adds the attributes the code attached to it with With (the
// SQS message id, the event id), so a line logged deep in a package that
// knows neither still names the record it belongs to.
package logctx

import (
	"context"
	"log/slog"
	"slices"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

type attrsKey struct{}

// With returns ctx carrying attributes (key-value pairs or slog.Attr, as
// for slog.Logger.With) for the lines logged with it.
func With(ctx context.Context, args ...any) context.Context {
	var r slog.Record
	r.Add(args...)
	attrs := slices.Clip(attrsOf(ctx))
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	return context.WithValue(ctx, attrsKey{}, attrs)
}

func attrsOf(ctx context.Context) []slog.Attr {
	attrs, _ := ctx.Value(attrsKey{}).([]slog.Attr)
	return attrs
}

// Handler wraps h so that a record logged with a context carries the
// attributes With attached to that context.
func Handler(h slog.Handler) slog.Handler { return handler{h} }

type handler struct{ next slog.Handler }

func (h handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if attrs := attrsOf(ctx); len(attrs) > 0 {
		r = r.Clone()
		r.AddAttrs(attrs...)
	}
	return h.next.Handle(ctx, r)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{h.next.WithAttrs(attrs)}
}

func (h handler) WithGroup(name string) slog.Handler { return handler{h.next.WithGroup(name)} }

// Lambda is the functions' logger: lambdacontext's handler (Lambda's log
// format and level from the environment, the request id from the context)
// behind Handler.
func Lambda() *slog.Logger { return slog.New(Handler(lambdacontext.NewLogHandler())) }
