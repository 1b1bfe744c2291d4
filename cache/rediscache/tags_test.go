package rediscache_test

import (
	"context"
	"errors"
	"strconv"
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

// taggedLoad returns a loader of v that tags its entry and counts its calls.
func taggedLoad(v string, loads *atomic.Int64, tags ...string) cache.Loader[string, string] {
	return func(ctx context.Context, _ string) (string, error) {
		loads.Add(1)
		cache.EntryOf(ctx).Tag(tags...)
		return v, nil
	}
}

// Tags are store-wide: invalidating product:42 through the product cache
// drops the list pages of the list cache sharing its store at once, and
// those of another process once Redis tells it.
func TestRedis_CachesSharingAStoreSeeEachOthersTagInvalidations(t *testing.T) {
	c := newCluster(t)
	s := c.store(t, c.client(t, ""), rediscache.Config{})
	products := newCache(t, s, cache.Config[string, string]{Namespace: "product"})
	lists := newCache(t, s, cache.Config[string, string]{Namespace: "list"})
	otherLists, _ := process(t, c, cache.Config[string, string]{Namespace: "list"})
	ctx := t.Context()
	var loads atomic.Int64
	get := func(cc *cache.Cache[string, string], key, v string, tags ...string) string {
		t.Helper()
		got, err := cc.Get(ctx, key, taggedLoad(v, &loads, tags...))
		require.NoError(t, err)
		return got
	}
	require.Equal(t, "p42", get(products, "42", "p42", "product:42"))
	require.Equal(t, "c7", get(lists, "7", "c7", "category:7", "product:42"))
	require.Equal(t, "c8", get(lists, "8", "c8", "category:8", "product:44"))
	require.Equal(t, "c7", get(otherLists, "7", "never"))
	require.EqualValues(t, 3, loads.Load())

	require.NoError(t, products.InvalidateTags(ctx, "product:42"))
	assert.Equal(t, "c7 v2", get(lists, "7", "c7 v2", "category:7", "product:42"), "the list cache dropped its page at once")
	assert.Equal(t, "c8", get(lists, "8", "never"))
	assert.Equal(t, "p42 v2", get(products, "42", "p42 v2", "product:42"))
	assert.Eventually(t, func() bool { return get(otherLists, "7", "never") == "c7 v2" },
		5*time.Second, time.Millisecond, "the other process dropped its copy")
	assert.EqualValues(t, 5, loads.Load())
}

// Values live at most TagTTL and a tag's number twice as long, so no value
// outlives the invalidation that voided it.
func TestStore_TagNumbersOutliveValues(t *testing.T) {
	c := newCluster(t)
	client := c.client(t, "")
	s := c.store(t, client, rediscache.Config{TagTTL: time.Hour})
	ctx := t.Context()
	_, err := s.Write(ctx, []cache.Write{{Key: "k", Value: []byte("v"), TTL: 24 * time.Hour}})
	require.NoError(t, err)
	items, err := s.Fetch(ctx, []string{"k"}, cache.FetchOptions{})
	require.NoError(t, err)
	assert.LessOrEqual(t, items[0].TTL, time.Hour, "the value's TTL is capped at TagTTL")
	_, err = s.InvalidateTags(ctx, []string{"x"})
	require.NoError(t, err)
	ttl, err := client.PTTL(ctx, c.prefix+"{tags}:t:x").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 119*time.Minute)
	assert.LessOrEqual(t, ttl, 2*time.Hour)
}

// If the counter is lost (a flush, a failover that dropped the last
// writes), numbers still grow past every one the processes heard: an entry
// loaded after hearing n must not survive an invalidation numbered n.
func TestStore_TagNumbersGrowWhenTheCounterIsLost(t *testing.T) {
	c := newCluster(t)
	client := c.client(t, "")
	s := c.store(t, client, rediscache.Config{})
	ctx := t.Context()
	first, err := s.InvalidateTags(ctx, []string{"x"})
	require.NoError(t, err)
	require.NoError(t, client.Del(ctx, c.prefix+"{tags}:seq").Err())
	second, err := s.InvalidateTags(ctx, []string{"x"})
	require.NoError(t, err)
	assert.Greater(t, second, first)
	seqs, current, err := s.TagSeqs(ctx, []string{"x"})
	require.NoError(t, err)
	assert.Equal(t, []uint64{second}, seqs)
	assert.Equal(t, second, current)
	none, err := s.InvalidateTags(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, second, none, "no tags: nothing to do, the current number")
}

