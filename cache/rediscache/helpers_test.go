package rediscache_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/rediscache"
	"github.com/bedrock-go/bedrock/internal/testenv"
)

// cluster is the real test Redis plus the key prefix of this test.
type cluster struct {
	base   *redis.Client
	prefix string
}

func newCluster(t *testing.T) cluster {
	t.Helper()
	client, prefix := testenv.Redis(t)
	return cluster{base: client, prefix: prefix}
}

// client returns a new client of its own, as a separate process would have,
// optionally dialling addr instead of the server.
func (c cluster) client(t *testing.T, addr string) *redis.Client {
	t.Helper()
	opts := testenv.RedisOptions(t)
	if addr != "" {
		opts.Addr = addr
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	return client
}

func (c cluster) store(t *testing.T, client *redis.Client, cfg rediscache.Config) *rediscache.Store {
	t.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = c.prefix
	}
	s, err := rediscache.New(client, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// process returns a cache with its own client, store and local tier.
func process[K comparable, V any](t *testing.T, c cluster, cfg cache.Config[K, V]) (*cache.Cache[K, V], *rediscache.Store) {
	t.Helper()
	s := c.store(t, c.client(t, ""), rediscache.Config{})
	return newCache(t, s, cfg), s
}

func newCache[K comparable, V any](t *testing.T, s cache.Store, cfg cache.Config[K, V]) *cache.Cache[K, V] {
	t.Helper()
	if cfg.Namespace == "" {
		cfg.Namespace = "t"
	}
	if cfg.StoreTimeout == 0 {
		// The shared test machine can be slow; the degradation tests set
		// their own budget.
		cfg.StoreTimeout = 5 * time.Second
	}
	c, err := cache.New(s, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}
