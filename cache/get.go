package cache

// Reads: the local tier, then the store with its lease, then the loader.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/bedrock-go/bedrock/internal/backoff"
)

// Get returns the value of key: from the local tier, else from the store,
// else from load (Config.Load when load is nil), whose result is stored in
// both tiers. Concurrent misses on a key share one load in the process and,
// with a leasing store, one load in the cluster.
//
// Get returns ErrNotFound (possibly cached) when the loader reported it, the
// loader's error (never cached), ctx.Err() when ctx ends first (the load goes
// on for the other callers), ErrNoLoader, or ErrClosed. A failing or slow
// store is not an error: Get falls back to the local tier and the loader.
//
// A hit on the local tier does not allocate. A loader that is a closure
// capturing variables is allocated by the compiler at each call, hit or not;
// a method value or function, or Config.Load, avoids that.
func (c *Cache[K, V]) Get(ctx context.Context, key K, load Loader[K, V]) (V, error) {
	if e, ok := c.local.GetIfPresent(key); ok && (e.tags == nil || c.tagsOK(e)) {
		now := c.now()
		if now < e.fresh {
			if c.s.beta > 0 && c.refreshEarly(now, e) {
				c.refreshAsync(key, load, time.Duration(e.due-now))
			}
			if h := c.s.hooks.OnHit; h != nil {
				h(TierLocal)
			}
			return e.result()
		}
		if now < e.expire {
			return c.serveStale(key, e, load)
		}
	}
	return c.miss(ctx, key, load)
}

func (c *Cache[K, V]) serveStale(key K, e *entry[V], load Loader[K, V]) (V, error) {
	c.refreshAsync(key, load, 0)
	if h := c.s.hooks.OnStale; h != nil {
		h()
	}
	return e.result()
}

// refreshEarly is XFetch: refresh when now - Δ·β·ln(u) passes the deadline,
// u uniform in (0, 1]. -ln(u) exceeds 36 with probability e^-36, so far from
// the deadline the logarithm is skipped.
func (c *Cache[K, V]) refreshEarly(now int64, e *entry[V]) bool {
	if e.delta <= 0 {
		return false
	}
	gap := float64(e.due - now)
	scaled := float64(e.delta) * c.s.beta
	if gap > 36*scaled {
		return false
	}
	return -scaled*math.Log(1-rand.Float64()) >= gap
}

func (c *Cache[K, V]) miss(ctx context.Context, key K, load Loader[K, V]) (V, error) {
	var zero V
	if load == nil {
		if load = c.s.load; load == nil {
			return zero, ErrNoLoader
		}
	}
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if h := c.s.hooks.OnMiss; h != nil {
		h()
	}
	f, created := c.flights.join1(ctx, key, c.newRun)
	if !created {
		return c.flights.wait(ctx, f)
	}
	if ctx.Done() == nil {
		// A caller that can never give up may run the load itself: the
		// goroutine exists only so that a waiter can leave before the load
		// ends, and handing over to it costs a scheduling round.
		if !c.track() {
			c.flights.finish(f, zero, ErrClosed)
		} else {
			c.runFetch(f, load)
			c.wg.Done()
		}
		return c.flights.wait(ctx, f)
	}
	if !c.goroutine(func() { c.runFetch(f, load) }) {
		c.flights.finish(f, zero, ErrClosed)
	}
	return c.flights.wait(ctx, f)
}

func (c *Cache[K, V]) runFetch(f *flight[K, V], load Loader[K, V]) {
	defer f.run.cancel()
	v, err := c.fetch(f.run.ctx, f.key, load)
	if err != nil && c.life.Err() != nil {
		err = ErrClosed
	}
	c.flights.finish(f, v, err)
}

