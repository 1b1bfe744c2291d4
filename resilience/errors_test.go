package resilience_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/resilience"
)

func TestErrors_MessagesAndMatching(t *testing.T) {
	until := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	cases := []struct {
		name string
		err  error
		msg  string
		is   error
	}{
		{"open", &resilience.OpenError{Until: until}, "resilience: circuit breaker is open until 2026-01-01T00:00:30Z", resilience.ErrOpen},
		{"half-open full", &resilience.OpenError{}, "resilience: circuit breaker is half-open: trial calls in progress", resilience.ErrOpen},
		{"timeout", &resilience.TimeoutError{Timeout: time.Second}, "resilience: timed out after 1s", resilience.ErrTimeout},
		{"retry after", &resilience.RetryAfterError{After: 2 * time.Second, Err: errBoom}, "resilience: retry after 2s: boom", errBoom},
		{"retry after bare", &resilience.RetryAfterError{After: time.Second}, "resilience: retry after 1s", nil},
		{"permanent", resilience.Permanent(errBoom), "boom", errBoom},
		{"status", &resilience.StatusError{StatusCode: 503}, "resilience: HTTP status 503", nil},
		{"budget", &resilience.RetryError{Attempts: 2, Reason: resilience.GaveUpBudget, Err: errBoom}, "resilience: gave up after 2 attempt(s): retry budget exhausted: boom", resilience.ErrBudgetExhausted},
		{"retry-after too long", &resilience.RetryError{Attempts: 1, Reason: resilience.GaveUpRetryAfter, RetryAfter: time.Minute, Remaining: time.Second},
			"resilience: gave up after 1 attempt(s): retry-after exceeds the remaining budget (retry-after 1m0s, remaining 1s)", resilience.ErrRetryAfterTooLong},
		{"elapsed", &resilience.RetryError{Attempts: 4, Reason: resilience.GaveUpMaxElapsed}, "resilience: gave up after 4 attempt(s): max elapsed time reached", resilience.ErrRetriesExhausted},
		{"deadline", &resilience.RetryError{Attempts: 4, Reason: resilience.GaveUpDeadline}, "resilience: gave up after 4 attempt(s): context deadline too close for another attempt", resilience.ErrRetriesExhausted},
		{"unknown reason", &resilience.RetryError{Attempts: 1, Reason: 99}, "resilience: gave up after 1 attempt(s): GiveUpReason(99)", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.msg, tc.err.Error())
			if tc.is != nil {
				assert.ErrorIs(t, tc.err, tc.is)
			}
		})
	}
	assert.NoError(t, resilience.Permanent(nil))
	assert.Zero(t, (&resilience.OpenError{Until: until}).RetryAfter(until.Add(time.Second)))
	assert.NotErrorIs(t, &resilience.RetryError{Reason: resilience.GaveUpBudget}, resilience.ErrRetriesExhausted)
}

func TestRetry_OnGiveUpHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var gave []*resilience.RetryError
		r := newRetry(t, resilience.RetryConfig{MaxAttempts: 2, InitialDelay: time.Millisecond,
			Hooks: resilience.RetryHooks{OnGiveUp: func(e *resilience.RetryError) { gave = append(gave, e) }}})
		err := r.Do(t.Context(), func(context.Context) error { return errBoom })
		require.Len(t, gave, 1)
		var re *resilience.RetryError
		require.ErrorAs(t, err, &re)
		assert.Same(t, re, gave[0], "the hook sees the error returned")
	})
}

func TestBreakerMetrics_FailureRate(t *testing.T) {
	assert.Zero(t, resilience.BreakerMetrics{}.FailureRate())
	assert.InDelta(t, 0.25, resilience.BreakerMetrics{Calls: 8, Failures: 2}.FailureRate(), 1e-9)
}

func TestFaultResult_LatencyAndErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fi := resilience.NewFaultInjector(nil)
		p, err := resilience.NewPipeline[int](resilience.InjectResult(fi, 42))
		require.NoError(t, err)
		real := func(context.Context) (int, error) { return 1, nil }

		require.NoError(t, fi.Set(resilience.Fault{Latency: time.Second, Respond: true}))
		start := time.Now()
		v, err := p.Execute(t.Context(), real)
		require.NoError(t, err)
		assert.Equal(t, 42, v)
		assert.Equal(t, time.Second, time.Since(start))

		require.NoError(t, fi.Set(resilience.Fault{Latency: time.Second}))
		v, err = p.Execute(t.Context(), real)
		require.NoError(t, err)
		assert.Equal(t, 1, v, "latency alone delays the real call")

		require.NoError(t, fi.Set(resilience.Fault{Every: 2, Err: errBoom}))
		_, err = p.Execute(t.Context(), real)
		assert.NoError(t, err, "first call spared")
		_, err = p.Execute(t.Context(), real)
		assert.ErrorIs(t, err, errBoom, "second call hit")

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		require.NoError(t, fi.Set(resilience.Fault{Latency: time.Second}))
		_, err = p.Execute(ctx, real)
		assert.ErrorIs(t, err, context.Canceled)
	})
}
