package resilience_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/resilience"
)

// manualClock is a clock the test moves by hand.
type manualClock struct{ ns atomic.Int64 }

func (c *manualClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *manualClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newAdaptive(t testing.TB, cfg resilience.AdaptiveLimiterConfig) *resilience.AdaptiveLimiter {
	t.Helper()
	l, err := resilience.NewAdaptiveLimiter(cfg)
	require.NoError(t, err)
	return l
}

func TestNewAdaptiveLimiter_RejectsInvalidConfig(t *testing.T) {
	for name, cfg := range map[string]resilience.AdaptiveLimiterConfig{
		"negative InitialLimit":   {InitialLimit: -1},
		"negative MinLimit":       {MinLimit: -1},
		"negative MaxLimit":       {MaxLimit: -1},
		"MinLimit above MaxLimit": {MinLimit: 10, MaxLimit: 5, InitialLimit: 5},
		"InitialLimit above Max":  {MaxLimit: 5, InitialLimit: 6},
		"InitialLimit below Min":  {MinLimit: 30},
		"negative Alpha":          {Alpha: -1},
		"Beta not above Alpha":    {Alpha: 4, Beta: 4},
		"negative MinWindow":      {MinWindow: -time.Second},
		"negative BaselineWindow": {BaselineWindow: -time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := resilience.NewAdaptiveLimiter(cfg)
			assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
		})
	}
}

func TestNewAdaptiveLimiter_ZeroConfigStartsAtTwenty(t *testing.T) {
	l := newAdaptive(t, resilience.AdaptiveLimiterConfig{})
	assert.Equal(t, 20, l.Limit())
	assert.Zero(t, l.InFlight())
	assert.Zero(t, l.Queued())
}

// round runs n calls of the given latency at once, then lets gap pass, so
// that the n-th release closes a window holding exactly these calls.
func round(t *testing.T, l *resilience.AdaptiveLimiter, c *manualClock, n int, latency, gap time.Duration, o resilience.Outcome) {
	t.Helper()
	permits := make([]resilience.Permit, n)
	for i := range permits {
		p, err := l.Acquire(context.Background())
		require.NoError(t, err)
		permits[i] = p
	}
	c.Advance(latency)
	for _, p := range permits {
		p.Release(o)
	}
	c.Advance(gap)
}

func TestAdaptiveLimiter_VegasMovesTheLimitWithLatency(t *testing.T) {
	// The limit starts at 10, so a = log10(10) = 1: grow by Beta = 6 while
	// nothing queues, leave it alone between Alpha = 3 and Beta = 6 queued.
	for name, tc := range map[string]struct {
		latency time.Duration
		outcome resilience.Outcome
		conc    int // calls at once; ten calls in all
		want    int
	}{
		"latency at the baseline grows the limit by Beta": {10 * time.Millisecond, resilience.OutcomeSuccess, 10, 16},
		// queue = 10·(1 − 10/40) = 7.5 → 8 > 6: limit = 10 − 8 + 4.5.
		"latency four times the baseline shrinks it to the middle of the band": {40 * time.Millisecond, resilience.OutcomeSuccess, 10, 6},
		// queue = ceil(10·(1 − 10/16)) = 4, within [3, 6].
		"a little queueing leaves it alone":            {16 * time.Millisecond, resilience.OutcomeSuccess, 10, 10},
		"drops shrink it by ten percent":               {10 * time.Millisecond, resilience.OutcomeFailure, 10, 9},
		"ignored calls measure nothing":                {time.Second, resilience.OutcomeIgnored, 10, 10},
		"a limit used at less than half does not grow": {10 * time.Millisecond, resilience.OutcomeSuccess, 4, 10},
	} {
		t.Run(name, func(t *testing.T) {
			c := &manualClock{}
			l := newAdaptive(t, resilience.AdaptiveLimiterConfig{InitialLimit: 10, Now: c.Now})
			round(t, l, c, 10, 10*time.Millisecond, 100*time.Millisecond, resilience.OutcomeSuccess)
			require.Equal(t, 10, l.Limit(), "the first window sets the baseline and is no evidence of queueing")
			for n := 0; n < 10; n += tc.conc {
				round(t, l, c, min(tc.conc, 10-n), tc.latency, 0, tc.outcome)
			}
			assert.Equal(t, tc.want, l.Limit())
		})
	}
}

