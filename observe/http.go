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
	"sync/atomic"
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

// MiddlewareConfig configures [NewMiddleware]. The zero value uses the
// global providers and propagator and slog.Default.
type MiddlewareConfig struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	Propagator     propagation.TextMapPropagator
	// Logger writes one access line per request at Info (Warn for 5xx);
	// slog.Default when nil. Set DisableAccessLog to write none.
	Logger           *slog.Logger
	DisableAccessLog bool
	// Principal names the caller in the access log; nil logs none. Use it
	// with auth.SubjectFrom. It is asked about the request the router
	// received when [Router] wraps the router, so it sees what an
	// authentication middleware between the two put in the context.
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

// Middleware instruments an HTTP server: a span per request named by its
// route, the semantic-convention duration histogram and in-flight gauge, a
// request id, an access log line, and panic recovery. Build it with
// [NewMiddleware] and serve through [Middleware.Handler], outermost, with
// [Router] directly around the router:
//
//	h := mw.Handler(authn.Handler(observe.Router(mux)))
//
// The route is read from the request after the router has matched it, so
// spans and metrics are named by route, never by raw path. A Middleware is
// safe for concurrent use and may wrap several handlers.
type Middleware struct {
	cfg      MiddlewareConfig
	tracer   trace.Tracer
	duration metric.Float64Histogram
	active   metric.Int64UpDownCounter
}

// NewMiddleware builds a [Middleware]. It fails only if the instruments
// cannot be created.
func NewMiddleware(cfg MiddlewareConfig) (*Middleware, error) {
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
	duration, err1 := meter.Float64Histogram("http.server.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP server requests."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10))
	active, err2 := meter.Int64UpDownCounter("http.server.active_requests", metric.WithUnit("{request}"),
		metric.WithDescription("Number of HTTP server requests in flight."))
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("observe: creating the HTTP server instruments: %w", err)
	}
	return &Middleware{cfg: cfg, tracer: cfg.TracerProvider.Tracer(instrumentation), duration: duration, active: active}, nil
}

// Handler returns next instrumented.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, remote := m.remoteTrace(r)
		opts := append(make([]trace.SpanStartOption, 0, 3), trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method),
				attribute.String("url.scheme", scheme(r))))
		if remote.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: remote}))
		}
		ctx, span := m.tracer.Start(ctx, r.Method, opts...)
		defer span.End()

		id := requestID(r)
		w.Header().Set(RequestIDHeader, id)
		ctx = WithLogAttrs(ctx, slog.String("request_id", id))
		methodAttr := attribute.String("http.request.method", r.Method)
		m.active.Add(ctx, 1, metric.WithAttributes(methodAttr))
		defer m.active.Add(ctx, -1, metric.WithAttributes(methodAttr))

		rec := &statusWriter{ResponseWriter: w}
		// The writer doubles as the slot where Router leaves the request
		// the router matched, which may be a copy of r made further in.
		ctx = context.WithValue(ctx, routedKey{}, rec)
		r = r.WithContext(ctx)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { //nolint:errorlint // the sentinel is compared by identity
					panic(v)
				}
				span.SetStatus(codes.Error, "panic")
				span.RecordError(fmt.Errorf("panic: %v", v))
				m.cfg.Logger.ErrorContext(ctx, "panic serving request", slog.Any("panic", v),
					slog.String("http.route", rec.routedRequest(r).Pattern))
				if !rec.wrote {
					problem.Replace(rec, problem.Details{Status: http.StatusInternalServerError,
						Detail: "An unexpected error occurred. Quote the request id " + id + " when reporting it."})
				}
			}
			m.finish(r, span, rec, start)
		}()
		next.ServeHTTP(rec, r)
	})
}

// routedKey is the context key of the statusWriter of the request being
// served.
type routedKey struct{}

