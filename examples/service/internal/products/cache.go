package products

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/rediscache"
	"github.com/bedrock-go/bedrock/observe/cacheobserve"

	"github.com/bedrock-go/bedrock/examples/service/internal/store"
)

// NewCache returns the cache-aside of products by id: a local tier in front
// of Redis, invalidated across instances through Redis pub/sub, with keys
// under prefix. A product that does not exist is never cached, since it may
// be created the next second. The returned function stops the cache's
// background work.
func NewCache(rdb redis.UniversalClient, st *Store, prefix string, mp metric.MeterProvider) (*cache.Cache[int64, Product], func() error, error) {
	hooks, err := cacheobserve.Hooks(mp, "products")
	if err != nil {
		return nil, nil, err
	}
	rs, err := rediscache.New(rdb, rediscache.Config{Prefix: prefix + "cache:"})
	if err != nil {
		return nil, nil, err
	}
	c, err := cache.New[int64, Product](rs, cache.Config[int64, Product]{
		Hooks:       hooks,
		Namespace:   "product",
		Version:     1,
		TTL:         30 * time.Second,
		NegativeTTL: -1,
		Load: func(ctx context.Context, id int64) (Product, error) {
			p, err := st.Get(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				return p, cache.ErrNotFound
			}
			return p, err
		},
	})
	if err != nil {
		_ = rs.Close()
		return nil, nil, err
	}
	return c, func() error { return errors.Join(c.Close(), rs.Close()) }, nil
}
