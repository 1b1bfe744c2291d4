package observe

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrock-go/bedrock/internal/problem"
)

const instrumentation = "github.com/bedrock-go/bedrock/observe"

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-Id"

// MiddlewareConfig configures [Middleware]. The zero value uses the global
// providers and propagator and slog.Default.
type MiddlewareConfig struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	Propagator     propagation.TextMapPropagator
	// Logger writes one access line per request at Info (Warn for 5xx);
	// slog.Default when nil. Set DisableAccessLog to write none.
	Logger           *slog.Logger
	DisableAccessLog bool
	// Principal names the caller in the access log; nil logs none. Use it
	// with auth.SubjectFrom.
	Principal func(*http.Request) string
	// TrustRemoteTrace reports whether a request's trace context
	// (traceparent, tracestate, baggage) may continue the caller's trace.
	// For a request it does not trust, the server span starts a new trace
	// and links the caller's span context (when valid), and the caller's
	// baggage is not taken. Nil trusts no request.
	//
	// The default is distrust because a client that picks the trace id
	// picks what the server's logs and spans are filed under (it can
	// collide with another request's trace), forces sampling with the
	// sampled flag under a parent-based sampler, and injects baggage that
	// downstream code may copy into attributes. Between services that
	// trust each other, return true for their requests (a service mesh
	// identity, a private listener, a signed header), never for a value
	// the client can simply send.
	TrustRemoteTrace func(*http.Request) bool
}

// Middleware instruments an HTTP server. Place it outermost, around the
// router: the route pattern is read from the request after the router has
// matched it, so spans and metrics are named by route, never by raw path.
func Middleware(cfg MiddlewareConfig) (func(http.Handler) http.Handler, error) {
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = otel.GetTracerProvider()
	}
	if cfg.MeterProvider == nil {
		cfg.MeterProvider = otel.GetMeterProvider()
	}
	if cfg.Propagator == nil {
		cfg.Propagator = otel.GetTextMapPropagator()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	meter := cfg.MeterProvider.Meter(instrumentation)
	duration, err := meter.Float64Histogram("http.server.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP server requests."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10))
	if err != nil {
		return nil, err
	}
	active, err := meter.Int64UpDownCounter("http.server.active_requests", metric.WithUnit("{request}"),
		metric.WithDescription("Number of HTTP server requests in flight."))
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, tracer: cfg.TracerProvider.Tracer(instrumentation), duration: duration, active: active}
	return s.wrap, nil
}

type server struct {
	cfg      MiddlewareConfig
	tracer   trace.Tracer
	duration metric.Float64Histogram
	active   metric.Int64UpDownCounter
}

func (s *server) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, remote := s.remoteTrace(r)
		opts := append(make([]trace.SpanStartOption, 0, 3), trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method),
				attribute.String("url.scheme", scheme(r))))
		if remote.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: remote}))
		}
		ctx, span := s.tracer.Start(ctx, r.Method, opts...)
		defer span.End()

		id := requestID(r)
		w.Header().Set(RequestIDHeader, id)
		ctx = WithLogAttrs(ctx, slog.String("request_id", id))
		methodAttr := attribute.String("http.request.method", r.Method)
		s.active.Add(ctx, 1, metric.WithAttributes(methodAttr))
		defer s.active.Add(ctx, -1, metric.WithAttributes(methodAttr))

		rec := &statusWriter{ResponseWriter: w}
		r = r.WithContext(ctx)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { //nolint:errorlint // the sentinel is compared by identity
					panic(v)
				}
				span.SetStatus(codes.Error, "panic")
				span.RecordError(fmt.Errorf("panic: %v", v))
				s.cfg.Logger.ErrorContext(ctx, "panic serving request", slog.Any("panic", v),
					slog.String("http.route", r.Pattern))
				if !rec.wrote {
					problem.Replace(rec, problem.Details{Status: http.StatusInternalServerError,
						Detail: "An unexpected error occurred. Quote the request id " + id + " when reporting it."})
				}
			}
			s.finish(r, span, rec, start)
		}()
		next.ServeHTTP(rec, r)
	})
}

