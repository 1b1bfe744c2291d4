package cache

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/bedrock-go/bedrock/internal/backoff"
)

// Cache is a typed cache-aside over an in-process tier and an optional shared
// Store. It is safe for concurrent use; Close stops its background work.
type Cache[K comparable, V any] struct {
	s     settings[K, V]
	store Store
	local *otter.Cache[K, *entry[V]]
	clock *otter.CoarseClock // nil: precise time

	flights group[K, V]
	refresh refresher[K]

	// epochs detect that a key was deleted or overwritten while a load was
	// in flight: a load keeps its value locally only if the stripe of its
	// key did not move meanwhile. Striping keeps the counters few; a false
	// positive only costs a local miss.
	seed   maphash.Seed
	epochs [epochStripes]atomic.Uint64

	bypassUntil atomic.Int64 // unix nanos until which the store is skipped

	life        context.Context // cancelled by Close
	stop        context.CancelFunc
	mu          sync.RWMutex // orders goroutine starts before Close's wait
	closed      bool         // guarded by mu
	wg          sync.WaitGroup
	unsubscribe func()
}

const epochStripes = 256

// entry is a value (or a cached "not found") in the local tier. Times are
// unix nanoseconds.
type entry[V any] struct {
	value   V
	missing bool
	fresh   int64 // served as fresh until then
	due     int64 // the value's true freshness deadline, >= fresh; early refresh aims at it
	expire  int64 // served as stale, while refreshing, until then
	delta   int64 // how long the value took to load, in ns: early refresh's Δ
}

func (e *entry[V]) result() (V, error) {
	if e.missing {
		var zero V
		return zero, ErrNotFound
	}
	return e.value, nil
}

// New returns a Cache over store, which may be nil for a cache with the local
// tier only. It returns a *ConfigError for an invalid cfg. With a store that
// is a Broadcaster the cache subscribes to its invalidations until Close.
func New[K comparable, V any](store Store, cfg Config[K, V]) (*Cache[K, V], error) {
	s, err := cfg.settings(store)
	if err != nil {
		return nil, err
	}
	c := &Cache[K, V]{s: s, store: store, seed: maphash.MakeSeed()}
	opts := &otter.Options[K, *entry[V]]{
		MaximumSize: max(s.localSize, 1),
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[K, *entry[V]]) time.Duration {
			return max(time.Duration(e.Value.expire-c.now()), 1)
		}),
	}
	if s.clockRes > 0 {
		c.clock = otter.NewCoarseClock(s.clockRes)
		opts.Clock = c.clock
	}
	c.local, err = otter.New(opts)
	if err != nil {
		if c.clock != nil {
			c.clock.Stop()
		}
		return nil, fmt.Errorf("cache: local tier: %w", err)
	}
	c.life, c.stop = context.WithCancel(context.Background())
	if b, ok := store.(Broadcaster); ok {
		c.unsubscribe = b.Subscribe(c.invalidated)
	}
	return c, nil
}

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
	if e, ok := c.local.GetIfPresent(key); ok {
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

// now reads the cache's clock, in unix nanoseconds.
func (c *Cache[K, V]) now() int64 {
	if c.clock != nil {
		return c.clock.NowNano()
	}
	return time.Now().UnixNano()
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

// track counts work that Close must wait for, unless the cache is closed.
// The caller calls c.wg.Done when the work ends.
func (c *Cache[K, V]) track() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	return true
}

// newRun returns the detached context of a load: it keeps the caller's
// values, not its cancellation, and ends with LoadTimeout or Close.
func (c *Cache[K, V]) newRun(parent context.Context) *run {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), c.s.loadTimeout)
	unhook := context.AfterFunc(c.life, cancel)
	return &run{ctx: ctx, cancel: func() { unhook(); cancel() }}
}

