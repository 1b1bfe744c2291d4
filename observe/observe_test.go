package observe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/bedrock-go/bedrock/observe"
)

type harness struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
	logs   *bytes.Buffer
	logger *slog.Logger
}

func newHarness(t *testing.T) *harness {
	h := &harness{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader(), logs: &bytes.Buffer{}}
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans))
	h.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	h.logger = observe.NewLogger(observe.LogConfig{JSON: true, Writer: h.logs})
	t.Cleanup(func() { _ = h.tp.Shutdown(context.Background()); _ = h.mp.Shutdown(context.Background()) })
	return h
}

func (h *harness) middleware(t *testing.T, mux http.Handler) http.Handler {
	mw, err := observe.Middleware(observe.MiddlewareConfig{TracerProvider: h.tp, MeterProvider: h.mp, Logger: h.logger,
		Propagator: propagation.TraceContext{}})
	require.NoError(t, err)
	return mw(mux)
}

func (h *harness) metric(t *testing.T, name string) metricdata.Metrics {
	var rm metricdata.ResourceMetrics
	require.NoError(t, h.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m
			}
		}
	}
	t.Fatalf("no metric %q", name)
	return metricdata.Metrics{}
}

func TestMiddleware_SpansAndMetricsAreNamedByRoute(t *testing.T) {
	h := newHarness(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/products/{id}", func(w http.ResponseWriter, r *http.Request) {
		slog.New(h.logger.Handler()).InfoContext(r.Context(), "loading product")
		w.WriteHeader(http.StatusOK)
	})
	srv := h.middleware(t, mux)
	for _, id := range []string{"1", "2", "3"} {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/products/"+id, nil))
		require.Equal(t, http.StatusOK, w.Code)
		assert.NotEmpty(t, w.Header().Get(observe.RequestIDHeader))
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/nowhere", nil))
	assert.Equal(t, http.StatusNotFound, w.Code)

	spans := h.spans.Ended()
	require.Len(t, spans, 4)
	for _, s := range spans[:3] {
		assert.Equal(t, "GET /v1/products/{id}", s.Name(), "the route, never the raw path")
		assert.Contains(t, s.Attributes(), attribute.String("http.route", "GET /v1/products/{id}"))
		assert.Contains(t, s.Attributes(), attribute.Int("http.response.status_code", 200))
	}
	assert.Equal(t, "GET", spans[3].Name(), "an unmatched request is named by method alone")

	hist := h.metric(t, "http.server.request.duration").Data.(metricdata.Histogram[float64])
	var routed uint64
	for _, dp := range hist.DataPoints {
		if v, ok := dp.Attributes.Value("http.route"); ok {
			assert.Equal(t, "GET /v1/products/{id}", v.AsString())
			routed += dp.Count
		}
	}
	assert.Equal(t, uint64(3), routed, "three requests, one series")
	assert.Equal(t, "s", h.metric(t, "http.server.request.duration").Unit)

	// Every log line of a traced request carries its trace id.
	lines := strings.Split(strings.TrimSpace(h.logs.String()), "\n")
	require.NotEmpty(t, lines)
	var first map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	assert.Equal(t, spans[0].SpanContext().TraceID().String(), first["trace_id"])
	assert.Equal(t, "loading product", first["msg"])
	assert.NotEmpty(t, first["request_id"])
}

func TestMiddleware_PropagatesIncomingTraceAndRequestID(t *testing.T) {
	h := newHarness(t)
	srv := h.middleware(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	r.Header.Set(observe.RequestIDHeader, "req-123")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	assert.Equal(t, "req-123", w.Header().Get(observe.RequestIDHeader))
	s := h.spans.Ended()[0]
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", s.SpanContext().TraceID().String())

	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set(observe.RequestIDHeader, "bad id\n{\"injected\":1}")
	w = httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	assert.NotContains(t, w.Header().Get(observe.RequestIDHeader), "injected", "an unsafe id is replaced")
}

func TestMiddleware_RecoversPanics(t *testing.T) {
	h := newHarness(t)
	srv := h.middleware(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/orders", nil))
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	assert.Contains(t, h.logs.String(), `"msg":"panic serving request"`)
	assert.Contains(t, h.logs.String(), h.spans.Ended()[0].SpanContext().TraceID().String())
}

func TestTransport_PropagatesTheTrace(t *testing.T) {
	h := newHarness(t)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	var got atomic.Value
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("traceparent"))
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer upstream.Close()
	rt, err := observe.Transport(nil, h.tp, h.mp)
	require.NoError(t, err)
	ctx, parent := h.tp.Tracer("test").Start(context.Background(), "parent")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, upstream.URL, nil)
	resp, err := (&http.Client{Transport: rt}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	parent.End()
	assert.Contains(t, got.Load().(string), parent.SpanContext().TraceID().String())
	assert.Equal(t, "http.client.request.duration", h.metric(t, "http.client.request.duration").Name)
}

func TestHealth_CachesTimesOutAndReports(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := observe.NewHealth()
		var dbCalls atomic.Int32
		h.Register("postgres", func(ctx context.Context) error { dbCalls.Add(1); return nil }, observe.CheckOptions{TTL: 5 * time.Second})
		h.Register("slow", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, observe.CheckOptions{Timeout: 100 * time.Millisecond, NonCritical: true})
		h.Register("panics", func(ctx context.Context) error { panic("oops") }, observe.CheckOptions{NonCritical: true})

		for range 50 { // a probe storm
			rep := h.Ready(context.Background())
			assert.Equal(t, "ok", rep.Status, "non-critical failures do not fail readiness")
		}
		assert.Equal(t, int32(1), dbCalls.Load(), "cached for the TTL")
		rep := h.Ready(context.Background())
		assert.Equal(t, "fail", rep.Checks["slow"].Status)
		assert.Contains(t, rep.Checks["slow"].Error, "timed out")
		assert.Contains(t, rep.Checks["panics"].Error, "panicked")
		assert.True(t, rep.Checks["postgres"].Cached)

		time.Sleep(6 * time.Second)
		h.Ready(context.Background())
		assert.Equal(t, int32(2), dbCalls.Load(), "re-run after the TTL")

		h.Register("redis", func(context.Context) error { return errors.New("connection refused") }, observe.CheckOptions{})
		w := httptest.NewRecorder()
		h.Readyz().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		assert.Equal(t, http.StatusServiceUnavailable, w.Code)
		var body observe.Report
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
		assert.Equal(t, "fail", body.Status)
		assert.Equal(t, "connection refused", body.Checks["redis"].Error)

		w = httptest.NewRecorder()
		h.Livez().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/livez", nil))
		assert.Equal(t, http.StatusOK, w.Code, "liveness ignores dependencies")
	})
}

