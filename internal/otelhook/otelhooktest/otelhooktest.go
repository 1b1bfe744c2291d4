package otelhooktest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/internal/otelhook"
)

// Recorder is a meter provider whose metrics a test reads back with a
// ManualReader.
type Recorder struct {
	Reader *sdkmetric.ManualReader
	MP     *sdkmetric.MeterProvider
	scope  string
}

// NewRecorder returns a Recorder for the adapter package pkg (such as
// "cacheobserve"), whose metrics must all come from that package's scope.
func NewRecorder(t testing.TB, pkg string) *Recorder {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return &Recorder{Reader: reader, MP: mp, scope: otelhook.ScopePrefix + "/" + pkg}
}

// Collect returns every metric recorded so far, by name.
func (m *Recorder) Collect(t testing.TB) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, m.Reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		assert.Equal(t, m.scope, sm.Scope.Name)
		for _, md := range sm.Metrics {
			out[md.Name] = md
		}
	}
	return out
}

// AttrKey renders an attribute set as "k=v,k=v" in key order, so that a
// test can write the whole expected set as one string.
func AttrKey(s attribute.Set) string { return s.Encoded(attribute.DefaultEncoder()) }

// Counter asserts that name is a monotonic int64 sum with unit, and
// returns its value per attribute set.
func (m *Recorder) Counter(t testing.TB, name, unit string) map[string]int64 {
	t.Helper()
	md, ok := m.Collect(t)[name]
	require.Truef(t, ok, "metric %s not recorded", name)
	assert.Equal(t, unit, md.Unit, name)
	sum, ok := md.Data.(metricdata.Sum[int64])
	require.Truef(t, ok, "%s is a %T, not an int64 sum", name, md.Data)
	assert.True(t, sum.IsMonotonic, name)
	assert.Equal(t, metricdata.CumulativeTemporality, sum.Temporality, name)
	out := map[string]int64{}
	for _, dp := range sum.DataPoints {
		out[AttrKey(dp.Attributes)] = dp.Value
	}
	return out
}

// Gauge asserts that name is an int64 gauge with unit, and returns its
// value per attribute set.
func (m *Recorder) Gauge(t testing.TB, name, unit string) map[string]int64 {
	t.Helper()
	md, ok := m.Collect(t)[name]
	require.Truef(t, ok, "metric %s not recorded", name)
	assert.Equal(t, unit, md.Unit, name)
	g, ok := md.Data.(metricdata.Gauge[int64])
	require.Truef(t, ok, "%s is a %T, not an int64 gauge", name, md.Data)
	out := map[string]int64{}
	for _, dp := range g.DataPoints {
		out[AttrKey(dp.Attributes)] = dp.Value
	}
	return out
}

// Histogram asserts that name is a float64 histogram in seconds, and
// returns its data point per attribute set.
func (m *Recorder) Histogram(t testing.TB, name string) map[string]metricdata.HistogramDataPoint[float64] {
	t.Helper()
	md, ok := m.Collect(t)[name]
	require.Truef(t, ok, "metric %s not recorded", name)
	assert.Equal(t, "s", md.Unit, name)
	h, ok := md.Data.(metricdata.Histogram[float64])
	require.Truef(t, ok, "%s is a %T, not a float64 histogram", name, md.Data)
	out := map[string]metricdata.HistogramDataPoint[float64]{}
	for _, dp := range h.DataPoints {
		out[AttrKey(dp.Attributes)] = dp
	}
	return out
}

// HistogramCounts is Histogram reduced to the number of values per set.
func (m *Recorder) HistogramCounts(t testing.TB, name string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for k, dp := range m.Histogram(t, name) {
		out[k] = dp.Count
	}
	return out
}

// ErrNoInstrument is the error of every instrument a FailingProvider is
// asked for.
var ErrNoInstrument = errors.New("no instrument")

// failingMeter refuses to create instruments, as a meter given an invalid
// instrument or a broken SDK would.
type failingMeter struct{ noop.Meter }

func (failingMeter) Int64Counter(string, ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	return noop.Int64Counter{}, ErrNoInstrument
}

func (failingMeter) Float64Histogram(string, ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	return noop.Float64Histogram{}, ErrNoInstrument
}

func (failingMeter) Int64ObservableGauge(string, ...metric.Int64ObservableGaugeOption) (metric.Int64ObservableGauge, error) {
	return noop.Int64ObservableGauge{}, ErrNoInstrument
}

func (failingMeter) Float64ObservableGauge(string, ...metric.Float64ObservableGaugeOption) (metric.Float64ObservableGauge, error) {
	return noop.Float64ObservableGauge{}, ErrNoInstrument
}

func (failingMeter) Int64ObservableUpDownCounter(string, ...metric.Int64ObservableUpDownCounterOption) (metric.Int64ObservableUpDownCounter, error) {
	return noop.Int64ObservableUpDownCounter{}, ErrNoInstrument
}

// FailingProvider is a meter provider whose meters refuse every
// instrument with ErrNoInstrument.
type FailingProvider struct{ noop.MeterProvider }

// Meter implements metric.MeterProvider.
func (FailingProvider) Meter(string, ...metric.MeterOption) metric.Meter { return failingMeter{} }

// scopeProvider records the scopes it is asked meters for.
type scopeProvider struct {
	noop.MeterProvider
	mu     sync.Mutex
	scopes []string
}

func (p *scopeProvider) Meter(name string, _ ...metric.MeterOption) metric.Meter {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.scopes = append(p.scopes, name)
	return noop.Meter{}
}

// CheckAdapters runs the checks every adapter of the package pkg must pass,
// for each builder in adapters (by name):
//   - on a provider that refuses instruments, it fails with an error that
//     wraps the provider's and is prefixed with the package name;
//   - a nil provider means the global one, asked for a meter of the
//     package's own scope.
//
// It sets the global meter provider for a while: the test must not run in
// parallel with another that reads it.
func CheckAdapters(t *testing.T, pkg string, adapters map[string]func(metric.MeterProvider) error) {
	t.Helper()
	require.NotEmpty(t, adapters)
	for name, build := range adapters {
		t.Run(name+"/instrument failure", func(t *testing.T) {
			err := build(FailingProvider{})
			require.ErrorIs(t, err, ErrNoInstrument)
			assert.True(t, strings.HasPrefix(err.Error(), pkg+": "), err.Error())
		})
		t.Run(name+"/nil provider", func(t *testing.T) {
			prev := otel.GetMeterProvider()
			t.Cleanup(func() { otel.SetMeterProvider(prev) })
			global := &scopeProvider{}
			otel.SetMeterProvider(global)
			require.NoError(t, build(nil))
			global.mu.Lock()
			defer global.mu.Unlock()
			assert.True(t, slices.Contains(global.scopes, otelhook.ScopePrefix+"/"+pkg),
				"the global provider was asked for %v", global.scopes)
		})
	}
}

// AssertNoAllocs asserts that each call allocates nothing once its
// attribute sets exist (the first call of a new set may allocate).
func AssertNoAllocs(t *testing.T, calls map[string]func()) {
	t.Helper()
	require.NotEmpty(t, calls)
	for name, call := range calls {
		call()
		assert.Zero(t, testing.AllocsPerRun(100, call), name)
	}
}
