package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/resilience"
)

func TestNewPipeline_RejectsBadPolicies(t *testing.T) {
	var nilBreaker *resilience.Breaker
	cases := []struct {
		name     string
		policies []resilience.Policy
		want     error
	}{
		{"nil interface", []resilience.Policy{nil}, resilience.ErrInvalidConfig},
		{"nil pointer", []resilience.Policy{nilBreaker}, resilience.ErrInvalidConfig},
		{"fallback of another type", []resilience.Policy{resilience.FallbackValue("x")}, resilience.ErrPolicyType},
		{"fault result of another type", []resilience.Policy{resilience.InjectResult(resilience.NewFaultInjector(nil), "x")}, resilience.ErrPolicyType},
		{"nil fallback func", []resilience.Policy{resilience.FallbackFunc[int](nil)}, resilience.ErrInvalidConfig},
		{"fault result without injector", []resilience.Policy{resilience.InjectResult[int](nil, 1)}, resilience.ErrInvalidConfig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resilience.NewPipeline[int](tc.policies...)
			assert.ErrorIs(t, err, tc.want)
			_, err = resilience.Run(t.Context(), func(context.Context) (int, error) { return 1, nil }, tc.policies...)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

// TestPipeline_CompositionOrder checks the documented order by its effects:
// fallback ⟶ retry ⟶ breaker ⟶ bulkhead ⟶ timeout ⟶ fn.
func TestPipeline_CompositionOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var events []string
		breaker := newBreaker(t, resilience.BreakerConfig{
			WindowSize: 2, MinimumCalls: 2, OpenDuration: time.Hour,
			Hooks: resilience.BreakerHooks{OnStateChange: func(c resilience.StateChange) { events = append(events, "breaker "+c.To.String()) }},
		})
		retry := newRetry(t, resilience.RetryConfig{
			MaxAttempts: 4, InitialDelay: time.Millisecond, Jitter: resilience.NoJitter,
			Hooks: resilience.RetryHooks{OnRetry: func(n int, err error, _ time.Duration) {
				events = append(events, fmt.Sprintf("retry after %d: %v", n, errors.Is(err, resilience.ErrTimeout)))
			}},
		})
		bulkhead := newBulkhead(t, resilience.BulkheadConfig{MaxConcurrent: 1})
		timeout, err := resilience.NewTimeout(resilience.TimeoutConfig{Duration: 100 * time.Millisecond})
		require.NoError(t, err)
		fallback := resilience.FallbackFunc(func(_ context.Context, err error) (string, error) {
			events = append(events, "fallback: "+err.Error())
			return "cached", nil
		})
		p, err := resilience.NewPipeline[string](fallback, retry, breaker, bulkhead, timeout)
		require.NoError(t, err)

		v, err := p.Execute(t.Context(), func(ctx context.Context) (string, error) {
			events = append(events, fmt.Sprintf("call in bulkhead=%d", bulkhead.InFlight()))
			<-ctx.Done() // the dependency hangs until the timeout
			return "", ctx.Err()
		})
		require.NoError(t, err)
		assert.Equal(t, "cached", v)
		assert.Equal(t, []string{
			"call in bulkhead=1",  // the bulkhead is inside the retry: one slot per attempt
			"retry after 1: true", // the timeout is inside the retry: each attempt times out
			"call in bulkhead=1",  //
			"breaker open",        // the breaker sees each attempt: two timeouts trip it
			"retry after 2: true", // the retry outside the breaker still runs...
			"fallback: resilience: circuit breaker is open until 2000-01-01T01:00:00.201Z",
		}, events)
		assert.Equal(t, 0, bulkhead.InFlight())
	})
}

func TestPipeline_TimeoutOutsideRetryBoundsTheWhole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		timeout, err := resilience.NewTimeout(resilience.TimeoutConfig{Duration: time.Second})
		require.NoError(t, err)
		retry := newRetry(t, resilience.RetryConfig{MaxAttempts: -1, InitialDelay: 300 * time.Millisecond, Jitter: resilience.NoJitter, Multiplier: 1})
		p, err := resilience.NewPipeline[int](timeout, retry)
		require.NoError(t, err)
		start := time.Now()
		calls := 0
		_, err = p.Execute(t.Context(), func(context.Context) (int, error) { calls++; return 0, errBoom })
		// 0, 300, 600, 900ms; the retry stops before a wait past 1s.
		assert.Equal(t, 4, calls)
		assert.ErrorIs(t, err, errBoom)
		assert.ErrorIs(t, err, resilience.ErrRetriesExhausted)
		assert.Equal(t, 900*time.Millisecond, time.Since(start))
	})
}

