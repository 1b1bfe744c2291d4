package cache

import (
	"context"
	"time"
)

// Store is a shared remote tier, such as Redis, holding encoded entries for
// every process. Keys arrive fully namespaced; values are opaque bytes.
// Implementations must be safe for concurrent use. The package
// [github.com/bedrock-go/bedrock/cache/rediscache] provides the Redis one.
//
// Leases give one load per cluster: a Fetch with LeaseIfMissing on an absent
// key hands a unique token to exactly one caller until the lease expires, and
// a Write carrying that token succeeds only while the lease is still the
// key's current one. Delete and token-less writes void outstanding leases, so
// a slow loader can never overwrite a newer value or a deletion.
type Store interface {
	// Fetch returns one Item per key, in order.
	Fetch(ctx context.Context, keys []string, opts FetchOptions) ([]Item, error)
	// Write stores the items and reports, per item, whether it was written:
	// false means its lease was lost. A token-less write always succeeds,
	// voids the key's lease, and is announced to the other processes as an
	// invalidation when the store is also a [Broadcaster].
	Write(ctx context.Context, items []Write) ([]bool, error)
	// Delete removes the keys, voids their leases and, when the store is also
	// a [Broadcaster], announces the invalidation to every process.
	Delete(ctx context.Context, keys []string) error
}

// Broadcaster is implemented by a Store that tells every process about
// invalidations, so that their local tiers drop the keys.
//
// Every subscriber must learn of every change, its own included: several
// caches of one process may share one store (same Namespace or not), and a
// change made through one of them must reach the others. A store may deliver
// the invalidations of its own writes and deletes to its subscribers
// directly, before Write or Delete returns; a cache stores its own new value
// locally only after the store call returned.
type Broadcaster interface {
	// Subscribe calls fn for each invalidation until the returned function is
	// called. fn must not block for long.
	Subscribe(fn func(Invalidation)) (unsubscribe func())
}

// Invalidation names store keys whose local copies must be dropped. All is
// set when invalidations may have been missed (the notification channel
// dropped or reconnected): every local copy must be dropped.
type Invalidation struct {
	Keys []string
	All  bool
}

// LeaseMode selects whether a Fetch takes the load lease of a key.
type LeaseMode uint8

const (
	// LeaseNone only reads.
	LeaseNone LeaseMode = iota
	// LeaseIfMissing takes the lease of a key that has no value.
	LeaseIfMissing
	// LeaseIfStale also takes the lease of a key whose value is stale: its
	// remaining TTL is at most FetchOptions.Stale. It serves background
	// refreshes, so that one process per cluster refreshes a key.
	LeaseIfStale
)

// FetchOptions tune a Fetch.
type FetchOptions struct {
	Lease LeaseMode
	// Stale is the tail of a value's TTL during which it is stale; see
	// LeaseIfStale.
	Stale time.Duration
}

// LeaseState is the outcome of a lease request for one key.
type LeaseState uint8

const (
	// LeaseNotRequested: no lease was asked for, or the key had a value that
	// made one unnecessary.
	LeaseNotRequested LeaseState = iota
	// LeaseGranted: the caller holds the lease; Item.Token identifies it.
	LeaseGranted
	// LeaseHeld: another caller holds the lease and is loading the key.
	LeaseHeld
)

// Item is one key's answer to a Fetch.
type Item struct {
	Value []byte        // nil when the key has no value
	TTL   time.Duration // remaining lifetime of Value, measured by the store's clock
	Lease LeaseState
	Token string // set when Lease is LeaseGranted
}

// Write is one value to store. TTL is the value's whole lifetime in the
// store, fresh part and stale tail together. A Write with a Token and a nil
// Value stores nothing: it releases the lease (if still current), after a
// failed load, so that another process may try without waiting for the lease
// to expire.
type Write struct {
	Key   string
	Value []byte
	TTL   time.Duration
	Token string // lease token; empty for an unconditional write
}
