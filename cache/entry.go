package cache

// Entries of the local tier, and their conversion to and from the store.

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// entry is a value (or a cached "not found") in the local tier. Times are
// unix nanoseconds.
type entry[V any] struct {
	value   V
	missing bool
	fresh   int64 // served as fresh until then
	due     int64 // the value's true freshness deadline, >= fresh; early refresh aims at it
	expire  int64 // served as stale, while refreshing, until then
	delta   int64 // how long the value took to load, in ns: early refresh's Δ

	tags    []string      // sorted, distinct; nil for an untagged entry
	seq     uint64        // the tag sequence number known when its load started
	checked atomic.Uint64 // the tag table's gen at the last successful check
}

func (e *entry[V]) result() (V, error) {
	if e.missing {
		var zero V
		return zero, ErrNotFound
	}
	return e.value, nil
}

// newEntry builds the entry of a freshly loaded value and returns it with the
// value's TTL in the store (fresh part, jittered, plus the stale tail). opts
// were checked by entryOptions; seq is the tag sequence number known when the
// load started.
func (c *Cache[K, V]) newEntry(v V, missing bool, delta time.Duration, opts entryOptions, seq uint64) (*entry[V], time.Duration) {
	ttl, stale := c.s.ttl, c.s.stale
	if opts.ttl > 0 {
		ttl = opts.ttl
	}
	if missing {
		var zero V
		v, ttl, stale, delta = zero, c.s.negativeTTL, 0, 0
	}
	ttl = c.jitter(ttl)
	local := ttl
	if c.store != nil {
		local = min(ttl, c.s.localTTL)
	}
	now := c.now()
	return &entry[V]{
		value: v, missing: missing, delta: int64(delta), tags: opts.tags, seq: seq,
		fresh: now + int64(local), due: now + int64(ttl), expire: now + int64(local+stale),
	}, ttl + stale
}

// entryOptions completes what a loader (or Set) decided about key's entry
// with Config.Tags and checks the tags.
func (c *Cache[K, V]) entryOptions(key K, v V, missing bool, opts entryOptions) (entryOptions, error) {
	if c.s.tags != nil && !missing {
		opts.tags = append(opts.tags, c.s.tags(key, v)...)
	}
	if len(opts.tags) == 0 {
		return opts, nil
	}
	if !c.tagsUsable() {
		return opts, ErrTagsUnsupported
	}
	tags, err := normalizeTags(opts.tags)
	if err != nil {
		return opts, err
	}
	opts.tags = tags
	c.usesTags.Store(true)
	return opts, nil
}

func (c *Cache[K, V]) jitter(d time.Duration) time.Duration {
	if c.s.jitter == 0 {
		return d
	}
	return time.Duration(float64(d) * (1 + c.s.jitter*(2*rand.Float64()-1)))
}

// encode returns the envelope of e for the store.
func (c *Cache[K, V]) encode(e *entry[V]) ([]byte, bool) {
	env := envelope{missing: e.missing, stale: c.s.stale, delta: time.Duration(e.delta), tags: e.tags, seq: e.seq}
	if !e.missing {
		payload, err := c.s.codec.Marshal(e.value)
		if err != nil {
			if h := c.s.hooks.OnError; h != nil {
				h(OpEncode, err)
			}
			return nil, false
		}
		env.payload = payload
	} else {
		env.stale = 0
	}
	return appendEnvelope(make([]byte, 0, 16+len(env.payload)), env), true
}

// fromItem decodes a store item into a local entry. Its deadlines follow the
// store's TTL, so processes agree on them whatever their clocks say.
func (c *Cache[K, V]) fromItem(it Item) (*entry[V], bool) {
	env, err := parseEnvelope(it.Value)
	var v V
	if err == nil && !env.missing {
		if uerr := c.s.codec.Unmarshal(env.payload, &v); uerr != nil {
			err = fmt.Errorf("%w: %w", ErrCorrupt, uerr)
		}
	}
	if err != nil {
		if h := c.s.hooks.OnError; h != nil {
			h(OpDecode, err)
		}
		return nil, false
	}
	remaining := it.TTL
	if remaining <= 0 {
		// Written without an expiry by someone else: trust it for a TTL.
		remaining = c.s.ttl + env.stale
	}
	freshLeft := remaining - env.stale
	now := c.now()
	return &entry[V]{
		value: v, missing: env.missing, delta: int64(env.delta), tags: env.tags, seq: env.seq,
		fresh:  now + int64(min(freshLeft, c.s.localTTL)),
		due:    now + int64(freshLeft),
		expire: now + int64(min(remaining, c.s.localTTL+env.stale)),
	}, true
}
