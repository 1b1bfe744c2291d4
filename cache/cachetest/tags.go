package cachetest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
)

// tagStore returns s as a cache.TagStore, or skips a store without tags.
func tagStore(t *testing.T, s cache.Store) cache.TagStore {
	t.Helper()
	ts, ok := s.(cache.TagStore)
	if !ok {
		t.Skip("the store does not support tags")
	}
	return ts
}

// counting returns a loader of v that counts its calls and tags its entry.
func counting(v string, calls *atomic.Int64, tags ...string) cache.Loader[string, string] {
	return func(ctx context.Context, _ string) (string, error) {
		calls.Add(1)
		cache.EntryOf(ctx).Tag(tags...)
		return v, nil
	}
}

// newNamedCache is newCache with its own Namespace, as the caches of
// different types sharing a store have.
func newNamedCache(t *testing.T, s cache.Store, ns string) *cache.Cache[string, string] {
	t.Helper()
	c, err := cache.New(s, cache.Config[string, string]{
		Namespace: ns, TTL: time.Hour, Jitter: -1, EarlyRefreshBeta: -1, StoreTimeout: 5 * time.Second,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func runTags(t *testing.T, h Harness) {
	t.Run("an invalidation raises the sequence number and records it per tag", func(t *testing.T) {
		s := tagStore(t, h.NewStore(t))
		ctx := t.Context()
		seqs, before, err := s.TagSeqs(ctx, []string{"a", "b"})
		require.NoError(t, err)
		assert.Equal(t, []uint64{0, 0}, seqs, "tags never invalidated")
		first, err := s.InvalidateTags(ctx, []string{"a", "{odd}\x00tag"})
		require.NoError(t, err)
		assert.Greater(t, first, before)
		second, err := s.InvalidateTags(ctx, []string{"b"})
		require.NoError(t, err)
		assert.Greater(t, second, first)
		other := tagStore(t, h.Connect(t, s.(cache.Store)))
		seqs, current, err := other.TagSeqs(ctx, []string{"a", "b", "{odd}\x00tag", "c"})
		require.NoError(t, err)
		assert.Equal(t, []uint64{first, second, first, 0}, seqs)
		assert.Equal(t, second, current)
	})
	t.Run("an invalidation is announced to every process", func(t *testing.T) {
		s := h.NewStore(t)
		ts := tagStore(t, s)
		other := h.Connect(t, s)
		b, ok := other.(cache.Broadcaster)
		if !ok {
			t.Skip("the store does not broadcast invalidations")
		}
		got := make(chan cache.Invalidation, 16)
		unsubscribe := b.Subscribe(func(inv cache.Invalidation) {
			if len(inv.Tags) > 0 {
				got <- inv
			}
		})
		defer unsubscribe()
		// A networked store subscribes in the background: repeat until the
		// other process hears one.
		deadline := time.After(10 * time.Second)
		for {
			seq, err := ts.InvalidateTags(t.Context(), []string{"product:42"})
			require.NoError(t, err)
			select {
			case inv := <-got:
				assert.Equal(t, []string{"product:42"}, inv.Tags)
				assert.LessOrEqual(t, inv.Seq, seq)
				assert.NotZero(t, inv.Seq)
				return
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				t.Fatal("the other process never heard the invalidation")
			}
		}
	})
	t.Run("invalidating a tag drops the entries of every cache, local and shared", func(t *testing.T) {
		s := h.NewStore(t)
		tagStore(t, s)
		other := h.Connect(t, s)
		// Product pages and list pages, in two caches of two processes.
		productsA, listsA := newNamedCache(t, s, "product"), newNamedCache(t, s, "list")
		productsB, listsB := newNamedCache(t, other, "product"), newNamedCache(t, other, "list")
		var loads atomic.Int64
		ctx := t.Context()
		get := func(c *cache.Cache[string, string], key, v string, tags ...string) string {
			t.Helper()
			got, err := c.Get(ctx, key, counting(v, &loads, tags...))
			require.NoError(t, err)
			return got
		}
		require.Equal(t, "p42", get(productsA, "42", "p42", "product:42"))
		require.Equal(t, "p43", get(productsA, "43", "p43", "product:43"))
		require.Equal(t, "c7", get(listsA, "7", "c7", "category:7", "product:42", "product:43"))
		require.Equal(t, "c8", get(listsA, "8", "c8", "category:8", "product:44"))
		// The other process reads the shared tier into its local one.
		require.Equal(t, "p42", get(productsB, "42", "never"))
		require.Equal(t, "c7", get(listsB, "7", "never"))
		require.Equal(t, "c8", get(listsB, "8", "never"))
		require.EqualValues(t, 4, loads.Load())

		require.NoError(t, productsA.InvalidateTags(ctx, "product:42"))

		assert.Equal(t, "p42 v2", get(productsA, "42", "p42 v2", "product:42"), "this process, product cache")
		assert.Equal(t, "c7 v2", get(listsA, "7", "c7 v2", "category:7", "product:42", "product:43"), "this process, list cache")
		assert.Equal(t, "p43", get(productsA, "43", "never"), "an entry without the tag stays")
		assert.Equal(t, "c8", get(listsA, "8", "never"), "a list without the product stays")
		assert.EqualValues(t, 6, loads.Load())
		// The other process hears of it in its own time; it then finds
		// the values reloaded above in the shared tier.
		assert.Eventually(t, func() bool {
			return get(productsB, "42", "never") == "p42 v2" && get(listsB, "7", "never") == "c7 v2"
		}, 10*time.Second, time.Millisecond, "the other process kept its local copies")
		assert.Equal(t, "c8", get(listsB, "8", "never"))
		assert.EqualValues(t, 6, loads.Load(), "the other process reloaded nothing")
	})
	t.Run("an entry of an invalidated tag in the shared tier is reloaded", func(t *testing.T) {
		s := h.NewStore(t)
		tagStore(t, s)
		var loads atomic.Int64
		ctx := t.Context()
		a := newNamedCache(t, s, "page")
		_, err := a.Get(ctx, "home", counting("v1", &loads, "category:7"))
		require.NoError(t, err)
		// Invalidated by another process, read by a third that has
		// never seen the key: only the shared tier can tell it.
		require.NoError(t, newNamedCache(t, h.Connect(t, s), "other").InvalidateTags(ctx, "category:7"))
		v, err := newNamedCache(t, h.Connect(t, s), "page").Get(ctx, "home", counting("v2", &loads, "category:7"))
		require.NoError(t, err)
		assert.Equal(t, "v2", v)
		assert.EqualValues(t, 2, loads.Load())
	})
	t.Run("after an invalidation one process reloads while the others wait", func(t *testing.T) {
		s := h.NewStore(t)
		tagStore(t, s)
		ctx := t.Context()
		a, b := newNamedCache(t, s, "page"), newNamedCache(t, h.Connect(t, s), "page")
		var loads atomic.Int64
		_, err := a.Get(ctx, "k", counting("v1", &loads, "product:42"))
		require.NoError(t, err)
		require.NoError(t, a.InvalidateTags(ctx, "product:42"))
		loads.Store(0)
		started, release := make(chan struct{}), make(chan struct{})
		done := make(chan string)
		go func() {
			v, err := a.Get(ctx, "k", func(ctx context.Context, _ string) (string, error) {
				loads.Add(1)
				cache.EntryOf(ctx).Tag("product:42")
				close(started)
				<-release
				return "v2", nil
			})
			assert.NoError(t, err)
			done <- v
		}()
		<-started // a holds the key's lease
		got := make(chan string)
		go func() {
			v, err := b.Get(ctx, "k", counting("b loaded", &loads, "product:42"))
			assert.NoError(t, err)
			got <- v
		}()
		close(release)
		assert.Equal(t, "v2", <-done)
		assert.Equal(t, "v2", <-got, "b waited for a's value")
		assert.EqualValues(t, 1, loads.Load())
	})
	t.Run("a load racing an invalidation never installs its value", func(t *testing.T) {
		s := h.NewStore(t)
		tagStore(t, s)
		a := newNamedCache(t, s, "page")
		started, release := make(chan struct{}), make(chan struct{})
		done := make(chan string)
		go func() {
			v, err := a.Get(t.Context(), "k", func(ctx context.Context, _ string) (string, error) {
				cache.EntryOf(ctx).Tag("product:42")
				close(started)
				<-release
				return "old", nil
			})
			assert.NoError(t, err)
			done <- v
		}()
		<-started
		require.NoError(t, newNamedCache(t, h.Connect(t, s), "other").InvalidateTags(t.Context(), "product:42"))
		close(release)
		assert.Equal(t, "old", <-done, "the caller who asked before the invalidation gets the value")
		var loads atomic.Int64
		for name, c := range map[string]*cache.Cache[string, string]{
			"the same cache": a, "another process": newNamedCache(t, h.Connect(t, s), "page"),
		} {
			v, err := c.Get(t.Context(), "k", counting("new", &loads, "product:42"))
			require.NoError(t, err, name)
			assert.Equal(t, "new", v, "%s: the value loaded before the invalidation was not served", name)
		}
	})
}

func runLoaderOptions(t *testing.T, h Harness) {
	t.Run("a loader's TTL is the value's TTL in the store", func(t *testing.T) {
		s := h.NewStore(t)
		c := newCache(t, s) // TTL: an hour, no jitter
		_, err := c.Get(t.Context(), "k", func(ctx context.Context, _ string) (string, error) {
			cache.EntryOf(ctx).SetTTL(3 * time.Hour)
			return "v", nil
		})
		require.NoError(t, err)
		it := fetch(t, h.Connect(t, s), cache.FetchOptions{}, "suite:v0:k")[0]
		require.NotNil(t, it.Value)
		assert.Greater(t, it.TTL, 2*time.Hour)
		assert.LessOrEqual(t, it.TTL, 3*time.Hour)
	})
	t.Run("a value the loader says not to cache is stored nowhere", func(t *testing.T) {
		s := h.NewStore(t)
		c := newCache(t, s)
		var loads atomic.Int64
		noCache := func(ctx context.Context, _ string) (string, error) {
			loads.Add(1)
			cache.EntryOf(ctx).NoCache()
			return "v", nil
		}
		for range 2 {
			v, err := c.Get(t.Context(), "k", noCache)
			require.NoError(t, err)
			assert.Equal(t, "v", v)
		}
		assert.EqualValues(t, 2, loads.Load())
		assert.Nil(t, fetch(t, s, cache.FetchOptions{}, "suite:v0:k")[0].Value)
		it := fetch(t, h.Connect(t, s), lease, "suite:v0:k")[0]
		assert.Equal(t, cache.LeaseGranted, it.Lease, "the lease was released")
	})
	t.Run("a batch loader decides per key", func(t *testing.T) {
		s := h.NewStore(t)
		tagStore(t, s)
		c := newCache(t, s)
		var loads atomic.Int64
		load := func(ctx context.Context, keys []string) (map[string]string, error) {
			loads.Add(int64(len(keys)))
			cache.EntryOf(ctx).Tag("batch")
			cache.EntryFor(ctx, "tagged").Tag("product:42")
			cache.EntryFor(ctx, "uncached").NoCache()
			cache.EntryFor(ctx, "long").SetTTL(3 * time.Hour)
			m := map[string]string{}
			for _, k := range keys {
				m[k] = k + "!"
			}
			return m, nil
		}
		keys := []string{"tagged", "uncached", "long"}
		got, err := c.GetMany(t.Context(), keys, load)
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"tagged": "tagged!", "uncached": "uncached!", "long": "long!"}, got)
		items := fetch(t, s, cache.FetchOptions{}, "suite:v0:tagged", "suite:v0:uncached", "suite:v0:long")
		assert.NotNil(t, items[0].Value)
		assert.Nil(t, items[1].Value, "not cached")
		assert.Greater(t, items[2].TTL, 2*time.Hour)
		assert.LessOrEqual(t, items[0].TTL, time.Hour)

		require.NoError(t, c.InvalidateTags(t.Context(), "product:42"))
		loads.Store(0)
		_, err = c.GetMany(t.Context(), keys, load)
		require.NoError(t, err)
		assert.EqualValues(t, 2, loads.Load(), "the tagged key and the uncached one were loaded again")
		require.NoError(t, c.InvalidateTags(t.Context(), "batch"))
		loads.Store(0)
		_, err = c.GetMany(t.Context(), keys, load)
		require.NoError(t, err)
		assert.EqualValues(t, 3, loads.Load(), "the batch's tag is every key's")
	})
}
