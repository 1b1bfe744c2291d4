package cache

// What a loader may decide about the entry it loads: its TTL, whether it is
// cached at all, and its tags.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// EntryControl lets a loader decide about the entry it is loading: how long
// it stays fresh ([EntryControl.SetTTL]), whether it is cached at all
// ([EntryControl.NoCache]) and which tags it carries ([EntryControl.Tag]).
// A loader gets it from its ctx with [EntryOf] (or [EntryFor] in a batch
// loader); it works the same for Get, GetMany and background refreshes.
//
// Its methods are safe for concurrent use and do nothing on a nil
// EntryControl, which is what EntryOf returns outside a load.
type EntryControl struct {
	mu      sync.Mutex
	ttl     time.Duration
	ttlSet  bool
	noCache bool
	tags    []string
}

// SetTTL sets how long the loaded value is fresh, instead of Config.TTL:
// for example from an upstream Cache-Control max-age or a row's expiry.
// Config.Jitter and Config.Stale apply on top of it, and Config.LocalTTL
// still caps the local tier when a store is configured. A d <= 0 means the
// value is already stale: it is not cached, as with NoCache. It applies to
// values, not to "not found" answers, which keep Config.NegativeTTL.
func (ec *EntryControl) SetTTL(d time.Duration) {
	if ec == nil {
		return
	}
	ec.mu.Lock()
	defer ec.mu.Unlock()
	ec.ttl, ec.ttlSet = d, true
}

// NoCache says the loaded value (or "not found") must not be cached: it is
// returned to every caller waiting for this load and stored in neither
// tier. A background refresh that ends with NoCache drops the local copy.
func (ec *EntryControl) NoCache() {
	if ec == nil {
		return
	}
	ec.mu.Lock()
	defer ec.mu.Unlock()
	ec.noCache = true
}

// Tag adds tags to the loaded entry, value or "not found", on top of those
// of Config.Tags. [Cache.InvalidateTags] drops every entry carrying one of
// them. A tag must be 1 to MaxTagLength bytes, and an entry carries at most
// MaxTags; otherwise the load fails with an error wrapping ErrInvalidTag.
func (ec *EntryControl) Tag(tags ...string) {
	if ec == nil {
		return
	}
	ec.mu.Lock()
	defer ec.mu.Unlock()
	ec.tags = append(ec.tags, tags...)
}

// entryOptions is what a loader (or Set) decided about one entry.
type entryOptions struct {
	ttl     time.Duration // 0: Config.TTL
	noCache bool
	tags    []string
}

func (ec *EntryControl) options() entryOptions {
	if ec == nil {
		return entryOptions{}
	}
	ec.mu.Lock()
	defer ec.mu.Unlock()
	o := entryOptions{noCache: ec.noCache, tags: slices.Clone(ec.tags)}
	if ec.ttlSet {
		if ec.ttl <= 0 {
			o.noCache = true
		} else {
			o.ttl = ec.ttl
		}
	}
	return o
}

// loadControl is what a load's ctx carries: one EntryControl for the whole
// load and, in a batch, one per key asked for with EntryFor.
type loadControl struct {
	all   EntryControl
	batch bool
	mu    sync.Mutex
	keys  map[any]*EntryControl
}

type controlKey struct{}

func withControl(ctx context.Context, batch bool) (context.Context, *loadControl) {
	lc := &loadControl{batch: batch}
	return context.WithValue(ctx, controlKey{}, lc), lc
}

// EntryOf returns the control of the entry being loaded, for a Loader
// called by a Cache with ctx; in a BatchLoader, the control of every entry
// of the batch (see EntryFor). Outside a load it returns nil, whose methods
// do nothing.
func EntryOf(ctx context.Context) *EntryControl {
	lc, _ := ctx.Value(controlKey{}).(*loadControl)
	if lc == nil {
		return nil
	}
	return &lc.all
}

// EntryFor returns the control of key's entry in a BatchLoader called by a
// Cache with ctx: per key, a TTL set here wins over the batch's (EntryOf),
// NoCache from either applies, and the tags of both are carried. key must
// have the cache's key type (int64(1), not 1, for int64 keys): another type
// fails the batch rather than lose its decisions. In a Loader it is
// EntryOf. Outside a load it returns nil.
func EntryFor[K comparable](ctx context.Context, key K) *EntryControl {
	lc, _ := ctx.Value(controlKey{}).(*loadControl)
	if lc == nil {
		return nil
	}
	if !lc.batch {
		return &lc.all
	}
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.keys == nil {
		lc.keys = make(map[any]*EntryControl)
	}
	ec := lc.keys[key]
	if ec == nil {
		ec = &EntryControl{}
		lc.keys[key] = ec
	}
	return ec
}

// checkKeys reports a call of EntryFor with a key of another type than the
// cache's (an untyped constant for an int64 key, say), whose decisions
// would otherwise be silently lost.
func checkKeys[K comparable](lc *loadControl) error {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	for k := range lc.keys {
		if _, ok := k.(K); !ok {
			var want K
			return fmt.Errorf("cache: EntryFor called with a %T key in a batch of %T keys", k, want)
		}
	}
	return nil
}

// optionsFor merges the batch's options with key's own.
func optionsFor[K comparable](lc *loadControl, all entryOptions, key K) entryOptions {
	lc.mu.Lock()
	ec := lc.keys[key]
	lc.mu.Unlock()
	if ec == nil {
		return all
	}
	own := ec.options()
	if own.ttl == 0 {
		own.ttl = all.ttl
	}
	own.noCache = own.noCache || all.noCache
	own.tags = append(own.tags, all.tags...)
	return own
}