// remoteTrace returns the context the server span starts from: the
// caller's trace when the request is trusted; otherwise the request's own
// context, and the caller's span context for a link (invalid when the
// request named none).
func (s *server) remoteTrace(r *http.Request) (context.Context, trace.SpanContext) {
	carrier := propagation.HeaderCarrier(r.Header)
	if s.cfg.TrustRemoteTrace != nil && s.cfg.TrustRemoteTrace(r) {
		return s.cfg.Propagator.Extract(r.Context(), carrier), trace.SpanContext{}
	}
	return r.Context(), trace.SpanContextFromContext(s.cfg.Propagator.Extract(context.Background(), carrier))
}

func (s *server) finish(r *http.Request, span trace.Span, rec *statusWriter, start time.Time) {
	ctx := r.Context()
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	route := r.Pattern
	name := r.Method
	if route != "" {
		name = routeName(r.Method, route)
		span.SetAttributes(attribute.String("http.route", route))
	}
	span.SetName(name)
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 500 {
		span.SetStatus(codes.Error, "")
	}
	elapsed := time.Since(start)
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", r.Method),
		attribute.Int("http.response.status_code", status),
	}
	if route != "" {
		attrs = append(attrs, attribute.String("http.route", route))
	}
	s.duration.Record(ctx, elapsed.Seconds(), metric.WithAttributes(attrs...))
	if s.cfg.DisableAccessLog {
		return
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelWarn
	}
	logAttrs := []slog.Attr{
		slog.String("method", r.Method), slog.String("route", route), slog.Int("status", status),
		slog.Duration("duration", elapsed), slog.Int64("bytes", rec.bytes),
	}
	if s.cfg.Principal != nil {
		if p := s.cfg.Principal(r); p != "" {
			logAttrs = append(logAttrs, slog.String("principal", p))
		}
	}
	s.cfg.Logger.LogAttrs(ctx, level, "request", logAttrs...)
}

// routeName turns a ServeMux pattern such as "GET /v1/products/{id}" into
// a span name "GET /v1/products/{id}"; a pattern without a method gets the
// request's.
func routeName(method, pattern string) string {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == ' ' {
			return pattern
		}
		if pattern[i] == '/' {
			break
		}
	}
	return method + " " + pattern
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// requestID accepts a client's X-Request-Id of 1 to 128 characters from
// [A-Za-z0-9._:-], or makes a new one; anything else could inject into logs.
func requestID(r *http.Request) string {
	if v := r.Header.Get(RequestIDHeader); validRequestID(v) {
		return v
	}
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func validRequestID(v string) bool {
	if v == "" || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote && code >= 200 {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush, Hijack and deadlines.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes through, for streaming handlers that assert http.Flusher.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack passes through, for websockets.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("observe: the response writer cannot hijack")
}

// Transport instruments outgoing requests: a client span per request,
// http.client.request.duration, and trace-context propagation in the
// request headers. base nil means http.DefaultTransport.
func Transport(base http.RoundTripper, tp trace.TracerProvider, mp metric.MeterProvider) (http.RoundTripper, error) {
	if base == nil {
		base = http.DefaultTransport
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	hist, err := mp.Meter(instrumentation).Float64Histogram("http.client.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP client requests."))
	if err != nil {
		return nil, err
	}
	return &transport{base: base, tracer: tp.Tracer(instrumentation), duration: hist}, nil
}

type transport struct {
	base     http.RoundTripper
	tracer   trace.Tracer
	duration metric.Float64Histogram
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	ctx, span := t.tracer.Start(r.Context(), r.Method, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("http.request.method", r.Method),
			attribute.String("server.address", r.URL.Hostname())))
	defer span.End()
	r = r.Clone(ctx)
	otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(r.Header))
	resp, err := t.base.RoundTrip(r)
	attrs := []attribute.KeyValue{attribute.String("http.request.method", r.Method), attribute.String("server.address", r.URL.Hostname())}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		attrs = append(attrs, attribute.String("error.type", "transport"))
	} else {
		span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
		attrs = append(attrs, attribute.Int("http.response.status_code", resp.StatusCode))
		if resp.StatusCode >= 500 {
			span.SetStatus(codes.Error, "")
		}
	}
	t.duration.Record(ctx, time.Since(start).Seconds(), metricAttrs(attrs))
	return resp, err
}

func metricAttrs(attrs []attribute.KeyValue) metric.RecordOption {
	return metric.WithAttributes(attrs...)
}
