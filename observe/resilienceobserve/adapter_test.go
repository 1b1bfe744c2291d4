package resilienceobserve_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/resilienceobserve"
	"github.com/bedrock-go/bedrock/resilience"
)

func TestAdapters_FailCleanlyAndDefaultToTheGlobalProvider(t *testing.T) {
	otelhooktest.CheckAdapters(t, "resilienceobserve", map[string]func(metric.MeterProvider) error{
		"breaker":  func(mp metric.MeterProvider) error { _, err := resilienceobserve.BreakerHooks(mp, "x"); return err },
		"retry":    func(mp metric.MeterProvider) error { _, err := resilienceobserve.RetryHooks(mp, "x"); return err },
		"bulkhead": func(mp metric.MeterProvider) error { _, err := resilienceobserve.BulkheadHooks(mp, "x"); return err },
		"hedge":    func(mp metric.MeterProvider) error { _, err := resilienceobserve.HedgeHooks(mp, "x"); return err },
		"breaker gauges": func(mp metric.MeterProvider) error {
			b, err := resilience.NewBreaker(resilience.BreakerConfig{})
			if err != nil {
				return err
			}
			reg, err := resilienceobserve.Breaker(mp, "x", b)
			if err == nil {
				err = reg.Unregister()
			}
			return err
		},
		"bulkhead gauges": func(mp metric.MeterProvider) error {
			bh, err := resilience.NewBulkhead(resilience.BulkheadConfig{MaxConcurrent: 1})
			if err != nil {
				return err
			}
			reg, err := resilienceobserve.Bulkhead(mp, "x", bh)
			if err == nil {
				err = reg.Unregister()
			}
			return err
		},
	})
}

func TestAdapters_HookCallsDoNotAllocate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "resilienceobserve")
	breaker, err := resilienceobserve.BreakerHooks(m.MP, "payments")
	require.NoError(t, err)
	retry, err := resilienceobserve.RetryHooks(m.MP, "inventory")
	require.NoError(t, err)
	otelhooktest.AssertNoAllocs(t, map[string]func(){
		"breaker reject": func() { breaker.OnReject(resilience.StateOpen) },
		"breaker change": func() {
			breaker.OnStateChange(resilience.StateChange{From: resilience.StateClosed, To: resilience.StateOpen})
		},
		"retry": func() { retry.OnRetry(1, resilience.ErrTimeout, time.Millisecond) },
	})
}
