package validateobserve_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/observe/validateobserve"
	"github.com/bedrock-go/bedrock/validate"
)

func Example() {
	// The reader stands in for the exporter observe.Setup installs.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	hooks, err := validateobserve.Hooks(mp)
	if err != nil {
		panic(err)
	}
	checker, err := validate.New(validate.Config{Hooks: hooks})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/v1/signup", strings.NewReader(`{"email":`))
	r.Header.Set("Content-Type", "application/json")
	var body struct{ Email string }
	fmt.Println(checker.DecodeJSON(r, &body) != nil)

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, md := range rm.ScopeMetrics[0].Metrics {
		for _, dp := range md.Data.(metricdata.Sum[int64]).DataPoints {
			fmt.Println(md.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
		}
	}
	// Output:
	// true
	// bedrock.validate.decode_errors bedrock.validate.reason=malformed_json 1
}
