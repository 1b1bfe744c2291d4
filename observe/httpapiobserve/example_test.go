package httpapiobserve_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/httpapi"
	"github.com/bedrock-go/bedrock/observe/httpapiobserve"
)

func Example() {
	// The reader stands in for the exporter observe.Setup installs.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	hooks, err := httpapiobserve.Hooks(mp)
	if err != nil {
		panic(err)
	}
	v0, err := httpapi.NewDeprecation(httpapi.DeprecationConfig{
		Name: "v0", Deprecated: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Successor: "/v1/products", Hooks: hooks,
	})
	if err != nil {
		panic(err)
	}
	h := v0.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v0/products", nil))
	}

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, md := range rm.ScopeMetrics[0].Metrics {
		for _, dp := range md.Data.(metricdata.Sum[int64]).DataPoints {
			fmt.Println(md.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
		}
	}
	// Output: bedrock.httpapi.deprecated_calls bedrock.httpapi.deprecation=v0,bedrock.httpapi.gone=false 3
}