func TestAdaptiveLimiter_StaysWithinMinAndMax(t *testing.T) {
	c := &manualClock{}
	l := newAdaptive(t, resilience.AdaptiveLimiterConfig{InitialLimit: 10, MinLimit: 5, MaxLimit: 12, Now: c.Now})
	for range 5 {
		round(t, l, c, 10, 10*time.Millisecond, 100*time.Millisecond, resilience.OutcomeSuccess)
	}
	assert.Equal(t, 12, l.Limit())
	for range 20 {
		round(t, l, c, min(l.Limit(), 10), 10*time.Millisecond, 100*time.Millisecond, resilience.OutcomeFailure)
	}
	assert.Equal(t, 5, l.Limit())
}

func TestAdaptiveLimiter_ReportsLimitChanges(t *testing.T) {
	c := &manualClock{}
	var changes []resilience.LimitChange
	l := newAdaptive(t, resilience.AdaptiveLimiterConfig{InitialLimit: 10, Now: c.Now, Hooks: resilience.AdaptiveLimiterHooks{
		OnLimitChange: func(ch resilience.LimitChange) { changes = append(changes, ch) },
	}})
	round(t, l, c, 10, 10*time.Millisecond, 100*time.Millisecond, resilience.OutcomeSuccess)
	round(t, l, c, 10, 10*time.Millisecond, 100*time.Millisecond, resilience.OutcomeFailure)
	require.Len(t, changes, 1)
	assert.Equal(t, resilience.LimitChange{Old: 10, New: 9, Baseline: 10 * time.Millisecond, Dropped: true}, changes[0])
}

func TestAdaptiveLimiter_FastPathDoesNotAllocate(t *testing.T) {
	l := newAdaptive(t, resilience.AdaptiveLimiterConfig{})
	ctx := context.Background()
	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		p, err := l.Acquire(ctx)
		if err != nil {
			panic(err)
		}
		p.Release(resilience.OutcomeSuccess)
	}))
}

func TestAdaptiveLimiter_QueueServesHighestPriorityFirstAndEvictsLowest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var shed []resilience.Priority
		l := newAdaptive(t, resilience.AdaptiveLimiterConfig{InitialLimit: 1, MaxLimit: 1, MaxQueue: 2, MaxWait: -1,
			Hooks: resilience.AdaptiveLimiterHooks{OnReject: func(p resilience.Priority) { shed = append(shed, p) }}})
		held, err := l.Acquire(t.Context())
		require.NoError(t, err)

		var mu sync.Mutex
		var order []string
		errs := map[string]error{}
		call := func(name string, p resilience.Priority) {
			go func() {
				permit, err := l.Acquire(resilience.WithPriority(t.Context(), p))
				mu.Lock()
				errs[name] = err
				if err == nil {
					order = append(order, name)
				}
				mu.Unlock()
				if err == nil {
					permit.Release(resilience.OutcomeSuccess)
				}
			}()
			synctest.Wait()
		}
		call("sheddable", resilience.PrioritySheddable)
		call("normal", resilience.PriorityNormal)
		require.Equal(t, 2, l.Queued())
		call("late normal", resilience.PriorityNormal)       // queue full of its equals: refused
		call("critical", resilience.PriorityCritical)        // evicts the sheddable caller
		call("late sheddable", resilience.PrioritySheddable) // refused
		assert.Equal(t, 2, l.Queued())

		held.Release(resilience.OutcomeSuccess)
		synctest.Wait()
		assert.Equal(t, []string{"critical", "normal"}, order)
		for _, name := range []string{"sheddable", "late normal", "late sheddable"} {
			assert.ErrorIs(t, errs[name], resilience.ErrOverloaded, name)
		}
		assert.ElementsMatch(t, []resilience.Priority{resilience.PrioritySheddable, resilience.PriorityNormal, resilience.PrioritySheddable}, shed)
		assert.Zero(t, l.InFlight())
		assert.Zero(t, l.Queued())
	})
}

