package observe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
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
	return h.middlewareWith(t, observe.MiddlewareConfig{}, mux)
}

// middlewareWith fills cfg's providers, logger and propagators (trace
// context and baggage) with the harness's.
func (h *harness) middlewareWith(t *testing.T, cfg observe.MiddlewareConfig, mux http.Handler) http.Handler {
	cfg.TracerProvider, cfg.MeterProvider, cfg.Logger = h.tp, h.mp, h.logger
	cfg.Propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	mw, err := observe.NewMiddleware(cfg)
	require.NoError(t, err)
	return mw.Handler(mux)
}

func trustAll(*http.Request) bool { return true }

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
	srv := h.middlewareWith(t, observe.MiddlewareConfig{TrustRemoteTrace: trustAll},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
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

const remoteParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// A client on a public endpoint must not choose the trace id that the
// server's spans and logs carry (nor force sampling, nor inject baggage):
// an untrusted request starts a trace of its own, linked to the one the
// client named.
func TestMiddleware_UntrustedClientsStartANewTraceLinkedToTheirs(t *testing.T) {
	trusted := func(r *http.Request) bool { return r.Header.Get("X-Internal") == "1" }
	cases := []struct {
		name    string
		cfg     observe.MiddlewareConfig
		header  string // X-Internal
		trusted bool
	}{
		{"nil trusts no one", observe.MiddlewareConfig{}, "1", false},
		{"the func refuses", observe.MiddlewareConfig{TrustRemoteTrace: trusted}, "", false},
		{"the func accepts", observe.MiddlewareConfig{TrustRemoteTrace: trusted}, "1", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			var gotBaggage string
			mux := http.NewServeMux()
			mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
				gotBaggage = baggage.FromContext(r.Context()).Member("tenant").Value()
				h.logger.InfoContext(r.Context(), "listing orders")
			})
			srv := h.middlewareWith(t, tc.cfg, mux)
			r := httptest.NewRequest(http.MethodGet, "/orders", nil)
			r.Header.Set("traceparent", remoteParent)
			r.Header.Set("baggage", "tenant=acme")
			r.Header.Set("X-Internal", tc.header)
			srv.ServeHTTP(httptest.NewRecorder(), r)

			spans := h.spans.Ended()
			require.Len(t, spans, 1)
			s := spans[0]
			remote := "4bf92f3577b34da6a3ce929d0e0e4736"
			var line map[string]any
			require.NoError(t, json.Unmarshal([]byte(strings.SplitN(h.logs.String(), "\n", 2)[0]), &line))
			assert.Equal(t, s.SpanContext().TraceID().String(), line["trace_id"], "logs carry the server span's trace")
			if tc.trusted {
				assert.Equal(t, remote, s.SpanContext().TraceID().String())
				assert.Equal(t, "00f067aa0ba902b7", s.Parent().SpanID().String())
				assert.Empty(t, s.Links())
				assert.Equal(t, "acme", gotBaggage)
				return
			}
			assert.NotEqual(t, remote, s.SpanContext().TraceID().String(), "a trace of its own")
			assert.False(t, s.Parent().IsValid(), "a root span")
			require.Len(t, s.Links(), 1, "the client's trace stays reachable")
			assert.Equal(t, remote, s.Links()[0].SpanContext.TraceID().String())
			assert.Equal(t, "00f067aa0ba902b7", s.Links()[0].SpanContext.SpanID().String())
			assert.True(t, s.Links()[0].SpanContext.IsRemote())
			assert.Empty(t, gotBaggage, "an untrusted client's baggage is not taken")
		})
	}

	t.Run("no trace context, no link", func(t *testing.T) {
		h := newHarness(t)
		srv := h.middleware(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
		require.Len(t, h.spans.Ended(), 1)
		assert.Empty(t, h.spans.Ended()[0].Links())
	})
}

