package cache

import "time"

// Hooks observe a Cache, for metrics and traces; set them in
// [Config].Hooks. Each hook is optional; a nil hook costs one comparison.
// Hooks run on the goroutine of the event and must be quick and safe for
// concurrent use.
type Hooks struct {
	// OnHit is called when a fresh value is served, with the tier it came
	// from.
	OnHit func(tier Tier)
	// OnMiss is called when a key is in neither tier (or its value
	// expired) and a caller must wait for it.
	OnMiss func()
	// OnStale is called when a stale value is served while it is
	// refreshed.
	OnStale func()
	// OnLoad is called after every call of a loader, foreground or
	// background, with its duration and error (nil, ErrNotFound or the
	// loader's).
	OnLoad func(elapsed time.Duration, err error)
	// OnError is called for a failure the cache absorbed: a store call that
	// failed or timed out (the cache fell back to the local tier and the
	// loader), a value that could not be encoded or decoded, a lost lease.
	OnError func(op Op, err error)
}

// Tier names where a value was found.
type Tier uint8

const (
	// TierLocal is the in-process tier.
	TierLocal Tier = iota
	// TierStore is the shared store.
	TierStore
)

// String returns "local" or "store".
func (t Tier) String() string {
	if t == TierLocal {
		return "local"
	}
	return "store"
}

// Op names the operation that failed in Hooks.OnError.
type Op uint8

const (
	OpFetch  Op = iota // reading the store
	OpWrite            // writing the store
	OpDelete           // deleting from the store
	OpEncode           // encoding a value with the codec
	OpDecode           // decoding stored bytes
)

// String names the operation: fetch, write, delete, encode or decode.
func (o Op) String() string {
	switch o {
	case OpFetch:
		return "fetch"
	case OpWrite:
		return "write"
	case OpDelete:
		return "delete"
	case OpEncode:
		return "encode"
	default:
		return "decode"
	}
}