func TestAdaptiveLimiter_CriticalCallersMayQueueUpToTwiceTheLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAdaptive(t, resilience.AdaptiveLimiterConfig{InitialLimit: 3, MaxLimit: 3, MaxWait: -1}) // queue: max(3/4, 1) = 1
		for range 3 {
			_, err := l.Acquire(t.Context())
			require.NoError(t, err)
		}
		ctx := resilience.WithPriority(t.Context(), resilience.PriorityCritical)
		var refused atomic.Int64
		for range 7 {
			go func() {
				if _, err := l.Acquire(ctx); errors.Is(err, resilience.ErrOverloaded) {
					refused.Add(1)
				}
			}()
		}
		synctest.Wait()
		assert.Equal(t, 6, l.Queued())
		assert.Equal(t, int64(1), refused.Load())
		_, err := l.Acquire(t.Context())
		assert.ErrorIs(t, err, resilience.ErrOverloaded, "a normal caller finds the queue full")
	})
}

func TestAdaptiveLimiter_QueuedCallerGivesUp(t *testing.T) {
	for name, tc := range map[string]struct {
		maxWait time.Duration
		cancel  bool
		want    error
	}{
		"MaxWait elapses":  {maxWait: 50 * time.Millisecond, want: resilience.ErrOverloaded},
		"context canceled": {maxWait: -1, cancel: true, want: context.Canceled},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newAdaptive(t, resilience.AdaptiveLimiterConfig{InitialLimit: 1, MaxLimit: 1, MaxWait: tc.maxWait})
				held, err := l.Acquire(t.Context())
				require.NoError(t, err)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				var got error
				done := make(chan struct{})
				go func() { _, got = l.Acquire(ctx); close(done) }()
				synctest.Wait()
				require.Equal(t, 1, l.Queued())
				if tc.cancel {
					cancel()
				} else {
					time.Sleep(tc.maxWait)
				}
				<-done
				assert.ErrorIs(t, got, tc.want)
				assert.Zero(t, l.Queued())
				held.Release(resilience.OutcomeSuccess)
				assert.Zero(t, l.InFlight())
			})
		})
	}
}

func TestAdaptiveLimiter_DefaultMaxWaitIsTheBaseline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newAdaptive(t, resilience.AdaptiveLimiterConfig{InitialLimit: 10, MaxLimit: 10})
		// Ten calls of 20ms set the baseline (the fake clock is synctest's).
		var permits []resilience.Permit
		for range 10 {
			p, err := l.Acquire(t.Context())
			require.NoError(t, err)
			permits = append(permits, p)
		}
		time.Sleep(20 * time.Millisecond)
		for _, p := range permits[1:] {
			p.Release(resilience.OutcomeSuccess)
		}
		permits[0].Release(resilience.OutcomeSuccess)
		for range 10 {
			_, err := l.Acquire(t.Context())
			require.NoError(t, err)
		}
		start := time.Now()
		_, err := l.Acquire(t.Context())
		assert.ErrorIs(t, err, resilience.ErrOverloaded)
		assert.Equal(t, 20*time.Millisecond, time.Since(start))
	})
}

func TestAdaptiveLimiter_HandOverAndCancellationRaces(t *testing.T) {
	l := newAdaptive(t, resilience.AdaptiveLimiterConfig{InitialLimit: 4, MaxLimit: 8, MaxQueue: 16, MaxWait: -1})
	var ok, gaveUp atomic.Int64
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 100 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration((g*7+i)%50)*time.Microsecond)
				ctx = resilience.WithPriority(ctx, resilience.Priority(g%3-1))
				p, err := l.Acquire(ctx)
				cancel()
				if err != nil {
					gaveUp.Add(1)
					continue
				}
				runtime.Gosched()
				p.Release(resilience.Outcome(i % 3))
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(32*100), ok.Load()+gaveUp.Load())
	assert.Positive(t, ok.Load())
	assert.Zero(t, l.InFlight(), "every slot given back, none lost in a hand-over")
	assert.Zero(t, l.Queued())
	assert.LessOrEqual(t, l.Limit(), 8)
}

