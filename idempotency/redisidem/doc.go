// Package redisidem is a Redis [idempotency.Store], for services that run
// more than one process.
//
// Each operation is one Lua script, run with EVALSHA (falling back to EVAL
// when the server has not cached it), so that locking a key, storing a
// response and releasing a key are atomic. Expiry uses the Redis server's
// clock (PEXPIRE), never the clocks of the application hosts. Keys carry a
// hash tag, so the store works on Redis Cluster.
//
// A record is a hash with the fields s (state: L locked, D done), f
// (fingerprint), t (lock token) and r (the encoded response).
//
// When Redis is unreachable every method returns the client's error; the
// middleware then fails closed (503) or open, as idempotency.Config.FailOpen
// says.
//
// # Durability
//
// A record lasts as long as Redis keeps it, and a record lost before its
// retention ends lets a repeated request run its handler again: replaying
// 20 keys that had answered 201 before a restart of a Redis without
// persistence created 20 new orders (issue 23). What a Redis keeps:
//
//   - no persistence (appendonly no, no RDB snapshots): every record is
//     lost when the server restarts or crashes;
//   - RDB snapshots only (save ...): the records written since the last
//     snapshot, minutes' worth by default, are lost in a crash;
//   - AOF with appendfsync everysec (appendonly yes, Redis's AOF default):
//     at most about the last second of records is lost in a crash of the
//     host, none when only the Redis process dies or restarts;
//   - AOF with appendfsync always: nothing acknowledged is lost, at the cost
//     of an fsync per write;
//   - replication alone: a failover may lose the writes the replica had not
//     yet received (WAIT is not used); with AOF on the replicas too, as
//     above otherwise.
//
// A request answered while its record was being lost is the window of
// risk; outside it a completed key replays. Services that need the
// guarantee through restarts run their idempotency Redis with AOF and
// check it at start (CONFIG GET appendonly), as Bedrock's reference
// service does, refusing to start in production otherwise.
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
// and an election: seconds) requests whose keys hash to the dead master's
// slots get the client's error, and the middleware fails closed or open.
package redisidem
