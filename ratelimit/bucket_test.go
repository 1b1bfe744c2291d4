package ratelimit_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/ratelimit"
)

func TestNewBucket_RejectsBadLimits(t *testing.T) {
	for name, l := range map[string]ratelimit.Limit{
		"invalid":          {Rate: 0, Period: time.Second},
		"window algorithm": {Rate: 1, Period: time.Second, Algorithm: ratelimit.FixedWindow},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := ratelimit.NewBucket(l)
			assert.Nil(t, b)
			assert.ErrorIs(t, err, ratelimit.ErrInvalidLimit)
		})
	}
}

func TestBucket_DecidesLikeTheStore(t *testing.T) {
	limit := ratelimit.Limit{Rate: 10, Period: time.Second, Burst: 3}
	b, err := ratelimit.NewBucket(limit)
	require.NoError(t, err)
	l := newLimiter(t, limit)
	at := time.Unix(1_000_000, 0)
	for i, step := range []time.Duration{0, 0, 0, 0, 50 * time.Millisecond, 60 * time.Millisecond, time.Second} {
		at = at.Add(step)
		for _, n := range []int{1, 2} {
			got, err := b.AllowAt(at, n)
			require.NoError(t, err)
			want, err := l.AllowAt(t.Context(), "k", at, n)
			require.NoError(t, err)
			assert.Equal(t, want, got, "step %d cost %d", i, n)
		}
	}
}

func TestBucket_RejectsBadCostsAndChangesLimit(t *testing.T) {
	b, err := ratelimit.NewBucket(ratelimit.PerSecond(2))
	require.NoError(t, err)
	_, err = b.AllowN(0)
	assert.ErrorIs(t, err, ratelimit.ErrInvalidCost)
	_, err = b.AllowN(3)
	assert.ErrorIs(t, err, ratelimit.ErrCostExceedsBurst)
	assert.ErrorIs(t, b.SetLimit(ratelimit.Limit{}), ratelimit.ErrInvalidLimit)
	require.NoError(t, b.SetLimit(ratelimit.PerSecond(5)))
	assert.Equal(t, ratelimit.PerSecond(5), b.Limit())
	res, err := b.AllowN(5)
	require.NoError(t, err)
	assert.True(t, res.Allowed)
	assert.False(t, b.Allow())
}

func TestBucket_ContendedNeverExceedsLimit(t *testing.T) {
	limit := ratelimit.Limit{Rate: 1000, Period: time.Second, Burst: 50}
	b, err := ratelimit.NewBucket(limit)
	require.NoError(t, err)
	var admitted atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 64 {
		wg.Go(func() {
			for range 500 {
				if b.Allow() {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	bound := int64(limit.Burst) + int64(time.Since(start)/limit.Interval()) + 1
	assert.LessOrEqual(t, admitted.Load(), bound)
	assert.GreaterOrEqual(t, admitted.Load(), int64(limit.Burst))
}

func TestBucket_AllowDoesNotAllocate(t *testing.T) {
	b, err := ratelimit.NewBucket(ratelimit.PerSecond(1_000_000))
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(1000, func() { b.Allow() }))
}

func BenchmarkBucket(b *testing.B) {
	bk, err := ratelimit.NewBucket(ratelimit.PerSecond(1_000_000))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bk.Allow()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				bk.Allow()
			}
		})
	})
}
