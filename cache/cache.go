package cache

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// Cache is a typed cache-aside over an in-process tier and an optional shared
// Store. Most callers want [Cache.Get]; [Cache.GetMany] loads a batch,
// [Cache.Set] and [Cache.Delete] change a value everywhere, and
// [Cache.InvalidateTags] drops every entry carrying a tag. It is safe for
// concurrent use; Close stops its background work.
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

	tagStore TagStore // the store, if it supports tags; nil otherwise
	tags     tagTable
	usesTags atomic.Bool // an entry was tagged: loads need the store's sequence number

	life        context.Context // cancelled by Close
	stop        context.CancelFunc
	mu          sync.RWMutex // orders goroutine starts before Close's wait
	closed      bool         // guarded by mu
	wg          sync.WaitGroup
	unsubscribe func()
}

const epochStripes = 256

// A cache remembers the sequence numbers of up to LocalSize tags, within
// these bounds: enough to vouch for its entries without asking the store,
// few enough that tags up to MaxTagLength stay within tens of megabytes.
const (
	minTagTable = 1024
	maxTagTable = 100_000
)

// tagStoreOf returns store as a TagStore if it supports tags: a cache must
// hear other processes' tag invalidations too.
func tagStoreOf(store Store) TagStore {
	ts, ok := store.(TagStore)
	if _, b := store.(Broadcaster); !ok || !b {
		return nil
	}
	return ts
}

// New returns a Cache over store, which may be nil for a cache with the local
// tier only. It returns a *ConfigError for an invalid cfg. With a store that
// is a Broadcaster the cache subscribes to its invalidations until Close.
func New[K comparable, V any](store Store, cfg Config[K, V]) (*Cache[K, V], error) {
	s, err := cfg.settings(store)
	if err != nil {
		return nil, err
	}
	c := &Cache[K, V]{s: s, store: store, seed: maphash.MakeSeed(), tagStore: tagStoreOf(store)}
	c.tags.init(min(max(s.localSize, minTagTable), maxTagTable), store == nil)
	if s.tags != nil {
		c.usesTags.Store(true)
	}
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

// now reads the cache's clock, in unix nanoseconds.
func (c *Cache[K, V]) now() int64 {
	if c.clock != nil {
		return c.clock.NowNano()
	}
	return time.Now().UnixNano()
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
