package resilienceobserve_test

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/observe/resilienceobserve"
	"github.com/bedrock-go/bedrock/resilience"
)

// A service builds each package's hooks from its meter provider (nil: the
// global one) when it configures the package.
func ExampleBreakerHooks() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	hooks, err := resilienceobserve.BreakerHooks(mp, "payments")
	if err != nil {
		panic(err)
	}
	breaker, err := resilience.NewBreaker(resilience.BreakerConfig{WindowSize: 2, MinimumCalls: 2, Hooks: hooks})
	if err != nil {
		panic(err)
	}
	fail := func(context.Context) error { return errors.New("payment gateway down") }
	for range 3 {
		_ = breaker.Do(context.Background(), fail)
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
	// Output:
	// bedrock.resilience.breaker.transitions bedrock.resilience.breaker.from=closed,bedrock.resilience.breaker.to=open,bedrock.resilience.name=payments 1
	// bedrock.resilience.breaker.rejections bedrock.resilience.breaker.state=open,bedrock.resilience.name=payments 1
}

func ExampleAdaptiveLimiter() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	hooks, err := resilienceobserve.AdaptiveLimiterHooks(mp, "api")
	if err != nil {
		panic(err)
	}
	limiter, err := resilience.NewAdaptiveLimiter(resilience.AdaptiveLimiterConfig{Hooks: hooks})
	if err != nil {
		panic(err)
	}
	reg, err := resilienceobserve.AdaptiveLimiter(mp, "api", limiter)
	if err != nil {
		panic(err)
	}
	defer reg.Unregister()

	permit, _ := limiter.Acquire(context.Background())
	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	permit.Release(resilience.OutcomeSuccess)
	for _, md := range rm.ScopeMetrics[0].Metrics {
		switch data := md.Data.(type) {
		case metricdata.Gauge[int64]:
			fmt.Println(md.Name, data.DataPoints[0].Value)
		case metricdata.Sum[int64]:
			fmt.Println(md.Name, data.DataPoints[0].Value)
		}
	}
	// Output:
	// bedrock.resilience.limiter.limit 20
	// bedrock.resilience.limiter.in_flight 1
	// bedrock.resilience.limiter.queued 0
}