func TestPipeline_RetryWaitsOutOpenBreakerWhenAsked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		breaker := newBreaker(t, resilience.BreakerConfig{WindowSize: 1, MinimumCalls: 1, OpenDuration: 5 * time.Second})
		var waits []time.Duration
		retry := newRetry(t, resilience.RetryConfig{
			MaxAttempts: 4, InitialDelay: time.Millisecond, Jitter: resilience.NoJitter,
			RetryIf: func(error) bool { return true },
			Hooks:   resilience.RetryHooks{OnRetry: func(_ int, _ error, d time.Duration) { waits = append(waits, d) }},
		})
		p, err := resilience.NewPipeline[int](retry, breaker)
		require.NoError(t, err)
		calls := 0
		start := time.Now()
		v, err := p.Execute(t.Context(), func(context.Context) (int, error) {
			calls++
			if calls == 1 {
				return 0, errBoom
			}
			return 7, nil
		})
		require.NoError(t, err)
		assert.Equal(t, 7, v)
		assert.Equal(t, 2, calls)
		require.GreaterOrEqual(t, len(waits), 2)
		assert.Equal(t, []time.Duration{time.Millisecond, 5*time.Second - time.Millisecond}, waits[:2],
			"backoff after the failure, then the rest of the open period")
		// The open period ends on a timer; at that very instant the breaker
		// may still reject once, costing one more short backoff.
		assert.LessOrEqual(t, time.Since(start), 5*time.Second+10*time.Millisecond)
	})
}

func TestRetry_OpenBreakerWaitBeyondCapGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		breaker := newBreaker(t, resilience.BreakerConfig{})
		breaker.Trip() // open for the default 30s
		retry := newRetry(t, resilience.RetryConfig{RetryIf: func(error) bool { return true }, MaxRetryAfter: 10 * time.Second})
		err := retry.Do(t.Context(), func(ctx context.Context) error {
			return breaker.Do(ctx, func(context.Context) error { return nil })
		})
		assert.ErrorIs(t, err, resilience.ErrRetryAfterTooLong)
		assert.ErrorIs(t, err, resilience.ErrOpen)
	})
}

func TestPipeline_FallbackOnlyForChosenErrors(t *testing.T) {
	errNotFound := errors.New("not found")
	fb := resilience.FallbackValue(-1).When(func(err error) bool { return errors.Is(err, resilience.ErrOpen) })
	cases := []struct {
		name   string
		err    error
		ctx    func(context.Context) context.Context
		want   int
		wantIs error
	}{
		{"chosen error replaced", &resilience.OpenError{}, nil, -1, nil},
		{"other error kept", errNotFound, nil, 0, errNotFound},
		{"cancelled caller gets no fallback", &resilience.OpenError{}, func(ctx context.Context) context.Context {
			c, cancel := context.WithCancel(ctx)
			cancel()
			return c
		}, 0, resilience.ErrOpen},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			if tc.ctx != nil {
				ctx = tc.ctx(ctx)
			}
			v, err := fb.Do(ctx, func(context.Context) (int, error) { return 0, tc.err })
			assert.Equal(t, tc.want, v)
			if tc.wantIs == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.wantIs)
			}
		})
	}
}

func TestPipeline_ExecuteDoesNotAllocate(t *testing.T) {
	breaker := newBreaker(t, resilience.BreakerConfig{})
	retry := newRetry(t, resilience.RetryConfig{})
	bulkhead := newBulkhead(t, resilience.BulkheadConfig{})
	faults := resilience.NewFaultInjector(nil)
	p, err := resilience.NewPipeline[int](resilience.FallbackValue(0), retry, breaker, bulkhead, faults, resilience.InjectResult(faults, 1))
	require.NoError(t, err)
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = p.Execute(ctx, fn) }))
}

func TestPipeline_ConcurrentUse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		breaker := newBreaker(t, resilience.BreakerConfig{FailureRateThreshold: 1, MinimumCalls: 100})
		retry := newRetry(t, resilience.RetryConfig{MaxAttempts: 5, InitialDelay: time.Millisecond})
		bulkhead := newBulkhead(t, resilience.BulkheadConfig{MaxConcurrent: 16, MaxQueue: 1000})
		p, err := resilience.NewPipeline[int](retry, breaker, bulkhead)
		require.NoError(t, err)
		results := make(chan error, 1000)
		for i := range 1000 {
			go func() {
				n := 0
				_, err := p.Execute(t.Context(), func(context.Context) (int, error) {
					n++
					time.Sleep(time.Millisecond)
					if n < 2 && i%3 == 0 {
						return 0, errBoom
					}
					return i, nil
				})
				results <- err
			}()
		}
		for range 1000 {
			assert.NoError(t, <-results)
		}
	})
}
