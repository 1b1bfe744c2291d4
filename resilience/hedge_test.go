package resilience_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/resilience"
)

func hedgePipeline(t testing.TB, cfg resilience.HedgeConfig) (*resilience.Pipeline[int], *resilience.Hedge) {
	t.Helper()
	h, err := resilience.NewHedge(cfg)
	require.NoError(t, err)
	p, err := resilience.NewPipeline[int](h)
	require.NoError(t, err)
	return p, h
}

func TestNewHedge_RejectsInvalidConfig(t *testing.T) {
	for name, cfg := range map[string]resilience.HedgeConfig{
		"no delay nor percentile": {},
		"negative delay":          {Delay: -1},
		"percentile one":          {Delay: time.Second, Percentile: 1},
		"too many hedges":         {Delay: time.Second, MaxHedges: 17},
		"negative hedges":         {Delay: time.Second, MaxHedges: -1},
		"too many samples":        {Percentile: 0.9, MinSamples: 1000},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := resilience.NewHedge(cfg)
			assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
		})
	}
}

func TestHedge_FirstSuccessWinsAndLosersAreCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var hedges []int
		p, _ := hedgePipeline(t, resilience.HedgeConfig{
			Delay: 100 * time.Millisecond, MaxHedges: 2,
			Hooks: resilience.HedgeHooks{OnHedge: func(n int) { hedges = append(hedges, n) }},
		})
		var started, cancelled atomic.Int64
		latency := []time.Duration{time.Second, 50 * time.Millisecond, time.Second}
		start := time.Now()
		v, err := p.Execute(t.Context(), func(ctx context.Context) (int, error) {
			n := int(started.Add(1)) - 1
			select {
			case <-time.After(latency[n]):
				return n, nil
			case <-ctx.Done():
				cancelled.Add(1)
				return 0, ctx.Err()
			}
		})
		require.NoError(t, err)
		assert.Equal(t, 1, v, "the hedge answered first")
		assert.Equal(t, 150*time.Millisecond, time.Since(start))
		synctest.Wait()
		assert.Equal(t, int64(2), started.Load(), "no third request after the win")
		assert.Equal(t, int64(1), cancelled.Load(), "the first request was cancelled")
		assert.Equal(t, []int{1}, hedges)
	})
}

func TestHedge_FastCallSendsNoHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := hedgePipeline(t, resilience.HedgeConfig{Delay: 100 * time.Millisecond})
		var calls atomic.Int64
		_, err := p.Execute(t.Context(), func(context.Context) (int, error) {
			calls.Add(1)
			time.Sleep(10 * time.Millisecond)
			return 1, nil
		})
		require.NoError(t, err)
		assert.Equal(t, int64(1), calls.Load())
	})
}

func TestHedge_AllFailReturnsLastError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := hedgePipeline(t, resilience.HedgeConfig{Delay: 10 * time.Millisecond})
		var calls atomic.Int64
		_, err := p.Execute(t.Context(), func(context.Context) (int, error) {
			calls.Add(1)
			time.Sleep(50 * time.Millisecond)
			return 0, errBoom
		})
		assert.ErrorIs(t, err, errBoom)
		assert.Equal(t, int64(2), calls.Load())
	})
}

func TestHedge_SharesTheRetryBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		budget, err := resilience.NewBudget(resilience.BudgetConfig{Ratio: 0.1, MinPerSecond: -1})
		require.NoError(t, err)
		p, _ := hedgePipeline(t, resilience.HedgeConfig{Delay: 10 * time.Millisecond, Budget: budget})
		var calls atomic.Int64
		for range 100 {
			_, err := p.Execute(t.Context(), func(ctx context.Context) (int, error) {
				calls.Add(1)
				return 1, waitFor(20 * time.Millisecond)(ctx)
			})
			require.NoError(t, err)
		}
		assert.Equal(t, int64(100+10), calls.Load(), "10% of 100 requests may be hedged")
	})
}

func TestHedge_PercentileDelayFollowsLatencies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, h := hedgePipeline(t, resilience.HedgeConfig{Delay: time.Second, Percentile: 0.9, MinSamples: 10})
		assert.Equal(t, time.Second, h.Delay(), "fixed delay until enough samples")
		run := func(n int, latency time.Duration) {
			for range n {
				_, err := p.Execute(t.Context(), func(ctx context.Context) (int, error) {
					return 1, waitFor(latency)(ctx)
				})
				require.NoError(t, err)
			}
		}
		run(10, 5*time.Millisecond)
		assert.Equal(t, 5*time.Millisecond, h.Delay())
		// The dependency slows down: the delay follows once the recent
		// samples are slow ones.
		run(300, 20*time.Millisecond)
		assert.Equal(t, 20*time.Millisecond, h.Delay())
	})
}

func TestHedge_WithoutRetriesSendsOneRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := hedgePipeline(t, resilience.HedgeConfig{Delay: time.Millisecond})
		var calls atomic.Int64
		_, err := p.Execute(resilience.WithoutRetries(t.Context()), func(context.Context) (int, error) {
			calls.Add(1)
			time.Sleep(time.Second)
			return 1, nil
		})
		require.NoError(t, err)
		assert.Equal(t, int64(1), calls.Load())
	})
}

func TestHedge_CallerCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := hedgePipeline(t, resilience.HedgeConfig{Delay: time.Millisecond})
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := p.Execute(ctx, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, ctx.Err()
		})
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

// TestHedge_PercentileIsNotPulledDownByHedging: the first request is always
// slow and the hedge fast. Were only winners recorded, the percentile would
// fall to the hedge's 10ms and every call would be hedged at once.
func TestHedge_PercentileIsNotPulledDownByHedging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, h := hedgePipeline(t, resilience.HedgeConfig{Delay: 20 * time.Millisecond, Percentile: 0.9, MinSamples: 10})
		for range 100 {
			var n atomic.Int64
			_, err := p.Execute(t.Context(), func(ctx context.Context) (int, error) {
				if n.Add(1) == 1 {
					return 1, waitFor(100 * time.Millisecond)(ctx)
				}
				return 2, waitFor(10 * time.Millisecond)(ctx)
			})
			require.NoError(t, err)
		}
		assert.Greater(t, h.Delay(), 20*time.Millisecond)
	})
}

func TestHedge_PanicReachesTheCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := hedgePipeline(t, resilience.HedgeConfig{Delay: time.Second})
		assert.PanicsWithValue(t, "bug", func() {
			_, _ = p.Execute(t.Context(), func(context.Context) (int, error) { panic("bug") })
		})
	})
}
