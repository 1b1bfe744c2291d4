package cachetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/bedrock-go/bedrock/cache"
)

// MemoryStoreConfig configures a [MemoryStore].
type MemoryStoreConfig struct {
	// LeaseTTL is how long a load lease lasts. Default: 5 seconds, as in
	// rediscache.
	LeaseTTL time.Duration
}

// MemoryStore is an in-process [cache.Store], [cache.Broadcaster] and
// [cache.TagStore] with the semantics of the Redis store: values with TTLs,
// load leases, tag sequence numbers, and invalidations handed to every
// subscriber at once. Several caches sharing
// one MemoryStore behave as several processes sharing one Redis. It is for
// tests; it is safe for concurrent use.
type MemoryStore struct {
	leaseTTL time.Duration

	mu      sync.Mutex
	vals    map[string]memVal
	leases  map[string]memVal
	subs    map[int]func(cache.Invalidation)
	nextSub int
	nextTok int
	seq     uint64            // tag sequence number
	tagSeqs map[string]uint64 // per tag, the number of its last invalidation
}

type memVal struct {
	b      []byte
	expire time.Time
}

var (
	_ cache.Store       = (*MemoryStore)(nil)
	_ cache.Broadcaster = (*MemoryStore)(nil)
	_ cache.TagStore    = (*MemoryStore)(nil)
)

// ErrInvalidConfig is wrapped by the error [NewMemoryStore] returns for a
// bad MemoryStoreConfig.
var ErrInvalidConfig = errors.New("cachetest: invalid config")

// NewMemoryStore returns an empty store, or an error wrapping
// [ErrInvalidConfig] for a negative LeaseTTL.
func NewMemoryStore(cfg MemoryStoreConfig) (*MemoryStore, error) {
	if cfg.LeaseTTL < 0 {
		return nil, fmt.Errorf("%w: negative LeaseTTL %v", ErrInvalidConfig, cfg.LeaseTTL)
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = 5 * time.Second
	}
	return &MemoryStore{
		leaseTTL: cfg.LeaseTTL,
		vals:     map[string]memVal{},
		leases:   map[string]memVal{},
		subs:     map[int]func(cache.Invalidation){},
		tagSeqs:  map[string]uint64{},
	}, nil
}

func live(tbl map[string]memVal, k string, now time.Time) (memVal, bool) {
	v, ok := tbl[k]
	if ok && !now.Before(v.expire) {
		delete(tbl, k)
		return memVal{}, false
	}
	return v, ok
}

// Fetch implements [cache.Store].
func (m *MemoryStore) Fetch(ctx context.Context, keys []string, opts cache.FetchOptions) ([]cache.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	items := make([]cache.Item, len(keys))
	for i, k := range keys {
		v, ok := live(m.vals, k, now)
		it := cache.Item{}
		if ok {
			it.Value, it.TTL = append([]byte(nil), v.b...), v.expire.Sub(now)
		}
		wantLease := opts.Lease == cache.LeaseIfMissing && !ok ||
			opts.Lease == cache.LeaseIfStale && (!ok || it.TTL <= opts.Stale)
		if wantLease {
			if _, held := live(m.leases, k, now); held {
				it.Lease = cache.LeaseHeld
			} else {
				m.nextTok++
				tok := strconv.Itoa(m.nextTok)
				m.leases[k] = memVal{b: []byte(tok), expire: now.Add(m.leaseTTL)}
				it.Lease, it.Token = cache.LeaseGranted, tok
			}
		}
		items[i] = it
	}
	return items, nil
}

// Write implements [cache.Store].
func (m *MemoryStore) Write(ctx context.Context, ws []cache.Write) ([]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	now := time.Now()
	ok := make([]bool, len(ws))
	var announce []string
	for i, w := range ws {
		if w.Token != "" {
			l, held := live(m.leases, w.Key, now)
			if !held || string(l.b) != w.Token {
				continue
			}
		} else {
			announce = append(announce, w.Key)
		}
		if w.Value != nil {
			m.vals[w.Key] = memVal{b: append([]byte(nil), w.Value...), expire: now.Add(w.TTL)}
		}
		delete(m.leases, w.Key)
		ok[i] = true
	}
	m.mu.Unlock()
	if len(announce) > 0 {
		m.broadcast(cache.Invalidation{Keys: announce})
	}
	return ok, nil
}

// Delete implements [cache.Store].
func (m *MemoryStore) Delete(ctx context.Context, keys []string) error {
	if err := ctx.Err(); err != nil {
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

// Subscribe implements [cache.Broadcaster].
func (m *MemoryStore) Subscribe(fn func(cache.Invalidation)) (unsubscribe func()) {
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

// Announce hands inv to every subscriber, as a store does for a change, or
// with All set when its notification channel dropped.
func (m *MemoryStore) Announce(inv cache.Invalidation) { m.broadcast(inv) }

func (m *MemoryStore) broadcast(inv cache.Invalidation) {
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

// Put stores raw bytes under a full store key, as another process or an
// older deploy would, without announcing it.
func (m *MemoryStore) Put(key string, b []byte, ttl time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vals[key] = memVal{b: append([]byte(nil), b...), expire: time.Now().Add(ttl)}
}

// Raw returns the bytes stored under a full store key.
func (m *MemoryStore) Raw(key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := live(m.vals, key, time.Now())
	return append([]byte(nil), v.b...), ok
}

// InvalidateTags implements [cache.TagStore]. Tag numbers are kept for the
// store's life: a test store holds few tags.
func (m *MemoryStore) InvalidateTags(ctx context.Context, tags []string) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	if len(tags) == 0 {
		defer m.mu.Unlock()
		return m.seq, nil
	}
	m.seq++
	seq := m.seq
	for _, t := range tags {
		m.tagSeqs[t] = seq
	}
	m.mu.Unlock()
	m.broadcast(cache.Invalidation{Tags: tags, Seq: seq})
	return seq, nil
}

// TagSeqs implements [cache.TagStore].
func (m *MemoryStore) TagSeqs(ctx context.Context, tags []string) ([]uint64, uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	seqs := make([]uint64, len(tags))
	for i, t := range tags {
		seqs[i] = m.tagSeqs[t]
	}
	return seqs, m.seq, nil
}
