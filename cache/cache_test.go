package cache_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
)

func newCache[K comparable, V any](t *testing.T, store cache.Store, cfg cache.Config[K, V]) *cache.Cache[K, V] {
	t.Helper()
	if store != nil && cfg.Namespace == "" {
		cfg.Namespace = "t"
	}
	c, err := cache.New(store, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// counter is a loader that counts its calls and returns "v<n>".
type counter struct{ n atomic.Int64 }

func (l *counter) load(_ context.Context, key string) (string, error) {
	n := l.n.Add(1)
	return fmt.Sprintf("%s-v%d", key, n), nil
}

func TestGet_MissLoadsThenHits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store bool
	}{{"local only", false}, {"with store", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var store cache.Store
			if tc.store {
				store = newMemStore()
			}
			c := newCache(t, store, cache.Config[string, string]{})
			var l counter
			for range 3 {
				v, err := c.Get(t.Context(), "k", l.load)
				require.NoError(t, err)
				assert.Equal(t, "k-v1", v)
			}
			assert.EqualValues(t, 1, l.n.Load())
		})
	}
}

func TestGet_UsesConfigLoaderAndFailsWithoutOne(t *testing.T) {
	var l counter
	c := newCache(t, nil, cache.Config[string, string]{Load: l.load})
	v, err := c.Get(t.Context(), "a", nil)
	require.NoError(t, err)
	assert.Equal(t, "a-v1", v)

	bare := newCache(t, nil, cache.Config[string, string]{})
	_, err = bare.Get(t.Context(), "a", nil)
	assert.ErrorIs(t, err, cache.ErrNoLoader)
}

func TestGet_ConcurrentMissesLoadOnce(t *testing.T) {
	c := newCache(t, newMemStore(), cache.Config[string, string]{})
	var calls atomic.Int64
	release := make(chan struct{})
	load := func(ctx context.Context, key string) (string, error) {
		calls.Add(1)
		<-release
		return "v", nil
	}
	const n = 1000
	var wg sync.WaitGroup
	var started sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			v, err := c.Get(t.Context(), "hot", load)
			if err == nil && v != "v" {
				err = fmt.Errorf("got %q", v)
			}
			errs <- err
		}()
	}
	started.Wait()
	time.Sleep(5 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, calls.Load())
}

// blockingLoader blocks until released or until its context ends, and
// records how it ended.
type blockingLoader struct {
	calls    atomic.Int64
	started  chan struct{}
	release  chan struct{}
	canceled atomic.Int64
}

func newBlockingLoader() *blockingLoader {
	return &blockingLoader{started: make(chan struct{}, 100), release: make(chan struct{})}
}

func (b *blockingLoader) load(ctx context.Context, key string) (string, error) {
	n := b.calls.Add(1)
	b.started <- struct{}{}
	select {
	case <-b.release:
		return fmt.Sprintf("v%d", n), nil
	case <-ctx.Done():
		b.canceled.Add(1)
		return "", ctx.Err()
	}
}

