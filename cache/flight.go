package cache

import (
	"context"
	"sync"
)

// group is the in-process single-flight: concurrent misses on a key share
// one load. It differs from x/sync/singleflight where that one has bitten
// its users:
//
//   - the load runs on its own goroutine with a context detached from the
//     first caller, so that caller's cancellation does not fail the others;
//   - a caller that gives up returns at once with its own ctx.Err(), and
//     the load is cancelled only when no caller waits for it any more;
//   - a flight whose callers all left is removed before its load is
//     cancelled, so a new caller starts a new load and never joins (and
//     fails with) a cancelled one.
//
// A batch load (GetMany) owns one flight per key and one shared run; the run
// is cancelled when no caller waits for any of its flights.
type group[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*flight[K, V]
}

// run is one load, shared by the flights of a batch.
type run struct {
	ctx     context.Context
	cancel  context.CancelFunc
	waiters int // callers waiting on any of the run's flights; guarded by group.mu
}

type flight[K comparable, V any] struct {
	key     K
	run     *run
	done    chan struct{}
	waiters int // guarded by group.mu
	val     V   // written before done is closed
	err     error
}

// join returns the flight of each key, creating the missing ones in one new
// run, which is returned (nil when every key joined a flight in progress).
// The new run's flights are the ones with run == the returned run. The caller
// counts as one waiter of every returned flight.
func (g *group[K, V]) join(parent context.Context, keys []K, newRun func(context.Context) *run) ([]*flight[K, V], *run) {
	flights := make([]*flight[K, V], len(keys))
	var r *run
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = make(map[K]*flight[K, V])
	}
	for i, k := range keys {
		f := g.m[k]
		if f == nil {
			if r == nil {
				r = newRun(parent)
			}
			f = &flight[K, V]{key: k, run: r, done: make(chan struct{})}
			g.m[k] = f
		}
		f.waiters++
		f.run.waiters++
		flights[i] = f
	}
	return flights, r
}

// join1 is join for one key without the slice.
func (g *group[K, V]) join1(parent context.Context, key K, newRun func(context.Context) *run) (*flight[K, V], bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = make(map[K]*flight[K, V])
	}
	f := g.m[key]
	created := f == nil
	if created {
		f = &flight[K, V]{key: key, run: newRun(parent), done: make(chan struct{})}
		g.m[key] = f
	}
	f.waiters++
	f.run.waiters++
	return f, created
}

// wait returns the flight's result, or ctx.Err() if ctx ends first; then the
// caller stops waiting, which may cancel the load.
func (g *group[K, V]) wait(ctx context.Context, f *flight[K, V]) (V, error) {
	select {
	case <-f.done:
		return f.val, f.err
	default:
	}
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		g.leave(f)
		var zero V
		return zero, ctx.Err()
	}
}

// leave stops counting the caller as a waiter of f.
func (g *group[K, V]) leave(f *flight[K, V]) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f.waiters--
	f.run.waiters--
	if f.waiters == 0 && g.m[f.key] == f {
		delete(g.m, f.key)
	}
	if f.run.waiters == 0 {
		f.run.cancel()
	}
}

// finish publishes f's result and forgets f, so the next miss loads anew.
func (g *group[K, V]) finish(f *flight[K, V], val V, err error) {
	g.mu.Lock()
	if g.m[f.key] == f {
		delete(g.m, f.key)
	}
	g.mu.Unlock()
	f.val, f.err = val, err
	close(f.done)
}
