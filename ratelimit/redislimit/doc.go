// Package redislimit keeps ratelimit state in Redis, so that every process
// of a service shares one limit per key.
//
// Each decision is one round trip: a Lua script (EVALSHA, with EVAL when the
// server answers NOSCRIPT) that reads the server's clock with TIME, applies
// every limit of the key, and writes the new state with a TTL that lasts
// exactly as long as the state matters. The script is a port of the
// in-memory algorithms, in integer microseconds, and the ratelimittest
// conformance suite holds both to identical decisions.
//
// Keys are Prefix + "{" + key + "}:" + limit index + ":" + algorithm (with
// braces and '%' in the key percent-escaped), so all the limits of one key
// share a Redis Cluster hash slot. It needs Redis 5 or later, whose scripts
// replicate their effects, which lets a script read TIME before writing.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
//	store, err := redislimit.New(rdb, redislimit.Config{WhenUnavailable: redislimit.FailOpen})
//	lim, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerSecond(10)}, Store: store})
//
// # Concurrency quotas
//
// A Store is also a ratelimit.LeaseStore: the leases of a key are a sorted
// set ([Store.LeaseKey], hash-tagged like the limits) of lease IDs scored by
// their expiry on the Redis clock; one script drops the expired ones and
// decides, and the set expires with its longest lease.
//
// # When Redis is down
//
// A decision that Redis cannot make within Config.Timeout (default 100ms),
// because it is unreachable, slow, or refusing work (LOADING, READONLY,
// BUSY, ...), is decided by Config.WhenUnavailable: [FailOpen] (the default)
// admits, [FailClosed] returns [ErrUnavailable], [FallBack] asks another
// store, typically a ratelimit.Memory. Hooks.OnUnavailable reports each such
// decision. A cancelled caller context is returned as is, never treated as
// an outage.
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
// and an election: seconds) decisions on the dead master's slots fail, and
// Config.WhenUnavailable decides them as for any outage.
package redislimit
