package cachetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
)

// Harness tells the suite how to build stores.
type Harness struct {
	// NewStore returns an empty store for one test, isolated from the
	// stores of the other tests. The suite closes nothing: register
	// cleanups with t.
	NewStore func(t *testing.T) cache.Store
	// Connect returns the store s as another process sees it: a new
	// client and store on the same server and prefix for a networked
	// store, s itself for an in-process one.
	Connect func(t *testing.T, s cache.Store) cache.Store
}

// Run runs the whole suite.
func Run(t *testing.T, h Harness) {
	t.Run("store", func(t *testing.T) { runStore(t, h) })
	t.Run("cache", func(t *testing.T) { runCache(t, h) })
	t.Run("tags", func(t *testing.T) { runTags(t, h) })
	t.Run("loader options", func(t *testing.T) { runLoaderOptions(t, h) })
}

func fetch(t *testing.T, s cache.Store, opts cache.FetchOptions, keys ...string) []cache.Item {
	t.Helper()
	items, err := s.Fetch(t.Context(), keys, opts)
	require.NoError(t, err)
	require.Len(t, items, len(keys))
	return items
}

func write(t *testing.T, s cache.Store, ws ...cache.Write) []bool {
	t.Helper()
	ok, err := s.Write(t.Context(), ws)
	require.NoError(t, err)
	require.Len(t, ok, len(ws))
	return ok
}

var lease = cache.FetchOptions{Lease: cache.LeaseIfMissing}

