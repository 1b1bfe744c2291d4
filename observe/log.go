package observe

import (
	"context"
	"io"
	"log/slog"
	"os"

	"go.opentelemetry.io/otel/trace"
)

// LogConfig configures [NewLogger].
type LogConfig struct {
	// JSON selects JSON records (production); text otherwise (development).
	JSON bool
	// Level is the minimum level, changeable at run time; Info when nil.
	Level *slog.LevelVar
	// Writer receives the records; os.Stderr when nil.
	Writer io.Writer
	// AddSource records the file and line of each call.
	AddSource bool
}

// NewLogger returns a logger whose records carry trace_id and span_id from
// the context, and the request's attributes (request id, principal) that
// [Middleware] or [WithLogAttrs] put there.
func NewLogger(cfg LogConfig) *slog.Logger {
	w := cfg.Writer
	if w == nil {
		w = os.Stderr
	}
	level := cfg.Level
	if level == nil {
		level = new(slog.LevelVar)
	}
	opts := &slog.HandlerOptions{Level: level, AddSource: cfg.AddSource}
	var h slog.Handler
	if cfg.JSON {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(NewTraceHandler(h))
}

// TraceHandler is a slog.Handler that adds trace_id and span_id of the
// span in the record's context, and the attributes stored with
// [WithLogAttrs], to every record it passes on.
type TraceHandler struct {
	next slog.Handler
}

// NewTraceHandler wraps next.
func NewTraceHandler(next slog.Handler) *TraceHandler { return &TraceHandler{next: next} }

// Enabled implements slog.Handler.
func (h *TraceHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *TraceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	if attrs, ok := ctx.Value(logAttrsKey{}).([]slog.Attr); ok {
		r.AddAttrs(attrs...)
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *TraceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &TraceHandler{next: h.next.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h *TraceHandler) WithGroup(name string) slog.Handler {
	return &TraceHandler{next: h.next.WithGroup(name)}
}

type logAttrsKey struct{}

// WithLogAttrs returns a context whose log records (through a
// [TraceHandler]) carry attrs in addition to any already there.
func WithLogAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev, _ := ctx.Value(logAttrsKey{}).([]slog.Attr)
	all := make([]slog.Attr, 0, len(prev)+len(attrs))
	all = append(append(all, prev...), attrs...)
	return context.WithValue(ctx, logAttrsKey{}, all)
}
