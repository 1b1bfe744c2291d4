package ratelimitobserve_test

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/observe/ratelimitobserve"
	"github.com/bedrock-go/bedrock/ratelimit"
)

func Example() {
	// The reader stands in for the exporter observe.Setup installs.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	hooks, err := ratelimitobserve.Hooks(mp, "api")
	if err != nil {
		panic(err)
	}
	limiter, err := ratelimit.New(ratelimit.Config{
		Limits: []ratelimit.Limit{{Rate: 2, Period: time.Minute, Name: "per-user"}},
		Hooks:  hooks,
	})
	if err != nil {
		panic(err)
	}
	for range 3 {
		_, _ = limiter.Allow(context.Background(), "user:42") // the key is never recorded
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
	// bedrock.ratelimit.decisions bedrock.ratelimit.decision=allowed,bedrock.ratelimit.degraded=false,bedrock.ratelimit.limiter=api,bedrock.ratelimit.policy=per-user 2
	// bedrock.ratelimit.decisions bedrock.ratelimit.decision=limited,bedrock.ratelimit.degraded=false,bedrock.ratelimit.limiter=api,bedrock.ratelimit.policy=per-user 1
}