// A panic answers 500 in place of whatever the handler was preparing, and
// so must not carry that response's headers.
func TestMiddleware_PanicAnswerDropsTheHandlersHeaders(t *testing.T) {
	h := newHarness(t)
	srv := h.middleware(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", "4096")
		w.Header().Set("ETag", `"v9"`)
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		w.Header().Set("Location", "/orders/9")
		w.Header().Set("Set-Cookie", "session=abc")
		w.Header().Set("Cache-Control", "public, max-age=600")
		panic("boom")
	}))
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/orders", nil))
	require.Equal(t, http.StatusInternalServerError, w.Code)
	for _, k := range []string{"Content-Encoding", "Etag", "Last-Modified", "Location", "Set-Cookie"} {
		assert.Empty(t, w.Header().Values(k), k)
	}
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"), "a shared cache never stores the failure")
	assert.Equal(t, strconv.Itoa(w.Body.Len()), w.Header().Get("Content-Length"))
	assert.NotEmpty(t, w.Header().Get(observe.RequestIDHeader), "the middleware's own header stays")
	var p map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	assert.Equal(t, "Internal Server Error", p["title"])
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
	var got atomic.Value
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("traceparent"))
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer upstream.Close()
	rt, err := observe.NewTransport(nil, observe.TransportConfig{TracerProvider: h.tp, MeterProvider: h.mp,
		Propagator: propagation.TraceContext{}})
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
		h := observe.NewHealth(observe.HealthConfig{Logger: slog.New(slog.DiscardHandler)})
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
		assert.Contains(t, rep.Checks["slow"].Error, "timed out", "Ready, for the program, keeps the errors")
		assert.Contains(t, rep.Checks["panics"].Error, "panicked")
		assert.True(t, rep.Checks["postgres"].Cached)

		time.Sleep(6 * time.Second)
		h.Ready(context.Background())
		assert.Equal(t, int32(2), dbCalls.Load(), "re-run after the TTL")

		w := httptest.NewRecorder()
		h.Livez().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/livez", nil))
		assert.Equal(t, http.StatusOK, w.Code, "liveness ignores dependencies")
	})
}

// A driver that applies the context's deadline to its socket (go-redis
// with ContextTimeoutEnabled, pgx) fails with its own timeout error, not
// context.DeadlineExceeded: the check still timed out, and says so.
func TestHealth_ADriversTimeoutAtTheDeadlineIsATimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := observe.NewHealth(observe.HealthConfig{Logger: slog.New(slog.DiscardHandler)})
		h.Register("redis", func(ctx context.Context) error {
			<-ctx.Done()
			return os.ErrDeadlineExceeded // "i/o timeout", as a socket deadline reports it
		}, observe.CheckOptions{Timeout: 250 * time.Millisecond})
		h.Register("refused", func(ctx context.Context) error {
			return errors.New("dial tcp 10.0.0.6:6379: connect: connection refused")
		}, observe.CheckOptions{Timeout: 250 * time.Millisecond})
		rep := h.Ready(context.Background())
		assert.Equal(t, "timed out after 250ms", rep.Checks["redis"].Error)
		assert.Contains(t, rep.Checks["refused"].Error, "connection refused", "a failure before the deadline keeps its text")
	})
}

// internalError is what a driver says when a dependency is down: it names
// an address inside the network.
const internalError = "dial tcp 10.0.0.5:5432: connect: connection refused"

func readyz(t *testing.T, h *observe.Health) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	w := httptest.NewRecorder()
	h.Readyz().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var body map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body), w.Body.String())
	return w, body
}

// /readyz is read by load balancers and, often, by anyone who can reach
// the service: a failure is an RFC 9457 problem naming the checks and
// their states, and a check's error text is shown only when configured.
func TestHealth_ReadyzFailureIsAProblemWithoutErrorText(t *testing.T) {
	for _, show := range []bool{false, true} {
		t.Run(fmt.Sprintf("ShowErrors=%v", show), func(t *testing.T) {
			var logs bytes.Buffer
			h := observe.NewHealth(observe.HealthConfig{ShowErrors: show,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			h.Register("postgres", func(context.Context) error { return errors.New(internalError) }, observe.CheckOptions{})
			h.Register("cache", func(context.Context) error { return errors.New("redis 10.0.0.6:6379 down") }, observe.CheckOptions{NonCritical: true})
			h.Register("nats", func(context.Context) error { return nil }, observe.CheckOptions{})

			w, body := readyz(t, h)
			assert.Equal(t, http.StatusServiceUnavailable, w.Code)
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			assert.Equal(t, "about:blank", body["type"])
			assert.Equal(t, "Service Unavailable", body["title"])
			assert.Equal(t, 503.0, body["status"])
			assert.Equal(t, "fail", body["readiness"])
			assert.Contains(t, body["detail"], "postgres")
			checks, ok := body["checks"].(map[string]any)
			require.True(t, ok, "checks is an extension member")
			pg := checks["postgres"].(map[string]any)
			assert.Equal(t, "fail", pg["status"])
			assert.Equal(t, true, pg["critical"])
			assert.Equal(t, "ok", checks["nats"].(map[string]any)["status"])
			assert.Equal(t, "fail", checks["cache"].(map[string]any)["status"])
			if show {
				assert.Equal(t, internalError, pg["error"])
			} else {
				assert.NotContains(t, w.Body.String(), "10.0.0.", "no internal address")
				assert.NotContains(t, pg, "error")
			}
			assert.Contains(t, logs.String(), internalError, "operators still see the error, in the log")

			h.SetDraining(true)
			w, body = readyz(t, h)
			assert.Equal(t, http.StatusServiceUnavailable, w.Code)
			assert.Equal(t, "draining", body["readiness"])
		})
	}
}

// A ready service answers 200 with the report, and even then a failing
// non-critical check does not show its error.
func TestHealth_ReadyzSuccessHidesNonCriticalErrors(t *testing.T) {
	h := observe.NewHealth(observe.HealthConfig{Logger: slog.New(slog.DiscardHandler)})
	h.Register("postgres", func(context.Context) error { return nil }, observe.CheckOptions{})
	h.Register("cache", func(context.Context) error { return errors.New(internalError) }, observe.CheckOptions{NonCritical: true})
	w, body := readyz(t, h)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	assert.Equal(t, "ok", body["status"])
	assert.NotContains(t, w.Body.String(), "10.0.0.")
	assert.Equal(t, "fail", body["checks"].(map[string]any)["cache"].(map[string]any)["status"])
}

// A failing check is logged when it starts failing and when it recovers,
// not on every probe.
func TestHealth_LogsTransitionsOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		h := observe.NewHealth(observe.HealthConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		var failing atomic.Bool
		failing.Store(true)
		h.Register("postgres", func(context.Context) error {
			if failing.Load() {
				return errors.New(internalError)
			}
			return nil
		}, observe.CheckOptions{TTL: time.Second})
		for range 5 {
			h.Ready(context.Background())
			time.Sleep(2 * time.Second) // past the TTL: every round runs the check
		}
		failing.Store(false)
		for range 3 {
			h.Ready(context.Background())
			time.Sleep(2 * time.Second)
		}
		assert.Equal(t, 1, strings.Count(logs.String(), "readiness check failed"), logs.String())
		assert.Equal(t, 1, strings.Count(logs.String(), "readiness check recovered"), logs.String())
		assert.Contains(t, logs.String(), "check=postgres")
	})
}

