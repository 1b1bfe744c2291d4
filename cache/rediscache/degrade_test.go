package rediscache_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/rediscache"
	"github.com/bedrock-go/bedrock/internal/testenv"
)

func TestRedis_Degradation(t *testing.T) {
	c := newCluster(t)
	for _, tc := range []struct {
		name string
		addr func(*testing.T) string
	}{
		{"unreachable", func(t *testing.T) string { return testenv.ClosedAddr(t) }},
		{"not answering", func(t *testing.T) string { return testenv.SilentServer(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := c.store(t, c.client(t, tc.addr(t)), rediscache.Config{HealthCheck: 50 * time.Millisecond})
			var storeErrs atomic.Int64
			cc := newCache(t, s, cache.Config[string, string]{
				StoreTimeout: 50 * time.Millisecond,
				Hooks:        cache.Hooks{OnError: func(cache.Op, error) { storeErrs.Add(1) }},
			})
			var calls atomic.Int64
			load := func(context.Context, string) (string, error) {
				calls.Add(1)
				return "from source", nil
			}
			start := time.Now()
			var wg sync.WaitGroup
			for range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					v, err := cc.Get(t.Context(), "k", load)
					assert.NoError(t, err, "a Redis failure is not the caller's error")
					assert.Equal(t, "from source", v)
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			t.Logf("50 concurrent reads with Redis %s: %v", tc.name, elapsed)
			assert.Less(t, elapsed, 2*time.Second, "bounded by the store time budget")
			assert.EqualValues(t, 1, calls.Load(), "still one load per key in the process")
			assert.GreaterOrEqual(t, storeErrs.Load(), int64(1))

			// Local hits keep working; the store is not retried during the
			// cooldown.
			before := storeErrs.Load()
			for range 10 {
				v, err := cc.Get(t.Context(), "k", load)
				require.NoError(t, err)
				assert.Equal(t, "from source", v)
			}
			assert.Equal(t, before, storeErrs.Load())

			err := cc.Delete(t.Context(), "k")
			require.Error(t, err, "a lost invalidation is reported")
			assert.NotErrorIs(t, err, cache.ErrNotFound)
		})
	}
}

func TestRedis_SubscriptionDropFlushesLocalTier(t *testing.T) {
	c := newCluster(t)
	p := testenv.NewProxy(t, c.base.Options().Addr)
	subErrs := make(chan error, 16)
	s := c.store(t, c.client(t, p.Addr()), rediscache.Config{
		Hooks: rediscache.Hooks{OnSubscriptionError: func(err error) { subErrs <- err }},
	})
	a := newCache(t, s, cache.Config[string, string]{})
	b, _ := process(t, c, cache.Config[string, string]{})

	v, err := a.Get(t.Context(), "k", func(context.Context, string) (string, error) { return "old", nil })
	require.NoError(t, err)
	require.Equal(t, "old", v)

	// The network drops a's connections; b's update and its broadcast
	// happen while a cannot hear them.
	p.Cut()
	select {
	case err := <-subErrs:
		t.Logf("subscription error: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("the drop was not noticed")
	}
	require.NoError(t, b.Set(t.Context(), "k", "new"))

	assert.Eventually(t, func() bool {
		v, err := a.Get(t.Context(), "k", func(context.Context, string) (string, error) { return "reloaded", nil })
		return err == nil && v == "new"
	}, 5*time.Second, 5*time.Millisecond, "a's local tier was flushed, so it reads the new value")
}

func TestRedis_SilentSubscriptionIsPingedAndFlushed(t *testing.T) {
	for _, tc := range []struct {
		name string
		// dial returns the address to dial and, for a partition that
		// happens after subscribing, the function that starts it.
		dial func(*testing.T, cluster) (addr string, partition func())
	}{
		{"server never answers", func(t *testing.T, _ cluster) (string, func()) { return testenv.SilentServer(t), nil }},
		{"partition after subscribing", func(t *testing.T, c cluster) (string, func()) {
			p := testenv.NewProxy(t, c.base.Options().Addr)
			return p.Addr(), p.Freeze
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t)
			addr, partition := tc.dial(t, c)
			var flushes atomic.Int64
			subscribed := make(chan struct{}, 16)
			s := c.store(t, c.client(t, addr), rediscache.Config{HealthCheck: 20 * time.Millisecond})
			s.Subscribe(func(inv cache.Invalidation) {
				if inv.All {
					flushes.Add(1)
					select {
					case subscribed <- struct{}{}:
					default:
					}
				}
			})
			if partition == nil {
				assert.Eventually(t, func() bool { return flushes.Load() >= 1 }, 5*time.Second, 5*time.Millisecond,
					"a subscription that never answers counts as dropped")
				return
			}
			<-subscribed // the listener subscribed, and flushed once
			before := flushes.Load()
			partition()
			assert.Eventually(t, func() bool { return flushes.Load() > before }, 5*time.Second, 5*time.Millisecond,
				"an unanswered ping counts as a dropped subscription")
		})
	}
}

func TestNew_RejectsBadConfig(t *testing.T) {
	c := newCluster(t)
	for _, tc := range []struct {
		name string
		make func() error
	}{
		{"nil client", func() error { _, err := rediscache.New(nil, rediscache.Config{}); return err }},
		{"client without context timeouts", func() error {
			plain := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
			defer plain.Close()
			_, err := rediscache.New(plain, rediscache.Config{})
			return err
		}},
		{"hash tag in prefix", func() error {
			_, err := rediscache.New(c.client(t, ""), rediscache.Config{Prefix: "a{b}"})
			return err
		}},
		{"negative lease", func() error {
			_, err := rediscache.New(c.client(t, ""), rediscache.Config{LeaseTTL: -time.Second})
			return err
		}},
		{"sub-millisecond lease", func() error {
			_, err := rediscache.New(c.client(t, ""), rediscache.Config{LeaseTTL: time.Microsecond})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.make()
			assert.True(t, errors.Is(err, rediscache.ErrInvalidConfig), "got %v", err)
		})
	}
}
