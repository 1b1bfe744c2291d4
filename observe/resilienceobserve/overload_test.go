package resilienceobserve_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/resilienceobserve"
	"github.com/bedrock-go/bedrock/resilience"
)

func TestOverloadAdapters_FailCleanly(t *testing.T) {
	otelhooktest.CheckAdapters(t, "resilienceobserve", map[string]func(metric.MeterProvider) error{
		"adaptive limiter": func(mp metric.MeterProvider) error {
			_, err := resilienceobserve.AdaptiveLimiterHooks(mp, "x")
			return err
		},
		"throttler": func(mp metric.MeterProvider) error { _, err := resilienceobserve.ThrottlerHooks(mp, "x"); return err },
		"adaptive limiter gauges": func(mp metric.MeterProvider) error {
			l, err := resilience.NewAdaptiveLimiter(resilience.AdaptiveLimiterConfig{})
			if err != nil {
				return err
			}
			reg, err := resilienceobserve.AdaptiveLimiter(mp, "x", l)
			if err == nil {
				err = reg.Unregister()
			}
			return err
		},
	})
}

func TestAdaptiveLimiterHooks_CountShedCallsPerPriority(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := otelhooktest.NewRecorder(t, "resilienceobserve")
		hooks, err := resilienceobserve.AdaptiveLimiterHooks(m.MP, "api")
		require.NoError(t, err)
		l, err := resilience.NewAdaptiveLimiter(resilience.AdaptiveLimiterConfig{InitialLimit: 1, MaxLimit: 1, MaxQueue: 1, MaxWait: -1, Hooks: hooks})
		require.NoError(t, err)
		reg, err := resilienceobserve.AdaptiveLimiter(m.MP, "api", l)
		require.NoError(t, err)
		defer reg.Unregister()

		held, err := l.Acquire(t.Context())
		require.NoError(t, err)
		go func() {
			if p, err := l.Acquire(resilience.WithPriority(t.Context(), resilience.PrioritySheddable)); err == nil {
				p.Release(resilience.OutcomeSuccess)
			}
		}()
		synctest.Wait()
		assert.Equal(t, map[string]int64{"bedrock.resilience.name=api": 1}, m.Gauge(t, "bedrock.resilience.limiter.limit", "{call}"))
		go func() { // evicts the sheddable caller
			if p, err := l.Acquire(t.Context()); err == nil {
				p.Release(resilience.OutcomeSuccess)
			}
		}()
		synctest.Wait()
		_, err = l.Acquire(context.Background()) // finds the queue full of its equals
		require.ErrorIs(t, err, resilience.ErrOverloaded)
		held.Release(resilience.OutcomeSuccess)
		synctest.Wait()
		assert.Equal(t, map[string]int64{
			"bedrock.resilience.name=api,bedrock.resilience.priority=sheddable": 1,
			"bedrock.resilience.name=api,bedrock.resilience.priority=normal":    1,
		}, m.Counter(t, "bedrock.resilience.limiter.rejections", "{call}"))
	})
}

func TestOverloadHooks_DoNotAllocate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "resilienceobserve")
	limiter, err := resilienceobserve.AdaptiveLimiterHooks(m.MP, "api")
	require.NoError(t, err)
	throttler, err := resilienceobserve.ThrottlerHooks(m.MP, "payments")
	require.NoError(t, err)
	otelhooktest.AssertNoAllocs(t, map[string]func(){
		"limiter reject": func() { limiter.OnReject(resilience.PrioritySheddable) },
		"limiter change": func() { limiter.OnLimitChange(resilience.LimitChange{Old: 10, New: 9}) },
		"throttler":      func() { throttler.OnReject(0.5) },
	})
}
