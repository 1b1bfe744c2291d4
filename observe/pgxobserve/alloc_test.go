package pgxobserve

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// TestTracer_QueryAllocationBudget bounds what the tracer itself allocates
// per query of a known statement, apart from what the OpenTelemetry SDK
// allocates for a span: the in-flight record (which is its own context) and the span's
// context.
func TestTracer_QueryAllocationBudget(t *testing.T) {
	tr, err := New(Config{TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := pgx.TraceQueryStartData{SQL: "SELECT id FROM items WHERE id = $1", Args: []any{1}}
	end := pgx.TraceQueryEndData{CommandTag: pgconn.NewCommandTag("SELECT 1")}
	tr.TraceQueryEnd(tr.TraceQueryStart(ctx, nil, start), nil, end) // analyse and cache the statement
	allocs := testing.AllocsPerRun(100, func() {
		tr.TraceQueryEnd(tr.TraceQueryStart(ctx, nil, start), nil, end)
	})
	if allocs > 2 {
		t.Errorf("%v allocations per query, want at most 2", allocs)
	}
}
