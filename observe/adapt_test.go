package observe_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/auth/token"
	"github.com/bedrock-go/bedrock/observe"
	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/resilience"
	"github.com/bedrock-go/bedrock/txn"
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

// failingMeter refuses to create counters, as a meter given an invalid
// instrument or a broken SDK would.
type failingMeter struct{ noop.Meter }

var errNoInstrument = errors.New("no instrument")

func (failingMeter) Int64Counter(string, ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	return noop.Int64Counter{}, errNoInstrument
}

func (failingMeter) Int64ObservableGauge(string, ...metric.Int64ObservableGaugeOption) (metric.Int64ObservableGauge, error) {
	return noop.Int64ObservableGauge{}, errNoInstrument
}

func (failingMeter) Int64ObservableUpDownCounter(string, ...metric.Int64ObservableUpDownCounterOption) (metric.Int64ObservableUpDownCounter, error) {
	return noop.Int64ObservableUpDownCounter{}, errNoInstrument
}

type failingProvider struct{ noop.MeterProvider }

func (failingProvider) Meter(string, ...metric.MeterOption) metric.Meter { return failingMeter{} }

// adapters builds every adapter on mp, by name.
func adapters(mp metric.MeterProvider) map[string]func() error {
	return map[string]func() error{
		"breaker":     func() error { _, err := observe.BreakerHooks(mp, "x"); return err },
		"retry":       func() error { _, err := observe.RetryHooks(mp, "x"); return err },
		"bulkhead":    func() error { _, err := observe.BulkheadHooks(mp, "x"); return err },
		"hedge":       func() error { _, err := observe.HedgeHooks(mp, "x"); return err },
		"ratelimit":   func() error { _, err := observe.RateLimitHooks(mp, "x"); return err },
		"memory":      func() error { _, err := observe.RateLimitMemoryHooks(mp, "x"); return err },
		"redislimit":  func() error { _, err := observe.RedisLimitHooks(mp, "x"); return err },
		"cache":       func() error { _, err := observe.CacheHooks(mp, "x"); return err },
		"txn":         func() error { _, err := observe.TxnHooks(mp); return err },
		"idempotency": func() error { _, err := observe.IdempotencyHooks(mp); return err },
		"auth":        func() error { _, err := observe.AuthFailureHook(mp); return err },
		"authz":       func() error { _, err := observe.AuthzDenyHook(mp, "p"); return err },
		"httpsec":     func() error { _, err := observe.HTTPSecHooks(mp); return err },
		"validate":    func() error { _, err := observe.ValidateHooks(mp); return err },
		"pagination":  func() error { _, err := observe.PaginationHooks(mp); return err },
		"keyring":     func() error { _, err := observe.KeyRingHooks(mp, "x"); return err },
		"envelope":    func() error { _, err := observe.EnvelopeHooks(mp); return err },
		"outbox":      func() error { _, err := observe.OutboxHooks(mp, "x"); return err },
		"observe breaker": func() error {
			b, err := resilience.NewBreaker(resilience.BreakerConfig{})
			if err != nil {
				return err
			}
			reg, err := observe.ObserveBreaker(mp, "x", b)
			if err == nil {
				err = reg.Unregister()
			}
			return err
		},
		"observe bulkhead": func() error {
			bh, err := resilience.NewBulkhead(resilience.BulkheadConfig{MaxConcurrent: 1})
			if err != nil {
				return err
			}
			reg, err := observe.ObserveBulkhead(mp, "x", bh)
			if err == nil {
				err = reg.Unregister()
			}
			return err
		},
	}
}

func TestAdapters_ReportInstrumentFailures(t *testing.T) {
	for name, build := range adapters(failingProvider{}) {
		t.Run(name, func(t *testing.T) {
			err := build()
			require.ErrorIs(t, err, errNoInstrument)
			assert.True(t, strings.HasPrefix(err.Error(), "observe: "), err.Error())
		})
	}
}

func TestAdapters_NilProviderMeansTheGlobalOne(t *testing.T) {
	prev := otel.GetMeterProvider()
	t.Cleanup(func() { otel.SetMeterProvider(prev) })
	m := newMeterRecorder(t)
	otel.SetMeterProvider(m.mp)
	for name, build := range adapters(nil) {
		require.NoError(t, build(), name)
	}
	hooks, err := observe.BulkheadHooks(nil, "global")
	require.NoError(t, err)
	hooks.OnReject()
	assert.Equal(t, map[string]int64{"bedrock.resilience.name=global": 1},
		m.counter(t, "bedrock.resilience.bulkhead.rejections", "{call}"))
}

func TestAdapters_HookCallsDoNotAllocate(t *testing.T) {
	m := newMeterRecorder(t)
	breaker, err := observe.BreakerHooks(m.mp, "payments")
	require.NoError(t, err)
	limiter, err := observe.RateLimitHooks(m.mp, "api")
	require.NoError(t, err)
	cacheHooks, err := observe.CacheHooks(m.mp, "users")
	require.NoError(t, err)
	txnHooks, err := observe.TxnHooks(m.mp)
	require.NoError(t, err)
	onFailure, err := observe.AuthFailureHook(m.mp)
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	expired := fmt.Errorf("x: %w", token.ErrTokenExpired)
	result := ratelimit.Result{Allowed: true, Limit: ratelimit.Limit{Rate: 1, Period: time.Second, Name: "per-user"}}
	attempt := txn.Attempt{Label: "transfer", Number: 1, Duration: time.Millisecond}
	for name, call := range map[string]func(){
		"breaker reject": func() { breaker.OnReject(resilience.StateOpen) },
		"breaker change": func() {
			breaker.OnStateChange(resilience.StateChange{From: resilience.StateClosed, To: resilience.StateOpen})
		},
		"limiter decided": func() { limiter.Decided("user-1", result) },
		"cache load":      func() { cacheHooks.OnLoad(time.Millisecond, nil) },
		"txn attempt":     func() { txnHooks.OnAttempt(context.Background(), attempt) },
		"auth failure":    func() { onFailure(r, expired) },
	} {
		call() // the first call of a new attribute set may allocate
		assert.Zero(t, testing.AllocsPerRun(100, call), name)
	}
}

func TestAdapters_ConcurrentHooksCountEveryEvent(t *testing.T) {
	m := newMeterRecorder(t)
	hooks, err := observe.RateLimitHooks(m.mp, "api")
	require.NoError(t, err)
	const goroutines, calls, policies = 64, 50, 8
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				// New policies appear while others are read: the sets
				// are copied on write under contention.
				name := "p" + strconv.Itoa((g+i)%policies)
				hooks.Decided("k", ratelimit.Result{Allowed: i%2 == 0, Limit: ratelimit.Limit{Name: name}})
			}
		})
	}
	wg.Wait()
	got := m.counter(t, "bedrock.ratelimit.decisions", "{decision}")
	assert.Len(t, got, policies*2)
	var total int64
	for _, v := range got {
		total += v
	}
	assert.Equal(t, int64(goroutines*calls), total)
}

// A service builds each package's hooks from its meter provider (nil: the
// global one) when it configures the package.
func ExampleBreakerHooks() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	hooks, err := observe.BreakerHooks(mp, "payments")
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
				fmt.Println(md.Name, attrKey(dp.Attributes), dp.Value)
			}
		}
	}
	// Output:
	// bedrock.resilience.breaker.transitions bedrock.resilience.breaker.from=closed,bedrock.resilience.breaker.to=open,bedrock.resilience.name=payments 1
	// bedrock.resilience.breaker.rejections bedrock.resilience.breaker.state=open,bedrock.resilience.name=payments 1
}