func runStore(t *testing.T, h Harness) {
	t.Run("a missing key grants its lease to one caller", func(t *testing.T) {
		s := h.NewStore(t)
		first := fetch(t, s, lease, "k")[0]
		assert.Nil(t, first.Value)
		assert.Equal(t, cache.LeaseGranted, first.Lease)
		assert.NotEmpty(t, first.Token)
		again := fetch(t, h.Connect(t, s), lease, "k")[0]
		assert.Equal(t, cache.LeaseHeld, again.Lease, "another process waits")
		assert.Empty(t, again.Token)
		plain := fetch(t, s, cache.FetchOptions{}, "k")[0]
		assert.Equal(t, cache.LeaseNotRequested, plain.Lease)
	})
	t.Run("the lease holder's write is stored with its TTL", func(t *testing.T) {
		s := h.NewStore(t)
		it := fetch(t, s, lease, "k")[0]
		require.Equal(t, []bool{true}, write(t, s, cache.Write{Key: "k", Value: []byte("v"), TTL: time.Hour, Token: it.Token}))
		got := fetch(t, h.Connect(t, s), lease, "k")[0]
		assert.Equal(t, "v", string(got.Value))
		assert.Equal(t, cache.LeaseNotRequested, got.Lease, "a key with a value needs no lease")
		assert.Greater(t, got.TTL, 59*time.Minute)
		assert.LessOrEqual(t, got.TTL, time.Hour)
	})
	t.Run("a delete voids the lease", func(t *testing.T) {
		s := h.NewStore(t)
		it := fetch(t, s, lease, "k")[0]
		require.NoError(t, h.Connect(t, s).Delete(t.Context(), []string{"k"}))
		assert.Equal(t, []bool{false}, write(t, s, cache.Write{Key: "k", Value: []byte("old"), TTL: time.Hour, Token: it.Token}),
			"a slow loader cannot write back past a deletion")
		assert.Nil(t, fetch(t, s, cache.FetchOptions{}, "k")[0].Value)
	})
	t.Run("an unconditional write voids the lease", func(t *testing.T) {
		s := h.NewStore(t)
		it := fetch(t, s, lease, "k")[0]
		require.Equal(t, []bool{true}, write(t, h.Connect(t, s), cache.Write{Key: "k", Value: []byte("new"), TTL: time.Hour}))
		assert.Equal(t, []bool{false}, write(t, s, cache.Write{Key: "k", Value: []byte("old"), TTL: time.Hour, Token: it.Token}))
		assert.Equal(t, "new", string(fetch(t, s, cache.FetchOptions{}, "k")[0].Value))
	})
	t.Run("a write without a value releases the lease", func(t *testing.T) {
		s := h.NewStore(t)
		it := fetch(t, s, lease, "k")[0]
		require.Equal(t, []bool{true}, write(t, s, cache.Write{Key: "k", Token: it.Token}))
		next := fetch(t, h.Connect(t, s), lease, "k")[0]
		assert.Equal(t, cache.LeaseGranted, next.Lease, "another process may load at once")
		assert.Nil(t, next.Value)
	})
	t.Run("a stale value grants a refresh lease", func(t *testing.T) {
		s := h.NewStore(t)
		write(t, s, cache.Write{Key: "k", Value: []byte("v"), TTL: time.Hour})
		fresh := fetch(t, s, cache.FetchOptions{Lease: cache.LeaseIfStale, Stale: time.Minute}, "k")[0]
		assert.Equal(t, cache.LeaseNotRequested, fresh.Lease, "an hour left is not within a minute's stale tail")
		stale := fetch(t, s, cache.FetchOptions{Lease: cache.LeaseIfStale, Stale: 2 * time.Hour}, "k")[0]
		assert.Equal(t, cache.LeaseGranted, stale.Lease)
		assert.Equal(t, "v", string(stale.Value), "the stale value is served meanwhile")
		held := fetch(t, s, cache.FetchOptions{Lease: cache.LeaseIfStale, Stale: 2 * time.Hour}, "k")[0]
		assert.Equal(t, cache.LeaseHeld, held.Lease, "one refresh per cluster")
	})
	t.Run("batches keep their order and keys may hold any bytes", func(t *testing.T) {
		s := h.NewStore(t)
		keys := []string{"plain", "with space", "{braces}", "a:b:c", "ünïcødé", "}{", "nul\x00byte"}
		ws := make([]cache.Write, 0, len(keys))
		for i, k := range keys {
			if i%2 == 0 {
				ws = append(ws, cache.Write{Key: k, Value: []byte("v-" + k), TTL: time.Hour})
			}
		}
		ok := write(t, s, ws...)
		for i := range ok {
			assert.True(t, ok[i])
		}
		items := fetch(t, h.Connect(t, s), cache.FetchOptions{}, keys...)
		for i, k := range keys {
			if i%2 == 0 {
				assert.Equal(t, "v-"+k, string(items[i].Value), "key %q", k)
			} else {
				assert.Nil(t, items[i].Value, "key %q", k)
			}
		}
		require.NoError(t, s.Delete(t.Context(), keys))
		for _, it := range fetch(t, s, cache.FetchOptions{}, keys...) {
			assert.Nil(t, it.Value)
		}
	})
	t.Run("a cancelled context is returned, not absorbed", func(t *testing.T) {
		s := h.NewStore(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := s.Fetch(ctx, []string{"k"}, lease)
		assert.ErrorIs(t, err, context.Canceled)
	})
}

// newCache builds a cache on s for one test.
func newCache(t *testing.T, s cache.Store) *cache.Cache[string, string] {
	t.Helper()
	c, err := cache.New(s, cache.Config[string, string]{
		Namespace: "suite", TTL: time.Hour, Jitter: -1, EarlyRefreshBeta: -1,
		// The suite's stores may sit on a busy shared server.
		StoreTimeout: 5 * time.Second,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func value(v string) cache.Loader[string, string] {
	return func(context.Context, string) (string, error) { return v, nil }
}

func runCache(t *testing.T, h Harness) {
	t.Run("one load per key across processes", func(t *testing.T) {
		s := h.NewStore(t)
		a, b := newCache(t, s), newCache(t, h.Connect(t, s))
		started, release := make(chan struct{}), make(chan struct{})
		var loads atomic.Int64
		slow := func(context.Context, string) (string, error) {
			loads.Add(1)
			close(started)
			<-release
			return "v", nil
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			v, err := a.Get(t.Context(), "k", slow)
			assert.NoError(t, err)
			assert.Equal(t, "v", v)
		})
		<-started // a holds the lease and is loading
		got := make(chan string, 1)
		wg.Go(func() {
			v, err := b.Get(t.Context(), "k", func(context.Context, string) (string, error) {
				loads.Add(1)
				return "b loaded", nil
			})
			assert.NoError(t, err)
			got <- v
		})
		close(release)
		wg.Wait()
		assert.Equal(t, "v", <-got, "b waited for a's value")
		assert.EqualValues(t, 1, loads.Load())
	})
	t.Run("a delete beats a slow loader", func(t *testing.T) {
		s := h.NewStore(t)
		a, b := newCache(t, s), newCache(t, h.Connect(t, s))
		started, release := make(chan struct{}), make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = a.Get(t.Context(), "k", func(context.Context, string) (string, error) {
				close(started)
				<-release
				return "old", nil
			})
		}()
		<-started
		require.NoError(t, b.Delete(t.Context(), "k"))
		close(release)
		<-done
		v, err := newCache(t, h.Connect(t, s)).Get(t.Context(), "k", value("new"))
		require.NoError(t, err)
		assert.Equal(t, "new", v, "the value loaded before the delete was not stored")
	})
	t.Run("caches sharing one store see each other's changes at once", func(t *testing.T) {
		s := h.NewStore(t)
		if _, ok := s.(cache.Broadcaster); !ok {
			t.Skip("the store does not broadcast invalidations")
		}
		a, b := newCache(t, s), newCache(t, s)
		for _, c := range []*cache.Cache[string, string]{a, b} {
			v, err := c.Get(t.Context(), "k", value("v1"))
			require.NoError(t, err)
			require.Equal(t, "v1", v)
		}
		require.NoError(t, a.Set(t.Context(), "k", "v2"))
		v, err := b.Get(t.Context(), "k", value("never"))
		require.NoError(t, err)
		assert.Equal(t, "v2", v, "b dropped its copy when a set the key")
		require.NoError(t, b.Delete(t.Context(), "k"))
		v, err = a.Get(t.Context(), "k", value("v3"))
		require.NoError(t, err)
		assert.Equal(t, "v3", v, "a dropped its copy when b deleted the key")
	})
	t.Run("an invalidation reaches another process", func(t *testing.T) {
		s := h.NewStore(t)
		if _, ok := s.(cache.Broadcaster); !ok {
			t.Skip("the store does not broadcast invalidations")
		}
		a, b := newCache(t, s), newCache(t, h.Connect(t, s))
		for _, c := range []*cache.Cache[string, string]{a, b} {
			v, err := c.Get(t.Context(), "k", value("v1"))
			require.NoError(t, err)
			require.Equal(t, "v1", v)
		}
		require.NoError(t, a.Delete(t.Context(), "k"))
		// Another process learns through the server, in its own time.
		assert.Eventually(t, func() bool {
			v, err := b.Get(t.Context(), "k", value("v2"))
			return err == nil && v == "v2"
		}, 10*time.Second, time.Millisecond, "b kept its local copy")
	})
}
