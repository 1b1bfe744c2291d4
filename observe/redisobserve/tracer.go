package redisobserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrock-go/bedrock/internal/otelhook"
)

// ErrInvalidConfig is wrapped by the error [NewTracer] returns for a bad
// [Config].
var ErrInvalidConfig = errors.New("redisobserve: invalid config")

// Config configures a [Tracer]. The zero Config is valid: spans and metrics
// on the global providers, no slow-command log.
type Config struct {
	// TracerProvider makes the spans; nil means the global provider.
	TracerProvider trace.TracerProvider
	// MeterProvider makes the metrics; nil means the global provider.
	MeterProvider metric.MeterProvider
	// SlowThreshold is the duration from which a command or pipeline is
	// logged as slow. Zero disables the log; negative is an error.
	SlowThreshold time.Duration
	// Logger receives the slow-command log, at level Warn. Nil means
	// [slog.Default].
	Logger *slog.Logger
	// Hooks are called for every slow command or pipeline.
	Hooks Hooks
}

// Hooks are called by a [Tracer]; each is nil by default.
type Hooks struct {
	// OnSlowCommand is called after a slow command or pipeline was logged.
	OnSlowCommand func(ctx context.Context, c SlowCommand)
}

// SlowCommand describes a command or pipeline that took at least the
// SlowThreshold. It never holds a key or an argument.
type SlowCommand struct {
	// Operation is the db.operation.name: the command ("GET"), "BATCH GET"
	// for a pipeline of one command, "BATCH" for a pipeline of several,
	// "MULTI" for a transaction.
	Operation string
	// Size is the number of commands: 1, or the pipeline's length.
	Size     int
	Duration time.Duration
	Err      error
	// TraceID is the trace of the command's span, zero without one.
	TraceID trace.TraceID
}

// Attribute keys, from the OpenTelemetry database semantic conventions.
const (
	attrSystem        = attribute.Key("db.system.name")
	attrOperation     = attribute.Key("db.operation.name")
	attrStatusCode    = attribute.Key("db.response.status_code")
	attrBatchSize     = attribute.Key("db.operation.batch.size")
	attrServerAddress = attribute.Key("server.address")
	attrServerPort    = attribute.Key("server.port")
	attrErrorType     = otelhook.AttrErrorType
)

var attrSystemRedis = attrSystem.String("redis")

// Tracer is a go-redis [redis.Hook] that traces commands, pipelines and
// connections. Add it with AddHook on a *redis.Client, *redis.Ring or
// *redis.ClusterClient; on the last two it traces commands and pipelines,
// but not the dials of their nodes, which happen in node clients (adding
// it to those as well, in OnNewNode, would trace every command twice). It
// is safe for concurrent use.
//
// Every command becomes a client span named after the command ("GET"),
// with db.system.name = "redis", db.operation.name (the command name in
// upper case, never a key or an argument), and on failure error.type and
// db.response.status_code (the error's prefix: "WRONGTYPE", "NOSCRIPT";
// redis.Nil, a miss, is not a failure). A pipeline is one span, "BATCH
// {command}" when its commands share a name, "BATCH" otherwise, "MULTI"
// for a transaction, with db.operation.batch.size. A connection is a span
// "connect" with server.address and server.port.
//
// Metrics:
//   - db.client.operation.duration (s, histogram): per command or
//     pipeline, with db.system.name, db.operation.name, and error.type and
//     db.response.status_code on failure.
//   - db.client.connection.create_time (s, histogram): dials, with
//     error.type on failure.
//
// A command whose parent span was not sampled makes no span; its duration
// is recorded all the same.
//
// Past 256 distinct command names (a client sending arbitrary commands
// with Do), further ones are recorded as "_OTHER".
type Tracer struct {
	cfg      Config
	tracer   trace.Tracer
	duration metric.Float64Histogram
	connect  metric.Float64Histogram
	sets     *otelhook.BoundedSets[commandKey]
	names    commandNames
}

var _ redis.Hook = (*Tracer)(nil)

type commandKey struct{ operation, errorType, statusCode string }

// NewTracer returns a Tracer configured by cfg. It fails with an error wrapping
// [ErrInvalidConfig] for a bad cfg, or if the instruments cannot be
// created.
func NewTracer(cfg Config) (*Tracer, error) {
	if cfg.SlowThreshold < 0 {
		return nil, fmt.Errorf("%w: SlowThreshold is negative", ErrInvalidConfig)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	m := otelhook.Meter(cfg.MeterProvider, "redisobserve")
	// The boundaries the database conventions recommend.
	buckets := metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10)
	duration, err1 := m.Float64Histogram("db.client.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of database client operations."), buckets)
	connect, err2 := m.Float64Histogram("db.client.connection.create_time", metric.WithUnit("s"),
		metric.WithDescription("The time it took to create a new connection."), buckets)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("redisobserve: creating the instruments: %w", err)
	}
	return &Tracer{
		cfg:      cfg,
		tracer:   tp.Tracer(otelhook.ScopePrefix + "/redisobserve"),
		duration: duration,
		connect:  connect,
		sets: otelhook.NewBoundedSets(func(k commandKey) otelhook.Opts {
			kvs := []attribute.KeyValue{attrSystemRedis, attrOperation.String(k.operation)}
			if k.errorType != "" {
				kvs = append(kvs, attrErrorType.String(k.errorType))
			}
			if k.statusCode != "" {
				kvs = append(kvs, attrStatusCode.String(k.statusCode))
			}
			return otelhook.OptsOf(kvs...)
		}, func(k commandKey) commandKey { return commandKey{"_OTHER", k.errorType, k.statusCode} }),
	}, nil
}

