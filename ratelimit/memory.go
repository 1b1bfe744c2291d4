package ratelimit

import (
	"context"
	"fmt"
	"hash/maphash"
	"math/bits"
	"runtime"
	"sync"
	"time"
)

// MemoryConfig configures a [Memory] store. The zero value is usable.
type MemoryConfig struct {
	// MaxKeys bounds the number of states kept (one per key per limit).
	// When a shard is full, its least recently used state is evicted, so
	// memory stays bounded whatever keys clients send. Zero means 262144.
	MaxKeys int
	// Shards is the number of independently locked shards, rounded up to a
	// power of two. Zero means 4 × GOMAXPROCS, at least 16.
	Shards int
	// Now is the clock. Nil means the monotonic clock read as Unix time,
	// which never steps back.
	Now func() time.Time
	// Hooks observe the store; nil costs nothing.
	Hooks *MemoryHooks
}

// MemoryHooks observe a [Memory] store. They are called with a shard lock
// held: keep them fast and never call the store from them.
type MemoryHooks struct {
	// Evicted is called when a state is dropped to make room for another.
	// active is true when the state still held information (the key had
	// not recovered its full capacity), which makes the limit forgiving.
	Evicted func(key string, active bool)
}

const defaultMaxKeys = 1 << 18

// Memory is the in-process [Store]: sharded, bounded in keys, with idle keys
// evicted as a side effect of ordinary calls (a constant amount of work per
// call, never a sweep).
//
// Each key takes, per limit, one 64-byte slot (state, LRU links, key header)
// plus its index entry; a [SlidingLog] limit also keeps its timestamps. Memory is safe for
// concurrent use and starts no goroutine.
type Memory struct {
	seed   maphash.Seed
	shards []shard
	mask   uint64
	clock  func() time.Time
	base   time.Time // monotonic reading taken at construction
	baseUS int64
	hooks  MemoryHooks
}

type slotKey struct {
	key   string
	limit uint8
}

// slot is one key's state for one limit: 64 bytes, one cache line. A
// SlidingLog's timestamps live beside it, in shard.logs.
type slot struct {
	key        string
	a, b, c    int64 // state.a, b, c
	expire     int64 // µs when the state becomes equivalent to empty
	prev, next int32 // LRU links; prev is more recently used
	limit, tag uint8 // slotKey.limit, state.tag
}

type shard struct {
	mu         sync.Mutex
	index      map[slotKey]int32
	slots      []slot
	logs       map[int32]*timeLog // SlidingLog slots' timestamps
	head, tail int32              // most and least recently used; -1 when empty
	free       int32              // free list through next; -1 when empty
	max        int
	_          [64]byte // keeps hot shards on separate cache lines
}

// NewMemory returns an in-memory store.
func NewMemory(cfg MemoryConfig) (*Memory, error) {
	if cfg.MaxKeys < 0 || cfg.Shards < 0 {
		return nil, fmt.Errorf("%w: negative MaxKeys or Shards", ErrInvalidConfig)
	}
	if cfg.MaxKeys == 0 {
		cfg.MaxKeys = defaultMaxKeys
	}
	if cfg.Shards == 0 {
		cfg.Shards = max(4*runtime.GOMAXPROCS(0), 16)
	}
	if cfg.Shards > 1<<16 {
		return nil, fmt.Errorf("%w: more than 65536 shards", ErrInvalidConfig)
	}
	n := 1 << bits.Len(uint(cfg.Shards-1))
	per := (cfg.MaxKeys + n - 1) / n
	if per <= MaxLimits {
		return nil, fmt.Errorf("%w: MaxKeys %d leaves fewer than %d states per shard; raise MaxKeys or lower Shards",
			ErrInvalidConfig, cfg.MaxKeys, MaxLimits+1)
	}
	now := time.Now()
	m := &Memory{
		seed:   maphash.MakeSeed(),
		shards: make([]shard, n),
		mask:   uint64(n - 1),
		clock:  cfg.Now,
		base:   now,
		baseUS: now.UnixMicro(),
	}
	if cfg.Hooks != nil {
		m.hooks = *cfg.Hooks
	}
	for i := range m.shards {
		m.shards[i] = shard{index: make(map[slotKey]int32), head: -1, tail: -1, free: -1, max: per}
	}
	return m, nil
}

// Len returns the number of states held.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += len(sh.index)
		sh.mu.Unlock()
	}
	return n
}

// Do implements [Store].
func (m *Memory) Do(_ context.Context, req Request) (Result, error) {
	if err := req.Validate(); err != nil {
		return Result{}, err
	}
	return m.do(&req, nil), nil
}

func (m *Memory) now() int64 {
	if m.clock != nil {
		return m.clock().UnixMicro()
	}
	return m.baseUS + time.Since(m.base).Microseconds()
}

