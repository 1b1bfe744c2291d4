package pgxobserve_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/bedrock-go/bedrock/observe/pgxobserve"
)

// BenchmarkTracer_Query is the tracer's own cost per query of a known
// statement, on the SDK with no exporter, without a round trip.
// benchmarks/ compares it with a bare round trip and with otelpgx.
func BenchmarkTracer_Query(b *testing.B) {
	tr, err := pgxobserve.New(pgxobserve.Config{
		TracerProvider: sdktrace.NewTracerProvider(),
		MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	start := pgx.TraceQueryStartData{SQL: "SELECT id FROM items WHERE id = $1", Args: []any{1}}
	end := pgx.TraceQueryEndData{CommandTag: pgconn.NewCommandTag("SELECT 1")}
	b.ReportAllocs()
	for b.Loop() {
		tr.TraceQueryEnd(tr.TraceQueryStart(ctx, nil, start), nil, end)
	}
}
