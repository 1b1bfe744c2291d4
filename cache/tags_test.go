package cache_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
)

// tagged returns a loader that tags each key with tags(key) and counts its
// calls in l.
func tagged(l *counter, tags func(string) []string) cache.Loader[string, string] {
	return func(ctx context.Context, key string) (string, error) {
		cache.EntryOf(ctx).Tag(tags(key)...)
		return l.load(ctx, key)
	}
}

func TestInvalidateTags_DropsExactlyTheTaggedEntries(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store bool
	}{{"local tier only", false}, {"with a store", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var store cache.Store
			if tc.store {
				store = newMemStore()
			}
			c := newCache(t, store, cache.Config[string, string]{
				TTL: time.Hour,
				// Product pages carry their product; list pages are
				// tagged by the loader.
				Tags: func(key, _ string) []string {
					if id, ok := strings.CutPrefix(key, "product/"); ok {
						return []string{"product:" + id}
					}
					return nil
				},
			})
			var l counter
			load := tagged(&l, func(key string) []string {
				if key == "list/7" {
					return []string{"category:7", "product:42", "product:43"}
				}
				return nil
			})
			ctx := t.Context()
			keys := []string{"product/42", "product/43", "list/7", "about"}
			for _, k := range keys {
				_, err := c.Get(ctx, k, load)
				require.NoError(t, err)
			}
			require.EqualValues(t, 4, l.n.Load())
			require.NoError(t, c.InvalidateTags(ctx, "product:42"))
			for _, k := range keys {
				_, err := c.Get(ctx, k, load)
				require.NoError(t, err)
			}
			assert.EqualValues(t, 6, l.n.Load(), "product/42 and list/7 were reloaded, nothing else")
			v, err := c.Get(ctx, "list/7", load)
			require.NoError(t, err)
			assert.Equal(t, "list/7-v6", v, "the reloaded value is cached again")
			require.NoError(t, c.InvalidateTags(ctx, "category:7", "unknown"))
			v, err = c.Get(ctx, "list/7", load)
			require.NoError(t, err)
			assert.Equal(t, "list/7-v7", v)
		})
	}
}

// A load that started before an invalidation of one of its tags returns its
// value to its callers but never serves it again: its entry records the
// sequence number known when it started.
func TestInvalidateTags_LoadRacingAnInvalidationIsNeverServedAgain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store bool
	}{{"local tier only", false}, {"with a store", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var store cache.Store
			if tc.store {
				store = newMemStore()
			}
			c := newCache(t, store, cache.Config[string, string]{TTL: time.Hour})
			started, release := make(chan struct{}), make(chan struct{})
			done := make(chan string)
			go func() {
				v, err := c.Get(context.Background(), "k", func(ctx context.Context, _ string) (string, error) {
					cache.EntryOf(ctx).Tag("product:42")
					close(started)
					<-release
					return "old", nil
				})
				assert.NoError(t, err)
				done <- v
			}()
			<-started
			require.NoError(t, c.InvalidateTags(t.Context(), "product:42"))
			close(release)
			assert.Equal(t, "old", <-done)
			v, err := c.Get(t.Context(), "k", staticLoad)
			require.NoError(t, err)
			assert.Equal(t, "value of k", v, "the next Get reloaded")
		})
	}
}

