package resilience

import (
	"container/list"
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// BulkheadConfig configures a [Bulkhead]. Every zero field has the default
// written in its comment.
type BulkheadConfig struct {
	// MaxConcurrent is the number of calls allowed at once. Default 10.
	MaxConcurrent int
	// MaxQueue is the number of callers allowed to wait for a slot.
	// Default 0: a caller that finds no free slot fails at once.
	MaxQueue int
	// MaxWait bounds how long a queued caller waits. Default 0: until its
	// context ends.
	MaxWait time.Duration
	// Hooks receives events; nil hooks cost nothing.
	Hooks BulkheadHooks
}

// BulkheadHooks receives bulkhead events. A nil hook costs nothing.
type BulkheadHooks struct {
	// OnReject is called for every caller turned away with
	// ErrBulkheadFull (queue full or MaxWait elapsed).
	OnReject func()
}

// Bulkhead limits the number of concurrent calls to a dependency, so that a
// slow dependency ties up a bounded share of the caller's goroutines and
// connections. Callers beyond MaxConcurrent wait in a FIFO queue of at most
// MaxQueue; beyond that they get [ErrBulkheadFull] at once.
//
// Taking and freeing a slot are single atomic operations while nobody
// waits; the queue is only touched under contention.
//
// Most callers want [Bulkhead.Do], or a [Pipeline] that holds the
// bulkhead; [Bulkhead.Acquire] and [Bulkhead.Release] are the two-step form
// for code where the call is not a function. Create one with
// [NewBulkhead]; the zero Bulkhead is not usable. A Bulkhead is safe for
// concurrent use.
type Bulkhead struct {
	cfg      BulkheadConfig
	max      int64
	inFlight atomic.Int64
	queued   atomic.Int64 // mirrors waiters.Len() for the lock-free paths
	mu       sync.Mutex
	waiters  list.List // of chan struct{}, closed to hand over a slot
}

// NewBulkhead returns a Bulkhead. It returns an error matching
// [ErrInvalidConfig] when cfg is invalid.
func NewBulkhead(cfg BulkheadConfig) (*Bulkhead, error) {
	if cfg.MaxConcurrent == 0 {
		cfg.MaxConcurrent = 10
	}
	if cfg.MaxConcurrent < 0 {
		return nil, configError("MaxConcurrent", "%d is negative", cfg.MaxConcurrent)
	}
	if cfg.MaxQueue < 0 {
		return nil, configError("MaxQueue", "%d is negative", cfg.MaxQueue)
	}
	if cfg.MaxWait < 0 {
		return nil, configError("MaxWait", "%v is negative", cfg.MaxWait)
	}
	return &Bulkhead{cfg: cfg, max: int64(cfg.MaxConcurrent)}, nil
}

// Acquire takes a slot, waiting in the queue if allowed. It returns
// [ErrBulkheadFull] when the queue is full or MaxWait elapsed, and ctx's
// error when ctx ends first. After a nil error the caller must call
// [Bulkhead.Release] exactly once.
func (b *Bulkhead) Acquire(ctx context.Context) error {
	// Newcomers take the fast path only when nobody queues, so that they
	// never overtake a waiter.
	if b.queued.Load() == 0 && b.tryTake() {
		return nil
	}
	return b.wait(ctx)
}

func (b *Bulkhead) tryTake() bool {
	for n := b.inFlight.Load(); n < b.max; n = b.inFlight.Load() {
		if b.inFlight.CompareAndSwap(n, n+1) {
			return true
		}
	}
	return false
}

func (b *Bulkhead) wait(ctx context.Context) error {
	b.mu.Lock()
	if b.waiters.Len() == 0 && b.tryTake() {
		b.mu.Unlock()
		return nil
	}
	if b.waiters.Len() >= b.cfg.MaxQueue {
		b.mu.Unlock()
		return b.reject()
	}
	ready := make(chan struct{})
	elem := b.waiters.PushBack(ready)
	b.queued.Add(1)
	// Retry after announcing ourselves: a Release that decremented before
	// seeing queued > 0 has freed a slot this attempt will see (atomics
	// are sequentially consistent), so no wake-up is lost.
	if elem == b.waiters.Front() && b.tryTake() {
		b.dequeue(elem)
		b.mu.Unlock()
		return nil
	}
	b.mu.Unlock()

	var expired <-chan time.Time
	if b.cfg.MaxWait > 0 {
		t := time.NewTimer(b.cfg.MaxWait)
		defer t.Stop()
		expired = t.C
	}
	var err error
	select {
	case <-ready:
		return nil
	case <-expired:
		err = ErrBulkheadFull
	case <-ctx.Done():
		err = ctx.Err()
	}
	b.mu.Lock()
	select {
	case <-ready: // granted while giving up: hand the slot on
		b.mu.Unlock()
		b.Release()
	default:
		b.dequeue(elem)
		b.mu.Unlock()
	}
	if err == ErrBulkheadFull {
		return b.reject()
	}
	return err
}

func (b *Bulkhead) dequeue(e *list.Element) {
	b.waiters.Remove(e)
	b.queued.Add(-1)
}

// Release frees the slot taken by a successful [Bulkhead.Acquire], handing
// it to the first waiter if there is one.
func (b *Bulkhead) Release() {
	b.inFlight.Add(-1)
	if b.queued.Load() > 0 {
		b.handOver()
	}
}

func (b *Bulkhead) handOver() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for e := b.waiters.Front(); e != nil && b.tryTake(); e = b.waiters.Front() {
		b.dequeue(e)
		close(e.Value.(chan struct{}))
	}
}

// InFlight returns the number of slots taken.
func (b *Bulkhead) InFlight() int { return int(b.inFlight.Load()) }

// Waiting returns the number of callers in the queue.
func (b *Bulkhead) Waiting() int { return int(b.queued.Load()) }

// Do runs fn in a slot, releasing it even if fn panics.
func (b *Bulkhead) Do(ctx context.Context, fn func(context.Context) error) error {
	if err := b.Acquire(ctx); err != nil {
		return err
	}
	defer b.Release()
	return fn(ctx)
}

func (*Bulkhead) policy() {}

func (b *Bulkhead) reject() error {
	if h := b.cfg.Hooks.OnReject; h != nil {
		h()
	}
	return ErrBulkheadFull
}
