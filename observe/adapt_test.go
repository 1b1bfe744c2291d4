package observe_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// meterRecorder is a meter provider whose metrics a test reads back with a
// ManualReader.
type meterRecorder struct {
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newMeterRecorder(t testing.TB) *meterRecorder {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return &meterRecorder{reader: reader, mp: mp}
}

// collect returns every metric recorded so far, by name.
func (m *meterRecorder) collect(t testing.TB) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, m.reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		assert.Equal(t, "github.com/bedrock-go/bedrock/observe", sm.Scope.Name)
		for _, md := range sm.Metrics {
			out[md.Name] = md
		}
	}
	return out
}

// attrKey renders an attribute set as "k=v,k=v" in key order, so that a
// test can write the whole expected set as one string.
func attrKey(s attribute.Set) string { return s.Encoded(attribute.DefaultEncoder()) }

// counter asserts that name is a monotonic int64 sum with unit, and
// returns its value per attribute set.
func (m *meterRecorder) counter(t testing.TB, name, unit string) map[string]int64 {
	t.Helper()
	md, ok := m.collect(t)[name]
	require.Truef(t, ok, "metric %s not recorded", name)
	assert.Equal(t, unit, md.Unit, name)
	sum, ok := md.Data.(metricdata.Sum[int64])
	require.Truef(t, ok, "%s is a %T, not an int64 sum", name, md.Data)
	assert.True(t, sum.IsMonotonic, name)
	assert.Equal(t, metricdata.CumulativeTemporality, sum.Temporality, name)
	out := map[string]int64{}
	for _, dp := range sum.DataPoints {
		out[attrKey(dp.Attributes)] = dp.Value
	}
	return out
}

// gauge asserts that name is an int64 gauge with unit, and returns its
// value per attribute set.
func (m *meterRecorder) gauge(t testing.TB, name, unit string) map[string]int64 {
	t.Helper()
	md, ok := m.collect(t)[name]
	require.Truef(t, ok, "metric %s not recorded", name)
	assert.Equal(t, unit, md.Unit, name)
	g, ok := md.Data.(metricdata.Gauge[int64])
	require.Truef(t, ok, "%s is a %T, not an int64 gauge", name, md.Data)
	out := map[string]int64{}
	for _, dp := range g.DataPoints {
		out[attrKey(dp.Attributes)] = dp.Value
	}
	return out
}

// histogram asserts that name is a float64 histogram in seconds, and
// returns its count and sum per attribute set.
func (m *meterRecorder) histogram(t testing.TB, name string) map[string]metricdata.HistogramDataPoint[float64] {
	t.Helper()
	md, ok := m.collect(t)[name]
	require.Truef(t, ok, "metric %s not recorded", name)
	assert.Equal(t, "s", md.Unit, name)
	h, ok := md.Data.(metricdata.Histogram[float64])
	require.Truef(t, ok, "%s is a %T, not a float64 histogram", name, md.Data)
	out := map[string]metricdata.HistogramDataPoint[float64]{}
	for _, dp := range h.DataPoints {
		out[attrKey(dp.Attributes)] = dp
	}
	return out
}

// histogramCounts is histogram reduced to the number of values per set.
func (m *meterRecorder) histogramCounts(t testing.TB, name string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for k, dp := range m.histogram(t, name) {
		out[k] = dp.Count
	}
	return out
}