func TestGet_LoaderTTLWithJitterAndStale(t *testing.T) {
	for _, tc := range []struct {
		name          string
		jitter, stale time.Duration
		fresh, reload time.Duration // still fresh at, reloaded (not stale) at
	}{
		{"exact", 0, 0, 9 * time.Second, 11 * time.Second},
		{"with jitter", 5 * time.Second, 0, 4900 * time.Millisecond, 15100 * time.Millisecond},
		{"with a stale window", 0, 30 * time.Second, 9 * time.Second, 41 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				jitter := -1.0
				if tc.jitter > 0 {
					jitter = float64(tc.jitter) / float64(10*time.Second)
				}
				var misses, stale atomic.Int64
				c := newCache(t, nil, cache.Config[string, string]{
					TTL: time.Hour, Stale: tc.stale, Jitter: jitter, EarlyRefreshBeta: -1, ClockResolution: -1,
					Hooks: cache.Hooks{OnMiss: func() { misses.Add(1) }, OnStale: func() { stale.Add(1) }},
				})
				var l counter
				load := func(ctx context.Context, key string) (string, error) {
					cache.EntryOf(ctx).SetTTL(10 * time.Second) // instead of the hour
					return l.load(ctx, key)
				}
				get := func() string {
					v, err := c.Get(t.Context(), "k", load)
					require.NoError(t, err)
					return v
				}
				require.Equal(t, "k-v1", get())
				time.Sleep(tc.fresh)
				assert.Equal(t, "k-v1", get())
				assert.EqualValues(t, 1, misses.Load(), "fresh until the loader's TTL")
				assert.Zero(t, stale.Load())
				if tc.stale > 0 {
					time.Sleep(11*time.Second - tc.fresh)
					assert.Equal(t, "k-v1", get(), "stale after the loader's TTL")
					synctest.Wait()
					assert.EqualValues(t, 1, stale.Load())
					assert.Equal(t, "k-v2", get(), "refreshed in the background")
					return
				}
				time.Sleep(tc.reload - tc.fresh)
				assert.Equal(t, "k-v2", get())
				assert.EqualValues(t, 2, misses.Load())
			})
		})
	}
}

func TestGet_LoaderSaysNoCache(t *testing.T) {
	for _, tc := range []struct {
		name   string
		decide func(*cache.EntryControl)
	}{
		{"NoCache", (*cache.EntryControl).NoCache},
		{"a zero TTL", func(ec *cache.EntryControl) { ec.SetTTL(0) }},
		{"a negative TTL", func(ec *cache.EntryControl) { ec.SetTTL(-time.Second) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newMemStore()
			c := newCache(t, store, cache.Config[string, string]{TTL: time.Hour})
			var loads atomic.Int64
			entered, release := make(chan struct{}), make(chan struct{})
			load := func(ctx context.Context, _ string) (string, error) {
				if loads.Add(1) == 1 {
					close(entered)
					<-release
				}
				tc.decide(cache.EntryOf(ctx))
				return "v", nil
			}
			var wg sync.WaitGroup
			results := make(chan string, 3)
			for range 3 {
				wg.Go(func() {
					v, err := c.Get(context.Background(), "k", load)
					assert.NoError(t, err)
					results <- v
				})
			}
			<-entered
			// The three callers share the load, whichever joined it.
			close(release)
			wg.Wait()
			close(results)
			for v := range results {
				assert.Equal(t, "v", v)
			}
			_, err := c.Get(t.Context(), "k", load)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, loads.Load(), int64(2), "nothing was cached")
			_, stored := store.get("t:v0:k")
			assert.False(t, stored)
		})
	}
}

func TestTags_BadTagsAreTypedErrors(t *testing.T) {
	many := make([]string, cache.MaxTags+1)
	for i := range many {
		many[i] = "t" + strconv.Itoa(i)
	}
	for _, tc := range []struct {
		name string
		tags []string
	}{
		{"empty", []string{""}},
		{"too long", []string{strings.Repeat("x", cache.MaxTagLength+1)}},
		{"too many", many},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCache(t, nil, cache.Config[string, string]{})
			_, err := c.Get(t.Context(), "k", func(ctx context.Context, _ string) (string, error) {
				cache.EntryOf(ctx).Tag(tc.tags...)
				return "v", nil
			})
			assert.ErrorIs(t, err, cache.ErrInvalidTag)
			assert.ErrorIs(t, c.SetWith(t.Context(), "k", "v", cache.SetOptions{Tags: tc.tags}), cache.ErrInvalidTag)
			if tc.name != "too many" {
				assert.ErrorIs(t, c.InvalidateTags(t.Context(), tc.tags...), cache.ErrInvalidTag)
			}
			_, err = c.Get(t.Context(), "k", func(context.Context, string) (string, error) { return "", errors.New("loaded") })
			assert.ErrorContains(t, err, "loaded", "nothing was cached")
		})
	}
	t.Run("an invalidation may name any number of tags", func(t *testing.T) {
		store := newMemStore()
		c := newCache(t, store, cache.Config[string, string]{})
		tags := make([]string, 3000)
		for i := range tags {
			tags[i] = "t" + strconv.Itoa(i)
		}
		require.NoError(t, c.InvalidateTags(t.Context(), tags...))
		seqs, _, err := store.MemoryStore.TagSeqs(t.Context(), []string{"t0", "t2999"})
		require.NoError(t, err)
		assert.NotZero(t, seqs[0])
		assert.NotZero(t, seqs[1])
	})
	t.Run("duplicates count once", func(t *testing.T) {
		c := newCache(t, nil, cache.Config[string, string]{})
		dup := make([]string, 2*cache.MaxTags)
		for i := range dup {
			dup[i] = "t" + strconv.Itoa(i%cache.MaxTags)
		}
		assert.NoError(t, c.SetWith(t.Context(), "k", "v", cache.SetOptions{Tags: dup}))
	})
}

