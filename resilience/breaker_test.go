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

var errBoom = errors.New("boom")

func newBreaker(t testing.TB, cfg resilience.BreakerConfig) *resilience.Breaker {
	t.Helper()
	b, err := resilience.NewBreaker(cfg)
	require.NoError(t, err)
	return b
}

// record reports n calls with err through the two-step API.
func record(t testing.TB, b *resilience.Breaker, n int, err error) {
	t.Helper()
	for range n {
		tk, aerr := b.Acquire()
		require.NoError(t, aerr)
		tk.Done(err)
	}
}

func TestNewBreaker_RejectsInvalidConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  resilience.BreakerConfig
	}{
		{"unknown window", resilience.BreakerConfig{Window: 7}},
		{"negative window size", resilience.BreakerConfig{WindowSize: -1}},
		{"huge window size", resilience.BreakerConfig{WindowSize: 1 << 20}},
		{"minimum above window", resilience.BreakerConfig{WindowSize: 5, MinimumCalls: 6}},
		{"negative minimum", resilience.BreakerConfig{MinimumCalls: -1}},
		{"threshold above one", resilience.BreakerConfig{FailureRateThreshold: 1.5}},
		{"negative threshold", resilience.BreakerConfig{FailureRateThreshold: -0.1}},
		{"NaN threshold", resilience.BreakerConfig{FailureRateThreshold: nan()}},
		{"negative slow duration", resilience.BreakerConfig{SlowCallDuration: -time.Second}},
		{"negative open duration", resilience.BreakerConfig{OpenDuration: -time.Second}},
		{"negative half-open calls", resilience.BreakerConfig{HalfOpenCalls: -1}},
		{"too many buckets", resilience.BreakerConfig{Window: resilience.TimeWindow, Buckets: 1 << 17}},
		{"window shorter than buckets", resilience.BreakerConfig{Window: resilience.TimeWindow, WindowDuration: 5, Buckets: 10}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resilience.NewBreaker(tc.cfg)
			assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
			assert.Panics(t, func() { resilience.MustNewBreaker(tc.cfg) })
		})
	}
}

func nan() float64 { var z float64; return z / z }

func TestBreaker_CountWindowTripsAtFailureRate(t *testing.T) {
	cases := []struct {
		name              string
		successes, failed int
		wantState         resilience.State
	}{
		{"below minimum calls", 0, 4, resilience.StateClosed},
		{"below threshold", 6, 4, resilience.StateClosed},
		{"at threshold", 5, 5, resilience.StateOpen},
		{"above threshold", 0, 5 + 5, resilience.StateOpen},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBreaker(t, resilience.BreakerConfig{WindowSize: 10, MinimumCalls: 5, FailureRateThreshold: 0.5})
			record(t, b, tc.successes, nil)
			if tc.failed > 0 {
				for range tc.failed {
					tk, err := b.Acquire()
					if err != nil {
						break // opened on the way
					}
					tk.Done(errBoom)
				}
			}
			assert.Equal(t, tc.wantState, b.State())
		})
	}
}

func TestBreaker_CountWindowSlidesWithoutReset(t *testing.T) {
	b := newBreaker(t, resilience.BreakerConfig{WindowSize: 10, MinimumCalls: 10, FailureRateThreshold: 0.5})
	record(t, b, 4, errBoom)
	record(t, b, 6, nil)
	m := b.Metrics()
	assert.Equal(t, int64(10), m.Calls)
	assert.Equal(t, int64(4), m.Failures)
	// Four more successes push the four failures out, one at a time.
	for i := range 4 {
		record(t, b, 1, nil)
		assert.Equal(t, int64(3-i), b.Metrics().Failures, "after %d more successes", i+1)
		assert.Equal(t, int64(10), b.Metrics().Calls)
	}
	// The window now holds ten successes; five failures reach 50%.
	record(t, b, 4, errBoom)
	assert.Equal(t, resilience.StateClosed, b.State())
	record(t, b, 1, errBoom)
	assert.Equal(t, resilience.StateOpen, b.State())
}

func TestBreaker_TimeWindowExpiresBucketByBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, resilience.BreakerConfig{
			Window: resilience.TimeWindow, WindowDuration: 10 * time.Second, Buckets: 10,
			MinimumCalls: 7, FailureRateThreshold: 0.5,
		})
		record(t, b, 3, errBoom) // t=0
		time.Sleep(5 * time.Second)
		record(t, b, 3, nil) // t=5s
		assert.Equal(t, int64(6), b.Metrics().Calls)
		time.Sleep(5 * time.Second) // t=10s: the first bucket expired, not the second
		m := b.Metrics()
		assert.Equal(t, int64(3), m.Calls)
		assert.Equal(t, int64(0), m.Failures)
		// Had the expired failures stayed, three more would make 6/9: open.
		record(t, b, 3, errBoom)
		assert.Equal(t, resilience.StateClosed, b.State())
		record(t, b, 1, errBoom) // 4/7
		assert.Equal(t, resilience.StateOpen, b.State())
	})
}

func TestBreaker_TimeWindowForgetsEverythingAfterLongIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, resilience.BreakerConfig{Window: resilience.TimeWindow, WindowDuration: time.Second, MinimumCalls: 3})
		record(t, b, 2, errBoom)
		time.Sleep(time.Hour)
		assert.Equal(t, int64(0), b.Metrics().Calls)
		record(t, b, 2, errBoom)
		assert.Equal(t, resilience.StateClosed, b.State(), "the old failures must not count")
	})
}

func TestBreaker_SlowCallsTripEvenWhenSuccessful(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, resilience.BreakerConfig{
			WindowSize: 4, MinimumCalls: 4, FailureRateThreshold: 0.5, SlowCallDuration: 100 * time.Millisecond,
		})
		call := func(d time.Duration) error {
			return b.Do(t.Context(), func(context.Context) error { time.Sleep(d); return nil })
		}
		require.NoError(t, call(10*time.Millisecond))
		require.NoError(t, call(10*time.Millisecond))
		require.NoError(t, call(100*time.Millisecond))
		m := b.Metrics()
		assert.Equal(t, int64(1), m.Slow)
		assert.Equal(t, int64(1), m.Failures)
		require.NoError(t, call(200*time.Millisecond))
		assert.Equal(t, resilience.StateOpen, b.State())
	})
}

func TestBreaker_OpenRejectsUntilOpenDurationThenHalfOpens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, resilience.BreakerConfig{WindowSize: 2, MinimumCalls: 2, OpenDuration: 30 * time.Second})
		start := time.Now()
		record(t, b, 2, errBoom)
		require.Equal(t, resilience.StateOpen, b.State())

		time.Sleep(29 * time.Second)
		_, err := b.Acquire()
		require.ErrorIs(t, err, resilience.ErrOpen)
		var oe *resilience.OpenError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, start.Add(30*time.Second), oe.Until)
		assert.Equal(t, time.Second, oe.RetryAfter(time.Now()))
		assert.Equal(t, b.Generation(), oe.Generation)

		time.Sleep(time.Second)
		synctest.Wait() // let the open-state timer fire
		tk, err := b.Acquire()
		require.NoError(t, err)
		assert.Equal(t, resilience.StateHalfOpen, b.State())
		tk.Done(nil)
		assert.Equal(t, resilience.StateClosed, b.State())
		assert.Equal(t, int64(0), b.Metrics().Calls, "closing starts an empty window")
	})
}

