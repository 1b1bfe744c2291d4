// Package cachetest is the conformance suite every [cache.Store] runs: the
// lease protocol, TTLs, batches and keys of any bytes, then the behaviour of
// caches on top of the store (one load per key across processes, deletions
// that beat slow loaders, invalidations that reach every cache), then tags
// (for a [cache.TagStore]: invalidations that reach every cache of every
// process, and never lose to a load in flight) and the TTL and no-cache
// choices of loaders. It also
// provides [MemoryStore], an in-process store with the Redis store's
// semantics, for tests of code that uses a cache with a store.
//
//	func TestStore(t *testing.T) {
//		cachetest.Run(t, cachetest.Harness{
//			NewStore: func(t *testing.T) cache.Store { return newStore(t) },
//			Connect:  func(t *testing.T, s cache.Store) cache.Store { return otherProcess(t, s) },
//		})
//	}
package cachetest
