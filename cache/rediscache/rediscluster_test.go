package rediscache_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/cachetest"
	"github.com/bedrock-go/bedrock/cache/rediscache"
	"github.com/bedrock-go/bedrock/internal/testenv"
)

// TestStore_ConformsOnRedisCluster runs the cache suite on a Redis Cluster:
// a key and its lease share a hash tag, batches span the masters, and
// invalidations published on one node reach subscribers on another. Each
// "process" has its own cluster client and store on the test's prefix.
func TestStore_ConformsOnRedisCluster(t *testing.T) {
	_, base := testenv.RedisCluster(t)
	prefixes := map[cache.Store]string{}
	n := 0
	newStore := func(t *testing.T, prefix string) cache.Store {
		client := redis.NewClusterClient(testenv.RedisClusterOptions(t))
		t.Cleanup(func() { _ = client.Close() })
		s, err := rediscache.New(client, rediscache.Config{Prefix: prefix})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		prefixes[s] = prefix
		return s
	}
	cachetest.Run(t, cachetest.Harness{
		NewStore: func(t *testing.T) cache.Store {
			n++
			return newStore(t, fmt.Sprintf("%ss%d:", base, n))
		},
		Connect: func(t *testing.T, s cache.Store) cache.Store { return newStore(t, prefixes[s]) },
	})
}

// Keys that would break a naive hash tag: an empty key or one that starts
// with '}' made the tag "{}", which Redis ignores, so the value and its
// lease hashed to different slots (CROSSSLOT); and escaping must keep
// distinct keys apart.
func TestStore_AnyKeyKeepsItsValueAndLeaseInOneSlot(t *testing.T) {
	client, prefix := testenv.RedisCluster(t)
	s, err := rediscache.New(client, rediscache.Config{Prefix: prefix})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	keys := []string{"", "}", "}{", "{}", "{", "a}b", "%", "%7B", "%7D", "%25", "{x}", "x"}
	ctx := t.Context()
	writes := make([]cache.Write, len(keys))
	for i, k := range keys {
		writes[i] = cache.Write{Key: k, Value: []byte(fmt.Sprint("v", i)), TTL: time.Minute}
	}
	_, err = s.Write(ctx, writes)
	require.NoError(t, err)
	for i, k := range keys {
		items, err := s.Fetch(ctx, []string{k}, cache.FetchOptions{Lease: cache.LeaseIfMissing})
		require.NoError(t, err, "key %q", k)
		require.Len(t, items, 1)
		assert.Equal(t, fmt.Sprint("v", i), string(items[0].Value), "key %q must keep its own value", k)
	}
	require.NoError(t, s.Delete(ctx, keys))
}
