package resilience

import (
	"context"
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
	// Hooks receives events; nil disables them.
	Hooks *BulkheadHooks
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
// A Bulkhead is safe for concurrent use.
type Bulkhead struct {
	cfg     BulkheadConfig
	slots   chan struct{}
	waiting atomic.Int64
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
	return &Bulkhead{cfg: cfg, slots: make(chan struct{}, cfg.MaxConcurrent)}, nil
}

// Acquire takes a slot, waiting in the queue if allowed. It returns
// [ErrBulkheadFull] when the queue is full or MaxWait elapsed, and ctx's
// error when ctx ends first. After a nil error the caller must call
// [Bulkhead.Release] exactly once.
func (b *Bulkhead) Acquire(ctx context.Context) error {
	select {
	case b.slots <- struct{}{}:
		return nil
	default:
	}
	return b.wait(ctx)
}

func (b *Bulkhead) wait(ctx context.Context) error {
	if b.waiting.Add(1) > int64(b.cfg.MaxQueue) {
		b.waiting.Add(-1)
		return b.reject()
	}
	defer b.waiting.Add(-1)
	var expired <-chan time.Time
	if b.cfg.MaxWait > 0 {
		t := time.NewTimer(b.cfg.MaxWait)
		defer t.Stop()
		expired = t.C
	}
	select {
	case b.slots <- struct{}{}:
		return nil
	case <-expired:
		return b.reject()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release frees the slot taken by a successful [Bulkhead.Acquire].
func (b *Bulkhead) Release() { <-b.slots }

// InFlight returns the number of slots taken.
func (b *Bulkhead) InFlight() int { return len(b.slots) }

// Waiting returns the number of callers in the queue.
func (b *Bulkhead) Waiting() int { return int(b.waiting.Load()) }

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
	if h := b.cfg.Hooks; h != nil && h.OnReject != nil {
		h.OnReject()
	}
	return ErrBulkheadFull
}
