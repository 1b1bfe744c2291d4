package cacheobserve_test

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/observe/cacheobserve"
)

func Example() {
	// The reader stands in for the exporter observe.Setup installs.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	hooks, err := cacheobserve.Hooks(mp, "users")
	if err != nil {
		panic(err)
	}
	users, err := cache.New(nil, cache.Config[string, string]{TTL: time.Minute, Hooks: hooks})
	if err != nil {
		panic(err)
	}
	defer users.Close()
	load := func(_ context.Context, id string) (string, error) { return "Ada", nil }
	for range 3 {
		_, _ = users.Get(context.Background(), "42", load)
	}

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, md := range rm.ScopeMetrics[0].Metrics {
		if sum, ok := md.Data.(metricdata.Sum[int64]); ok {
			for _, dp := range sum.DataPoints {
				fmt.Println(md.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
			}
		}
	}
	// Unordered output:
	// bedrock.cache.misses bedrock.cache.name=users 1
	// bedrock.cache.hits bedrock.cache.name=users,bedrock.cache.tier=local 2
}
