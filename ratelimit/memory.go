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
	// When a shard is full, a state not used recently is evicted (CLOCK, an
	// approximation of LRU), so memory stays bounded whatever keys clients
	// send. Zero means 262144.
	MaxKeys int
	// Shards is the number of independently locked shards, rounded up to a
	// power of two. Zero means 4 × GOMAXPROCS, at least 16.
	Shards int
	// Now is the clock. Nil means the monotonic clock read as Unix time,
	// which never steps back.
	Now func() time.Time
	// Hooks observe the store; a nil callback costs nothing.
	Hooks MemoryHooks
}

// MemoryHooks observe a [Memory] store. They are called with a shard lock
// held: keep them fast and never call the store from them.
type MemoryHooks struct {
	// OnEvict is called when a state is dropped to make room for another.
	// active is true when the state still held information (the key had
	// not recovered its full capacity), which makes the limit forgiving.
	OnEvict func(key string, active bool)
}

const defaultMaxKeys = 1 << 18

// Memory is the in-process [Store]: sharded, bounded in keys, with idle keys
// evicted as a side effect of ordinary calls (a constant amount of work per
// call, never a sweep).
//
// Each key takes, per limit, one 64-byte slot (state, expiry, CLOCK mark,
// key header) plus its index entry; a [SlidingLog] limit also keeps its
// timestamps. Memory is safe for concurrent use and starts no goroutine.
//
// Memory is also a [LeaseStore] for [Concurrency] quotas: leases live in a
// table of their own, outside MaxKeys (a live lease cannot be evicted),
// expired ones are dropped when their key is next used, and every 1024
// lease operations the table is swept of keys whose leases all expired.
type Memory struct {
	seed   maphash.Seed
	shards []shard
	mask   uint64
	clock  func() time.Time
	base   time.Time // monotonic reading taken at construction
	baseUS int64
	hooks  MemoryHooks
	leases memoryLeases
}

type slotKey struct {
	key   string
	limit uint8
}

// slot is one key's state for one limit, in at most 64 bytes (one cache
// line). A SlidingLog's timestamps live beside it, in shard.logs.
type slot struct {
	key             string // "" when the slot is free
	a, b, c         int64  // state.a, b, c
	expire          int64  // µs when the state becomes equivalent to empty
	limit, tag, ref uint8  // slotKey.limit, state.tag, CLOCK reference
}

// CLOCK reference marks: a used slot gets a second chance; a pinned one is
// part of the decision in progress and never evicted.
const (
	refNone uint8 = iota
	refUsed
	refPinned
)

// shard evicts with CLOCK (second chance), an approximation of LRU whose
// hits write only to their own slot: a hand sweeps the slots, clearing
// reference marks and evicting the first unmarked slot when the shard is
// full, and reclaiming idle slots two steps per call otherwise.
type shard struct {
	mu sync.Mutex
	// index finds the slot of a key's first limit by the key alone, on the
	// map's fast string path; further limits go through indexN.
	index  map[string]int32
	indexN map[slotKey]int32
	slots  []slot
	logs   map[int32]*timeLog // SlidingLog slots' timestamps
	free   []int32            // indexes of free slots
	hand   int
	max    int
	_      [64]byte // keeps hot shards on separate cache lines
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
	per := cfg.MaxKeys / n // rounding down keeps MaxKeys a hard cap
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
		hooks:  cfg.Hooks,
	}
	for i := range m.shards {
		m.shards[i] = shard{index: make(map[string]int32), indexN: make(map[slotKey]int32), max: per}
	}
	return m, nil
}

