package resilience_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/resilience"
)

func TestNewBudget_RejectsInvalidConfig(t *testing.T) {
	for name, cfg := range map[string]resilience.BudgetConfig{
		"negative ratio": {Ratio: -1},
		"huge ratio":     {Ratio: 1e6},
		"tiny window":    {Window: 5},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := resilience.NewBudget(cfg)
			assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
		})
	}
}

func TestBudget_AllowsRatioOfRequestsPlusFloor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := resilience.NewBudget(resilience.BudgetConfig{Ratio: 0.2, MinPerSecond: 1, Window: 10 * time.Second})
		require.NoError(t, err)
		assert.Equal(t, 10, b.Available(), "the floor alone: 1/s over 10s")
		for range 100 {
			b.Request()
		}
		assert.Equal(t, 30, b.Available())
		granted := 0
		for b.TryRetry() {
			granted++
		}
		assert.Equal(t, 30, granted)
		assert.Equal(t, 0, b.Available())

		// Requests and retries expire with the window, bucket by bucket.
		time.Sleep(10 * time.Second)
		assert.Equal(t, 10, b.Available())
	})
}

func TestBudget_NegativeFloorMeansRatioOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := resilience.NewBudget(resilience.BudgetConfig{Ratio: 0.5, MinPerSecond: -1})
		require.NoError(t, err)
		assert.False(t, b.TryRetry())
		b.Request()
		b.Request()
		assert.True(t, b.TryRetry())
		assert.False(t, b.TryRetry())
	})
}

func TestBudget_SharedBudgetStopsRetryStormAcrossCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		budget, err := resilience.NewBudget(resilience.BudgetConfig{Ratio: 0.1, MinPerSecond: -1})
		require.NoError(t, err)
		r := newRetry(t, resilience.RetryConfig{MaxAttempts: 5, InitialDelay: time.Millisecond, Budget: budget})
		var attempts, exhausted atomic.Int64
		var wg sync.WaitGroup
		for range 200 {
			wg.Go(func() {
				err := r.Do(t.Context(), func(context.Context) error { attempts.Add(1); return errBoom })
				if assert.Error(t, err) && assert.ErrorIs(t, err, errBoom) {
					if errors.Is(err, resilience.ErrBudgetExhausted) {
						exhausted.Add(1)
					}
				}
			})
		}
		wg.Wait()
		// Without the budget: 200*5 = 1000 attempts. With it: 200 first
		// attempts plus at most 10% of them as retries.
		assert.LessOrEqual(t, attempts.Load(), int64(220))
		assert.Greater(t, attempts.Load(), int64(200))
		assert.Greater(t, exhausted.Load(), int64(150))
	})
}

func TestBudget_ConcurrentRequestsAndRetriesKeepTheBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := resilience.NewBudget(resilience.BudgetConfig{}) // 20%, 3/s over 10s
		require.NoError(t, err)
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				for range 100 {
					b.Request()
				}
			})
		}
		wg.Wait()
		assert.Equal(t, 6400/5+30, b.Available())
		var granted atomic.Int64
		for range 64 {
			wg.Go(func() {
				for range 50 {
					if b.TryRetry() {
						granted.Add(1)
					}
				}
			})
		}
		wg.Wait()
		assert.Equal(t, int64(6400/5+30), granted.Load(), "no overshoot however many fail at once")
	})
}

func TestBudget_RequestDoesNotAllocate(t *testing.T) {
	b, err := resilience.NewBudget(resilience.BudgetConfig{})
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(100, b.Request))
}

func TestBudget_RetryAndHedgeSharingOneBudgetCountOneRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		budget, err := resilience.NewBudget(resilience.BudgetConfig{Ratio: 1, MinPerSecond: -1})
		require.NoError(t, err)
		retry := newRetry(t, resilience.RetryConfig{Budget: budget})
		h, err := resilience.NewHedge(resilience.HedgeConfig{Delay: time.Second, Budget: budget})
		require.NoError(t, err)
		p, err := resilience.NewPipeline[int](retry, h)
		require.NoError(t, err)
		for range 3 {
			_, err := p.Execute(t.Context(), func(context.Context) (int, error) { return 1, nil })
			require.NoError(t, err)
		}
		assert.Equal(t, 3, budget.Available(), "three executions, three requests")
	})
}
