package rediscache_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/cachetest"
	"github.com/bedrock-go/bedrock/cache/rediscache"
)

// storesUnderTest runs the store semantics against the real server and, for
// speed and for what cannot be done to a shared server (SCRIPT FLUSH, fast
// forward), against miniredis. Each opener takes the store's lease TTL and
// returns the store and a function that lets at least d pass for it.
func storesUnderTest(t *testing.T) map[string]func(t *testing.T, leaseTTL time.Duration) (*rediscache.Store, func(time.Duration)) {
	return map[string]func(t *testing.T, leaseTTL time.Duration) (*rediscache.Store, func(time.Duration)){
		"redis": func(t *testing.T, leaseTTL time.Duration) (*rediscache.Store, func(time.Duration)) {
			c := newCluster(t)
			return c.store(t, c.client(t, ""), rediscache.Config{LeaseTTL: leaseTTL}), time.Sleep
		},
		"miniredis": func(t *testing.T, leaseTTL time.Duration) (*rediscache.Store, func(time.Duration)) {
			m := miniredis.RunT(t)
			client := redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true})
			t.Cleanup(func() { _ = client.Close() })
			s, err := rediscache.New(client, rediscache.Config{LeaseTTL: leaseTTL})
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			return s, m.FastForward
		},
	}
}

func TestStore_LeaseProtocol(t *testing.T) {
	for name, open := range storesUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			// A lease that outlives any pause of a busy machine, so that
			// "held" means held; its expiry is checked below with a store
			// of short leases, where only waiting long enough matters.
			s, _ := open(t, time.Minute)
			ctx := t.Context()
			miss := cache.FetchOptions{Lease: cache.LeaseIfMissing}
			fetch := func(opts cache.FetchOptions) cache.Item {
				t.Helper()
				items, err := s.Fetch(ctx, []string{"k"}, opts)
				require.NoError(t, err)
				require.Len(t, items, 1)
				return items[0]
			}
			write := func(token string, value []byte) bool {
				ok, err := s.Write(ctx, []cache.Write{{Key: "k", Value: value, TTL: time.Minute, Token: token}})
				require.NoError(t, err)
				return ok[0]
			}

			plain := fetch(cache.FetchOptions{})
			assert.Nil(t, plain.Value)
			assert.Equal(t, cache.LeaseNotRequested, plain.Lease)

			first := fetch(miss)
			require.Equal(t, cache.LeaseGranted, first.Lease)
			assert.NotEmpty(t, first.Token)
			assert.Equal(t, cache.LeaseHeld, fetch(miss).Lease, "one holder at a time")

			// A Delete voids the lease: the slow loader cannot write.
			require.NoError(t, s.Delete(ctx, []string{"k"}))
			assert.False(t, write(first.Token, []byte("old")))

			second := fetch(miss)
			require.Equal(t, cache.LeaseGranted, second.Lease)
			assert.NotEqual(t, first.Token, second.Token)
			assert.True(t, write(second.Token, []byte("v")))
			got := fetch(miss)
			assert.Equal(t, []byte("v"), got.Value)
			assert.Equal(t, cache.LeaseNotRequested, got.Lease)
			assert.InDelta(t, float64(time.Minute), float64(got.TTL), float64(time.Second))

			// A written lease is spent.
			assert.False(t, write(second.Token, []byte("again")))

			// LeaseIfStale takes a lease only in the stale tail.
			stale := fetch(cache.FetchOptions{Lease: cache.LeaseIfStale, Stale: 10 * time.Second})
			assert.Equal(t, cache.LeaseNotRequested, stale.Lease)
			refresh := fetch(cache.FetchOptions{Lease: cache.LeaseIfStale, Stale: 2 * time.Minute})
			require.Equal(t, cache.LeaseGranted, refresh.Lease)
			assert.Equal(t, []byte("v"), refresh.Value, "the stale value comes with the lease")

			// An unconditional write voids it too.
			assert.True(t, write("", []byte("set")))
			assert.False(t, write(refresh.Token, []byte("refreshed")))

			// A released lease frees the key at once.
			require.NoError(t, s.Delete(ctx, []string{"k"}))
			held := fetch(miss)
			ok, err := s.Write(ctx, []cache.Write{{Key: "k", Token: held.Token}})
			require.NoError(t, err)
			assert.True(t, ok[0])
			require.Equal(t, cache.LeaseGranted, fetch(miss).Lease)

			// An expired one too: the lease of a dead holder.
			short, advance := open(t, 50*time.Millisecond)
			fetchShort := func() cache.Item {
				t.Helper()
				items, err := short.Fetch(ctx, []string{"expiring"}, miss)
				require.NoError(t, err)
				return items[0]
			}
			require.Equal(t, cache.LeaseGranted, fetchShort().Lease)
			advance(60 * time.Millisecond)
			assert.Equal(t, cache.LeaseGranted, fetchShort().Lease, "the lease of a dead holder expires")
		})
	}
}