// untaggedStore is a store without tags.
type untaggedStore struct{ cache.Store }

func TestTags_StoreWithoutTagsIsRefused(t *testing.T) {
	store := untaggedStore{newMemStore()}
	_, err := cache.New(store, cache.Config[string, string]{
		Namespace: "t", Tags: func(string, string) []string { return []string{"x"} },
	})
	var cerr *cache.ConfigError
	require.ErrorAs(t, err, &cerr)
	assert.Equal(t, "Tags", cerr.Field)

	c := newCache(t, store, cache.Config[string, string]{})
	_, err = c.Get(t.Context(), "k", func(ctx context.Context, _ string) (string, error) {
		cache.EntryOf(ctx).Tag("x")
		return "v", nil
	})
	assert.ErrorIs(t, err, cache.ErrTagsUnsupported)
	assert.ErrorIs(t, c.InvalidateTags(t.Context(), "x"), cache.ErrTagsUnsupported)
	v, err := c.Get(t.Context(), "k", staticLoad)
	require.NoError(t, err)
	assert.Equal(t, "value of k", v, "untagged entries work as before")
}

func TestSetWith_TTLAndTags(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore()
		c := newCache(t, store, cache.Config[string, string]{TTL: time.Hour, Jitter: -1, ClockResolution: -1})
		require.NoError(t, c.SetWith(t.Context(), "k", "set", cache.SetOptions{TTL: time.Minute, Tags: []string{"x"}}))
		v, err := c.Get(t.Context(), "k", staticLoad)
		require.NoError(t, err)
		assert.Equal(t, "set", v)
		store.mu.Lock()
		assert.Equal(t, []time.Duration{time.Minute}, store.ttls)
		store.mu.Unlock()
		require.NoError(t, c.InvalidateTags(t.Context(), "x"))
		v, err = c.Get(t.Context(), "k", staticLoad)
		require.NoError(t, err)
		assert.Equal(t, "value of k", v)
	})
}

// A lost subscription forgets what the cache knew of tags; the cache then
// asks the store again and still honours earlier invalidations.
func TestTags_SubscriptionLossAsksTheStoreAgain(t *testing.T) {
	store := newMemStore()
	c := newCache(t, store, cache.Config[string, string]{TTL: time.Hour})
	var l counter
	load := tagged(&l, func(string) []string { return []string{"x"} })
	_, err := c.Get(t.Context(), "k", load)
	require.NoError(t, err)
	// Another process invalidates x while this one does not listen.
	_, err = store.MemoryStore.InvalidateTags(t.Context(), []string{"x"})
	require.NoError(t, err)
	store.Announce(cache.Invalidation{All: true})
	v, err := c.Get(t.Context(), "k", load)
	require.NoError(t, err)
	assert.Equal(t, "k-v2", v, "the stored entry predates the invalidation")
	v, err = c.Get(t.Context(), "k", load)
	require.NoError(t, err)
	assert.Equal(t, "k-v2", v, "and the reloaded one is valid")
}

