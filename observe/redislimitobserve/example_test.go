package redislimitobserve_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/observe/redislimitobserve"
	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/ratelimit/redislimit"
)

func Example() {
	// The reader stands in for the exporter observe.Setup installs.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	server, err := miniredis.Run() // stands in for a real Redis here
	if err != nil {
		panic(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: server.Addr(), ContextTimeoutEnabled: true, MaxRetries: -1})
	defer rdb.Close()

	hooks, err := redislimitobserve.Hooks(mp, "api")
	if err != nil {
		panic(err)
	}
	store, err := redislimit.New(rdb, redislimit.Config{WhenUnavailable: redislimit.FailOpen, Hooks: hooks})
	if err != nil {
		panic(err)
	}
	limiter, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{{Rate: 1, Period: time.Minute}}, Store: store})
	if err != nil {
		panic(err)
	}
	// Redis goes away: fail-open admits, and says so. The store keeps
	// trying until its time budget (Config.Timeout, 100ms) runs out.
	server.Close()
	res, _ := limiter.Allow(context.Background(), "user:42")
	fmt.Println("allowed:", res.Allowed)

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, md := range rm.ScopeMetrics[0].Metrics {
		for _, dp := range md.Data.(metricdata.Sum[int64]).DataPoints {
			fmt.Println(md.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
		}
	}
	// Output:
	// allowed: true
	// bedrock.ratelimit.redis.unavailable bedrock.ratelimit.limiter=api,bedrock.ratelimit.unavailable_policy=fail-open,error.type=deadline_exceeded 1
}
