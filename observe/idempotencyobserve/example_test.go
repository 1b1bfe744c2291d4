package idempotencyobserve_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/idempotency"
	"github.com/bedrock-go/bedrock/observe/idempotencyobserve"
)

func Example() {
	// The reader stands in for the exporter observe.Setup installs.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	hooks, err := idempotencyobserve.Hooks(mp)
	if err != nil {
		panic(err)
	}
	mw, err := idempotency.NewMiddleware(idempotency.NewMemoryStore(nil), idempotency.Config{Hooks: hooks})
	if err != nil {
		panic(err)
	}
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }))
	for range 2 { // a client retries after a timeout
		r := httptest.NewRequest(http.MethodPost, "/v1/orders", strings.NewReader(`{"sku":"cup"}`))
		r.Header.Set(idempotency.KeyHeader, "order-7f3a")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, md := range rm.ScopeMetrics[0].Metrics {
		for _, dp := range md.Data.(metricdata.Sum[int64]).DataPoints {
			fmt.Println(md.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
		}
	}
	// Output: bedrock.idempotency.requests bedrock.idempotency.outcome=replayed 1
}
