package pgxobserve

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/bedrock-go/bedrock/internal/otelhook"
	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
)

// SQL built with inlined identifiers has unbounded shapes; the duration
// histogram's series stay bounded all the same.
func TestTracer_MetricSeriesStayBounded(t *testing.T) {
	metrics := otelhooktest.NewRecorder(t, "pgxobserve")
	tr, err := New(Config{TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metrics.MP})
	require.NoError(t, err)
	ctx := context.Background()
	const n = otelhook.MaxDynamicSets + 100
	for i := range n {
		sql := fmt.Sprintf("SELECT * FROM t%d", i)
		tr.TraceQueryEnd(tr.TraceQueryStart(ctx, nil, pgx.TraceQueryStartData{SQL: sql}), nil, pgx.TraceQueryEndData{})
	}
	counts := metrics.HistogramCounts(t, "db.client.operation.duration")
	assert.LessOrEqual(t, len(counts), otelhook.MaxDynamicSets+1)
	assert.Equal(t, uint64(n-otelhook.MaxDynamicSets),
		counts["bedrock.db.query.fingerprint=_OTHER,db.operation.name=SELECT,db.system.name=postgresql"])
}
