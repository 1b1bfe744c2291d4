package benchmarks

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/bedrock-go/bedrock/observe"
)

// BenchmarkHTTPServerMiddleware compares the per-request cost of
// observe.Middleware (span, RED metrics, request id; access log off; the
// router wrapped by observe.Router, as services wire it) with
// otelhttp.NewHandler (span and metrics), both on the SDK with no exporter.
func BenchmarkHTTPServerMiddleware(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/products/{id}", func(w http.ResponseWriter, r *http.Request) {})
	tp := sdktrace.NewTracerProvider()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	run := func(b *testing.B, h http.Handler) {
		r := httptest.NewRequest(http.MethodGet, "/v1/products/42", nil)
		w := httptest.NewRecorder()
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	}
	b.Run("bedrock", func(b *testing.B) {
		mw, err := observe.NewMiddleware(observe.MiddlewareConfig{TracerProvider: tp, MeterProvider: mp, DisableAccessLog: true})
		if err != nil {
			b.Fatal(err)
		}
		run(b, mw.Handler(observe.Router(mux)))
	})
	b.Run("otelhttp", func(b *testing.B) {
		run(b, otelhttp.NewHandler(mux, "server", otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp)))
	})
}