// do decides a validated request; compiled, when not nil, holds the params
// of req.Limits.
func (m *Memory) do(req *Request, compiled *[MaxLimits]params) Result {
	sh := &m.shards[maphash.String(m.seed, req.Key)&m.mask]
	var (
		local [MaxLimits]params
		vs    [MaxLimits]verdict
		ids   [MaxLimits]int32
		k     = len(req.Limits)
	)
	ps := compiled
	if ps == nil {
		for i, l := range req.Limits {
			local[i] = paramsOf(l)
		}
		ps = &local
	}
	cost := int64(req.Cost)

	sh.mu.Lock()
	// The clock is read under the lock so that decisions on one key see
	// time in the order they are made (the cause of golang/go#71360).
	var now int64
	if req.Now.IsZero() {
		now = m.now()
	} else {
		now = req.Now.UnixMicro()
	}
	var sts [MaxLimits]state
	allowed := true
	for i := range k {
		ids[i] = sh.find(slotKey{req.Key, uint8(i)})
		if ids[i] >= 0 {
			sh.load(ids[i], &sts[i])
		}
		switch req.Op {
		case OpRefund:
			if ids[i] >= 0 {
				refund(&ps[i], &sts[i], now, cost, req.TakenAt.UnixMicro())
				sh.store(ids[i], &sts[i])
			}
			vs[i] = eval(&ps[i], &sts[i], now, 0)
			if ids[i] >= 0 {
				sh.slots[ids[i]].expire = now + vs[i].reset
			}
		default:
			vs[i] = eval(&ps[i], &sts[i], now, cost)
		}
		allowed = allowed && vs[i].allowed
	}
	best := choose(vs[:k], allowed)
	switch {
	case req.Op == OpTake && allowed:
		for i := range k {
			id := ids[i]
			if id < 0 {
				id = sh.insert(slotKey{req.Key, uint8(i)}, now, &m.hooks)
			}
			take(&ps[i], &sts[i], now, cost)
			sh.store(id, &sts[i])
			sh.slots[id].expire = now + vs[i].reset
		}
	case req.Op == OpPeek:
		v := eval(&ps[best], &sts[best], now, 0)
		vs[best].remaining, vs[best].reset = v.remaining, v.reset
	}
	sh.reclaim(now)
	sh.mu.Unlock()
	if req.Op == OpRefund {
		vs[best].allowed = true
	}
	return verdictResult(req.Limits[best], vs[best], now)
}

// find returns the slot of k, marked most recently used, or -1.
func (sh *shard) find(k slotKey) int32 {
	id, ok := sh.index[k]
	if !ok {
		return -1
	}
	sh.touch(id)
	return id
}

// insert adds an empty slot for k, evicting the least recently used slot if
// the shard is full.
func (sh *shard) insert(k slotKey, now int64, hooks *MemoryHooks) int32 {
	if len(sh.index) >= sh.max {
		sh.evict(sh.tail, now, hooks)
	}
	var id int32
	if sh.free >= 0 {
		id = sh.free
		sh.free = sh.slots[id].next
	} else {
		id = int32(len(sh.slots))
		sh.slots = append(sh.slots, slot{})
	}
	sh.slots[id] = slot{key: k.key, limit: k.limit, prev: -1, next: sh.head}
	if sh.head >= 0 {
		sh.slots[sh.head].prev = id
	}
	sh.head = id
	if sh.tail < 0 {
		sh.tail = id
	}
	sh.index[k] = id
	return id
}

const logTag = uint8(SlidingLog) + 1

// load copies the state of slot id into st.
func (sh *shard) load(id int32, st *state) {
	s := &sh.slots[id]
	*st = state{tag: s.tag, a: s.a, b: s.b, c: s.c}
	if s.tag == logTag {
		st.log = sh.logs[id]
	}
}

// store copies st into slot id.
func (sh *shard) store(id int32, st *state) {
	s := &sh.slots[id]
	if s.tag == logTag && st.tag != logTag {
		delete(sh.logs, id)
	}
	s.tag, s.a, s.b, s.c = st.tag, st.a, st.b, st.c
	if st.tag == logTag {
		if sh.logs == nil {
			sh.logs = make(map[int32]*timeLog)
		}
		sh.logs[id] = st.log
	}
}

// reclaim evicts up to two idle slots from the cold end: a constant amount
// of work per call that returns idle keys' memory without any sweep.
func (sh *shard) reclaim(now int64) {
	for range 2 {
		t := sh.tail
		if t < 0 || sh.slots[t].expire > now {
			return
		}
		sh.evict(t, now, nil)
	}
}

func (sh *shard) evict(id int32, now int64, hooks *MemoryHooks) {
	s := &sh.slots[id]
	if hooks != nil && hooks.Evicted != nil {
		hooks.Evicted(s.key, s.expire > now)
	}
	sh.unlink(id)
	delete(sh.index, slotKey{s.key, s.limit})
	if s.tag == logTag {
		delete(sh.logs, id)
	}
	*s = slot{next: sh.free, prev: -1}
	sh.free = id
}

func (sh *shard) unlink(id int32) {
	s := &sh.slots[id]
	if s.prev >= 0 {
		sh.slots[s.prev].next = s.next
	} else {
		sh.head = s.next
	}
	if s.next >= 0 {
		sh.slots[s.next].prev = s.prev
	} else {
		sh.tail = s.prev
	}
}

func (sh *shard) touch(id int32) {
	if sh.head == id {
		return
	}
	sh.unlink(id)
	s := &sh.slots[id]
	s.prev, s.next = -1, sh.head
	sh.slots[sh.head].prev = id
	sh.head = id
}