// fetch is one foreground load of key: the store, then a lease and the
// loader, or a wait for the process holding the lease.
func (c *Cache[K, V]) fetch(ctx context.Context, key K, load Loader[K, V]) (V, error) {
	// A caller that missed just before the previous load of key stored its
	// value, and joined just after that load ended, reuses the value.
	if e, ok := c.local.GetIfPresent(key); ok && c.now() < e.fresh && (e.tags == nil || c.tagsOK(e)) {
		return e.result()
	}
	epoch := c.epoch(key)
	if !c.storeUsable() {
		return c.loadLocal(ctx, key, load, epoch)
	}
	skey := c.s.prefix + c.s.keyString(key)
	it, err := c.fetchItem(ctx, skey, FetchOptions{Lease: LeaseIfMissing})
	deadline := time.Now().Add(c.s.leaseWait)
	pause := 2 * time.Millisecond
	askedStale := false
	for {
		if err != nil {
			return c.loadLocal(ctx, key, load, epoch)
		}
		v, served, tagged, verr := c.storedValue(ctx, key, skey, it, epoch, load)
		if served {
			return v, verr
		}
		if tagged && it.Lease == LeaseNotRequested && !askedStale {
			// A tag of the stored value was invalidated: take the
			// key's lease as for a stale value, so that one process
			// per cluster reloads it while the others wait.
			askedStale = true
			it, err = c.fetchItem(ctx, skey, FetchOptions{Lease: LeaseIfStale, Stale: math.MaxInt64})
			continue
		}
		switch it.Lease {
		case LeaseGranted:
			return c.loadAndStore(ctx, key, skey, it.Token, load, epoch)
		case LeaseNotRequested:
			// A value the store holds but that is unusable: corrupt, or
			// expired for this process. Replace it.
			return c.loadAndStore(ctx, key, skey, "", load, epoch)
		}
		// Another process is loading the key: wait for its value, or for
		// its lease to expire (then one waiter takes it over).
		if time.Now().After(deadline) {
			return c.loadLocal(ctx, key, load, epoch)
		}
		if err := backoff.Sleep(ctx, pause); err != nil {
			var zero V
			return zero, err
		}
		pause = min(2*pause, 50*time.Millisecond)
		it, err = c.fetchItem(ctx, skey, FetchOptions{Lease: LeaseIfMissing})
		askedStale = false
	}
}

// storedValue serves the value of a store answer if it is usable, and
// otherwise reports whether it is a value of an invalidated tag.
func (c *Cache[K, V]) storedValue(ctx context.Context, key K, skey string, it Item, epoch uint64, load Loader[K, V]) (v V, served, tagged bool, err error) {
	if it.Value == nil {
		return v, false, false, nil
	}
	e, ok := c.fromItem(it)
	if !ok {
		return v, false, false, nil // corrupt: replaced by the caller
	}
	if !c.storeEntryValid(ctx, e) {
		return v, false, true, nil
	}
	now := c.now()
	if now < e.fresh {
		if it.Lease == LeaseGranted {
			// Taken for a tagged value that another process has
			// replaced meanwhile: not needed any more.
			_, _ = c.writeOne(ctx, Write{Key: skey, Token: it.Token})
		}
		c.keep(key, e, epoch)
		if h := c.s.hooks.OnHit; h != nil {
			h(TierStore)
		}
		v, err = e.result()
		return v, true, false, err
	}
	if now < e.expire && it.Lease != LeaseGranted {
		c.keep(key, e, epoch)
		v, err = c.serveStale(key, e, load)
		return v, true, false, err
	}
	return v, false, false, nil
}

// loadLocal loads key without the store: the store is down or the lease
// holder is too slow. The value is kept in the local tier only.
func (c *Cache[K, V]) loadLocal(ctx context.Context, key K, load Loader[K, V], epoch uint64) (V, error) {
	seq := c.loadSeq(ctx)
	v, delta, opts, err := c.callLoader(ctx, key, load)
	e, _, keep, err := c.settle(key, v, err, delta, opts, seq)
	if err != nil {
		return v, err
	}
	if keep {
		c.keep(key, e, epoch)
	} else {
		c.forget(key)
	}
	return e.result()
}