// Router wraps the router next (an [http.ServeMux], or any router that sets
// [http.Request.Pattern]) so that the route it matches reaches the
// [Middleware] that serves the request, however many middlewares between
// the two pass on a copy of the request. Put it directly around the
// router:
//
//	h := mw.Handler(authn.Handler(observe.Router(mux)))
//
// A router sets the pattern on the request it is given. A middleware that
// adds to the context (authentication does) calls the next handler with a
// copy, so without Router the pattern lands on a request the Middleware
// never sees: every such request would be logged without a route, its
// metrics would lose http.route and its span would be named by method
// alone. Router hands the routed request back through the context the
// Middleware created, which every copy shares; the Principal function of
// the Middleware's config is then asked about that request too, so it
// sees the principal authentication stored.
//
// Without a Middleware around it, Router only serves next. With several
// routers nested, the innermost one's request wins.
func Router(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if rec, ok := r.Context().Value(routedKey{}).(*statusWriter); ok {
				// The first to return is the innermost router.
				rec.routed.CompareAndSwap(nil, r)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// remoteTrace returns the context the server span starts from: the
// caller's trace when the request is trusted; otherwise the request's own
// context, and the caller's span context for a link (invalid when the
// request named none).
func (m *Middleware) remoteTrace(r *http.Request) (context.Context, trace.SpanContext) {
	carrier := propagation.HeaderCarrier(r.Header)
	if m.cfg.TrustRemoteTrace != nil && m.cfg.TrustRemoteTrace(r) {
		return m.cfg.Propagator.Extract(r.Context(), carrier), trace.SpanContext{}
	}
	return r.Context(), trace.SpanContextFromContext(m.cfg.Propagator.Extract(context.Background(), carrier))
}

func (m *Middleware) finish(r *http.Request, span trace.Span, rec *statusWriter, start time.Time) {
	ctx := r.Context()
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	routed := rec.routedRequest(r)
	route := routed.Pattern
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
	m.duration.Record(ctx, elapsed.Seconds(), metric.WithAttributes(attrs...))
	if m.cfg.DisableAccessLog {
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
	if m.cfg.Principal != nil {
		if p := m.cfg.Principal(routed); p != "" {
			logAttrs = append(logAttrs, slog.String("principal", p))
		}
	}
	m.cfg.Logger.LogAttrs(ctx, level, "request", logAttrs...)
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

// statusWriter records the status and size of a response, and the
// request the router matched (see Router).
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
	// routed is written by Router, which may run on another goroutine
	// (under http.TimeoutHandler) while the Middleware finishes.
	routed atomic.Pointer[http.Request]
}

// routedRequest is the request Router recorded, or r when no Router ran:
// then the router, if it saw r itself, set r.Pattern.
func (w *statusWriter) routedRequest(r *http.Request) *http.Request {
	if routed := w.routed.Load(); routed != nil {
		return routed
	}
	return r
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

// TransportConfig configures [NewTransport]. The zero value uses the
// global providers and propagator.
type TransportConfig struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// Propagator writes the trace context into outgoing requests.
	Propagator propagation.TextMapPropagator
}

// Transport instruments outgoing requests: a client span per request,
// http.client.request.duration, and trace-context propagation in the
// request headers. Build it with [NewTransport]; it is safe for
// concurrent use.
type Transport struct {
	base       http.RoundTripper
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	duration   metric.Float64Histogram
}

// NewTransport returns a [Transport] that sends through base
// (http.DefaultTransport when nil). It fails only if the instrument cannot
// be created.
func NewTransport(base http.RoundTripper, cfg TransportConfig) (*Transport, error) {
	if base == nil {
		base = http.DefaultTransport
	}
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = otel.GetTracerProvider()
	}
	if cfg.MeterProvider == nil {
		cfg.MeterProvider = otel.GetMeterProvider()
	}
	if cfg.Propagator == nil {
		cfg.Propagator = otel.GetTextMapPropagator()
	}
	hist, err := cfg.MeterProvider.Meter(instrumentation).Float64Histogram("http.client.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP client requests."))
	if err != nil {
		return nil, fmt.Errorf("observe: creating the HTTP client instrument: %w", err)
	}
	return &Transport{base: base, tracer: cfg.TracerProvider.Tracer(instrumentation), propagator: cfg.Propagator, duration: hist}, nil
}

// RoundTrip implements [http.RoundTripper].
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	ctx, span := t.tracer.Start(r.Context(), r.Method, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("http.request.method", r.Method),
			attribute.String("server.address", r.URL.Hostname())))
	defer span.End()
	r = r.Clone(ctx)
	t.propagator.Inject(ctx, propagation.HeaderCarrier(r.Header))
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
	t.duration.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attrs...))
	return resp, err
}
