package cache

// Invalidation: deletions, broadcasts from the store, and the epochs that
// keep a load in flight from resurrecting a deleted value.

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync/atomic"
)

func (c *Cache[K, V]) stripe(key K) *atomic.Uint64 {
	return &c.epochs[maphash.Comparable(c.seed, key)%epochStripes]
}

func (c *Cache[K, V]) epoch(key K) uint64 { return c.stripe(key).Load() }

// forget drops key from the local tier and voids the loads in flight.
func (c *Cache[K, V]) forget(key K) {
	c.stripe(key).Add(1)
	c.local.Invalidate(key)
}

func (c *Cache[K, V]) forgetAll() {
	for i := range c.epochs {
		c.epochs[i].Add(1)
	}
	c.local.InvalidateAll()
}

// invalidated applies an invalidation broadcast by the store.
func (c *Cache[K, V]) invalidated(inv Invalidation) {
	if inv.All {
		c.tags.reset()
		c.forgetAll()
		return
	}
	if len(inv.Tags) > 0 {
		c.tags.apply(inv.Tags, inv.Seq)
	}
	for _, sk := range inv.Keys {
		if len(sk) < len(c.s.prefix) || sk[:len(c.s.prefix)] != c.s.prefix {
			continue
		}
		k, err := c.s.parseKey(sk[len(c.s.prefix):])
		if err != nil {
			// A key this cache cannot name: drop everything rather than
			// risk keeping it.
			if h := c.s.hooks.OnError; h != nil {
				h(OpDecode, err)
			}
			c.forgetAll()
			return
		}
		c.forget(k)
	}
}

// Delete removes the keys from both tiers, voids the leases of their loads in
// flight so that none can write back an older value, and, with a
// broadcasting store, drops them from every process's local tier. Unlike
// reads, Delete reports a store failure: an invalidation that did not happen
// must not pass silently.
func (c *Cache[K, V]) Delete(ctx context.Context, keys ...K) error {
	for _, k := range keys {
		c.forget(k)
	}
	if c.store == nil || len(keys) == 0 {
		return nil
	}
	skeys := make([]string, len(keys))
	for i, k := range keys {
		skeys[i] = c.s.prefix + c.s.keyString(k)
	}
	sctx, cancel := context.WithTimeout(ctx, c.s.storeTimeout)
	err := c.store.Delete(sctx, skeys)
	cancel()
	// Loads that read the store between the first forget and the store's
	// delete may hold the old value: void them too.
	for _, k := range keys {
		c.forget(k)
	}
	if err != nil {
		c.storeFailed(ctx, OpDelete, err)
		return fmt.Errorf("cache: delete: %w", err)
	}
	return nil
}