func TestGracefulShutdown_OrdersTheSteps(t *testing.T) {
	h := observe.NewHealth(observe.HealthConfig{})
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

// During the drain, /readyz answers 503 while the listener still accepts
// and serves new requests, so a load balancer has time to stop sending
// before connections are refused (issue 23, item 8).
func TestGracefulShutdown_ServesNewRequestsDuringTheDrain(t *testing.T) {
	h := observe.NewHealth(observe.HealthConfig{})
	require.NoError(t, h.Register("ok", func(context.Context) error { return nil }, observe.CheckOptions{}))
	mux := http.NewServeMux()
	mux.Handle("GET /readyz", h.Readyz())
	mux.HandleFunc("GET /work", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "done") })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (int, error) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			return 0, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode, nil
	}
	code, err := get("/readyz")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)

	ctx, endDrain := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- observe.GracefulShutdown(ctx, srv.Config, h, time.Hour) }()
	for h.Ready(context.Background()).Status != "draining" {
		runtime.Gosched()
	}
	code, err = get("/readyz")
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, code, "not ready while draining")
	code, err = get("/work")
	require.NoError(t, err, "the listener is still open")
	assert.Equal(t, http.StatusOK, code, "new requests are served during the drain")

	endDrain()
	<-done
	_, err = get("/work")
	assert.Error(t, err, "after the drain the listener is closed")
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
}

func TestSetup_RefusesABadConfigOrEnvironment(t *testing.T) {
	ratio := func(v float64) *float64 { return &v }
	tests := []struct {
		name string
		cfg  observe.Config
		env  map[string]string
		want string // the field or variable the message names
	}{
		{"unknown traces exporter", observe.Config{Traces: "zipkin"}, nil, `Traces exporter "zipkin"`},
		{"unknown metrics exporter", observe.Config{Metrics: "statsd"}, nil, `Metrics exporter "statsd"`},
		{"exporter from the environment", observe.Config{}, map[string]string{"OTEL_TRACES_EXPORTER": "jaeger"}, `"jaeger"`},
		{"ratio above 1", observe.Config{SampleRatio: ratio(1.5)}, nil, "SampleRatio 1.5"},
		{"negative ratio", observe.Config{SampleRatio: ratio(-0.1)}, nil, "SampleRatio -0.1"},
		{"NaN ratio", observe.Config{SampleRatio: ratio(math.NaN())}, nil, "SampleRatio NaN"},
		{"ratio variable not a number", observe.Config{}, map[string]string{"OTEL_TRACES_SAMPLER_ARG": "10%"}, `OTEL_TRACES_SAMPLER_ARG "10%"`},
		{"ratio variable out of range", observe.Config{}, map[string]string{"OTEL_TRACES_SAMPLER_ARG": "2"}, "SampleRatio 2"},
		{"negative interval", observe.Config{MetricInterval: -time.Second}, nil, "MetricInterval -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			tel, err := observe.Setup(context.Background(), tt.cfg)
			require.ErrorIs(t, err, observe.ErrInvalidConfig)
			assert.Nil(t, tel)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "observe: invalid config: "), err.Error())
		})
	}
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
	health := observe.NewHealth(observe.HealthConfig{})
	mux.Handle("GET /livez", health.Livez())
	mux.Handle("GET /readyz", health.Readyz())

	mw, err := observe.NewMiddleware(observe.MiddlewareConfig{DisableAccessLog: true})
	if err != nil {
		panic(err)
	}
	h := mw.Handler(observe.Router(mux))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/hello", nil))
	fmt.Println(w.Code, w.Body.String(), w.Header().Get("X-Request-Id") != "")
	// Output: 200 hi true
}

