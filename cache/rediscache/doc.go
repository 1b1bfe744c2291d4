// Package rediscache is the Redis tier of package
// [github.com/bedrock-go/bedrock/cache]: a [Store] implementing
// [cache.Store] and [cache.Broadcaster] on go-redis v9.
//
//	store, err := rediscache.New(redisClient, rediscache.Config{Prefix: "app:cache:"})
//	defer store.Close()
//	users, err := cache.New(store, cache.Config[int64, User]{Namespace: "user"})
//	defer users.Close()
//
// # Keys and scripts
//
// The value of cache key k lives at Prefix{k} and its load lease at
// Prefix{k}:lease, with '{', '}' and '%' in k percent-escaped and an empty k
// written "%": the hash tag is always the whole key, so both land in one
// Redis Cluster slot whatever k holds, and each multi-step operation is a
// single Lua script. Reading takes the lease in the
// same script when asked; writing checks it. TTLs are set and read by Redis
// (PX, PTTL), so the processes' clocks never matter. Batches pipeline one
// script call per key: one round trip per server.
//
// # Invalidations
//
// Delete and unconditional writes hand the keys at once to every cache
// subscribed to the store, and publish them on a pub/sub channel for the
// other processes. Each store runs one listener goroutine (started by the
// first Subscribe, stopped by Close) that hands them to its caches, skipping
// its own messages, which its caches already have: several caches may share
// one store and still see each other's changes. When the subscription
// drops, when it is re-established, when a message cannot be decoded, and
// when the connection stays silent through a health-check ping, the listener
// tells every cache to flush its local tier.
//
// # When Redis is down
//
// Calls fail fast with the client's errors; the cache absorbs them for reads
// (local tier plus loader) and reports them for Delete and Set. The listener
// retries with backoff and flushes the local tiers when it is back.
package rediscache