// goroutine runs fn on a new goroutine that Close waits for, unless the
// cache is closed.
func (c *Cache[K, V]) goroutine(fn func()) bool {
	if !c.track() {
		return false
	}
	go func() {
		defer c.wg.Done()
		fn()
	}()
	return true
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
	if e, ok := c.local.GetIfPresent(key); ok && c.now() < e.fresh {
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
	for {
		if err != nil {
			return c.loadLocal(ctx, key, load, epoch)
		}
		if it.Value != nil {
			if e, ok := c.fromItem(it); ok {
				now := c.now()
				if now < e.fresh {
					c.keep(key, e, epoch)
					if h := c.s.hooks.OnHit; h != nil {
						h(TierStore)
					}
					return e.result()
				}
				if now < e.expire && it.Lease != LeaseGranted {
					c.keep(key, e, epoch)
					return c.serveStale(key, e, load)
				}
			}
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
	}
}

// loadLocal loads key without the store: the store is down or the lease
// holder is too slow. The value is kept in the local tier only.
func (c *Cache[K, V]) loadLocal(ctx context.Context, key K, load Loader[K, V], epoch uint64) (V, error) {
	v, delta, err := c.callLoader(ctx, key, load)
	missing := errors.Is(err, ErrNotFound)
	if err != nil && (!missing || c.s.negativeTTL == 0) {
		return v, err
	}
	e, _ := c.newEntry(v, missing, delta)
	c.keep(key, e, epoch)
	return e.result()
}

// loadAndStore loads key and writes it to the store under token (empty for an
// unconditional write), then to the local tier unless the lease was lost.
func (c *Cache[K, V]) loadAndStore(ctx context.Context, key K, skey, token string, load Loader[K, V], epoch uint64) (V, error) {
	v, delta, err := c.callLoader(ctx, key, load)
	missing := errors.Is(err, ErrNotFound)
	if err != nil && (!missing || c.s.negativeTTL == 0) {
		if token != "" && ctx.Err() == nil {
			// Let one of the waiting processes try now rather than when
			// the lease expires.
			_, _ = c.writeOne(ctx, Write{Key: skey, Token: token})
		}
		return v, err
	}
	e, ttl := c.newEntry(v, missing, delta)
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

// callLoader runs load, turning a panic into a *PanicError.
func (c *Cache[K, V]) callLoader(ctx context.Context, key K, load Loader[K, V]) (v V, delta time.Duration, err error) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{Value: p, Stack: debug.Stack()}
		}
		delta = time.Since(start)
		if h := c.s.hooks.OnLoad; h != nil {
			h(delta, err)
		}
	}()
	v, err = load(ctx, key)
	return v, 0, err
}

// newEntry builds the entry of a freshly loaded value and returns it with the
// value's TTL in the store (fresh part, jittered, plus the stale tail).
func (c *Cache[K, V]) newEntry(v V, missing bool, delta time.Duration) (*entry[V], time.Duration) {
	ttl, stale := c.s.ttl, c.s.stale
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
		value: v, missing: missing, delta: int64(delta),
		fresh: now + int64(local), due: now + int64(ttl), expire: now + int64(local+stale),
	}, ttl + stale
}

func (c *Cache[K, V]) jitter(d time.Duration) time.Duration {
	if c.s.jitter == 0 {
		return d
	}
	return time.Duration(float64(d) * (1 + c.s.jitter*(2*rand.Float64()-1)))
}

// encode returns the envelope of e for the store.
func (c *Cache[K, V]) encode(e *entry[V]) ([]byte, bool) {
	env := envelope{missing: e.missing, stale: c.s.stale, delta: time.Duration(e.delta)}
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
		value: v, missing: env.missing, delta: int64(env.delta),
		fresh:  now + int64(min(freshLeft, c.s.localTTL)),
		due:    now + int64(freshLeft),
		expire: now + int64(min(remaining, c.s.localTTL+env.stale)),
	}, true
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
		c.forgetAll()
		return
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

// Set stores v for key in both tiers, replacing any value and voiding the
// leases of loads in flight, and tells the other processes to drop their
// local copies. The returned error is the store's; the local tier is set
// even then.
func (c *Cache[K, V]) Set(ctx context.Context, key K, v V) error {
	e, ttl := c.newEntry(v, false, 0)
	var err error
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

// Close stops the background refreshes and loads (their callers get
// ErrClosed), unsubscribes from invalidations, empties the local tier and
// waits for the cache's goroutines. It does not close the store.
func (c *Cache[K, V]) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	if c.unsubscribe != nil {
		c.unsubscribe()
	}
	c.stop()
	c.wg.Wait()
	c.local.InvalidateAll()
	c.local.StopAllGoroutines()
	if c.clock != nil {
		c.clock.Stop()
	}
	return nil
}

func (c *Cache[K, V]) storeUsable() bool {
	return c.store != nil && time.Now().UnixNano() >= c.bypassUntil.Load()
}

// storeFailed records a store failure and bypasses the store for the
// cooldown. The end of the caller's own context is not a store failure.
func (c *Cache[K, V]) storeFailed(ctx context.Context, op Op, err error) {
	if ctx.Err() != nil {
		return
	}
	if c.s.storeCooldown > 0 {
		c.bypassUntil.Store(time.Now().Add(c.s.storeCooldown).UnixNano())
	}
	if h := c.s.hooks.OnError; h != nil {
		h(op, err)
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