func TestAdaptiveLimiter_DoReleasesOnPanic(t *testing.T) {
	l := newAdaptive(t, resilience.AdaptiveLimiterConfig{})
	assert.Panics(t, func() { _ = l.Do(t.Context(), func(context.Context) error { panic("bug") }) })
	assert.Zero(t, l.InFlight())
}

func TestAdaptiveClassify(t *testing.T) {
	for name, tc := range map[string]struct {
		err  error
		want resilience.Outcome
	}{
		"success":          {nil, resilience.OutcomeSuccess},
		"deadline":         {context.DeadlineExceeded, resilience.OutcomeFailure},
		"policy timeout":   {&resilience.TimeoutError{Timeout: time.Second}, resilience.OutcomeFailure},
		"canceled":         {context.Canceled, resilience.OutcomeIgnored},
		"other fast error": {errors.New("not found"), resilience.OutcomeIgnored},
	} {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, resilience.AdaptiveClassify(tc.err)) })
	}
}

func TestPriorityOf(t *testing.T) {
	assert.Equal(t, resilience.PriorityNormal, resilience.PriorityOf(context.Background()))
	assert.Equal(t, resilience.PriorityCritical, resilience.PriorityOf(resilience.WithPriority(context.Background(), resilience.PriorityCritical)))
	assert.Equal(t, resilience.PriorityNormal, resilience.PriorityOf(resilience.WithPriority(context.Background(), 7)), "an unknown priority is normal")
	assert.Equal(t, "sheddable", resilience.PrioritySheddable.String())
	assert.Equal(t, "unknown", resilience.Priority(9).String())
}

func TestPipeline_AdaptiveLimiterReleasesWithTheClassifiedOutcome(t *testing.T) {
	l := newAdaptive(t, resilience.AdaptiveLimiterConfig{InitialLimit: 1, MaxLimit: 1, MaxQueue: -1})
	p, err := resilience.NewPipeline[int](l)
	require.NoError(t, err)
	v, err := p.Execute(t.Context(), func(ctx context.Context) (int, error) {
		_, err := l.Acquire(ctx)
		assert.ErrorIs(t, err, resilience.ErrOverloaded, "the pipeline holds the only slot")
		return 7, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 7, v)
	assert.Zero(t, l.InFlight())
	assert.Panics(t, func() {
		_, _ = p.Execute(t.Context(), func(context.Context) (int, error) { panic("bug") })
	})
	assert.Zero(t, l.InFlight(), "a panic frees the slot")
}

func TestAdaptiveLimiter_DefaultMaxWaitSparesCriticalCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &manualClock{}
		l := newAdaptive(t, resilience.AdaptiveLimiterConfig{InitialLimit: 10, MaxLimit: 10, Now: c.Now})
		round(t, l, c, 10, 20*time.Millisecond, 100*time.Millisecond, resilience.OutcomeSuccess) // baseline 20ms
		var held []resilience.Permit
		for range 10 {
			p, err := l.Acquire(t.Context())
			require.NoError(t, err)
			held = append(held, p)
		}
		var got error
		done := make(chan struct{})
		go func() {
			var p resilience.Permit
			p, got = l.Acquire(resilience.WithPriority(t.Context(), resilience.PriorityCritical))
			p.Release(resilience.OutcomeIgnored)
			close(done)
		}()
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, 1, l.Queued(), "a critical caller still waits long after the no-load latency")
		held[0].Release(resilience.OutcomeIgnored)
		<-done
		assert.NoError(t, got)
	})
}