func ExampleHealth_Readyz() {
	health := observe.NewHealth(observe.HealthConfig{Logger: slog.New(slog.DiscardHandler)})
	health.Register("postgres", func(context.Context) error {
		return errors.New("dial tcp 10.0.0.5:5432: connect: connection refused")
	}, observe.CheckOptions{})

	w := httptest.NewRecorder()
	health.Readyz().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var p struct {
		Title     string
		Detail    string
		Readiness string
		Checks    map[string]observe.CheckResult
	}
	_ = json.Unmarshal(w.Body.Bytes(), &p)
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Println(p.Title+":", p.Detail)
	fmt.Printf("readiness=%s postgres=%s error=%q\n", p.Readiness, p.Checks["postgres"].Status, p.Checks["postgres"].Error)
	// Output:
	// 503 application/problem+json
	// Service Unavailable: Required dependencies are unavailable: postgres.
	// readiness=fail postgres=fail error=""
}

func ExampleMiddlewareConfig_trustRemoteTrace() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	// Only requests that arrive on the listener other services use may
	// continue their caller's trace.
	internal := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 8081}
	trusted := func(r *http.Request) bool {
		addr, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		return addr != nil && addr.String() == internal.String()
	}
	mw, err := observe.NewMiddleware(observe.MiddlewareConfig{TracerProvider: tp, Propagator: propagation.TraceContext{},
		TrustRemoteTrace: trusted, DisableAccessLog: true})
	if err != nil {
		panic(err)
	}
	h := mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	public := &net.TCPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 443}
	for _, local := range []net.Addr{internal, public} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
		r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	for _, s := range spans.Ended() {
		fmt.Printf("caller's trace: %v, links: %d\n", s.SpanContext().TraceID().String() == "4bf92f3577b34da6a3ce929d0e0e4736", len(s.Links()))
	}
	// Output:
	// caller's trace: true, links: 0
	// caller's trace: false, links: 1
}

func BenchmarkMiddleware(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/products/{id}", func(w http.ResponseWriter, r *http.Request) {})
	tp := sdktrace.NewTracerProvider() // no exporter: the SDK records, nothing leaves
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	mw, err := observe.NewMiddleware(observe.MiddlewareConfig{TracerProvider: tp, MeterProvider: mp, DisableAccessLog: true})
	require.NoError(b, err)
	h := mw.Handler(observe.Router(mux))
	r := httptest.NewRequest(http.MethodGet, "/v1/products/42", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// TestHealth_RegisterRefusesABadCheck: zero options mean the defaults; a
// negative duration, a nil check or an empty name is a mistake, reported
// instead of read as a default.
func TestHealth_RegisterRefusesABadCheck(t *testing.T) {
	ok := func(context.Context) error { return nil }
	tests := []struct {
		name, check string
		fn          observe.Check
		opts        observe.CheckOptions
		field       string
	}{
		{"negative Timeout", "db", ok, observe.CheckOptions{Timeout: -time.Second}, "Timeout"},
		{"negative TTL", "db", ok, observe.CheckOptions{TTL: -time.Second}, "TTL"},
		{"nil check", "db", nil, observe.CheckOptions{}, "nil"},
		{"empty name", "", ok, observe.CheckOptions{}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := observe.NewHealth(observe.HealthConfig{})
			err := h.Register(tt.check, tt.fn, tt.opts)
			assert.ErrorIs(t, err, observe.ErrInvalidConfig)
			assert.ErrorContains(t, err, tt.field)
			w := httptest.NewRecorder()
			h.Readyz().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			assert.Equal(t, http.StatusOK, w.Code, "a refused check is not registered")
		})
	}
	h := observe.NewHealth(observe.HealthConfig{})
	assert.NoError(t, h.Register("db", ok, observe.CheckOptions{}))
}
