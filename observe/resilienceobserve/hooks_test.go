package resilienceobserve_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/resilienceobserve"
	"github.com/bedrock-go/bedrock/resilience"
)

var errBoom = errors.New("boom")

func TestBreakerHooks_RecordTransitionsStateAndRejections(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "resilienceobserve")
	hooks, err := resilienceobserve.BreakerHooks(m.MP, "payments")
	require.NoError(t, err)
	now := time.Unix(1_700_000_000, 0)
	b, err := resilience.NewBreaker(resilience.BreakerConfig{
		WindowSize: 4, MinimumCalls: 2, OpenDuration: time.Minute,
		Now: func() time.Time { return now }, Hooks: hooks,
	})
	require.NoError(t, err)
	ctx := context.Background()
	fail := func(context.Context) error { return errBoom }

	for range 2 {
		require.ErrorIs(t, b.Do(ctx, fail), errBoom)
	}
	require.Equal(t, resilience.StateOpen, b.State())
	require.ErrorIs(t, b.Do(ctx, fail), resilience.ErrOpen)
	require.ErrorIs(t, b.Do(ctx, fail), resilience.ErrOpen)
	now = now.Add(time.Minute)
	require.NoError(t, b.Do(ctx, func(context.Context) error { return nil }))
	require.Equal(t, resilience.StateClosed, b.State())

	assert.Equal(t, map[string]int64{
		"bedrock.resilience.breaker.from=closed,bedrock.resilience.breaker.to=open,bedrock.resilience.name=payments":      1,
		"bedrock.resilience.breaker.from=open,bedrock.resilience.breaker.to=half-open,bedrock.resilience.name=payments":   1,
		"bedrock.resilience.breaker.from=half-open,bedrock.resilience.breaker.to=closed,bedrock.resilience.name=payments": 1,
	}, m.Counter(t, "bedrock.resilience.breaker.transitions", "{transition}"))
	assert.Equal(t, map[string]int64{
		"bedrock.resilience.breaker.state=open,bedrock.resilience.name=payments": 2,
	}, m.Counter(t, "bedrock.resilience.breaker.rejections", "{call}"))
}

func TestBreaker_ReportsTheCurrentStateAndFailureRate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "resilienceobserve")
	now := time.Unix(1_700_000_000, 0)
	b, err := resilience.NewBreaker(resilience.BreakerConfig{
		WindowSize: 4, MinimumCalls: 4, OpenDuration: time.Minute, Now: func() time.Time { return now },
	})
	require.NoError(t, err)
	reg, err := resilienceobserve.Breaker(m.MP, "payments", b)
	require.NoError(t, err)
	defer func() { require.NoError(t, reg.Unregister()) }()
	states := func(closed, open, halfOpen int64) map[string]int64 {
		return map[string]int64{
			"bedrock.resilience.breaker.state=closed,bedrock.resilience.name=payments":    closed,
			"bedrock.resilience.breaker.state=open,bedrock.resilience.name=payments":      open,
			"bedrock.resilience.breaker.state=half-open,bedrock.resilience.name=payments": halfOpen,
		}
	}
	rate := func() float64 {
		md := m.Collect(t)["bedrock.resilience.breaker.failure_rate"]
		assert.Equal(t, "1", md.Unit)
		g, ok := md.Data.(metricdata.Gauge[float64])
		require.True(t, ok)
		require.Len(t, g.DataPoints, 1)
		assert.Equal(t, "bedrock.resilience.name=payments", otelhooktest.AttrKey(g.DataPoints[0].Attributes))
		return g.DataPoints[0].Value
	}

	assert.Equal(t, states(1, 0, 0), m.Gauge(t, "bedrock.resilience.breaker.state", "{state}"), "known before any transition")
	ctx := context.Background()
	require.NoError(t, b.Do(ctx, func(context.Context) error { return nil }))
	require.ErrorIs(t, b.Do(ctx, func(context.Context) error { return errBoom }), errBoom)
	assert.InDelta(t, 0.5, rate(), 1e-9)
	b.Trip()
	assert.Equal(t, states(0, 1, 0), m.Gauge(t, "bedrock.resilience.breaker.state", "{state}"))
}

func TestRetryHooks_RecordRetriesByErrorClassAndGiveUps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := otelhooktest.NewRecorder(t, "resilienceobserve")
		hooks, err := resilienceobserve.RetryHooks(m.MP, "inventory")
		require.NoError(t, err)
		r, err := resilience.NewRetry(resilience.RetryConfig{
			MaxAttempts: 4, InitialDelay: 10 * time.Millisecond, Jitter: resilience.NoJitter, Hooks: hooks,
		})
		require.NoError(t, err)
		errs := []error{errBoom, resilience.ErrTimeout, resilience.ErrBulkheadFull, errBoom}
		calls := 0
		err = r.Do(context.Background(), func(context.Context) error {
			calls++
			return errs[calls-1]
		})
		require.ErrorIs(t, err, resilience.ErrRetriesExhausted)
		require.Equal(t, 4, calls)

		assert.Equal(t, map[string]int64{
			"bedrock.resilience.name=inventory,error.type=_OTHER":        1,
			"bedrock.resilience.name=inventory,error.type=timeout":       1,
			"bedrock.resilience.name=inventory,error.type=bulkhead_full": 1,
		}, m.Counter(t, "bedrock.resilience.retry.retries", "{retry}"))
		delays := m.Histogram(t, "bedrock.resilience.retry.delay")
		require.Len(t, delays, 1)
		dp := delays["bedrock.resilience.name=inventory"]
		assert.Equal(t, uint64(3), dp.Count)
		assert.InDelta(t, 0.070, dp.Sum, 1e-9) // 10 + 20 + 40 ms without jitter
		assert.Equal(t, map[string]int64{
			"bedrock.resilience.name=inventory,bedrock.resilience.retry.reason=max_attempts": 1,
		}, m.Counter(t, "bedrock.resilience.retry.give_ups", "{call}"))
	})
}

