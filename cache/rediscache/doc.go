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
// # Tracking: changes made outside Bedrock
//
// The channel carries only the changes Bedrock stores make. With
// Config.Tracking, a store also asks Redis itself which keys change, so
// that a value rewritten, deleted or expired by any client (another
// service, a script, redis-cli, a FLUSHDB) leaves every local tier too.
// It uses Redis's server-assisted client-side caching: the store keeps a
// connection of its own per Redis server (per master on a cluster), speaking
// RESP3, with CLIENT TRACKING ON BCAST PREFIX Prefix+"{", and Redis pushes
// the name of every key changed under that prefix to it. The store turns
// the names of its value keys into invalidations for its caches (leases and
// other keys are ignored); a flush (FLUSHALL, FLUSHDB, which Redis reports
// without names) drops every local copy. When a tracking connection drops,
// and again when it is back, the local tiers are flushed, as for the
// channel: changes made in between were not seen. A server that refuses
// tracking (older than Redis 6, or a proxy without CLIENT TRACKING) is
// reported through Hooks.OnSubscriptionError at each attempt, retried with
// backoff up to 5 s, and each failed attempt flushes the local tiers too:
// without tracking, that is all that bounds how stale they may be.
//
// What it costs:
//
//   - The server: broadcast mode sends every change under the prefix to
//     every tracking connection, whether that process ever read the key:
//     a write costs one message per tracking store (per process), and a
//     load two (the lease taken; the value written with the lease
//     released, in one script), since Redis sends the names changed in one
//     turn of its event loop together; the store, not Redis, drops the
//     lease names. Use it where keys change rarely compared with how often
//     they are read, and where the processes are tens rather than
//     thousands.
//   - The writer: Redis also reports a process's own writes back to it
//     (NOLOOP cannot help: the writes go through the pool's connections,
//     not the tracking one). So the value a cache has just loaded or set
//     is dropped from its local tier when the echo arrives, and the next
//     read of that key goes to Redis, once. On a skewed read workload
//     with 2% writes (BenchmarkTracking_OwnWriteEcho), the local tier
//     served 91.0% of reads instead of 95.2%. Invalidations are never lost this way; only local
//     hits are. The echo cannot be told from a change another client made
//     at the same moment (Redis merges the names of one event-loop turn),
//     so the store does not try to skip it.
//   - Delay: an external write reaches the local tiers about as fast as
//     the writer gets its reply. From issuing a SET to the invalidation
//     handed to the caches, over runs of 1,000 writes on a 2-core machine
//     at load average 14 (BenchmarkTracking_Propagation): median 54–90 µs,
//     p99 0.12–1.5 ms on one server; median 55–94 µs, p99 0.2–8 ms on the
//     cluster; a quiet machine should show narrower tails.
//
// On a cluster the store tracks every master, and compares its listeners
// with the cluster's masters every HealthCheck, at once when a tracking
// connection drops, and every second while one is down: a master that a
// failover promotes is tracked within about that long after the promotion
// (0.9 to 2.6 s in three runs of TestTracking_FollowsAFailover, which
// includes its writer's own recovery), and the local tiers are
// flushed when its listener starts. A master added by a reshard is tracked
// within HealthCheck; until then its changes are not seen. Tracking needs
// Redis 6 or later and a *redis.Client or *redis.ClusterClient, whose
// options (address, credentials, TLS, dialer, OnConnect) the tracking
// connections reuse. The channel keeps running beside it, so stores with
// and without tracking can share a prefix.
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
