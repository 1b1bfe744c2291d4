package benchmarks

import (
	"context"
	"testing"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/observe/pgxobserve"
)

// queryTracers are the tracers compared: none (bare pgx), pgxobserve, and
// otelpgx, the one users pick today, on the same SDK providers (recording
// spans, no exporter; metrics into a ManualReader).
func queryTracers(b *testing.B) (context.Context, map[string]pgx.QueryTracer) {
	tp := sdktrace.NewTracerProvider()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	bedrock, err := pgxobserve.New(pgxobserve.Config{TracerProvider: tp, MeterProvider: mp})
	if err != nil {
		b.Fatal(err)
	}
	anchor := otelpgx.NewTracer(otelpgx.WithTracerProvider(tp), otelpgx.WithMeterProvider(mp))
	// Queries run inside a request's span, as in a service: otelpgx makes
	// no span without a recording parent.
	ctx, parent := tp.Tracer("request").Start(context.Background(), "GET /items")
	b.Cleanup(func() { parent.End() })
	return ctx, map[string]pgx.QueryTracer{"bare": nil, "bedrock": bedrock, "otelpgx": anchor}
}

// BenchmarkPgxSelect1 is one `SELECT 1` round trip on the local PostgreSQL
// through a one-connection pool: bare pgx, with pgxobserve's tracer, and
// with otelpgx's.
func BenchmarkPgxSelect1(b *testing.B) {
	base := testenv.Postgres(b)
	ctx, tracers := queryTracers(b)
	for _, name := range []string{"bare", "bedrock", "otelpgx"} {
		cfg := base.Config()
		cfg.MaxConns, cfg.MinConns = 1, 1
		if tr := tracers[name]; tr != nil {
			cfg.ConnConfig.Tracer = tr
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pool.Close)
		b.Run(name, func(b *testing.B) {
			var n int
			b.ReportAllocs()
			for b.Loop() {
				if err := pool.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPgxTracerCost calls a tracer's TraceQueryStart and
// TraceQueryEnd for `SELECT 1` on a real connection without the round
// trip: the tracer's own CPU cost per query, which the load on a shared
// machine disturbs far less than a round trip. The unsampled variants run
// under a parent the sampler dropped (a service sampling a fraction of its
// requests): no span is recorded, the metrics still are.
func BenchmarkPgxTracerCost(b *testing.B) {
	base := testenv.Postgres(b)
	ctx, tracers := queryTracers(b)
	conn, err := base.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	start := pgx.TraceQueryStartData{SQL: "SELECT 1"}
	end := pgx.TraceQueryEndData{CommandTag: pgconn.NewCommandTag("SELECT 1")}
	unsampled := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}}))
	for _, name := range []string{"bedrock", "otelpgx"} {
		tr := tracers[name]
		for _, v := range []struct {
			suffix string
			ctx    context.Context
		}{{"", ctx}, {"-unsampled", unsampled}} {
			suffix, ctx := v.suffix, v.ctx
			b.Run(name+suffix, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					tr.TraceQueryEnd(tr.TraceQueryStart(ctx, conn.Conn(), start), conn.Conn(), end)
				}
			})
		}
	}
}