// Len returns the number of states held.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += sh.len()
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
	if len(req.Limits) == 1 {
		var p params
		if compiled != nil {
			p = compiled[0]
		} else {
			p = paramsOf(req.Limits[0])
		}
		sh.mu.Lock()
		v := sh.decideOne(req, &p, m.clockAt(req), &m.hooks)
		sh.mu.Unlock()
		r := verdictResult(req.Limits[0], v.verdict, v.now)
		r.Granted = int(v.granted)
		return r
	}
	var local [MaxLimits]params
	ps := compiled
	if ps == nil {
		for i, l := range req.Limits {
			local[i] = paramsOf(l)
		}
		ps = &local
	}
	sh.mu.Lock()
	best, v := sh.decide(req, ps, m.clockAt(req), &m.hooks)
	sh.mu.Unlock()
	r := verdictResult(req.Limits[best], v.verdict, v.now)
	r.Granted = int(v.granted)
	return r
}

// clockAt returns the time of req in µs. It is called under the shard lock
// so that decisions on one key see time in the order they are made (the
// cause of golang/go#71360 is a clock read before the lock).
func (m *Memory) clockAt(req *Request) int64 {
	if req.Now.IsZero() {
		return m.now()
	}
	return req.Now.UnixMicro()
}

type timedVerdict struct {
	verdict
	now     int64
	granted int64
}

// decideOne is decide for a single limit: the common case, without arrays.
func (sh *shard) decideOne(req *Request, p *params, now int64, hooks *MemoryHooks) timedVerdict {
	cost := int64(req.Cost)
	k := slotKey{req.Key, 0}
	id := sh.find(k)
	var st state
	if id >= 0 {
		sh.load(id, &st)
	}
	var v verdict
	var granted int64
	if req.Op == OpTakeUpTo {
		// As many as fit, or a refusal that reports the wait for one.
		cost = max(min(cost, eval(p, &st, now, 0).remaining), 1)
	}
	switch req.Op {
	case OpTake, OpTakeUpTo:
		if v = eval(p, &st, now, cost); v.allowed {
			if id < 0 {
				id = sh.insert(k, now, hooks)
			}
			take(p, &st, now, cost)
			sh.store(id, &st)
			sh.slots[id].expire = now + v.reset
			granted = cost
		}
	case OpReset:
		if id >= 0 {
			sh.evict(id, now, nil)
			id = -1
		}
		v = eval(p, &state{}, now, 0)
		v.allowed = true
	case OpPeek:
		v = eval(p, &st, now, cost)
		v0 := eval(p, &st, now, 0)
		v.remaining, v.reset, v.refill = v0.remaining, v0.reset, v0.refill
	case OpRefund:
		if id >= 0 {
			refund(p, &st, now, cost, req.TakenAt.UnixMicro())
			sh.store(id, &st)
		}
		v = eval(p, &st, now, 0)
		v.allowed = true
		if id >= 0 {
			sh.slots[id].expire = now + v.reset
		}
	}
	if id >= 0 {
		sh.slots[id].ref = refUsed
	}
	sh.reclaim(now)
	return timedVerdict{v, now, granted}
}

// decide applies req to all its limits at once and returns the index of the
// deciding limit and its verdict.
func (sh *shard) decide(req *Request, ps *[MaxLimits]params, now int64, hooks *MemoryHooks) (int, timedVerdict) {
	var (
		vs  [MaxLimits]verdict
		ids [MaxLimits]int32
		sts [MaxLimits]state
		k   = len(req.Limits)
	)
	cost := int64(req.Cost)
	allowed := true
	for i := range k {
		ids[i] = sh.find(slotKey{req.Key, uint8(i)})
		if ids[i] >= 0 {
			sh.load(ids[i], &sts[i])
		}
		if req.Op == OpReset && ids[i] >= 0 {
			sh.evict(ids[i], now, nil)
			ids[i], sts[i] = -1, state{}
		}
	}
	if req.Op == OpTakeUpTo {
		for i := range k {
			cost = min(cost, eval(&ps[i], &sts[i], now, 0).remaining)
		}
		cost = max(cost, 1)
	}
	var granted int64
	for i := range k {
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
		case OpReset:
			vs[i] = eval(&ps[i], &sts[i], now, 0)
		default:
			vs[i] = eval(&ps[i], &sts[i], now, cost)
		}
		allowed = allowed && vs[i].allowed
	}
	best := choose(vs[:k], allowed)
	switch {
	case (req.Op == OpTake || req.Op == OpTakeUpTo) && allowed:
		granted = cost
		for i := range k {
			id := ids[i]
			if id < 0 {
				id = sh.insert(slotKey{req.Key, uint8(i)}, now, hooks)
				ids[i] = id
			}
			take(&ps[i], &sts[i], now, cost)
			sh.store(id, &sts[i])
			sh.slots[id].expire = now + vs[i].reset
		}
	case req.Op == OpPeek:
		v := eval(&ps[best], &sts[best], now, 0)
		vs[best].remaining, vs[best].reset, vs[best].refill = v.remaining, v.reset, v.refill
	case req.Op == OpRefund || req.Op == OpReset:
		vs[best].allowed = true
	}
	for i := range k {
		if ids[i] >= 0 {
			sh.slots[ids[i]].ref = refUsed
		}
	}
	sh.reclaim(now)
	return best, timedVerdict{vs[best], now, granted}
}