func TestBreaker_HalfOpenAdmitsExactlyMaxCalls(t *testing.T) {
	for _, n := range []int{1, 3, 50} {
		t.Run("", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBreaker(t, resilience.BreakerConfig{WindowSize: 1, MinimumCalls: 1, OpenDuration: time.Second, HalfOpenCalls: n})
				record(t, b, 1, errBoom)
				time.Sleep(time.Second)
				synctest.Wait() // let the open-state timer fire

				var admitted, rejected atomic.Int64
				var wg sync.WaitGroup
				tickets := make(chan resilience.Ticket, 10_000)
				for range 10_000 {
					wg.Go(func() {
						tk, err := b.Acquire()
						if err != nil {
							assert.ErrorIs(t, err, resilience.ErrOpen)
							rejected.Add(1)
							return
						}
						admitted.Add(1)
						tickets <- tk
					})
				}
				wg.Wait()
				assert.Equal(t, int64(n), admitted.Load())
				assert.Equal(t, int64(10_000-n), rejected.Load())
				close(tickets)
				for tk := range tickets {
					tk.Done(nil)
				}
				assert.Equal(t, resilience.StateClosed, b.State())
			})
		})
	}
}

func TestBreaker_HalfOpenOutcomes(t *testing.T) {
	cases := []struct {
		name    string
		results []error
		want    resilience.State
	}{
		{"all trials succeed", []error{nil, nil, nil}, resilience.StateClosed},
		{"one failure reopens", []error{nil, errBoom}, resilience.StateOpen},
		{"cancellation frees the slot", []error{context.Canceled, nil, nil, nil}, resilience.StateClosed},
		{"partial success stays half-open", []error{nil, nil}, resilience.StateHalfOpen},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBreaker(t, resilience.BreakerConfig{WindowSize: 1, MinimumCalls: 1, OpenDuration: time.Second, HalfOpenCalls: 3})
				record(t, b, 1, errBoom)
				time.Sleep(time.Second)
				synctest.Wait() // let the open-state timer fire
				for _, err := range tc.results {
					tk, aerr := b.Acquire()
					require.NoError(t, aerr)
					tk.Done(err)
				}
				assert.Equal(t, tc.want, b.State())
			})
		})
	}
}

func TestBreaker_IgnoresResultsFromEarlierGeneration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, resilience.BreakerConfig{WindowSize: 2, MinimumCalls: 2, OpenDuration: time.Second})
		stale, err := b.Acquire() // admitted while closed, generation 0
		require.NoError(t, err)
		record(t, b, 2, errBoom) // opens: generation 1
		time.Sleep(time.Second)
		synctest.Wait()           // let the open-state timer fire
		trial, err := b.Acquire() // half-open: generation 2
		require.NoError(t, err)
		stale.Done(errBoom) // must neither reopen nor count anywhere
		assert.Equal(t, resilience.StateHalfOpen, b.State())
		trial.Done(nil)
		assert.Equal(t, resilience.StateClosed, b.State())
		stale.Done(errBoom)
		assert.Equal(t, int64(0), b.Metrics().Calls, "a closed window of an old generation is not the current one")
		assert.Equal(t, uint64(3), b.Generation())
	})
}

func TestBreaker_ClassifiesOutcomes(t *testing.T) {
	errNotFound := errors.New("not found")
	cases := []struct {
		name     string
		classify func(error) resilience.Outcome
		err      error
		calls    int64
		failures int64
	}{
		{"success", nil, nil, 1, 0},
		{"failure", nil, errBoom, 1, 1},
		{"cancellation ignored", nil, context.Canceled, 0, 0},
		{"deadline exceeded is a failure", nil, context.DeadlineExceeded, 1, 1},
		{"policy timeout is a failure", nil, &resilience.TimeoutError{Timeout: time.Second}, 1, 1},
		{"caller-chosen success", func(err error) resilience.Outcome {
			if errors.Is(err, errNotFound) {
				return resilience.OutcomeSuccess
			}
			return resilience.DefaultClassify(err)
		}, errNotFound, 1, 0},
		{"caller-chosen ignore", func(error) resilience.Outcome { return resilience.OutcomeIgnored }, errBoom, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBreaker(t, resilience.BreakerConfig{Classify: tc.classify})
			record(t, b, 1, tc.err)
			m := b.Metrics()
			assert.Equal(t, tc.calls, m.Calls)
			assert.Equal(t, tc.failures, m.Failures)
		})
	}
}

