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
// dropped or reconnected): every local copy must be dropped, and what the
// cache knew of tag sequence numbers forgotten. Tags, with Seq, announce a
// [TagStore.InvalidateTags]: every entry carrying one of the tags and loaded
// before Seq is invalid.
type Invalidation struct {
	Keys []string
	All  bool
	Tags []string
	Seq  uint64
}

// TagStore is implemented by a Store that supports tags (see
// [Cache.InvalidateTags]). A cache uses tags only with a store that is both
// a TagStore and a [Broadcaster]; with another store, Config.Tags is refused
// by New and a tagged load or InvalidateTags fails with ErrTagsUnsupported.
//
// The store keeps one sequence number, increased by each InvalidateTags, and
// per tag the number of its last invalidation. An entry records the number
// the cache knew when its load started; it is valid while none of its tags
// was invalidated after that number. No key is scanned and no entry is
// touched: invalidating a tag costs the same whatever number of entries
// carry it. The store must keep a tag's number for longer than any entry
// lives.
type TagStore interface {
	// InvalidateTags increases the sequence number, records it as the
	// number of each tag and announces Invalidation{Tags, Seq} to every
	// subscriber (its own before it returns). It returns the new number;
	// with no tags it does nothing and returns the current one.
	InvalidateTags(ctx context.Context, tags []string) (seq uint64, err error)
	// TagSeqs returns the number of each tag (0 for a tag never
	// invalidated, or forgotten after it outlived every entry) and the
	// current sequence number, read atomically.
	TagSeqs(ctx context.Context, tags []string) (seqs []uint64, current uint64, err error)
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
