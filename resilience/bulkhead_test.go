package resilience_test

import (
	"context"
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

func newBulkhead(t testing.TB, cfg resilience.BulkheadConfig) *resilience.Bulkhead {
	t.Helper()
	b, err := resilience.NewBulkhead(cfg)
	require.NoError(t, err)
	return b
}

func TestNewBulkhead_RejectsInvalidConfig(t *testing.T) {
	for name, cfg := range map[string]resilience.BulkheadConfig{
		"negative concurrency": {MaxConcurrent: -1},
		"negative queue":       {MaxQueue: -1},
		"negative wait":        {MaxWait: -1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := resilience.NewBulkhead(cfg)
			assert.ErrorIs(t, err, resilience.ErrInvalidConfig)
		})
	}
}

func TestBulkhead_RejectsBeyondSlotsAndQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rejects := 0
		b := newBulkhead(t, resilience.BulkheadConfig{MaxConcurrent: 2, MaxQueue: 1, Hooks: resilience.BulkheadHooks{OnReject: func() { rejects++ }}})
		require.NoError(t, b.Acquire(t.Context()))
		require.NoError(t, b.Acquire(t.Context()))
		queued := make(chan error, 1)
		go func() { queued <- b.Acquire(t.Context()) }()
		synctest.Wait()
		assert.Equal(t, 1, b.Waiting())
		assert.ErrorIs(t, b.Acquire(t.Context()), resilience.ErrBulkheadFull, "queue full")
		assert.Equal(t, 1, rejects)
		b.Release()
		require.NoError(t, <-queued)
		assert.Equal(t, 2, b.InFlight())
		assert.Equal(t, 0, b.Waiting())
	})
}

func TestBulkhead_QueuedCallerGivesUp(t *testing.T) {
	cases := []struct {
		name    string
		maxWait time.Duration
		ctxWait time.Duration
		want    error
	}{
		{"max wait", time.Second, time.Hour, resilience.ErrBulkheadFull},
		{"context", time.Hour, time.Second, context.DeadlineExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBulkhead(t, resilience.BulkheadConfig{MaxConcurrent: 1, MaxQueue: 1, MaxWait: tc.maxWait})
				require.NoError(t, b.Acquire(t.Context()))
				ctx, cancel := context.WithTimeout(t.Context(), tc.ctxWait)
				defer cancel()
				start := time.Now()
				assert.ErrorIs(t, b.Acquire(ctx), tc.want)
				assert.Equal(t, time.Second, time.Since(start))
				assert.Equal(t, 0, b.Waiting())
			})
		})
	}
}

func TestBulkhead_UnderLoadNeverExceedsMaxConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBulkhead(t, resilience.BulkheadConfig{MaxConcurrent: 8, MaxQueue: 500})
		var inFlight, peak, done, full atomic.Int64
		var wg sync.WaitGroup
		for i := range 1000 {
			wg.Go(func() {
				err := b.Do(t.Context(), func(context.Context) error {
					n := inFlight.Add(1)
					for {
						p := peak.Load()
						if n <= p || peak.CompareAndSwap(p, n) {
							break
						}
					}
					time.Sleep(time.Duration(1+i%5) * time.Millisecond)
					inFlight.Add(-1)
					return nil
				})
				switch {
				case err == nil:
					done.Add(1)
				case assert.ErrorIs(t, err, resilience.ErrBulkheadFull):
					full.Add(1)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, int64(8), peak.Load())
		assert.Equal(t, int64(1000), done.Load()+full.Load())
		assert.GreaterOrEqual(t, done.Load(), int64(508), "every slot and queue place must be used")
		assert.Equal(t, 0, b.InFlight())
	})
}

func TestBulkhead_ReleasesOnPanic(t *testing.T) {
	b := newBulkhead(t, resilience.BulkheadConfig{MaxConcurrent: 1})
	assert.Panics(t, func() { _ = b.Do(t.Context(), func(context.Context) error { panic("bug") }) })
	assert.Equal(t, 0, b.InFlight())
}

func TestBulkhead_FastPathDoesNotAllocate(t *testing.T) {
	b := newBulkhead(t, resilience.BulkheadConfig{})
	ctx := context.Background()
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = b.Do(ctx, succeed) }))
}

// TestBulkhead_HandOverAndCancellationRaces mixes queued callers that give
// up with releases that hand their slot over, on the real scheduler.
func TestBulkhead_HandOverAndCancellationRaces(t *testing.T) {
	b := newBulkhead(t, resilience.BulkheadConfig{MaxConcurrent: 4, MaxQueue: 16})
	var held, peak, ok, gaveUp atomic.Int64
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 100 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration((g*7+i)%50)*time.Microsecond)
				err := b.Acquire(ctx)
				cancel()
				if err != nil {
					gaveUp.Add(1)
					continue
				}
				n := held.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				runtime.Gosched()
				held.Add(-1)
				b.Release()
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, peak.Load(), int64(4))
	assert.Equal(t, int64(32*100), ok.Load()+gaveUp.Load())
	assert.Positive(t, ok.Load())
	assert.Equal(t, 0, b.InFlight(), "every slot given back, none lost in a hand-over")
	assert.Equal(t, 0, b.Waiting())
	require.NoError(t, b.Acquire(context.Background()), "the bulkhead still works")
	b.Release()
}