// On Redis Cluster the entries of one tag sit in many slots while every tag
// number sits in the {tags} slot: one invalidation of many tags is one
// script, and drops exactly the entries carrying them.
func TestStore_TagsAcrossSlotsOnRedisCluster(t *testing.T) {
	_, prefix := testenv.RedisCluster(t)
	newProcess := func() *cache.Cache[string, string] {
		client := redis.NewClusterClient(testenv.RedisClusterOptions(t))
		t.Cleanup(func() { _ = client.Close() })
		s, err := rediscache.New(client, rediscache.Config{Prefix: prefix})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return newCache(t, s, cache.Config[string, string]{Namespace: "page"})
	}
	a, b := newProcess(), newProcess()
	ctx := t.Context()
	const keys = 64
	var loads atomic.Int64
	tagOf := func(i int) string { return "product:" + strconv.Itoa(i%16) }
	for i := range keys {
		_, err := a.Get(ctx, strconv.Itoa(i), taggedLoad("v1", &loads, tagOf(i)))
		require.NoError(t, err)
	}
	invalidated := make([]string, 8) // products 0..7: half the keys
	for i := range invalidated {
		invalidated[i] = tagOf(i)
	}
	require.NoError(t, b.InvalidateTags(ctx, invalidated...))
	loads.Store(0)
	fresh := newProcess() // reads the shared tier only
	for i := range keys {
		v, err := fresh.Get(ctx, strconv.Itoa(i), taggedLoad("v2", &loads, tagOf(i)))
		require.NoError(t, err)
		if i%16 < 8 {
			assert.Equal(t, "v2", v, "key %d carries an invalidated tag", i)
		} else {
			assert.Equal(t, "v1", v, "key %d does not", i)
		}
	}
	assert.EqualValues(t, keys/2, loads.Load())
}

func TestNew_RejectsBadTagTTL(t *testing.T) {
	c := newCluster(t)
	for _, d := range []time.Duration{-time.Second, time.Millisecond} {
		_, err := rediscache.New(c.client(t, ""), rediscache.Config{TagTTL: d})
		assert.True(t, errors.Is(err, rediscache.ErrInvalidConfig), "TagTTL %v: got %v", d, err)
	}
}

// When a tag invalidation fails, it may still have run with its reply lost:
// the other processes heard of it, and this store's caches, which skip its
// echo, would not. The store flushes their local tiers instead.
func TestStore_FailedTagInvalidationFlushesItsCaches(t *testing.T) {
	c := newCluster(t)
	client := c.client(t, "")
	s := c.store(t, client, rediscache.Config{})
	var tiers []cache.Tier
	cc := newCache(t, s, cache.Config[string, string]{
		Namespace: "page", StoreCooldown: -1, // the store stays in use after the failure
		Hooks: cache.Hooks{OnHit: func(tier cache.Tier) { tiers = append(tiers, tier) }},
	})
	ctx := t.Context()
	var loads atomic.Int64
	// The first hits may go to Redis: the subscription starts in the
	// background and flushes the local tier once it is up.
	require.Eventually(t, func() bool {
		tiers = nil
		_, err := cc.Get(ctx, "k", taggedLoad("v", &loads, "x"))
		require.NoError(t, err)
		return len(tiers) == 1 && tiers[0] == cache.TierLocal
	}, 5*time.Second, time.Millisecond)
	tiers = nil
	// A sequence key of the wrong type makes the script fail on a healthy
	// connection.
	require.NoError(t, client.Del(ctx, c.prefix+"{tags}:seq").Err())
	require.NoError(t, client.RPush(ctx, c.prefix+"{tags}:seq", "not a number").Err())
	require.Error(t, cc.InvalidateTags(ctx, "x"))
	v, err := cc.Get(ctx, "k", taggedLoad("never", &loads, "x"))
	require.NoError(t, err)
	assert.Equal(t, "v", v, "nothing was invalidated in Redis")
	assert.Equal(t, []cache.Tier{cache.TierStore}, tiers, "the local copy was dropped")
	assert.EqualValues(t, 1, loads.Load())
}
