// Package rediscache is the Redis tier of package
// [github.com/bedrock-go/bedrock/cache]: a [Store] implementing
// [cache.Store], [cache.Broadcaster] and [cache.TagStore] on go-redis v9.
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
// # Tags
//
// Tag sequence numbers live in one hash slot: Prefix{tags}:seq is the
// store's number and Prefix{tags}:t:<tag> the number of a tag's last
// invalidation, so InvalidateTags is one script on Redis Cluster too (it
// bumps the number, records it for each tag and publishes the invalidation),
// and reading any number of tags is one MGET. No cache key is scanned or
// touched. The number is never below Redis's clock in microseconds, so it
// keeps growing if the counter is lost. Values live at most
// Config.TagTTL and tag numbers twice as long, which bounds their storage.
//
// # When Redis is down
//
// Calls fail fast with the client's errors; the cache absorbs them for reads
// (local tier plus loader) and reports them for Delete and Set. The listener
// retries with backoff and flushes the local tiers when it is back.
//
// # On Redis Cluster
//
// The store works on a *redis.ClusterClient as on one server; its conformance
// suite runs on both. Build the client with a short
// ClusterStateReloadInterval, as Bedrock does wherever it builds one:
//
//	rdb := redis.NewClusterClient(&redis.ClusterOptions{
//		Addrs:                      []string{"10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"},
//		ContextTimeoutEnabled:      true,        // required, as for every client
//		ClusterStateReloadInterval: time.Second, // go-redis's default is 60 s
//	})
//
// go-redis learns a new slot map only from a MOVED or ASK reply, or when its
// copy is older than that interval. When a master dies, nothing answers
// MOVED for its slots: with the default interval, clients kept failing on
// them for 55 s, 48 s after the replica had taken over; with one second,
// they recover within about a second of the promotion (measured by
// internal/redisclient's TestFailover_RecommendedClientRecovers, on a
// cluster whose master it kills). Until the promotion (cluster-node-timeout
// and an election: seconds) calls on the dead master's slots fail with the
// client's error, which the cache absorbs for reads.
package rediscache
