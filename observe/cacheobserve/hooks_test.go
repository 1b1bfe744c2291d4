package cacheobserve_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/cacheobserve"
)

var errBoom = errors.New("boom")

// brokenStore is a cache.Store whose backend is down.
type brokenStore struct{}

func (brokenStore) Fetch(context.Context, []string, cache.FetchOptions) ([]cache.Item, error) {
	return nil, errBoom
}

func (brokenStore) Write(context.Context, []cache.Write) ([]bool, error) { return nil, errBoom }

func (brokenStore) Delete(context.Context, []string) error { return errBoom }

func TestHooks_RecordHitsMissesLoadsAndStaleServes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := otelhooktest.NewRecorder(t, "cacheobserve")
		hooks, err := cacheobserve.Hooks(m.MP, "users")
		require.NoError(t, err)
		c, err := cache.New(nil, cache.Config[string, string]{
			TTL: time.Minute, Stale: time.Minute, Jitter: -1, EarlyRefreshBeta: -1,
			ClockResolution: -1, NegativeTTL: -1, Hooks: hooks,
		})
		require.NoError(t, err)
		defer c.Close()
		ctx := context.Background()
		load := func(_ context.Context, key string) (string, error) {
			time.Sleep(20 * time.Millisecond) // a database round trip
			if key == "ghost" {
				return "", cache.ErrNotFound
			}
			return "v-" + key, nil
		}

		for range 3 {
			v, err := c.Get(ctx, "ada", load)
			require.NoError(t, err)
			require.Equal(t, "v-ada", v)
		}
		_, err = c.Get(ctx, "ghost", load)
		require.ErrorIs(t, err, cache.ErrNotFound)
		time.Sleep(90 * time.Second) // past the TTL, within the stale window
		v, err := c.Get(ctx, "ada", load)
		require.NoError(t, err)
		require.Equal(t, "v-ada", v)
		time.Sleep(time.Second) // the background refresh
		synctest.Wait()

		assert.Equal(t, map[string]int64{"bedrock.cache.name=users,bedrock.cache.tier=local": 2},
			m.Counter(t, "bedrock.cache.hits", "{hit}"))
		assert.Equal(t, map[string]int64{"bedrock.cache.name=users": 2},
			m.Counter(t, "bedrock.cache.misses", "{miss}"))
		assert.Equal(t, map[string]int64{"bedrock.cache.name=users": 1},
			m.Counter(t, "bedrock.cache.stale_serves", "{hit}"))
		loads := m.Histogram(t, "bedrock.cache.load.duration")
		require.Len(t, loads, 2)
		ok := loads["bedrock.cache.load.outcome=ok,bedrock.cache.name=users"]
		assert.Equal(t, uint64(2), ok.Count, "the first load and the refresh")
		assert.InDelta(t, 0.040, ok.Sum, 1e-9, "synctest time: exactly two 20ms loads")
		assert.Equal(t, uint64(1), loads["bedrock.cache.load.outcome=not_found,bedrock.cache.name=users"].Count)
	})
}

func TestHooks_RecordAbsorbedStoreFailuresByOperation(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "cacheobserve")
	hooks, err := cacheobserve.Hooks(m.MP, "users")
	require.NoError(t, err)
	c, err := cache.New(brokenStore{}, cache.Config[string, string]{Namespace: "users", ClockResolution: -1, Hooks: hooks})
	require.NoError(t, err)
	defer c.Close()
	v, err := c.Get(context.Background(), "ada", func(context.Context, string) (string, error) { return "v", nil })
	require.NoError(t, err, "the cache falls back to the loader")
	require.Equal(t, "v", v)
	require.ErrorIs(t, c.Set(context.Background(), "ada", "w"), errBoom)
	require.ErrorIs(t, c.Delete(context.Background(), "ada"), errBoom)

	assert.Equal(t, map[string]int64{
		"bedrock.cache.name=users,bedrock.cache.operation=fetch,error.type=_OTHER":  1,
		"bedrock.cache.name=users,bedrock.cache.operation=write,error.type=_OTHER":  1,
		"bedrock.cache.name=users,bedrock.cache.operation=delete,error.type=_OTHER": 1,
	}, m.Counter(t, "bedrock.cache.errors", "{error}"))
}

func BenchmarkHooks_Hit(b *testing.B) {
	hooks, err := cacheobserve.Hooks(otelhooktest.NewRecorder(b, "cacheobserve").MP, "users")
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		hooks.OnHit(cache.TierLocal)
	}
}
