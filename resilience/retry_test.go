package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/resilience"
)

func newRetry(t testing.TB, cfg resilience.RetryConfig) *resilience.Retry {
	t.Helper()
	r, err := resilience.NewRetry(cfg)
	require.NoError(t, err)
	return r
}

// failing returns an operation that fails n times with err, then succeeds,
// counting its calls.
func failing(n int, err error, calls *int) func(context.Context) error {
	return func(context.Context) error {
		*calls++
		if *calls <= n {
			return err
		}
		return nil
	}
}

func TestNewRetry_RejectsInvalidConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  resilience.RetryConfig
	}{
		{"negative max elapsed", resilience.RetryConfig{MaxElapsed: -1}},
		{"negative initial delay", resilience.RetryConfig{InitialDelay: -1}},
		{"max below initial", resilience.RetryConfig{InitialDelay: time.Second, MaxDelay: time.Millisecond}},
		{"multiplier below one", resilience.RetryConfig{Multiplier: 0.5}},
		{"NaN multiplier", resilience.RetryConfig{Multiplier: math.NaN()}},
		{"unknown jitter", resilience.RetryConfig{Jitter: 42}},
		{"negative retry-after cap", resilience.RetryConfig{MaxRetryAfter: -time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resilience.NewRetry(tc.cfg)
			assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
		})
	}
}

func TestRetry_BacksOffExponentiallyUntilSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var delays []time.Duration
		r := newRetry(t, resilience.RetryConfig{
			MaxAttempts: 5, InitialDelay: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond, Jitter: resilience.NoJitter,
			Hooks: resilience.RetryHooks{OnRetry: func(_ int, _ error, d time.Duration) { delays = append(delays, d) }},
		})
		calls := 0
		start := time.Now()
		require.NoError(t, r.Do(t.Context(), failing(4, errBoom, &calls)))
		assert.Equal(t, 5, calls)
		want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond}
		assert.Equal(t, want, delays)
		assert.Equal(t, 900*time.Millisecond, time.Since(start))
	})
}

func TestRetry_GivesUp(t *testing.T) {
	errNotFound := errors.New("not found")
	cases := []struct {
		name      string
		cfg       resilience.RetryConfig
		err       error
		wantCalls int
		wantIs    error
		wantErr   error // exact error returned, when not wrapped
	}{
		{"max attempts", resilience.RetryConfig{MaxAttempts: 3}, errBoom, 3, resilience.ErrRetriesExhausted, nil},
		{"permanent", resilience.RetryConfig{}, resilience.Permanent(errNotFound), 1, nil, errNotFound},
		{"predicate says no", resilience.RetryConfig{RetryIf: func(err error) bool { return !errors.Is(err, errNotFound) }}, errNotFound, 1, nil, errNotFound},
		{"inner deadline retried", resilience.RetryConfig{MaxAttempts: 3}, context.DeadlineExceeded, 3, resilience.ErrRetriesExhausted, nil},
		{"cancellation not retried", resilience.RetryConfig{}, context.Canceled, 1, context.Canceled, nil},
		{"breaker open not retried", resilience.RetryConfig{}, &resilience.OpenError{}, 1, resilience.ErrOpen, nil},
		{"max elapsed", resilience.RetryConfig{MaxAttempts: -1, MaxElapsed: 1500 * time.Millisecond, InitialDelay: time.Second, Jitter: resilience.NoJitter}, errBoom, 2, resilience.ErrRetriesExhausted, nil},
		{"retry-after above cap", resilience.RetryConfig{MaxRetryAfter: time.Minute}, &resilience.RetryAfterError{After: 2 * time.Minute, Err: errBoom}, 1, resilience.ErrRetryAfterTooLong, nil},
		{"retry-after beyond max elapsed", resilience.RetryConfig{MaxElapsed: 10 * time.Second}, &resilience.RetryAfterError{After: 20 * time.Second}, 1, resilience.ErrRetryAfterTooLong, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				calls := 0
				err := newRetry(t, tc.cfg).Do(t.Context(), failing(100, tc.err, &calls))
				assert.Equal(t, tc.wantCalls, calls)
				if tc.wantErr != nil {
					assert.Same(t, tc.wantErr, err)
				}
				if tc.wantIs != nil {
					assert.ErrorIs(t, err, tc.wantIs)
				}
			})
		})
	}
}

