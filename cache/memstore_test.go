package cache_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/cachetest"
)

// memStore is cachetest's MemoryStore with switches that make it fail or
// hang, and counters, for fast unit tests of the cache's store logic. The
// Redis store runs the same conformance suite against a real server in
// package rediscache.
type memStore struct {
	*cachetest.MemoryStore

	fail  atomic.Pointer[error] // every call fails with it
	hang  atomic.Bool           // every call blocks until its ctx ends
	delay atomic.Int64          // every call sleeps this long (ns) first

	fetches, writes, deletes, tagReads atomic.Int64
	mu                                 sync.Mutex
	ttls                               []time.Duration // TTLs of the value writes, in order
}

func newMemStore() *memStore {
	s, err := cachetest.NewMemoryStore(cachetest.MemoryStoreConfig{LeaseTTL: time.Second})
	if err != nil {
		panic(err) // a constant, valid config
	}
	return &memStore{MemoryStore: s}
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

func (m *memStore) Fetch(ctx context.Context, keys []string, opts cache.FetchOptions) ([]cache.Item, error) {
	m.fetches.Add(1)
	if err := m.enter(ctx); err != nil {
		return nil, err
	}
	return m.MemoryStore.Fetch(ctx, keys, opts)
}

func (m *memStore) Write(ctx context.Context, ws []cache.Write) ([]bool, error) {
	m.writes.Add(1)
	if err := m.enter(ctx); err != nil {
		return nil, err
	}
	ok, err := m.MemoryStore.Write(ctx, ws)
	m.mu.Lock()
	for i, w := range ws {
		if err == nil && ok[i] && w.Value != nil {
			m.ttls = append(m.ttls, w.TTL)
		}
	}
	m.mu.Unlock()
	return ok, err
}

func (m *memStore) Delete(ctx context.Context, keys []string) error {
	m.deletes.Add(1)
	if err := m.enter(ctx); err != nil {
		return err
	}
	return m.MemoryStore.Delete(ctx, keys)
}

func (m *memStore) TagSeqs(ctx context.Context, tags []string) ([]uint64, uint64, error) {
	m.tagReads.Add(1)
	if err := m.enter(ctx); err != nil {
		return nil, 0, err
	}
	return m.MemoryStore.TagSeqs(ctx, tags)
}

// put writes raw bytes, as another process or deploy would.
func (m *memStore) put(key string, b []byte, ttl time.Duration) { m.Put(key, b, ttl) }

func (m *memStore) get(key string) ([]byte, bool) { return m.Raw(key) }

var errDown = errors.New("store down")
