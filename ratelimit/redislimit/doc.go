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
// # When Redis is down
//
// A decision that Redis cannot make within Config.Timeout (default 100ms),
// because it is unreachable, slow, or refusing work (LOADING, READONLY,
// BUSY, ...), is decided by Config.WhenUnavailable: [FailOpen] (the default)
// admits, [FailClosed] returns [ErrUnavailable], [FallBack] asks another
// store, typically a ratelimit.Memory. Hooks.OnUnavailable reports each such
// decision. A cancelled caller context is returned as is, never treated as
// an outage.
package redislimit
