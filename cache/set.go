package cache

// Writes.

import (
	"context"
	"fmt"
	"time"
)

// Set stores v for key in both tiers, replacing any value and voiding the
// leases of loads in flight, and tells the other processes to drop their
// local copies. The returned error is the store's; the local tier is set
// even then. It is SetWith with no options.
func (c *Cache[K, V]) Set(ctx context.Context, key K, v V) error {
	return c.SetWith(ctx, key, v, SetOptions{})
}

// SetOptions tune one SetWith.
type SetOptions struct {
	// TTL replaces Config.TTL for this value when positive; Jitter and
	// Stale apply on top, as for a loader's EntryControl.SetTTL.
	TTL time.Duration
	// Tags are carried by the value on top of those of Config.Tags; see
	// Cache.InvalidateTags.
	Tags []string
}

// SetWith is Set with a TTL and tags of its own. It returns an error
// wrapping ErrInvalidTag for bad tags, or ErrTagsUnsupported, and then
// stores nothing.
func (c *Cache[K, V]) SetWith(ctx context.Context, key K, v V, opts SetOptions) error {
	seq := c.loadSeq(ctx)
	eo, err := c.entryOptions(key, v, false, entryOptions{ttl: max(opts.TTL, 0), tags: opts.Tags})
	if err != nil {
		return fmt.Errorf("cache: set: %w", err)
	}
	e, ttl := c.newEntry(v, false, 0, eo, seq)
	if c.store != nil {
		if data, ok := c.encode(e); !ok {
			err = fmt.Errorf("cache: set: encode %T", v)
		} else {
			_, err = c.writeOne(ctx, Write{Key: c.s.prefix + c.s.keyString(key), Value: data, TTL: ttl})
		}
	}
	c.stripe(key).Add(1)
	if !c.s.noLocal {
		c.local.Set(key, e)
	}
	if err != nil {
		return fmt.Errorf("cache: set: %w", err)
	}
	return nil
}

func (c *Cache[K, V]) writeOne(ctx context.Context, w Write) (bool, error) {
	sctx, cancel := context.WithTimeout(ctx, c.s.storeTimeout)
	ok, err := c.store.Write(sctx, []Write{w})
	cancel()
	if err == nil && len(ok) != 1 {
		err = fmt.Errorf("cache: store returned %d results for 1 write", len(ok))
	}
	if err != nil {
		c.storeFailed(ctx, OpWrite, err)
		return false, err
	}
	return ok[0], nil
}
