package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/resilience"
)

func TestNewThrottler_RejectsInvalidConfig(t *testing.T) {
	for name, cfg := range map[string]resilience.ThrottlerConfig{
		"Multiplier below 1": {Multiplier: 0.5},
		"negative Window":    {Window: -time.Second},
		"tiny Window":        {Window: 5},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := resilience.NewThrottler(cfg)
			assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
		})
	}
}

var errRefused = &resilience.StatusError{StatusCode: 503}

func TestThrottler_ProbabilityFollowsTheSREFormula(t *testing.T) {
	for _, tc := range []struct {
		accepted, refused int
		want              float64
	}{
		{0, 0, 0},
		{10, 0, 0},
		{10, 10, 0},    // 20 requests, 2·10 accepts
		{5, 15, 0.476}, // (20 − 10) / 21
		{0, 20, 0.952}, // 20 / 21
	} {
		t.Run(fmt.Sprintf("%d accepted %d refused", tc.accepted, tc.refused), func(t *testing.T) {
			th, err := resilience.NewThrottler(resilience.ThrottlerConfig{Random: func() float64 { return 0.999 }})
			require.NoError(t, err)
			for range tc.accepted {
				require.NoError(t, th.Do(t.Context(), func(context.Context) error { return nil }))
			}
			for range tc.refused {
				require.ErrorIs(t, th.Do(t.Context(), func(context.Context) error { return errRefused }), errRefused)
			}
			assert.InDelta(t, tc.want, th.Probability(), 0.001)
		})
	}
}

func TestThrottler_RefusesLocallyAndRecoversWhenTheWindowPasses(t *testing.T) {
	c := &manualClock{}
	var rejections int
	th, err := resilience.NewThrottler(resilience.ThrottlerConfig{
		Window: 10 * time.Second, Now: c.Now, Random: func() float64 { return 0.5 },
		Hooks: resilience.ThrottlerHooks{OnReject: func(float64) { rejections++ }},
	})
	require.NoError(t, err)
	calls := 0
	refuse := func(context.Context) error { calls++; return errRefused }
	for range 100 {
		_ = th.Do(t.Context(), refuse)
	}
	// p rises past 0.5 after the second refusal: (2 − 0) / 3.
	assert.Equal(t, 2, calls, "the dependency saw only what the throttler let through")
	assert.Equal(t, 98, rejections)
	assert.ErrorIs(t, th.Allow(), resilience.ErrThrottled)

	c.Advance(11 * time.Second)
	assert.Zero(t, th.Probability())
	assert.NoError(t, th.Allow())
}

func TestDefaultIsRejection(t *testing.T) {
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"success":          {nil, false},
		"not found":        {errors.New("not found"), false},
		"canceled":         {context.Canceled, false},
		"HTTP 500":         {&resilience.StatusError{StatusCode: 500}, false},
		"deadline":         {context.DeadlineExceeded, true},
		"policy timeout":   {&resilience.TimeoutError{Timeout: time.Second}, true},
		"HTTP 503":         {&resilience.StatusError{StatusCode: 503}, true},
		"HTTP 429 wrapped": {fmt.Errorf("call: %w", &resilience.StatusError{StatusCode: 429}), true},
		"retry after":      {&resilience.RetryAfterError{After: time.Second}, true},
		"overloaded":       {resilience.ErrOverloaded, true},
		"breaker open":     {&resilience.OpenError{}, true},
		"bulkhead full":    {resilience.ErrBulkheadFull, true},
	} {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, resilience.DefaultIsRejection(tc.err)) })
	}
}

func TestDefaultRetryIf_DoesNotRetryLocalRefusals(t *testing.T) {
	assert.False(t, resilience.DefaultRetryIf(resilience.ErrThrottled))
	assert.False(t, resilience.DefaultRetryIf(fmt.Errorf("x: %w", resilience.ErrOverloaded)))
	assert.True(t, resilience.DefaultRetryIf(errRefused))
}

// TestPipeline_ThrottlerComposesWithRetryAndBreaker: the retry retries the
// dependency's refusals, the throttler counts each attempt, and once it
// refuses locally the retry stops instead of hammering.
func TestPipeline_ThrottlerComposesWithRetryAndBreaker(t *testing.T) {
	th, err := resilience.NewThrottler(resilience.ThrottlerConfig{Random: func() float64 { return 0.5 }})
	require.NoError(t, err)
	retry, err := resilience.NewRetry(resilience.RetryConfig{MaxAttempts: 5, InitialDelay: time.Nanosecond, MaxDelay: time.Nanosecond})
	require.NoError(t, err)
	breaker, err := resilience.NewBreaker(resilience.BreakerConfig{MinimumCalls: 100, WindowSize: 100})
	require.NoError(t, err)
	p, err := resilience.NewPipeline[int](retry, th, breaker)
	require.NoError(t, err)
	calls := 0
	_, err = p.Execute(t.Context(), func(context.Context) (int, error) { calls++; return 0, errRefused })
	assert.ErrorIs(t, err, resilience.ErrThrottled)
	assert.Equal(t, 2, calls, "two refusals raise p to 2/3, the third attempt is refused locally and not retried")
	assert.Equal(t, resilience.StateClosed, breaker.State())
}

func TestThrottler_AllowAndRecordDoNotAllocate(t *testing.T) {
	th, err := resilience.NewThrottler(resilience.ThrottlerConfig{})
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		if th.Allow() == nil {
			th.Record(nil)
		}
	}))
}

func TestThrottler_ConcurrentCallers(t *testing.T) {
	th, err := resilience.NewThrottler(resilience.ThrottlerConfig{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				_ = th.Do(context.Background(), func(context.Context) error {
					if (g+i)%3 == 0 {
						return errRefused
					}
					return nil
				})
			}
		})
	}
	wg.Wait()
	p := th.Probability()
	assert.GreaterOrEqual(t, p, 0.0)
	assert.Less(t, p, 0.5, "two thirds accepted: K=2 keeps the throttler open")
}