func TestBulkheadHooks_CountRejections(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "resilienceobserve")
	hooks, err := resilienceobserve.BulkheadHooks(m.MP, "reports")
	require.NoError(t, err)
	bh, err := resilience.NewBulkhead(resilience.BulkheadConfig{MaxConcurrent: 1, Hooks: hooks})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, bh.Acquire(ctx))
	for range 3 {
		require.ErrorIs(t, bh.Acquire(ctx), resilience.ErrBulkheadFull)
	}
	bh.Release()
	assert.Equal(t, map[string]int64{"bedrock.resilience.name=reports": 3},
		m.Counter(t, "bedrock.resilience.bulkhead.rejections", "{call}"))
}

func TestBulkhead_ReportsSlotsAndQueueAtCollection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := otelhooktest.NewRecorder(t, "resilienceobserve")
		bh, err := resilience.NewBulkhead(resilience.BulkheadConfig{MaxConcurrent: 2, MaxQueue: 5})
		require.NoError(t, err)
		reg, err := resilienceobserve.Bulkhead(m.MP, "reports", bh)
		require.NoError(t, err)
		ctx := context.Background()
		require.NoError(t, bh.Acquire(ctx))
		require.NoError(t, bh.Acquire(ctx))
		for range 3 {
			go func() {
				if bh.Acquire(ctx) == nil {
					bh.Release()
				}
			}()
		}
		synctest.Wait() // three callers queued
		upDown := func(name string) map[string]int64 {
			md := m.Collect(t)[name]
			assert.Equal(t, "{call}", md.Unit)
			sum, ok := md.Data.(metricdata.Sum[int64])
			require.Truef(t, ok, "%s is a %T", name, md.Data)
			assert.False(t, sum.IsMonotonic)
			out := map[string]int64{}
			for _, dp := range sum.DataPoints {
				out[otelhooktest.AttrKey(dp.Attributes)] = dp.Value
			}
			return out
		}
		assert.Equal(t, map[string]int64{"bedrock.resilience.name=reports": 2}, upDown("bedrock.resilience.bulkhead.in_flight"))
		assert.Equal(t, map[string]int64{"bedrock.resilience.name=reports": 3}, upDown("bedrock.resilience.bulkhead.queued"))

		bh.Release()
		bh.Release()
		synctest.Wait()
		assert.Equal(t, map[string]int64{"bedrock.resilience.name=reports": 0}, upDown("bedrock.resilience.bulkhead.queued"))
		require.NoError(t, reg.Unregister())
	})
}

func TestHedgeHooks_CountHedgedRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := otelhooktest.NewRecorder(t, "resilienceobserve")
		hooks, err := resilienceobserve.HedgeHooks(m.MP, "search")
		require.NoError(t, err)
		h, err := resilience.NewHedge(resilience.HedgeConfig{Delay: time.Millisecond, MaxHedges: 2, Hooks: hooks})
		require.NoError(t, err)
		p, err := resilience.NewPipeline[int](h)
		require.NoError(t, err)
		var started atomic.Int32
		got, err := p.Execute(context.Background(), func(ctx context.Context) (int, error) {
			// The hedge starts attempts a delay apart; the first two stall.
			if n := started.Add(1); n == 3 {
				return int(n), nil
			}
			<-ctx.Done()
			return 0, ctx.Err()
		})
		require.NoError(t, err)
		require.Equal(t, 3, got)
		assert.Equal(t, map[string]int64{"bedrock.resilience.name=search": 2},
			m.Counter(t, "bedrock.resilience.hedge.requests", "{request}"))
	})
}

func BenchmarkBreakerHooks_OnReject(b *testing.B) {
	hooks, err := resilienceobserve.BreakerHooks(otelhooktest.NewRecorder(b, "resilienceobserve").MP, "payments")
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		hooks.OnReject(resilience.StateOpen)
	}
}

func BenchmarkRetryHooks_OnRetry(b *testing.B) {
	hooks, err := resilienceobserve.RetryHooks(otelhooktest.NewRecorder(b, "resilienceobserve").MP, "inventory")
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		hooks.OnRetry(1, resilience.ErrTimeout, 10*time.Millisecond)
	}
}