// ProcessHook implements [redis.Hook].
func (h *Tracer) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		op := h.names.get(cmd.Name())
		ctx, span := h.start(ctx, op, attrSystemRedis, attrOperation.String(op))
		start := time.Now()
		err := next(ctx, cmd)
		h.end(ctx, span, op, 1, time.Since(start), err)
		return err
	}
}

// ProcessPipelineHook implements [redis.Hook].
func (h *Tracer) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		op, size := h.pipelineOperation(cmds)
		ctx, span := h.start(ctx, op, attrSystemRedis, attrOperation.String(op), attrBatchSize.Int(size))
		start := time.Now()
		err := next(ctx, cmds)
		h.end(ctx, span, op, size, time.Since(start), err)
		return err
	}
}

// noSpan stands for the span of a command whose parent was not sampled;
// its methods do nothing.
var noSpan = trace.SpanFromContext(context.Background())

// start starts a command's client span, unless its parent was not sampled:
// the default parent-based sampler would drop it, after copying its
// attributes.
func (h *Tracer) start(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && !sc.IsSampled() {
		return ctx, noSpan
	}
	return h.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}

// pipelineOperation names a pipeline and counts its commands, leaving out
// the MULTI and EXEC that wrap a transaction.
func (h *Tracer) pipelineOperation(cmds []redis.Cmder) (string, int) {
	tx := len(cmds) >= 2 && cmds[0].Name() == "multi" && cmds[len(cmds)-1].Name() == "exec"
	if tx {
		return "MULTI", len(cmds) - 2
	}
	common := ""
	for i, c := range cmds {
		name := h.names.get(c.Name())
		if i > 0 && name != common {
			return "BATCH", len(cmds)
		}
		common = name
	}
	if common == "" {
		return "BATCH", len(cmds)
	}
	return "BATCH " + common, len(cmds)
}

// end ends a command's span and records its duration and, when slow, its
// log.
func (h *Tracer) end(ctx context.Context, span trace.Span, op string, size int, d time.Duration, err error) {
	if errors.Is(err, redis.Nil) {
		err = nil
	}
	k := commandKey{operation: op}
	if err != nil {
		k.errorType = errorType(err)
		span.SetAttributes(attrErrorType.String(k.errorType))
		if isServerError(err) {
			k.statusCode = k.errorType
			span.SetAttributes(attrStatusCode.String(k.statusCode))
		}
		span.SetStatus(codes.Error, k.errorType)
	}
	h.duration.Record(ctx, d.Seconds(), h.sets.Get(k).Record...)
	if h.cfg.SlowThreshold > 0 && d >= h.cfg.SlowThreshold {
		h.slow(ctx, op, size, d, err)
	}
	span.End()
}

func isServerError(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}

// errorType is the error.type of err: the prefix of a server error
// ("WRONGTYPE", "ERR"), or a class of client error. A server error's
// message may quote a key, so only its prefix is kept.
func errorType(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	case isServerError(err):
		prefix, _, _ := strings.Cut(err.Error(), " ")
		if prefix != "" && len(prefix) <= 32 && strings.Trim(prefix, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == "" {
			return prefix
		}
		return "_OTHER"
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, redis.ErrClosed) {
		return "connection"
	}
	return "_OTHER"
}

func (h *Tracer) slow(ctx context.Context, op string, size int, d time.Duration, err error) {
	sc := trace.SpanContextFromContext(ctx)
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs, slog.String("db.system.name", "redis"), slog.String("db.operation.name", op),
		slog.Int("size", size), slog.Duration("duration", d), slog.Duration("threshold", h.cfg.SlowThreshold))
	if err != nil {
		// The prefix only: a message may quote a key.
		attrs = append(attrs, slog.String("error.type", errorType(err)))
	}
	if sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	h.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "slow redis command", attrs...)
	if f := h.cfg.Hooks.OnSlowCommand; f != nil {
		f(ctx, SlowCommand{Operation: op, Size: size, Duration: d, Err: err, TraceID: sc.TraceID()})
	}
}

// DialHook implements [redis.Hook].
func (h *Tracer) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		attrs := []attribute.KeyValue{attrSystemRedis}
		if host, port, err := net.SplitHostPort(addr); err == nil {
			attrs = append(attrs, attrServerAddress.String(host))
			if p, err := strconv.Atoi(port); err == nil {
				attrs = append(attrs, attrServerPort.Int(p))
			}
		}
		ctx, span := h.tracer.Start(ctx, "connect", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
		defer span.End()
		start := time.Now()
		conn, err := next(ctx, network, addr)
		if err != nil {
			et := errorType(err)
			span.SetAttributes(attrErrorType.String(et))
			span.SetStatus(codes.Error, err.Error())
			h.connect.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attrSystemRedis, attrErrorType.String(et)))
			return conn, err
		}
		h.connect.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attrSystemRedis))
		return conn, err
	}
}

// maxCommandNames bounds the command names a Tracer keeps: Redis has about
// 240 commands, and Do can send any name.
const maxCommandNames = 256

// commandNames maps go-redis's lower-case command names to upper case
// once, and folds names past the bound to "_OTHER".
type commandNames struct {
	m sync.Map // string -> string
	n atomic.Int64
}

func (c *commandNames) get(name string) string {
	if name == "" {
		return "_OTHER"
	}
	if v, ok := c.m.Load(name); ok {
		return v.(string)
	}
	if c.n.Load() >= maxCommandNames {
		return "_OTHER"
	}
	up := strings.ToUpper(name)
	if _, loaded := c.m.LoadOrStore(name, up); !loaded {
		c.n.Add(1)
	}
	return up
}
