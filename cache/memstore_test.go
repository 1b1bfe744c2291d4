package cache_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bedrock-go/bedrock/cache"
)

// memStore is an in-memory cache.Store with the semantics the cache relies
// on (values with TTLs, leases, broadcast), and switches that make it fail
// or hang, for fast unit tests of the cache's store logic. The Redis store
// is tested against a real server in package rediscache.
type memStore struct {
	mu      sync.Mutex
	vals    map[string]memVal
	leases  map[string]memVal
	subs    map[int]func(cache.Invalidation)
	nextSub int
	nextTok int

	fail  atomic.Pointer[error] // every call fails with it
	hang  atomic.Bool           // every call blocks until its ctx ends
	delay atomic.Int64          // every call sleeps this long (ns) first

	fetches, writes, deletes atomic.Int64
	ttls                     []time.Duration // TTLs of the writes, in order
}

type memVal struct {
	b      []byte
	expire time.Time
}

func newMemStore() *memStore {
	return &memStore{vals: map[string]memVal{}, leases: map[string]memVal{}, subs: map[int]func(cache.Invalidation){}}
}

func (m *memStore) enter(ctx context.Context) error {
	if d := m.delay.Load(); d > 0 {
		select {
		case <-time.After(time.Duration(d)):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if m.hang.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	if p := m.fail.Load(); p != nil {
		return *p
	}
	return nil
}

func (m *memStore) failWith(err error) {
	if err == nil {
		m.fail.Store(nil)
		return
	}
	m.fail.Store(&err)
}

func (m *memStore) live(tbl map[string]memVal, k string, now time.Time) (memVal, bool) {
	v, ok := tbl[k]
	if ok && !now.Before(v.expire) {
		delete(tbl, k)
		return memVal{}, false
	}
	return v, ok
}

func (m *memStore) Fetch(ctx context.Context, keys []string, opts cache.FetchOptions) ([]cache.Item, error) {
	m.fetches.Add(1)
	if err := m.enter(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	items := make([]cache.Item, len(keys))
	for i, k := range keys {
		v, ok := m.live(m.vals, k, now)
		it := cache.Item{}
		if ok {
			it.Value, it.TTL = append([]byte(nil), v.b...), v.expire.Sub(now)
		}
		wantLease := opts.Lease == cache.LeaseIfMissing && !ok ||
			opts.Lease == cache.LeaseIfStale && (!ok || it.TTL <= opts.Stale)
		if wantLease {
			if _, held := m.live(m.leases, k, now); held {
				it.Lease = cache.LeaseHeld
			} else {
				m.nextTok++
				tok := strconv.Itoa(m.nextTok)
				m.leases[k] = memVal{b: []byte(tok), expire: now.Add(time.Second)}
				it.Lease, it.Token = cache.LeaseGranted, tok
			}
		}
		items[i] = it
	}
	return items, nil
}

func (m *memStore) Write(ctx context.Context, ws []cache.Write) ([]bool, error) {
	m.writes.Add(1)
	if err := m.enter(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	now := time.Now()
	ok := make([]bool, len(ws))
	var announce []string
	for i, w := range ws {
		if w.Token != "" {
			l, held := m.live(m.leases, w.Key, now)
			if !held || string(l.b) != w.Token {
				continue
			}
		} else {
			announce = append(announce, w.Key)
		}
		if w.Value == nil {
			delete(m.leases, w.Key)
			ok[i] = true
			continue
		}
		m.vals[w.Key] = memVal{b: append([]byte(nil), w.Value...), expire: now.Add(w.TTL)}
		m.ttls = append(m.ttls, w.TTL)
		delete(m.leases, w.Key)
		ok[i] = true
	}
	m.mu.Unlock()
	if len(announce) > 0 {
		m.broadcast(cache.Invalidation{Keys: announce})
	}
	return ok, nil
}

func (m *memStore) Delete(ctx context.Context, keys []string) error {
	m.deletes.Add(1)
	if err := m.enter(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	for _, k := range keys {
		delete(m.vals, k)
		delete(m.leases, k)
	}
	m.mu.Unlock()
	m.broadcast(cache.Invalidation{Keys: keys})
	return nil
}

// put writes raw bytes, as another process or deploy would.
func (m *memStore) put(key string, b []byte, ttl time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vals[key] = memVal{b: b, expire: time.Now().Add(ttl)}
}

func (m *memStore) get(key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.live(m.vals, key, time.Now())
	return v.b, ok
}

func (m *memStore) Subscribe(fn func(cache.Invalidation)) func() {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.nextSub
	m.nextSub++
	m.subs[id] = fn
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.subs, id)
	}
}

func (m *memStore) broadcast(inv cache.Invalidation) {
	m.mu.Lock()
	fns := make([]func(cache.Invalidation), 0, len(m.subs))
	for _, fn := range m.subs {
		fns = append(fns, fn)
	}
	m.mu.Unlock()
	for _, fn := range fns {
		fn(inv)
	}
}

var errDown = errors.New("store down")