func TestGet_TaggedLocalHitDoesNotAllocate(t *testing.T) {
	c := newCache(t, nil, cache.Config[string, string]{TTL: time.Hour})
	load := func(ctx context.Context, key string) (string, error) {
		cache.EntryOf(ctx).Tag("product:42", "category:7")
		return "v", nil
	}
	_, err := c.Get(t.Context(), "k", load)
	require.NoError(t, err)
	require.NoError(t, c.InvalidateTags(t.Context(), "other"))
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := c.Get(ctx, "k", load); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

func TestEntryOf_OutsideALoadDoesNothing(t *testing.T) {
	ec := cache.EntryOf(context.Background())
	assert.Nil(t, ec)
	ec.SetTTL(time.Second)
	ec.NoCache()
	ec.Tag("x")
	assert.Nil(t, cache.EntryFor(context.Background(), 1))
}

// The table of tag numbers is bounded: once it evicts, entries it cannot
// vouch for are checked with the store (or reloaded without one), and an
// invalidated entry is never served.
func TestInvalidateTags_ManyTagsOverflowTheTableSafely(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store bool
	}{{"local tier only", false}, {"with a store", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var store cache.Store
			if tc.store {
				store = newMemStore()
			}
			c := newCache(t, store, cache.Config[string, string]{TTL: time.Hour, LocalSize: 10})
			var l counter
			load := tagged(&l, func(key string) []string { return []string{"tag-" + key} })
			ctx := t.Context()
			_, err := c.Get(ctx, "a", load)
			require.NoError(t, err)
			require.NoError(t, c.InvalidateTags(ctx, "tag-a"))
			_, err = c.Get(ctx, "b", load) // loaded after a's invalidation
			require.NoError(t, err)
			for i := range 3000 {
				require.NoError(t, c.InvalidateTags(ctx, "other-"+strconv.Itoa(i)))
			}
			v, err := c.Get(ctx, "a", load)
			require.NoError(t, err)
			assert.Equal(t, "a-v3", v, "a was invalidated")
			v, err = c.Get(ctx, "b", load)
			require.NoError(t, err)
			if tc.store {
				assert.Equal(t, "b-v2", v, "the store vouched for b")
			} else {
				assert.Contains(t, []string{"b-v2", "b-v4"}, v, "without a store, at worst a spurious reload")
			}
		})
	}
}

// A batch read from the store checks the tags its cache cannot vouch for in
// one store read, and then vouches for them on local hits.
func TestGetMany_ChecksUnknownTagsInOneRead(t *testing.T) {
	store := newMemStore()
	writer := newCache(t, store, cache.Config[int, string]{TTL: time.Hour})
	keys := []int{1, 2, 3, 4, 5}
	load := func(ctx context.Context, ks []int) (map[int]string, error) {
		m := map[int]string{}
		for _, k := range ks {
			cache.EntryFor(ctx, k).Tag("item:"+strconv.Itoa(k), "all")
			m[k] = "v" + strconv.Itoa(k)
		}
		return m, nil
	}
	_, err := writer.GetMany(t.Context(), keys, load)
	require.NoError(t, err)
	require.NoError(t, writer.InvalidateTags(t.Context(), "unrelated"))

	reader := newCache(t, store, cache.Config[int, string]{TTL: time.Hour})
	store.tagReads.Store(0)
	got, err := reader.GetMany(t.Context(), keys, func(context.Context, []int) (map[int]string, error) {
		return nil, errors.New("nothing should load")
	})
	require.NoError(t, err)
	assert.Len(t, got, 5)
	assert.EqualValues(t, 1, store.tagReads.Load(), "one read for the whole batch")
	_, err = reader.GetMany(t.Context(), keys, nil)
	require.NoError(t, err, "local hits now")
	assert.EqualValues(t, 1, store.tagReads.Load())
}

// EntryFor with a key of another type than the cache's would silently
// decide nothing: the batch fails instead.
func TestEntryFor_KeyOfAnotherTypeFailsTheBatch(t *testing.T) {
	c := newCache(t, nil, cache.Config[int64, string]{})
	_, err := c.GetMany(t.Context(), []int64{1}, func(ctx context.Context, keys []int64) (map[int64]string, error) {
		cache.EntryFor(ctx, 1).NoCache() // an int, not an int64
		return map[int64]string{1: "v"}, nil
	})
	assert.ErrorContains(t, err, "EntryFor called with a int key")
	got, err := c.GetMany(t.Context(), []int64{1}, func(ctx context.Context, keys []int64) (map[int64]string, error) {
		cache.EntryFor(ctx, int64(1)).NoCache()
		return map[int64]string{1: "v"}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, map[int64]string{1: "v"}, got)
}
