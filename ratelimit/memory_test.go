package ratelimit_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/ratelimit"
)

func TestNewMemory_RejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]ratelimit.MemoryConfig{
		"negative keys":          {MaxKeys: -1},
		"negative shards":        {Shards: -1},
		"too many shards":        {Shards: 1 << 17},
		"too few keys per shard": {MaxKeys: 16, Shards: 16},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := ratelimit.NewMemory(cfg)
			assert.Nil(t, m)
			assert.ErrorIs(t, err, ratelimit.ErrInvalidConfig)
		})
	}
}

func TestMemory_BoundedUnderRandomKeys(t *testing.T) {
	var evicted, active atomic.Int64
	m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{MaxKeys: 1000, Shards: 4, Hooks: ratelimit.MemoryHooks{
		OnEvict: func(_ string, isActive bool) {
			evicted.Add(1)
			if isActive {
				active.Add(1)
			}
		},
	}})
	require.NoError(t, err)
	l, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerHour(10)}, Store: m})
	require.NoError(t, err)
	ctx := context.Background()
	for i := range 20_000 { // an attacker cycling keys
		_, err := l.Allow(ctx, "attacker:"+strconv.Itoa(i))
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, m.Len(), 1000, "the key cap holds")
	assert.Equal(t, int64(19_000), evicted.Load())
	assert.Equal(t, evicted.Load(), active.Load(), "hour-long states were still active")
}

func TestMemory_EvictsLeastRecentlyUsed(t *testing.T) {
	m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{MaxKeys: 16, Shards: 1})
	require.NoError(t, err)
	l, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerHour(1)}, Store: m})
	require.NoError(t, err)
	ctx := context.Background()
	_, _ = l.Allow(ctx, "victim")
	for i := range 100 {
		res, _ := l.Allow(ctx, "victim") // kept hot
		assert.False(t, res.Allowed)
		_, _ = l.Allow(ctx, "k"+strconv.Itoa(i))
	}
	res, _ := l.Peek(ctx, "victim")
	assert.False(t, res.Allowed, "a recently used key is never the one evicted")
	assert.Equal(t, 16, m.Len())
}

func TestMemory_ReclaimsIdleKeysWithoutSweep(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	clock := func() time.Time { return now }
	m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{MaxKeys: 1200, Shards: 1, Now: clock})
	require.NoError(t, err)
	l, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerSecond(10)}, Store: m})
	require.NoError(t, err)
	ctx := context.Background()
	for i := range 1000 {
		_, _ = l.Allow(ctx, "idle:"+strconv.Itoa(i))
	}
	require.Equal(t, 1000, m.Len())
	now = now.Add(time.Second) // every key is back at full capacity: idle
	for range 300 {
		_, _ = l.Allow(ctx, "busy")
	}
	// Each call reclaims at most two idle states, until the shard is no
	// more than half full.
	assert.Equal(t, 600, m.Len())
}

func TestMemory_EvictsIdleBeforeActive(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	var active atomic.Int64
	m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{MaxKeys: 100, Shards: 1, Now: func() time.Time { return now },
		Hooks: ratelimit.MemoryHooks{OnEvict: func(_ string, isActive bool) {
			if isActive {
				active.Add(1)
			}
		}}})
	require.NoError(t, err)
	l, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerSecond(1)}, Store: m})
	require.NoError(t, err)
	ctx := context.Background()
	for i := range 50 { // long idle by the time the others arrive
		_, _ = l.Allow(ctx, "old:"+strconv.Itoa(i))
	}
	now = now.Add(time.Hour)
	for i := range 100 {
		_, _ = l.Allow(ctx, "new:"+strconv.Itoa(i))
	}
	assert.Zero(t, active.Load(), "idle states make room before any active one")
	for i := range 100 {
		res, _ := l.Peek(ctx, "new:"+strconv.Itoa(i))
		assert.False(t, res.Allowed, "new:%d kept its state", i)
	}
}

func TestMemory_StateChangesWithAlgorithm(t *testing.T) {
	m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	require.NoError(t, err)
	ctx := context.Background()
	at := time.Unix(1_000_000, 0)
	for _, algo := range []ratelimit.Algorithm{ratelimit.GCRA, ratelimit.SlidingLog, ratelimit.FixedWindow, ratelimit.SlidingLog} {
		lim := []ratelimit.Limit{{Rate: 2, Period: time.Hour, Algorithm: algo}}
		res, err := m.Do(ctx, ratelimit.Request{Key: "k", Limits: lim, Cost: 2, Now: at})
		require.NoError(t, err)
		assert.True(t, res.Allowed, "%v starts afresh", algo)
		res, err = m.Do(ctx, ratelimit.Request{Key: "k", Limits: lim, Cost: 1, Now: at})
		require.NoError(t, err)
		assert.False(t, res.Allowed, "%v", algo)
	}
}

