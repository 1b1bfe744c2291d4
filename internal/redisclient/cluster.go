package redisclient

import "time"

// ClusterStateReloadInterval is the ClusterOptions.ClusterStateReloadInterval
// Bedrock recommends for a *redis.ClusterClient, and sets wherever it builds
// one.
//
// go-redis learns a new slot map only from a MOVED or ASK reply, or when the
// map it has is older than this interval (60 s by default). When a master
// dies, nothing answers MOVED for its slots: the client keeps sending them
// to the dead address after its replica has taken over, until the interval
// runs out. Measured on a six-node cluster with a master killed: errors for
// 55 s with the default, 48 s of them after the cluster had recovered; with
// one second, they stop within about a second of the promotion
// (TestFailover_RecommendedClientRecovers). The price is one CLUSTER SLOTS
// per client and second while the client is in use, which a cluster
// answers from memory.
const ClusterStateReloadInterval = time.Second