func TestRetry_RetryErrorWrapsLastError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := newRetry(t, resilience.RetryConfig{MaxAttempts: 2}).Do(t.Context(), func(context.Context) error { return errBoom })
		var re *resilience.RetryError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 2, re.Attempts)
		assert.Equal(t, resilience.GaveUpMaxAttempts, re.Reason)
		assert.ErrorIs(t, err, errBoom)
		assert.NotErrorIs(t, err, resilience.ErrBudgetExhausted)
		assert.Contains(t, err.Error(), "gave up after 2 attempt(s): max attempts reached: boom")
	})
}

func TestRetry_HonoursRetryAfterExactly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRetry(t, resilience.RetryConfig{InitialDelay: time.Millisecond, Jitter: resilience.NoJitter})
		calls := 0
		start := time.Now()
		err := r.Do(t.Context(), failing(1, &resilience.RetryAfterError{After: 7 * time.Second, Err: errBoom}, &calls))
		require.NoError(t, err)
		assert.Equal(t, 7*time.Second, time.Since(start))
	})
}

func TestRetry_RetryAfterBeyondContextDeadlineIsReportedAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		err := newRetry(t, resilience.RetryConfig{}).Do(ctx, func(context.Context) error {
			return &resilience.RetryAfterError{After: 10 * time.Second, Err: errBoom}
		})
		var re *resilience.RetryError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, resilience.GaveUpRetryAfter, re.Reason)
		assert.Equal(t, 10*time.Second, re.RetryAfter)
		assert.Equal(t, 5*time.Second, re.Remaining)
		assert.Zero(t, time.Since(start), "no sleeping into a certain failure")
	})
}

func TestRetry_BackoffBeyondContextDeadlineGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
		defer cancel()
		calls := 0
		err := newRetry(t, resilience.RetryConfig{MaxAttempts: 10, Jitter: resilience.NoJitter}).Do(ctx, failing(100, errBoom, &calls))
		assert.ErrorIs(t, err, resilience.ErrRetriesExhausted)
		assert.Equal(t, 2, calls, "after 100ms, a 200ms wait cannot end before the deadline")
		var re *resilience.RetryError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, resilience.GaveUpDeadline, re.Reason)
	})
}

func TestRetry_CancellationDuringBackoffReturnsContextError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		err := newRetry(t, resilience.RetryConfig{InitialDelay: time.Second, Jitter: resilience.NoJitter}).Do(ctx, func(context.Context) error { return errBoom })
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestRetry_WithoutRetriesMakesOneAttempt(t *testing.T) {
	calls := 0
	err := newRetry(t, resilience.RetryConfig{}).Do(resilience.WithoutRetries(t.Context()), failing(5, errBoom, &calls))
	assert.Same(t, errBoom, err)
	assert.Equal(t, 1, calls)
}

// delays collects the delays a Retry picks for n consecutive retries.
func delays(t *testing.T, cfg resilience.RetryConfig, n int) []time.Duration {
	var out []time.Duration
	synctest.Test(t, func(t *testing.T) {
		cfg.MaxAttempts = n + 1
		cfg.Hooks = resilience.RetryHooks{OnRetry: func(_ int, _ error, d time.Duration) { out = append(out, d) }}
		_ = newRetry(t, cfg).Do(t.Context(), func(context.Context) error { return errBoom })
	})
	return out
}