// loadAndStore loads key and writes it to the store under token (empty for an
// unconditional write), then to the local tier unless the lease was lost.
func (c *Cache[K, V]) loadAndStore(ctx context.Context, key K, skey, token string, load Loader[K, V], epoch uint64) (V, error) {
	seq := c.loadSeq(ctx)
	v, delta, opts, err := c.callLoader(ctx, key, load)
	e, ttl, keep, err := c.settle(key, v, err, delta, opts, seq)
	if err != nil || !keep {
		if token != "" && ctx.Err() == nil {
			// Let one of the waiting processes try now rather than when
			// the lease expires.
			_, _ = c.writeOne(ctx, Write{Key: skey, Token: token})
		}
		if err != nil {
			return v, err
		}
		c.forget(key)
		return e.result()
	}
	data, ok := c.encode(e)
	if !ok {
		c.keep(key, e, epoch)
		return e.result()
	}
	written, err := c.writeOne(ctx, Write{Key: skey, Value: data, TTL: ttl, Token: token})
	if err == nil && !written {
		// A Delete or a newer value won: return ours to this caller, who
		// asked before, but keep it nowhere.
		if h := c.s.hooks.OnError; h != nil {
			h(OpWrite, ErrLeaseLost)
		}
		return e.result()
	}
	c.keep(key, e, epoch)
	return e.result()
}

// settle turns a loader's answer into the entry to return and, unless keep
// is false (the loader said NoCache), to cache. err is the loader's error
// when it is not a cacheable "not found", or a bad tag.
func (c *Cache[K, V]) settle(key K, v V, lerr error, delta time.Duration, opts entryOptions, seq uint64) (e *entry[V], ttl time.Duration, keep bool, err error) {
	missing := errors.Is(lerr, ErrNotFound)
	if lerr != nil && (!missing || c.s.negativeTTL == 0) {
		return nil, 0, false, lerr
	}
	opts, err = c.entryOptions(key, v, missing, opts)
	if err != nil {
		return nil, 0, false, err
	}
	e, ttl = c.newEntry(v, missing, delta, opts, seq)
	return e, ttl, !opts.noCache, nil
}

// callLoader runs load with an EntryControl in its ctx, turning a panic into
// a *PanicError.
func (c *Cache[K, V]) callLoader(ctx context.Context, key K, load Loader[K, V]) (v V, delta time.Duration, opts entryOptions, err error) {
	ctx, lc := withControl(ctx, false)
	defer c.loaded(time.Now(), &delta, &err)
	v, err = load(ctx, key)
	return v, 0, lc.all.options(), err
}

// loaded ends a call of a loader, of one key or a batch, started at start:
// it turns a panic into a *PanicError in *err, sets *delta to the call's
// duration and reports both to OnLoad. It must be deferred directly, so
// that its recover sees the loader's panic.
func (c *Cache[K, V]) loaded(start time.Time, delta *time.Duration, err *error) {
	if p := recover(); p != nil {
		*err = &PanicError{Value: p, Stack: debug.Stack()}
	}
	*delta = time.Since(start)
	if h := c.s.hooks.OnLoad; h != nil {
		h(*delta, *err)
	}
}

func (c *Cache[K, V]) fetchItem(ctx context.Context, skey string, opts FetchOptions) (Item, error) {
	sctx, cancel := context.WithTimeout(ctx, c.s.storeTimeout)
	items, err := c.store.Fetch(sctx, []string{skey}, opts)
	cancel()
	if err == nil && len(items) != 1 {
		err = fmt.Errorf("cache: store returned %d items for 1 key", len(items))
	}
	if err != nil {
		c.storeFailed(ctx, OpFetch, err)
		return Item{}, err
	}
	return items[0], nil
}

// keep stores e in the local tier, unless key was deleted or overwritten
// since epoch was read: then a newer truth exists and e must not shadow it.
// The check follows the write so that a concurrent Delete, which moves the
// epoch before it invalidates, is seen either here or by the Delete.
func (c *Cache[K, V]) keep(key K, e *entry[V], epoch uint64) {
	if c.s.noLocal {
		return
	}
	c.local.Set(key, e)
	if c.epoch(key) != epoch {
		c.local.ComputeIfPresent(key, func(old *entry[V]) (*entry[V], otter.ComputeOp) {
			if old == e {
				return nil, otter.InvalidateOp
			}
			return old, otter.CancelOp
		})
	}
}
