package httpsecobserve_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/httpsec"
	"github.com/bedrock-go/bedrock/observe/httpsecobserve"
)

func Example() {
	// The reader stands in for the exporter observe.Setup installs.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	hooks, err := httpsecobserve.Hooks(mp)
	if err != nil {
		panic(err)
	}
	hosts, err := httpsec.NewHostCheck(httpsec.HostCheckConfig{AllowedHosts: []string{"api.example.com"}, Hooks: hooks})
	if err != nil {
		panic(err)
	}
	h := hosts.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, host := range []string{"api.example.com", "attacker.example"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host = host // the refused host is never recorded
		h.ServeHTTP(httptest.NewRecorder(), r)
	}

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, md := range rm.ScopeMetrics[0].Metrics {
		for _, dp := range md.Data.(metricdata.Sum[int64]).DataPoints {
			fmt.Println(md.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
		}
	}
	// Output: bedrock.httpsec.rejections bedrock.httpsec.reason=host_not_allowed 1
}