func TestRetry_JitterDistributions(t *testing.T) {
	const n = 2000
	const d = 100 * time.Millisecond
	cases := []struct {
		name     string
		jitter   resilience.Jitter
		lo, hi   time.Duration
		wantMean float64 // in units of d
	}{
		{"full", resilience.FullJitter, 0, d, 0.5},
		{"equal", resilience.EqualJitter, d / 2, d, 0.75},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := delays(t, resilience.RetryConfig{InitialDelay: d, MaxDelay: d, Jitter: tc.jitter}, n)
			require.Len(t, got, n)
			var sum float64
			for _, x := range got {
				require.True(t, x >= tc.lo && x <= tc.hi, "%v outside [%v, %v]", x, tc.lo, tc.hi)
				sum += float64(x) / float64(d)
			}
			// A uniform on a width-w interval has sd w/sqrt(12); 6 standard
			// errors make a false alarm vanishingly rare.
			width := float64(tc.hi-tc.lo) / float64(d)
			assert.InDelta(t, tc.wantMean, sum/n, 6*width/math.Sqrt(12*n))
		})
	}
	t.Run("decorrelated", func(t *testing.T) {
		got := delays(t, resilience.RetryConfig{InitialDelay: 10 * time.Millisecond, MaxDelay: time.Second, Jitter: resilience.DecorrelatedJitter}, n)
		require.Len(t, got, n)
		prev := 10 * time.Millisecond
		distinct := map[time.Duration]bool{}
		for _, x := range got {
			require.True(t, x >= 10*time.Millisecond && x <= min(time.Second, 3*prev), "%v after %v", x, prev)
			prev = x
			distinct[x] = true
		}
		assert.Greater(t, len(distinct), n/2, "delays must not follow a fixed curve")
	})
}

func TestRetry_FirstSuccessDoesNotAllocate(t *testing.T) {
	r := newRetry(t, resilience.RetryConfig{MaxElapsed: time.Minute})
	ctx := context.Background()
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = r.Do(ctx, succeed) }))
}

func TestRetry_MaxElapsedCountsAttemptTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRetry(t, resilience.RetryConfig{MaxAttempts: -1, MaxElapsed: 2500 * time.Millisecond, InitialDelay: 100 * time.Millisecond, Jitter: resilience.NoJitter})
		calls := 0
		start := time.Now()
		err := r.Do(t.Context(), func(context.Context) error {
			calls++
			time.Sleep(time.Second)
			return errBoom
		})
		// Attempts start at 0, 1.1s and 2.3s; the next would start at 3.7s.
		assert.Equal(t, 3, calls)
		assert.ErrorIs(t, err, resilience.ErrRetriesExhausted)
		assert.Equal(t, 3300*time.Millisecond, time.Since(start))
	})
}

// refusal is an error from another package that retrying cannot fix: it
// says so with a Permanent method, without importing resilience.
type refusal struct{ permanent bool }

func (r refusal) Error() string   { return "refused" }
func (r refusal) Permanent() bool { return r.permanent }

func TestDefaultRetryIf(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"plain error", errors.New("boom"), true},
		{"deadline", context.DeadlineExceeded, true},
		{"canceled", context.Canceled, false},
		{"breaker open", resilience.ErrOpen, false},
		{"says permanent", refusal{permanent: true}, false},
		{"says permanent, wrapped", fmt.Errorf("call: %w", refusal{permanent: true}), false},
		{"says not permanent", refusal{permanent: false}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, resilience.DefaultRetryIf(c.err))
		})
	}
}

func TestRetry_DoesNotRetryAnErrorThatSaysItIsPermanent(t *testing.T) {
	r := newRetry(t, resilience.RetryConfig{MaxAttempts: 5, InitialDelay: time.Nanosecond})
	calls := 0
	err := r.Do(t.Context(), func(context.Context) error {
		calls++
		return fmt.Errorf("dial: %w", refusal{permanent: true})
	})
	require.Error(t, err)
	assert.Equal(t, 1, calls)
}
