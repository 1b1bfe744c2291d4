package cache

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/bedrock-go/bedrock/internal/backoff"
)

// refresher tracks background refreshes: at most one per key, and after a
// failure none before its backoff ends, so that a failing source sees a
// trickle of refreshes while callers keep getting the stale value.
type refresher[K comparable] struct {
	mu sync.Mutex
	m  map[K]*refreshState
}

type refreshState struct {
	running   bool
	failures  int
	notBefore int64 // unix nanos
}

var refreshBackoff = backoff.Exponential{
	Initial: 100 * time.Millisecond, Max: 30 * time.Second, Jitter: backoff.EqualJitter,
}

// heldRetry spaces the checks of a key whose refresh another process holds.
const heldRetry = 50 * time.Millisecond

// errRefreshHeld says another process is refreshing the key.
var errRefreshHeld = errors.New("cache: refresh held elsewhere")

// refreshAsync starts a background refresh of key unless one runs or backs
// off. early is how long the value has left to be fresh: an early refresh
// (XFetch) takes the store's lease before the value turns stale.
func (c *Cache[K, V]) refreshAsync(key K, load Loader[K, V], early time.Duration) {
	if load == nil {
		if load = c.s.load; load == nil {
			return
		}
	}
	now := c.now()
	r := &c.refresh
	r.mu.Lock()
	st := r.m[key]
	if st != nil && (st.running || now < st.notBefore) {
		r.mu.Unlock()
		return
	}
	if st == nil {
		if r.m == nil {
			r.m = make(map[K]*refreshState)
		}
		if len(r.m) >= c.s.localSize {
			r.prune(now)
		}
		st = &refreshState{}
		r.m[key] = st
	}
	st.running = true
	r.mu.Unlock()
	if !c.goroutine(func() { c.refreshKey(key, load, early, st) }) {
		r.mu.Lock()
		st.running = false
		r.mu.Unlock()
	}
}

// prune forgets the backoffs that ended, so that keys which failed once and
// were never read again do not pile up. Called with mu held.
func (r *refresher[K]) prune(now int64) {
	for k, st := range r.m {
		if !st.running && now >= st.notBefore {
			delete(r.m, k)
		}
	}
}

func (c *Cache[K, V]) refreshKey(key K, load Loader[K, V], early time.Duration, st *refreshState) {
	ctx, cancel := context.WithTimeout(c.life, c.s.loadTimeout)
	defer cancel()
	err := c.refreshOnce(ctx, key, load, early)
	r := &c.refresh
	r.mu.Lock()
	defer r.mu.Unlock()
	st.running = false
	switch {
	case err == nil:
		st.failures = 0
		if r.m[key] == st {
			delete(r.m, key)
		}
	case errors.Is(err, errRefreshHeld):
		st.notBefore = time.Now().Add(heldRetry).UnixNano()
	default:
		st.notBefore = time.Now().Add(refreshBackoff.Delay(st.failures, nil)).UnixNano()
		st.failures++
	}
}

// refreshOnce reloads key: with a store, it first takes the store's refresh
// lease, so one process refreshes for all, and adopts a value another
// process already refreshed.
func (c *Cache[K, V]) refreshOnce(ctx context.Context, key K, load Loader[K, V], early time.Duration) error {
	epoch := c.epoch(key)
	if !c.storeUsable() {
		_, err := c.loadLocal(ctx, key, load, epoch)
		return ignoreNotFound(err)
	}
	skey := c.s.prefix + c.s.keyString(key)
	it, err := c.fetchItem(ctx, skey, FetchOptions{Lease: LeaseIfStale, Stale: c.s.stale + early + time.Millisecond})
	if err != nil {
		_, err := c.loadLocal(ctx, key, load, epoch)
		return ignoreNotFound(err)
	}
	switch it.Lease {
	case LeaseGranted:
		_, err := c.loadAndStore(ctx, key, skey, it.Token, load, epoch)
		return ignoreNotFound(err)
	case LeaseHeld:
		return errRefreshHeld
	}
	if e, ok := c.fromItem(it); ok && c.storeEntryValid(ctx, e) {
		c.keep(key, e, epoch)
		return nil
	}
	_, err = c.loadAndStore(ctx, key, skey, "", load, epoch)
	return ignoreNotFound(err)
}

// ignoreNotFound treats a "not found" answer as a successful refresh: the
// key was deleted at the source, and the negative entry now says so.
func ignoreNotFound(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