func (sh *shard) len() int { return len(sh.index) + len(sh.indexN) }

// find returns the slot of k, pinned for the decision in progress, or -1.
func (sh *shard) find(k slotKey) int32 {
	var (
		id int32
		ok bool
	)
	if k.limit == 0 {
		id, ok = sh.index[k.key]
	} else {
		id, ok = sh.indexN[k]
	}
	if !ok {
		return -1
	}
	sh.slots[id].ref = refPinned
	return id
}

// insert adds an empty, pinned slot for k, evicting a slot the hand finds
// unreferenced if the shard is full.
func (sh *shard) insert(k slotKey, now int64, hooks *MemoryHooks) int32 {
	if sh.len() >= sh.max {
		sh.evictOne(now, hooks)
	}
	var id int32
	if n := len(sh.free); n > 0 {
		id = sh.free[n-1]
		sh.free = sh.free[:n-1]
	} else {
		id = int32(len(sh.slots))
		sh.slots = append(sh.slots, slot{})
	}
	sh.slots[id] = slot{key: k.key, limit: k.limit, ref: refPinned}
	if k.limit == 0 {
		sh.index[k.key] = id
	} else {
		sh.indexN[k] = id
	}
	return id
}

// evictOne sweeps the hand to the first unpinned slot that is idle or
// unmarked and evicts it. It ends within two sweeps: the first clears every
// mark, and more slots exist than a decision pins.
func (sh *shard) evictOne(now int64, hooks *MemoryHooks) {
	for {
		sh.hand = (sh.hand + 1) % len(sh.slots)
		s := &sh.slots[sh.hand]
		switch {
		case s.key == "" || s.ref == refPinned:
		case s.ref == refUsed && s.expire > now:
			s.ref = refNone
		default:
			sh.evict(int32(sh.hand), now, hooks)
			return
		}
	}
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

// reclaim moves the hand two steps and evicts what it finds idle, while the
// shard is over half full: a constant amount of work per call, never a
// sweep, that keeps room for active keys whatever one-off keys pass by.
// Below half full an idle state costs nothing to keep (the slot array and
// the index never shrink), and evicting it would only churn the index.
func (sh *shard) reclaim(now int64) {
	if sh.len() <= sh.max/2 {
		return
	}
	for range 2 {
		sh.hand = (sh.hand + 1) % len(sh.slots)
		s := &sh.slots[sh.hand]
		if s.key != "" && s.ref != refPinned && s.expire <= now {
			sh.evict(int32(sh.hand), now, nil)
		}
	}
}

func (sh *shard) evict(id int32, now int64, hooks *MemoryHooks) {
	s := &sh.slots[id]
	if hooks != nil && hooks.OnEvict != nil {
		hooks.OnEvict(s.key, s.expire > now)
	}
	if s.limit == 0 {
		delete(sh.index, s.key)
	} else {
		delete(sh.indexN, slotKey{s.key, s.limit})
	}
	if s.tag == logTag {
		delete(sh.logs, id)
	}
	*s = slot{}
	sh.free = append(sh.free, id)
}
