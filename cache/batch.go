package cache

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// GetMany returns the values of keys that have one, like Get for each key but
// with one store round trip for all the local misses, one call of load for
// the keys the store does not hold, and one pipelined store write. Keys
// already loading in this process (by Get or GetMany) are waited for, not
// loaded again. Keys without a value (ErrNotFound, cached or not) are absent
// from the map.
//
// On a loader error GetMany returns the values it found with the error; on
// ctx's end, ctx.Err(). Stale values are served and refreshed one key at a
// time in the background.
func (c *Cache[K, V]) GetMany(ctx context.Context, keys []K, load BatchLoader[K, V]) (map[K]V, error) {
	out := make(map[K]V, len(keys))
	var missing []K
	now := c.now()
	for _, k := range keys {
		e, ok := c.local.GetIfPresent(k)
		if !ok || now >= e.expire || e.tags != nil && !c.tagsOK(e) {
			missing = append(missing, k)
			continue
		}
		if now < e.fresh {
			if h := c.s.hooks.OnHit; h != nil {
				h(TierLocal)
			}
		} else if load != nil {
			c.serveStale(k, e, single(load))
		}
		if !e.missing {
			out[k] = e.value
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	if load == nil {
		return out, ErrNoLoader
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, c.loadMany(ctx, dedupe(missing), load, out)
}

func (c *Cache[K, V]) loadMany(ctx context.Context, keys []K, load BatchLoader[K, V], out map[K]V) error {
	if h := c.s.hooks.OnMiss; h != nil {
		for range keys {
			h()
		}
	}
	flights, r := c.flights.join(ctx, keys, c.newRun)
	if r != nil {
		var mine []*flight[K, V]
		for _, f := range flights {
			if f.run == r {
				mine = append(mine, f)
			}
		}
		if !c.goroutine(func() { c.runBatch(r, mine, load) }) {
			var zero V
			for _, f := range mine {
				c.flights.finish(f, zero, ErrClosed)
			}
		}
	}
	var firstErr error
	for i, f := range flights {
		v, err := c.flights.wait(ctx, f)
		if cerr := ctx.Err(); cerr != nil {
			for _, rest := range flights[i+1:] {
				c.flights.leave(rest)
			}
			return cerr
		}
		switch {
		case err == nil:
			out[f.key] = v
		case errors.Is(err, ErrNotFound):
		case firstErr == nil:
			firstErr = err
		}
	}
	return firstErr
}

func (c *Cache[K, V]) runBatch(r *run, flights []*flight[K, V], load BatchLoader[K, V]) {
	defer r.cancel()
	keys := make([]K, len(flights))
	for i, f := range flights {
		keys[i] = f.key
	}
	res := c.fetchMany(r.ctx, keys, load)
	closed := c.life.Err() != nil
	for i, f := range flights {
		if res[i].err != nil && closed {
			res[i].err = ErrClosed
		}
		c.flights.finish(f, res[i].v, res[i].err)
	}
}

type result[V any] struct {
	v   V
	err error
}

// pending is a key of a batch that the store did not answer with a usable
// value.
type pending struct {
	i     int    // index in the batch
	write bool   // whether to write the loaded value to the store
	token string // lease token for the write; empty for an unconditional one
}

// fetchMany loads a batch: one store fetch with leases, one call of load for
// the rest, one store write for the loaded values the process may store.
func (c *Cache[K, V]) fetchMany(ctx context.Context, keys []K, load BatchLoader[K, V]) []result[V] {
	res := make([]result[V], len(keys))
	epochs := make([]uint64, len(keys))
	for i, k := range keys {
		epochs[i] = c.epoch(k)
	}
	todo, skeys := c.fetchManyFromStore(ctx, keys, epochs, res, load)
	if len(todo) == 0 {
		return res
	}
	loadKeys := make([]K, len(todo))
	for j, p := range todo {
		loadKeys[j] = keys[p.i]
	}
	seq := c.loadSeq(ctx)
	found, delta, lc, err := c.callBatchLoader(ctx, loadKeys, load)
	if err == nil {
		err = checkKeys[K](lc)
	}
	if err != nil {
		for _, p := range todo {
			res[p.i].err = err
		}
		return res
	}
	all := lc.all.options()
	entries := make([]*entry[V], len(todo))
	var writes []Write
	var writeIdx []int // index in todo of each write
	for j, p := range todo {
		k := keys[p.i]
		v, ok := found[k]
		var lerr error
		if !ok {
			lerr = ErrNotFound
		}
		e, ttl, keep, err := c.settle(k, v, lerr, delta, optionsFor(lc, all, k), seq)
		if err != nil {
			res[p.i].err = err
			continue
		}
		res[p.i].v, res[p.i].err = e.result()
		if !keep {
			c.forget(k)
			continue
		}
		entries[j] = e
		if p.write {
			if data, ok := c.encode(e); ok {
				writes = append(writes, Write{Key: skeys[p.i], Value: data, TTL: ttl, Token: p.token})
				writeIdx = append(writeIdx, j)
			}
		}
	}
	lost := c.writeMany(ctx, writes, writeIdx, len(todo))
	for j, p := range todo {
		if entries[j] != nil && !lost[j] {
			c.keep(keys[p.i], entries[j], epochs[p.i])
		}
	}
	return res
}

// fetchManyFromStore fills res for the keys the store answered and returns
// the others. Without a usable store every key is pending and none is
// written.
func (c *Cache[K, V]) fetchManyFromStore(ctx context.Context, keys []K, epochs []uint64, res []result[V], load BatchLoader[K, V]) ([]pending, []string) {
	todo := make([]pending, 0, len(keys))
	if !c.storeUsable() {
		for i := range keys {
			todo = append(todo, pending{i: i})
		}
		return todo, nil
	}
	skeys := make([]string, len(keys))
	for i, k := range keys {
		skeys[i] = c.s.prefix + c.s.keyString(k)
	}
	sctx, cancel := context.WithTimeout(ctx, c.s.storeTimeout)
	items, err := c.store.Fetch(sctx, skeys, FetchOptions{Lease: LeaseIfMissing})
	cancel()
	if err == nil && len(items) != len(keys) {
		err = fmt.Errorf("cache: store returned %d items for %d keys", len(items), len(keys))
	}
	if err != nil {
		c.storeFailed(ctx, OpFetch, err)
		for i := range keys {
			todo = append(todo, pending{i: i})
		}
		return todo, nil
	}
	now := c.now()
	entries := make([]*entry[V], len(items))
	for i, it := range items {
		if it.Value != nil && it.Lease != LeaseGranted {
			if e, ok := c.fromItem(it); ok && now < e.expire {
				entries[i] = e
			}
		}
	}
	c.checkStoreEntries(ctx, entries)
	for i, it := range items {
		if e := entries[i]; e != nil {
			c.keep(keys[i], e, epochs[i])
			res[i].v, res[i].err = e.result()
			if now >= e.fresh {
				c.serveStale(keys[i], e, single(load))
			} else if h := c.s.hooks.OnHit; h != nil {
				h(TierStore)
			}
			continue
		}
		switch it.Lease {
		case LeaseGranted:
			todo = append(todo, pending{i: i, write: true, token: it.Token})
		case LeaseNotRequested:
			todo = append(todo, pending{i: i, write: true})
		default:
			// Another process holds the lease: load with the batch, but
			// leave the store to the holder.
			todo = append(todo, pending{i: i})
		}
	}
	return todo, skeys
}

// writeMany writes the batch's values and reports which of the n pending keys
// lost their lease. A failed write loses nothing: the values stay local.
func (c *Cache[K, V]) writeMany(ctx context.Context, writes []Write, writeIdx []int, n int) []bool {
	lost := make([]bool, n)
	if len(writes) == 0 {
		return lost
	}
	sctx, cancel := context.WithTimeout(ctx, c.s.storeTimeout)
	ok, err := c.store.Write(sctx, writes)
	cancel()
	if err == nil && len(ok) != len(writes) {
		err = fmt.Errorf("cache: store returned %d results for %d writes", len(ok), len(writes))
	}
	if err != nil {
		c.storeFailed(ctx, OpWrite, err)
		return lost
	}
	for w, j := range writeIdx {
		if !ok[w] {
			lost[j] = true
			if h := c.s.hooks.OnError; h != nil {
				h(OpWrite, ErrLeaseLost)
			}
		}
	}
	return lost
}

// callBatchLoader runs load with EntryControls in its ctx, turning a panic
// into a *PanicError.
func (c *Cache[K, V]) callBatchLoader(ctx context.Context, keys []K, load BatchLoader[K, V]) (m map[K]V, delta time.Duration, lc *loadControl, err error) {
	ctx, lc = withControl(ctx, true)
	defer c.loaded(time.Now(), &delta, &err)
	m, err = load(ctx, keys)
	return m, 0, lc, err
}

// single adapts a batch loader to one key, for background refreshes.
func single[K comparable, V any](load BatchLoader[K, V]) Loader[K, V] {
	return func(ctx context.Context, key K) (V, error) {
		m, err := load(ctx, []K{key})
		if err != nil {
			var zero V
			return zero, err
		}
		v, ok := m[key]
		if !ok {
			return v, ErrNotFound
		}
		return v, nil
	}
}

func dedupe[K comparable](keys []K) []K {
	seen := make(map[K]struct{}, len(keys))
	out := keys[:0:0]
	for _, k := range keys {
		if _, dup := seen[k]; !dup {
			seen[k] = struct{}{}
			out = append(out, k)
		}
	}
	return out
}