func TestBreaker_AcquireTwoStepAndHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var changes []resilience.StateChange
		var rejects []resilience.State
		b := newBreaker(t, resilience.BreakerConfig{
			WindowSize: 2, MinimumCalls: 2, OpenDuration: time.Second, SlowCallDuration: time.Minute,
			Hooks: resilience.BreakerHooks{
				OnStateChange: func(c resilience.StateChange) { changes = append(changes, c) },
				OnReject:      func(s resilience.State) { rejects = append(rejects, s) },
			},
		})
		for range 2 {
			ticket, err := b.Acquire()
			require.NoError(t, err)
			ticket.Done(errBoom)
		}
		_, err := b.Acquire()
		assert.ErrorIs(t, err, resilience.ErrOpen)
		time.Sleep(time.Second)
		synctest.Wait() // let the open-state timer fire
		ticket, err := b.Acquire()
		require.NoError(t, err)
		_, err = b.Acquire()
		assert.ErrorIs(t, err, resilience.ErrOpen, "half-open with its trial taken")
		var oe *resilience.OpenError
		require.ErrorAs(t, err, &oe)
		assert.True(t, oe.Until.IsZero())
		ticket.Done(nil)

		require.Len(t, changes, 3)
		want := [][2]resilience.State{
			{resilience.StateClosed, resilience.StateOpen},
			{resilience.StateOpen, resilience.StateHalfOpen},
			{resilience.StateHalfOpen, resilience.StateClosed},
		}
		for i, c := range changes {
			assert.Equal(t, want[i], [2]resilience.State{c.From, c.To})
			assert.Equal(t, uint64(i+1), c.Generation)
		}
		assert.Equal(t, []resilience.State{resilience.StateOpen, resilience.StateHalfOpen}, rejects)
	})
}

func TestBreaker_PanicCountsAsFailure(t *testing.T) {
	b := newBreaker(t, resilience.BreakerConfig{WindowSize: 1, MinimumCalls: 1})
	assert.Panics(t, func() {
		_ = b.Do(t.Context(), func(context.Context) error { panic("bug") })
	})
	assert.Equal(t, resilience.StateOpen, b.State())
}

func TestBreaker_TripAndReset(t *testing.T) {
	b := newBreaker(t, resilience.BreakerConfig{})
	b.Trip()
	assert.Equal(t, resilience.StateOpen, b.State())
	assert.ErrorIs(t, b.Do(t.Context(), func(context.Context) error { return nil }), resilience.ErrOpen)
	b.Reset()
	assert.Equal(t, resilience.StateClosed, b.State())
	assert.NoError(t, b.Do(t.Context(), func(context.Context) error { return nil }))
	assert.Equal(t, uint64(2), b.Generation())
	assert.Equal(t, "half-open", resilience.StateHalfOpen.String())
	assert.Equal(t, "State(9)", resilience.State(9).String())
}

func TestBreaker_ConcurrentRecordingKeepsCountsExact(t *testing.T) {
	b := newBreaker(t, resilience.BreakerConfig{WindowSize: 64, MinimumCalls: 64, FailureRateThreshold: 1})
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := range 200 {
				tk, err := b.Acquire()
				if !assert.NoError(t, err) {
					return
				}
				if (g+i)%4 == 0 {
					tk.Done(errBoom)
				} else {
					tk.Done(nil)
				}
			}
		})
	}
	wg.Wait()
	m := b.Metrics()
	assert.Equal(t, int64(64), m.Calls)
	assert.True(t, m.Failures >= 0 && m.Failures <= 64, "failures %d", m.Failures)
	assert.Equal(t, resilience.StateClosed, b.State())
}

