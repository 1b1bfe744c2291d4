package cache_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
)

func TestGet_StaleWhileRevalidate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var stale, misses atomic.Int64
		c := newCache(t, nil, cache.Config[string, string]{
			TTL: time.Minute, Stale: time.Minute, Jitter: -1, EarlyRefreshBeta: -1,
			Hooks: cache.Hooks{OnStale: func() { stale.Add(1) }, OnMiss: func() { misses.Add(1) }},
		})
		// The refresh blocks until the test releases it, so every read in
		// the loop below runs while the refresh is in flight, however the
		// goroutines are scheduled.
		var l counter
		refreshing, release := make(chan struct{}), make(chan struct{})
		load := func(ctx context.Context, key string) (string, error) {
			if l.n.Load() == 1 {
				close(refreshing)
				<-release
			}
			return l.load(ctx, key)
		}
		v, err := c.Get(t.Context(), "k", load)
		require.NoError(t, err)
		require.Equal(t, "k-v1", v)

		time.Sleep(time.Minute + time.Second)
		for range 10 {
			v, err = c.Get(t.Context(), "k", load)
			require.NoError(t, err)
			assert.Equal(t, "k-v1", v, "the stale value is served at once")
		}
		<-refreshing
		close(release)
		synctest.Wait()
		assert.EqualValues(t, 2, l.n.Load(), "one background refresh for ten stale reads")
		v, err = c.Get(t.Context(), "k", load)
		require.NoError(t, err)
		assert.Equal(t, "k-v2", v)
		assert.EqualValues(t, 10, stale.Load())
		assert.EqualValues(t, 1, misses.Load())
	})
}

func TestGet_StaleServedWhileRefreshesFailAndBackOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCache(t, nil, cache.Config[string, string]{
			TTL: time.Minute, Stale: time.Hour, Jitter: -1, EarlyRefreshBeta: -1,
		})
		var calls atomic.Int64
		var failing atomic.Bool
		load := func(context.Context, string) (string, error) {
			calls.Add(1)
			if failing.Load() {
				return "", errors.New("source down")
			}
			return "good", nil
		}
		_, err := c.Get(t.Context(), "k", load)
		require.NoError(t, err)
		failing.Store(true)
		time.Sleep(time.Minute + time.Second)

		// Read every 10ms for 10 seconds: 1000 reads.
		for range 1000 {
			v, err := c.Get(t.Context(), "k", load)
			require.NoError(t, err)
			require.Equal(t, "good", v)
			time.Sleep(10 * time.Millisecond)
			synctest.Wait()
		}
		refreshes := calls.Load() - 1
		t.Logf("1000 stale reads over 10s made %d failed refreshes", refreshes)
		// Exponential backoff from 100ms: about 7 attempts in 10s; without
		// backoff there would be hundreds.
		assert.GreaterOrEqual(t, refreshes, int64(3))
		assert.LessOrEqual(t, refreshes, int64(15))

		failing.Store(false)
		time.Sleep(31 * time.Second) // past the longest backoff
		_, _ = c.Get(t.Context(), "k", load)
		synctest.Wait()
		v, err := c.Get(t.Context(), "k", load)
		require.NoError(t, err)
		assert.Equal(t, "good", v)
	})
}

func TestGet_ExpiredStaleIsAMiss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCache(t, nil, cache.Config[string, string]{TTL: time.Minute, Stale: time.Minute, Jitter: -1, EarlyRefreshBeta: -1})
		var l counter
		_, err := c.Get(t.Context(), "k", l.load)
		require.NoError(t, err)
		time.Sleep(2*time.Minute + time.Second)
		v, err := c.Get(t.Context(), "k", l.load)
		require.NoError(t, err)
		assert.Equal(t, "k-v2", v)
	})
}

func TestGet_EarlyRefreshKeepsHotKeyFromExpiring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var misses, stale atomic.Int64
		c := newCache(t, nil, cache.Config[string, string]{
			TTL: time.Second, Jitter: -1, EarlyRefreshBeta: 1,
			Hooks: cache.Hooks{OnMiss: func() { misses.Add(1) }, OnStale: func() { stale.Add(1) }},
		})
		var calls atomic.Int64
		load := func(context.Context, string) (string, error) {
			calls.Add(1)
			time.Sleep(100 * time.Millisecond) // Δ: a slow recomputation
			return "v", nil
		}
		// A hot key read every 5ms for 10 TTLs.
		for range 2000 {
			_, err := c.Get(t.Context(), "hot", load)
			require.NoError(t, err)
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("%d loads, %d misses over 10 TTLs", calls.Load(), misses.Load())
		assert.EqualValues(t, 1, misses.Load(), "only the cold start misses")
		assert.GreaterOrEqual(t, calls.Load(), int64(9))
		assert.Zero(t, stale.Load())
	})
}

func TestGet_EarlyRefreshOffMissesAtExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var misses atomic.Int64
		c := newCache(t, nil, cache.Config[string, string]{
			TTL: time.Second, Jitter: -1, EarlyRefreshBeta: -1,
			Hooks: cache.Hooks{OnMiss: func() { misses.Add(1) }},
		})
		load := func(context.Context, string) (string, error) {
			time.Sleep(100 * time.Millisecond)
			return "v", nil
		}
		for range 2000 {
			_, err := c.Get(t.Context(), "hot", load)
			require.NoError(t, err)
			time.Sleep(5 * time.Millisecond)
		}
		assert.GreaterOrEqual(t, misses.Load(), int64(8), "without early refresh every expiry is a miss")
	})
}

func TestTTLJitter(t *testing.T) {
	for _, tc := range []struct {
		name     string
		jitter   float64
		min, max time.Duration
		spread   bool
	}{
		{"default ±10%", 0, 54 * time.Second, 66 * time.Second, true},
		{"±50%", 0.5, 30 * time.Second, 90 * time.Second, true},
		{"off", -1, time.Minute, time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newMemStore()
			c := newCache(t, store, cache.Config[int, int]{TTL: time.Minute, Jitter: tc.jitter})
			for i := range 200 {
				_, err := c.Get(t.Context(), i, func(_ context.Context, k int) (int, error) { return k, nil })
				require.NoError(t, err)
			}
			lo, hi := time.Duration(1<<62), time.Duration(0)
			for _, d := range store.ttls {
				lo, hi = min(lo, d), max(hi, d)
			}
			require.Len(t, store.ttls, 200)
			assert.GreaterOrEqual(t, lo, tc.min)
			assert.LessOrEqual(t, hi, tc.max)
			if tc.spread {
				assert.Greater(t, hi-lo, (tc.max-tc.min)/2, "TTLs spread over the range")
			}
		})
	}
}