func TestMemory_RejectsBadRequests(t *testing.T) {
	m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	require.NoError(t, err)
	one := []ratelimit.Limit{ratelimit.PerSecond(1)}
	for name, tc := range map[string]struct {
		req  ratelimit.Request
		want error
	}{
		"empty key":   {ratelimit.Request{Limits: one, Cost: 1}, ratelimit.ErrInvalidKey},
		"zero cost":   {ratelimit.Request{Key: "k", Limits: one}, ratelimit.ErrInvalidCost},
		"over burst":  {ratelimit.Request{Key: "k", Limits: one, Cost: 2}, ratelimit.ErrCostExceedsBurst},
		"no limits":   {ratelimit.Request{Key: "k", Cost: 1}, ratelimit.ErrInvalidLimit},
		"bad limit":   {ratelimit.Request{Key: "k", Limits: []ratelimit.Limit{{Rate: 1}}, Cost: 1}, ratelimit.ErrInvalidLimit},
		"unknown op":  {ratelimit.Request{Key: "k", Limits: one, Cost: 1, Op: 7}, ratelimit.ErrInvalidConfig},
		"nine limits": {ratelimit.Request{Key: "k", Limits: make([]ratelimit.Limit, 9), Cost: 1}, ratelimit.ErrInvalidLimit},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := m.Do(context.Background(), tc.req)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

// TestMemory_ContendedKeyNeverExceedsLimit is the scenario of golang/go#71360:
// 64 goroutines on one key must never admit more than burst + rate × elapsed.
func TestMemory_ContendedKeyNeverExceedsLimit(t *testing.T) {
	limit := ratelimit.Limit{Rate: 1000, Period: time.Second, Burst: 50}
	l := newLimiter(t, limit)
	var admitted atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 64 {
		wg.Go(func() {
			for range 300 {
				if res, err := l.Allow(context.Background(), "hot"); err == nil && res.Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	bound := int64(limit.Burst) + int64(elapsed/limit.Interval()) + 1
	assert.LessOrEqual(t, admitted.Load(), bound, "admitted within %v", elapsed)
	assert.GreaterOrEqual(t, admitted.Load(), int64(limit.Burst))
}

// TestMemory_OutOfOrderTimesNeverAdmitMore feeds explicit times that arrive
// out of order, as timestamps taken before a contended lock do.
func TestMemory_OutOfOrderTimesNeverAdmitMore(t *testing.T) {
	for _, algo := range []ratelimit.Algorithm{ratelimit.GCRA, ratelimit.TokenBucket, ratelimit.FixedWindow,
		ratelimit.SlidingWindow, ratelimit.SlidingLog} {
		t.Run(algo.String(), func(t *testing.T) {
			limit := ratelimit.Limit{Rate: 10, Period: time.Second, Algorithm: algo}
			l := newLimiter(t, limit)
			base := time.Unix(1_000_000, 0)
			var admitted atomic.Int64
			var wg sync.WaitGroup
			for g := range 64 {
				wg.Go(func() {
					for i := range 50 {
						// Times jitter backwards by up to 900ms around a clock
						// that advances 1ms per step: 50ms in total.
						at := base.Add(time.Duration(i)*time.Millisecond - time.Duration((g*37+i*11)%900)*time.Millisecond)
						if res, err := l.AllowAt(context.Background(), "k", at, 1); err == nil && res.Allowed {
							admitted.Add(1)
						}
					}
				})
			}
			wg.Wait()
			// Over a real span under 1s (plus the jitter window) at most two
			// periods' worth can ever be admitted.
			assert.LessOrEqual(t, admitted.Load(), int64(2*limit.Rate))
			assert.GreaterOrEqual(t, admitted.Load(), int64(limit.Rate))
		})
	}
}

func TestMemory_AllowDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	t.Run("single key", func(t *testing.T) {
		l := newLimiter(t, ratelimit.Limit{Rate: 1_000_000, Period: time.Second})
		allocs := testing.AllocsPerRun(1000, func() { _, _ = l.Allow(ctx, "k") })
		assert.Zero(t, allocs)
	})
	t.Run("100k keys", func(t *testing.T) {
		l := newLimiter(t, ratelimit.Limit{Rate: 1_000_000, Period: time.Second})
		keys := make([]string, 100_000)
		for i := range keys {
			keys[i] = "user:" + strconv.Itoa(i)
			_, _ = l.Allow(ctx, keys[i])
		}
		i := 0
		allocs := testing.AllocsPerRun(10_000, func() {
			_, _ = l.Allow(ctx, keys[i%len(keys)])
			i += 7919
		})
		assert.Zero(t, allocs)
	})
	t.Run("two limits", func(t *testing.T) {
		l := newLimiter(t, ratelimit.Limit{Rate: 1_000_000, Period: time.Second}, ratelimit.Limit{Rate: 1_000_000, Period: time.Second, Algorithm: ratelimit.SlidingWindow})
		allocs := testing.AllocsPerRun(1000, func() { _, _ = l.Allow(ctx, "k") })
		assert.Zero(t, allocs)
	})
}

func TestMemory_ConcurrentChurnStaysBounded(t *testing.T) {
	m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{MaxKeys: 256, Shards: 4})
	require.NoError(t, err)
	l, err := ratelimit.New(ratelimit.Config{
		Limits: []ratelimit.Limit{ratelimit.PerSecond(5), {Rate: 3, Period: time.Second, Algorithm: ratelimit.SlidingLog}},
		Store:  m,
	})
	require.NoError(t, err)
	var wg sync.WaitGroup
	var errs atomic.Int64
	for g := range 32 {
		wg.Go(func() {
			for i := range 400 {
				key := "k" + strconv.Itoa((g*131+i*7)%1000)
				var err error
				switch i % 4 {
				case 0:
					_, err = l.Peek(context.Background(), key)
				case 1:
					var r *ratelimit.Reservation
					if r, err = l.Reserve(context.Background(), key, 1); err == nil {
						err = r.Cancel(context.Background())
					}
				default:
					_, err = l.Allow(context.Background(), key)
				}
				if err != nil {
					errs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, errs.Load())
	assert.LessOrEqual(t, m.Len(), 256)
}