func TestBreaker_DoesNotAllocate(t *testing.T) {
	// A window larger than the runs keeps the failures from tripping it.
	closed := newBreaker(t, resilience.BreakerConfig{WindowSize: 1000, MinimumCalls: 1000})
	open := newBreaker(t, resilience.BreakerConfig{})
	open.Trip()
	slow := newBreaker(t, resilience.BreakerConfig{WindowSize: 1000, MinimumCalls: 1000, SlowCallDuration: time.Second})
	cases := []struct {
		name string
		fn   func()
	}{
		{"closed acquire and done", func() { tk, _ := closed.Acquire(); tk.Done(nil) }},
		{"closed failure", func() { tk, _ := closed.Acquire(); tk.Done(errBoom) }},
		{"open reject", func() { _, _ = open.Acquire() }},
		{"slow-call acquire", func() { tk, _ := slow.Acquire(); tk.Done(nil) }},
		{"do", func() { _ = closed.Do(context.Background(), succeed) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Zero(t, testing.AllocsPerRun(100, tc.fn))
		})
	}
}

func succeed(context.Context) error { return nil }

func TestBreaker_ExplicitClock(t *testing.T) {
	now := time.Unix(1_000, 0)
	b := newBreaker(t, resilience.BreakerConfig{
		WindowSize: 1, MinimumCalls: 1, OpenDuration: time.Minute,
		Now: func() time.Time { return now },
	})
	record(t, b, 1, errBoom)
	now = now.Add(time.Minute - time.Nanosecond)
	_, err := b.Acquire()
	assert.ErrorIs(t, err, resilience.ErrOpen)
	now = now.Add(time.Nanosecond)
	tk, err := b.Acquire()
	require.NoError(t, err, "with an explicit clock the open state ends exactly on time")
	assert.Equal(t, resilience.StateHalfOpen, b.State())
	tk.Done(nil)
	assert.Equal(t, resilience.StateClosed, b.State())
}

// TestBreaker_ConcurrentTransitions hammers a breaker that keeps opening,
// half-opening and closing, for the race detector.
func TestBreaker_ConcurrentTransitions(t *testing.T) {
	var clock atomic.Int64
	var changes atomic.Int64
	b := newBreaker(t, resilience.BreakerConfig{
		WindowSize: 8, MinimumCalls: 4, OpenDuration: time.Millisecond, HalfOpenCalls: 2,
		Now:   func() time.Time { return time.Unix(0, clock.Load()) },
		Hooks: resilience.BreakerHooks{OnStateChange: func(resilience.StateChange) { changes.Add(1) }},
	})
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 300 {
				clock.Add(int64(50 * time.Microsecond))
				tk, err := b.Acquire()
				if err != nil {
					continue
				}
				if (g+i)%3 == 0 {
					tk.Done(errBoom)
				} else {
					tk.Done(nil)
				}
			}
		})
	}
	wg.Wait()
	assert.Greater(t, b.Generation(), uint64(3), "the breaker must have cycled")
	assert.Equal(t, int64(b.Generation()), changes.Load(), "one hook call per transition")
	m := b.Metrics()
	assert.LessOrEqual(t, m.Failures, m.Calls)
}

func TestBreaker_SlowTrialReopens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, resilience.BreakerConfig{WindowSize: 1, MinimumCalls: 1, OpenDuration: time.Second, SlowCallDuration: 100 * time.Millisecond})
		record(t, b, 1, errBoom)
		time.Sleep(time.Second)
		synctest.Wait() // let the open-state timer fire
		err := b.Do(t.Context(), func(context.Context) error { time.Sleep(150 * time.Millisecond); return nil })
		require.NoError(t, err)
		assert.Equal(t, resilience.StateOpen, b.State(), "a slow trial is a failed trial")
	})
}