func TestGet_Cancellation(t *testing.T) {
	t.Run("a waiter's cancellation returns to that waiter only", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newCache(t, nil, cache.Config[string, string]{})
			b := newBlockingLoader()
			first, cancelFirst := context.WithCancel(t.Context())
			firstErr := make(chan error, 1)
			go func() {
				_, err := c.Get(first, "k", b.load)
				firstErr <- err
			}()
			<-b.started
			second := make(chan string, 1)
			go func() {
				v, err := c.Get(t.Context(), "k", b.load)
				assert.NoError(t, err)
				second <- v
			}()
			synctest.Wait()
			cancelFirst()
			assert.ErrorIs(t, <-firstErr, context.Canceled)
			close(b.release)
			assert.Equal(t, "v1", <-second)
			assert.EqualValues(t, 1, b.calls.Load())
			assert.EqualValues(t, 0, b.canceled.Load(), "the load must survive its first caller")
		})
	})
	t.Run("the load is cancelled when no waiter remains", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newCache(t, nil, cache.Config[string, string]{})
			b := newBlockingLoader()
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 2)
			for range 2 {
				go func() {
					_, err := c.Get(ctx, "k", b.load)
					done <- err
				}()
			}
			<-b.started
			synctest.Wait()
			cancel()
			assert.ErrorIs(t, <-done, context.Canceled)
			assert.ErrorIs(t, <-done, context.Canceled)
			synctest.Wait()
			assert.EqualValues(t, 1, b.canceled.Load())
		})
	})
	t.Run("a new caller never joins a cancelled load", func(t *testing.T) {
		// The bug of x/sync/singleflight users (authzed/spicedb#925,
		// tailscale#18919): the first caller's cancellation failed the
		// load, and every caller that joined it, with context.Canceled.
		synctest.Test(t, func(t *testing.T) {
			c := newCache(t, nil, cache.Config[string, string]{})
			b := newBlockingLoader()
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() {
				_, err := c.Get(ctx, "k", b.load)
				done <- err
			}()
			<-b.started
			cancel()
			assert.ErrorIs(t, <-done, context.Canceled)
			// The next caller arrives while the cancelled load may still be
			// unwinding.
			got := make(chan string, 1)
			go func() {
				v, err := c.Get(t.Context(), "k", b.load)
				assert.NoError(t, err)
				got <- v
			}()
			<-b.started
			close(b.release)
			assert.Equal(t, "v2", <-got)
			assert.EqualValues(t, 2, b.calls.Load())
		})
	})
	t.Run("an already cancelled caller does not start a load", func(t *testing.T) {
		c := newCache(t, nil, cache.Config[string, string]{})
		var l counter
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := c.Get(ctx, "k", l.load)
		assert.ErrorIs(t, err, context.Canceled)
		assert.EqualValues(t, 0, l.n.Load())
	})
	t.Run("the load keeps the caller's values", func(t *testing.T) {
		type ctxKey struct{}
		c := newCache(t, nil, cache.Config[string, string]{})
		ctx := context.WithValue(t.Context(), ctxKey{}, "trace-1")
		v, err := c.Get(ctx, "k", func(ctx context.Context, _ string) (string, error) {
			s, _ := ctx.Value(ctxKey{}).(string)
			return s, nil
		})
		require.NoError(t, err)
		assert.Equal(t, "trace-1", v)
	})
}

func TestGet_LoaderErrorsAreNeverCached(t *testing.T) {
	c := newCache(t, newMemStore(), cache.Config[string, string]{})
	boom := errors.New("boom")
	var calls int
	load := func(context.Context, string) (string, error) {
		calls++
		if calls < 3 {
			return "", boom
		}
		return "ok", nil
	}
	for range 2 {
		_, err := c.Get(t.Context(), "k", load)
		assert.ErrorIs(t, err, boom)
	}
	v, err := c.Get(t.Context(), "k", load)
	require.NoError(t, err)
	assert.Equal(t, "ok", v)
	assert.Equal(t, 3, calls)
}

func TestGet_NegativeCaching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore()
		c := newCache(t, store, cache.Config[string, string]{TTL: time.Minute, NegativeTTL: 5 * time.Second, Jitter: -1})
		var calls atomic.Int64
		load := func(context.Context, string) (string, error) {
			calls.Add(1)
			return "", fmt.Errorf("no row: %w", cache.ErrNotFound)
		}
		for range 5 {
			_, err := c.Get(t.Context(), "ghost", load)
			assert.ErrorIs(t, err, cache.ErrNotFound)
		}
		assert.EqualValues(t, 1, calls.Load())
		// Another process sees the negative entry in the store.
		other := newCache(t, store, cache.Config[string, string]{})
		_, err := other.Get(t.Context(), "ghost", load)
		assert.ErrorIs(t, err, cache.ErrNotFound)
		assert.EqualValues(t, 1, calls.Load())

		time.Sleep(5*time.Second + time.Millisecond)
		_, err = c.Get(t.Context(), "ghost", load)
		assert.ErrorIs(t, err, cache.ErrNotFound)
		assert.EqualValues(t, 2, calls.Load(), "the negative entry expires after NegativeTTL")
	})
}

