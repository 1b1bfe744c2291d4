package redisobserve_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/bedrock-go/bedrock/observe/redisobserve"
)

// BenchmarkTracer_Process is the tracer's own cost per command, on the SDK
// with no exporter, without a round trip.
func BenchmarkTracer_Process(b *testing.B) {
	tr, err := redisobserve.NewTracer(redisobserve.Config{
		TracerProvider: sdktrace.NewTracerProvider(),
		MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
	})
	if err != nil {
		b.Fatal(err)
	}
	process := tr.ProcessHook(func(context.Context, redis.Cmder) error { return nil })
	cmd := redis.NewStringCmd(context.Background(), "get", "k")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = process(ctx, cmd)
	}
}
