// Package ratelimittest is the conformance suite of ratelimit stores, in the
// manner of testing/slogtest: every [ratelimit.Store] must pass [Run].
//
// The suite drives a store, through a ratelimit.Limiter and explicit times,
// along scripted sequences of (time, key, cost) whose answers are written
// out by hand for every algorithm (bursts, window boundaries, the weighted
// previous window, exact logs, several limits at once, cancelled
// reservations, limits changed at run time, a clock that steps back), then
// along random sequences compared step by step with the in-memory store, and
// finally hammers one key from 64 goroutines. A store that passes makes
// exactly the decisions ratelimit.Memory makes.
//
//	func TestMyStore(t *testing.T) {
//		ratelimittest.Run(t, func(t *testing.T) ratelimit.Store { return newMyStore(t) })
//	}
//
// Stores may keep state across the calls of the factory: every subtest uses
// keys of its own.
package ratelimittest