func TestGet_NegativeCachingDisabled(t *testing.T) {
	c := newCache(t, nil, cache.Config[string, string]{NegativeTTL: -1})
	var calls int
	load := func(context.Context, string) (string, error) {
		calls++
		return "", cache.ErrNotFound
	}
	for range 3 {
		_, err := c.Get(t.Context(), "ghost", load)
		assert.ErrorIs(t, err, cache.ErrNotFound)
	}
	assert.Equal(t, 3, calls)
}

func TestGet_Penetration(t *testing.T) {
	// Lookups of random absent ids reach the loader at most once per
	// distinct id within the negative TTL. (rediscache runs the 100k version
	// against Redis.)
	c := newCache(t, newMemStore(), cache.Config[int, string]{NegativeTTL: time.Minute, LocalSize: 100_000})
	var calls atomic.Int64
	load := func(context.Context, int) (string, error) {
		calls.Add(1)
		return "", cache.ErrNotFound
	}
	const lookups, space, workers = 20_000, 2_000, 8
	seen := make([]atomic.Bool, space)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := uint32(w*7919 + 1)
			for range lookups / workers {
				x ^= x << 13
				x ^= x >> 17
				x ^= x << 5
				id := int(x % space)
				seen[id].Store(true)
				if _, err := c.Get(t.Context(), id, load); !errors.Is(err, cache.ErrNotFound) {
					t.Errorf("Get(%d) = %v, want ErrNotFound", id, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	unique := 0
	for i := range seen {
		if seen[i].Load() {
			unique++
		}
	}
	t.Logf("%d lookups, %d unique ids, %d loader calls", lookups, unique, calls.Load())
	assert.LessOrEqual(t, calls.Load(), int64(unique))
}

func TestGet_LoaderPanicBecomesError(t *testing.T) {
	c := newCache(t, nil, cache.Config[string, string]{})
	_, err := c.Get(t.Context(), "k", func(context.Context, string) (string, error) { panic("kaboom") })
	var pe *cache.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "kaboom", pe.Value)
	assert.NotEmpty(t, pe.Stack)
}

// TestLoaderPanicBecomesErrorAndIsReported: a panic in a loader, of one
// key or a batch, is a *PanicError for the caller and an OnLoad report
// with that error.
func TestLoaderPanicBecomesErrorAndIsReported(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(map[bool]string{false: "Get", true: "GetMany"}[batch], func(t *testing.T) {
			var reported error
			c := newCache(t, nil, cache.Config[string, string]{Hooks: cache.Hooks{
				OnLoad: func(_ time.Duration, err error) { reported = err },
			}})
			var err error
			if batch {
				_, err = c.GetMany(t.Context(), []string{"a", "b"}, func(context.Context, []string) (map[string]string, error) { panic("kaboom") })
			} else {
				_, err = c.Get(t.Context(), "k", func(context.Context, string) (string, error) { panic("kaboom") })
			}
			var pe *cache.PanicError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "kaboom", pe.Value)
			assert.ErrorAs(t, reported, &pe, "OnLoad sees the panic as the load's error")
		})
	}
}

func TestGet_LocalHitDoesNotAllocate(t *testing.T) {
	c := newCache(t, newMemStore(), cache.Config[string, string]{TTL: time.Hour, EarlyRefreshBeta: -1})
	_, err := c.Get(t.Context(), "k", staticLoad)
	require.NoError(t, err)
	ctx := t.Context()
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := c.Get(ctx, "k", staticLoad); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

func staticLoad(_ context.Context, key string) (string, error) { return "value of " + key, nil }

func TestCache_CloseStopsWork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := cache.New(nil, cache.Config[string, string]{})
		require.NoError(t, err)
		b := newBlockingLoader()
		done := make(chan error, 1)
		go func() {
			_, err := c.Get(t.Context(), "k", b.load)
			done <- err
		}()
		<-b.started
		require.NoError(t, c.Close())
		assert.ErrorIs(t, <-done, cache.ErrClosed)
		_, err = c.Get(t.Context(), "k", b.load)
		assert.ErrorIs(t, err, cache.ErrClosed)
		require.NoError(t, c.Close(), "Close is idempotent")
	})
}
