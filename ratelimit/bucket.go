package ratelimit

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Bucket limits one stream of events with no key and no store: the
// in-process, lock-free GCRA for calls to one dependency, one worker's
// output, or any single rate. Its state is one atomic timestamp updated by
// compare-and-swap, so concurrent callers never wait for each other, and a
// caller holding a stale clock reading can only be refused, never admitted
// beyond the limit.
//
// A Bucket is safe for concurrent use. Its zero value is not usable; create
// one with [NewBucket].
type Bucket struct {
	tat    atomic.Int64 // theoretical arrival time, µs
	p      atomic.Pointer[bucketLimit]
	base   time.Time // monotonic reading taken at construction
	baseUS int64
}

type bucketLimit struct {
	limit  Limit
	params params
}

// NewBucket returns a Bucket admitting events under l, which must be a
// [GCRA] or [TokenBucket] limit (they decide alike). It fails with
// [ErrInvalidLimit] otherwise.
func NewBucket(l Limit) (*Bucket, error) {
	bl, err := newBucketLimit(l)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	b := &Bucket{base: now, baseUS: now.UnixMicro()}
	b.p.Store(bl)
	return b, nil
}

func newBucketLimit(l Limit) (*bucketLimit, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if l.Algorithm.Windowed() {
		return nil, &InvalidLimitError{Index: -1, Limit: l, Reason: fmt.Sprintf("a Bucket runs GCRA, not %v", l.Algorithm)}
	}
	p := paramsOf(l)
	p.algo = GCRA
	return &bucketLimit{limit: l, params: p}, nil
}

// SetLimit replaces the limit; the debt already accrued is kept. It fails
// with [ErrInvalidLimit], leaving the limit unchanged.
func (b *Bucket) SetLimit(l Limit) error {
	bl, err := newBucketLimit(l)
	if err != nil {
		return err
	}
	b.p.Store(bl)
	return nil
}

// Limit returns the current limit.
func (b *Bucket) Limit() Limit { return b.p.Load().limit }

// Allow reports whether one event is admitted now, and records it if so.
func (b *Bucket) Allow() bool {
	return b.take(b.baseUS+time.Since(b.base).Microseconds(), 1).allowed
}

// AllowN reports whether n events are admitted now, and records them if so.
// It fails with [ErrInvalidCost] or [ErrCostExceedsBurst].
func (b *Bucket) AllowN(n int) (Result, error) {
	return b.AllowAt(time.Time{}, n)
}

// AllowAt is AllowN at an explicit time; the zero time means now.
func (b *Bucket) AllowAt(t time.Time, n int) (Result, error) {
	bl := b.p.Load()
	if n < 1 {
		return Result{}, fmt.Errorf("%w: %d", ErrInvalidCost, n)
	}
	if n > int(bl.params.burst) {
		return Result{}, fmt.Errorf("%w: cost %d, capacity %d", ErrCostExceedsBurst, n, bl.params.burst)
	}
	now := t.UnixMicro()
	if t.IsZero() {
		now = b.baseUS + time.Since(b.base).Microseconds()
	}
	r := verdictResult(bl.limit, b.take(now, int64(n)), now)
	if r.Allowed {
		r.Granted = n
	}
	return r, nil
}

func (b *Bucket) take(now, cost int64) verdict {
	p := &b.p.Load().params
	for {
		old := b.tat.Load()
		st := state{tag: uint8(GCRA) + 1, a: old}
		v := evalGCRA(p, &st, now, cost)
		if !v.allowed || b.tat.CompareAndSwap(old, max(old, now)+cost*p.interval) {
			return v
		}
	}
}