func TestStore_BatchAndKeysWithAnyBytes(t *testing.T) {
	for name, open := range storesUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			s, _ := open(t, time.Second)
			ctx := t.Context()
			keys := []string{"plain", "with}brace", "{tagged}", "new\nline", ""}
			writes := make([]cache.Write, len(keys))
			for i, k := range keys {
				writes[i] = cache.Write{Key: k, Value: []byte("v:" + k), TTL: time.Minute}
			}
			ok, err := s.Write(ctx, writes)
			require.NoError(t, err)
			assert.Equal(t, []bool{true, true, true, true, true}, ok)
			items, err := s.Fetch(ctx, append(keys, "absent"), cache.FetchOptions{})
			require.NoError(t, err)
			for i, k := range keys {
				assert.Equal(t, "v:"+k, string(items[i].Value))
			}
			assert.Nil(t, items[len(keys)].Value)
			require.NoError(t, s.Delete(ctx, keys))
			items, err = s.Fetch(ctx, keys, cache.FetchOptions{})
			require.NoError(t, err)
			for _, it := range items {
				assert.Nil(t, it.Value)
			}
		})
	}
}

func TestStore_ScriptsSurviveScriptFlush(t *testing.T) {
	// SCRIPT FLUSH (or a restart) forgets the scripts: EVALSHA fails with
	// NOSCRIPT, and the store loads them again. miniredis only: flushing
	// the shared server would disturb other tests.
	m := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	s, err := rediscache.New(client, rediscache.Config{})
	require.NoError(t, err)
	for range 2 {
		require.NoError(t, client.ScriptFlush(context.Background()).Err())
		ok, err := s.Write(t.Context(), []cache.Write{{Key: "a", Value: []byte("1"), TTL: time.Minute}, {Key: "b", Value: []byte("2"), TTL: time.Minute}})
		require.NoError(t, err)
		assert.Equal(t, []bool{true, true}, ok)
		require.NoError(t, client.ScriptFlush(context.Background()).Err())
		items, err := s.Fetch(t.Context(), []string{"a", "b"}, cache.FetchOptions{Lease: cache.LeaseIfMissing})
		require.NoError(t, err)
		assert.Equal(t, "1", string(items[0].Value))
		assert.Equal(t, "2", string(items[1].Value))
	}
}

func TestStore_RejectsBadWrites(t *testing.T) {
	m := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	s, err := rediscache.New(client, rediscache.Config{})
	require.NoError(t, err)
	_, err = s.Write(t.Context(), []cache.Write{{Key: "k", Value: []byte("v")}})
	assert.ErrorContains(t, err, "TTL")
	_, err = s.Write(t.Context(), []cache.Write{{Key: "k"}})
	assert.ErrorContains(t, err, "no value and no token")
}

// TestStore_Conforms runs the cache suite against the real Redis: each
// "process" has its own client and Store on the test's prefix.
func TestStore_Conforms(t *testing.T) {
	c := newCluster(t)
	prefixes := map[cache.Store]string{}
	n := 0
	cachetest.Run(t, cachetest.Harness{
		NewStore: func(t *testing.T) cache.Store {
			n++
			prefix := fmt.Sprintf("%ss%d:", c.prefix, n)
			s := c.store(t, c.client(t, ""), rediscache.Config{Prefix: prefix})
			prefixes[s] = prefix
			return s
		},
		Connect: func(t *testing.T, s cache.Store) cache.Store {
			other := c.store(t, c.client(t, ""), rediscache.Config{Prefix: prefixes[s]})
			prefixes[other] = prefixes[s]
			return other
		},
	})
}