func TestGracefulShutdown_OrdersTheSteps(t *testing.T) {
	h := observe.NewHealth()
	h.Register("ok", func(context.Context) error { return nil }, observe.CheckOptions{})
	srv := httptest.NewServer(http.NotFoundHandler())
	var steps []string
	err := observe.GracefulShutdown(context.Background(), srv.Config, h, time.Millisecond,
		func(context.Context) error {
			steps = append(steps, "ready="+h.Ready(context.Background()).Status)
			return nil
		},
		func(context.Context) error { steps = append(steps, "flush"); return errors.New("flush failed") })
	assert.ErrorContains(t, err, "flush failed")
	assert.Equal(t, []string{"ready=draining", "flush"}, steps)
	srv.Close()
}

func TestSetup_InstallsProvidersAndPropagators(t *testing.T) {
	tel, err := observe.Setup(context.Background(), observe.Config{ServiceName: "shop", Traces: "none", Metrics: "prometheus"})
	require.NoError(t, err)
	defer tel.Shutdown(context.Background())
	fields := otel.GetTextMapPropagator().Fields()
	assert.Contains(t, fields, "traceparent", "W3C trace context is installed")
	assert.Contains(t, fields, "baggage")

	counter, _ := otel.GetMeterProvider().Meter("test").Int64Counter("bedrock.test.things")
	counter.Add(context.Background(), 3)
	w := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	assert.Regexp(t, `(?m)^bedrock_test_things_total\{[^}]*\} 3$`, w.Body.String())
	assert.Contains(t, w.Body.String(), `service_name="shop"`)

	_, err = observe.Setup(context.Background(), observe.Config{Traces: "zipkin"})
	assert.ErrorIs(t, err, observe.ErrConfig)
	bad := 1.5
	_, err = observe.Setup(context.Background(), observe.Config{SampleRatio: &bad})
	assert.ErrorIs(t, err, observe.ErrConfig)
}

func TestSetup_ConsoleExporterFlushesOnShutdown(t *testing.T) {
	var out bytes.Buffer
	t.Setenv("OTEL_TRACES_EXPORTER", "console")
	tel, err := observe.Setup(context.Background(), observe.Config{ServiceName: "shop", Stdout: &out})
	require.NoError(t, err)
	_, span := otel.Tracer("test").Start(context.Background(), "work")
	span.End()
	require.NoError(t, tel.Shutdown(context.Background()))
	assert.Contains(t, out.String(), `"Name":"work"`)
}

func TestLogger_LevelChangesAtRunTime(t *testing.T) {
	var out bytes.Buffer
	level := new(slog.LevelVar)
	log := observe.NewLogger(observe.LogConfig{Writer: &out, Level: level})
	log.Debug("hidden")
	level.Set(slog.LevelDebug)
	log.Debug("shown")
	assert.NotContains(t, out.String(), "hidden")
	assert.Contains(t, out.String(), "shown")
	ctx := observe.WithLogAttrs(context.Background(), slog.String("principal", "user_42"))
	log.InfoContext(ctx, "with attrs")
	assert.Contains(t, out.String(), "principal=user_42")
}

func Example() {
	ctx := context.Background()
	tel, err := observe.Setup(ctx, observe.Config{ServiceName: "shop", Traces: "none", Metrics: "none"})
	if err != nil {
		panic(err)
	}
	defer tel.Shutdown(ctx)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("hi")) })
	health := observe.NewHealth()
	mux.Handle("GET /livez", health.Livez())
	mux.Handle("GET /readyz", health.Readyz())

	mw, _ := observe.Middleware(observe.MiddlewareConfig{DisableAccessLog: true})
	w := httptest.NewRecorder()
	mw(mux).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/hello", nil))
	fmt.Println(w.Code, w.Body.String(), w.Header().Get("X-Request-Id") != "")
	// Output: 200 hi true
}

func BenchmarkMiddleware(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/products/{id}", func(w http.ResponseWriter, r *http.Request) {})
	tp := sdktrace.NewTracerProvider() // no exporter: the SDK records, nothing leaves
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	mw, _ := observe.Middleware(observe.MiddlewareConfig{TracerProvider: tp, MeterProvider: mp, DisableAccessLog: true})
	h := mw(mux)
	r := httptest.NewRequest(http.MethodGet, "/v1/products/42", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}
