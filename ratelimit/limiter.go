package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Config configures a [Limiter].
type Config struct {
	// Limits apply to every key, all at once: an event is admitted only if
	// every limit allows it, and is then counted by all of them. At most
	// [MaxLimits]. Required unless LimitsFor is set.
	Limits []Limit
	// LimitsFor, when set, chooses the limits of each key (for example by
	// the customer's plan) and Limits is ignored. Its result is validated
	// on every call; an invalid one fails that call with [ErrInvalidLimit].
	// It must be safe for concurrent use and must not modify a slice it
	// returned before.
	LimitsFor func(key string) []Limit
	// Store keeps the state. Nil means a new [Memory] store with the zero
	// [MemoryConfig].
	Store Store
	// Hooks observe the limiter; a nil callback costs nothing.
	Hooks Hooks
}

// Hooks observe a [Limiter]. They run on the caller's goroutine, after
// the decision, and must be safe for concurrent use.
type Hooks struct {
	// OnDecision is called after each decision of Allow, Peek, Reserve,
	// Wait and the HTTP [Middleware], with the key decided on.
	OnDecision func(key string, r Result)
	// OnError is called when the store returns an error, except when the
	// caller's context ended first: cancellation is not a store failure.
	OnError func(key string, err error)
}

// Limiter decides whether events on a key are admitted. Most callers want
// [Limiter.Allow], which decides and records at once; [Limiter.Wait] suits
// background work that may sleep, and [NewMiddleware] puts the limiter in
// front of HTTP handlers. It is safe for concurrent use; its limits can be
// changed at any time with SetLimits.
type Limiter struct {
	store     Store
	mem       *Memory // store, when it is the in-memory one
	limitsFor func(string) []Limit
	set       atomic.Pointer[limitSet]
	hooks     Hooks
}

// limitSet is a validated set of limits with what is derived from it.
type limitSet struct {
	limits   []Limit
	capacity int    // largest admissible cost
	policy   string // RateLimit-Policy header value
	params   [MaxLimits]params
}

func newLimitSet(limits []Limit) (*limitSet, error) {
	if err := validateLimits(limits); err != nil {
		return nil, err
	}
	own := append([]Limit(nil), limits...)
	set := &limitSet{limits: own, capacity: minCapacity(own), policy: policyHeader(own)}
	for i, l := range own {
		set.params[i] = paramsOf(l)
	}
	return set, nil
}

// New returns a Limiter. It fails with [ErrInvalidLimit] or
// [ErrInvalidConfig] when cfg is unusable.
func New(cfg Config) (*Limiter, error) {
	l := &Limiter{store: cfg.Store, limitsFor: cfg.LimitsFor, hooks: cfg.Hooks}
	if cfg.LimitsFor == nil {
		set, err := newLimitSet(cfg.Limits)
		if err != nil {
			return nil, err
		}
		l.set.Store(set)
	}
	if l.store == nil {
		m, err := NewMemory(MemoryConfig{})
		if err != nil {
			return nil, err
		}
		l.store = m
	}
	l.mem, _ = l.store.(*Memory)
	return l, nil
}

// SetLimits replaces the limits of every key; state is kept, so a key that
// used up its burst stays limited under the new limits. It fails with
// [ErrInvalidLimit], leaving the limits unchanged, or with [ErrInvalidConfig]
// when the limiter chooses limits with LimitsFor.
func (l *Limiter) SetLimits(limits ...Limit) error {
	if l.limitsFor != nil {
		return fmt.Errorf("%w: limits come from LimitsFor", ErrInvalidConfig)
	}
	set, err := newLimitSet(limits)
	if err != nil {
		return err
	}
	l.set.Store(set)
	return nil
}

// Limits returns a copy of the current limits; nil when LimitsFor chooses
// them.
func (l *Limiter) Limits() []Limit {
	if s := l.set.Load(); s != nil {
		return append([]Limit(nil), s.limits...)
	}
	return nil
}

// Allow reports whether one event on key is admitted now, and records it if
// so. A denial is a Result with Allowed false, not an error; errors report
// bad input or a failing store.
func (l *Limiter) Allow(ctx context.Context, key string) (Result, error) {
	return l.do(ctx, key, 1, OpTake, time.Time{}, time.Time{})
}

// AllowN is Allow for n events at once.
func (l *Limiter) AllowN(ctx context.Context, key string, n int) (Result, error) {
	return l.do(ctx, key, n, OpTake, time.Time{}, time.Time{})
}

// AllowAt is AllowN at an explicit time instead of the store's clock, for
// tests and replays. Mixing explicit and clock times on one key is safe but
// decides as of the latest time seen.
func (l *Limiter) AllowAt(ctx context.Context, key string, t time.Time, n int) (Result, error) {
	return l.do(ctx, key, n, OpTake, t, time.Time{})
}

// AllowAtMost admits as many of n events on key as the limits allow now, at
// least one, and records them: Result.Granted says how many (a partial
// grant, for batch work that takes what it can). It is refused, with
// Allowed false and the wait for one event, only when not one fits. n may
// exceed the limits' burst.
func (l *Limiter) AllowAtMost(ctx context.Context, key string, n int) (Result, error) {
	return l.do(ctx, key, n, OpTakeUpTo, time.Time{}, time.Time{})
}

// AllowAtMostAt is AllowAtMost at an explicit time.
func (l *Limiter) AllowAtMostAt(ctx context.Context, key string, t time.Time, n int) (Result, error) {
	return l.do(ctx, key, n, OpTakeUpTo, t, time.Time{})
}

// Reset forgets everything the limits of key recorded, as if key had never
// been seen: for support tools and tests.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	_, err := l.do(ctx, key, 1, OpReset, time.Time{}, time.Time{})
	return err
}

// Peek reports whether one event on key would be admitted now, without
// recording anything. Remaining, ResetAfter and RefillAfter describe the
// current state.
func (l *Limiter) Peek(ctx context.Context, key string) (Result, error) {
	return l.do(ctx, key, 1, OpPeek, time.Time{}, time.Time{})
}

// PeekAt is Peek for n events at an explicit time.
func (l *Limiter) PeekAt(ctx context.Context, key string, t time.Time, n int) (Result, error) {
	return l.do(ctx, key, n, OpPeek, t, time.Time{})
}

func (l *Limiter) limitsOf(key string) (*limitSet, []Limit, int, error) {
	if set := l.set.Load(); set != nil {
		return set, set.limits, set.capacity, nil
	}
	limits := l.limitsFor(key)
	if err := validateLimits(limits); err != nil {
		return nil, nil, 0, err
	}
	return nil, limits, minCapacity(limits), nil
}

func (l *Limiter) do(ctx context.Context, key string, n int, op Op, at, takenAt time.Time) (Result, error) {
	set, limits, capacity, err := l.limitsOf(key)
	if err != nil {
		return Result{}, err
	}
	req := Request{Key: key, Limits: limits, Cost: n, Op: op, Now: at, TakenAt: takenAt}
	return l.run(ctx, &req, set, capacity)
}

// run validates req, whose limits are valid and admit at most capacity, and
// hands it to the store. set, when not nil, holds req.Limits precompiled.
func (l *Limiter) run(ctx context.Context, req *Request, set *limitSet, capacity int) (Result, error) {
	if len(req.Key) == 0 || len(req.Key) > MaxKeyLen {
		return Result{}, fmt.Errorf("%w: length %d, want 1 to %d bytes", ErrInvalidKey, len(req.Key), MaxKeyLen)
	}
	if req.Cost < 1 {
		return Result{}, fmt.Errorf("%w: %d", ErrInvalidCost, req.Cost)
	}
	if req.Cost > capacity && (req.Op == OpTake || req.Op == OpPeek) {
		return Result{}, fmt.Errorf("%w: cost %d, capacity %d", ErrCostExceedsBurst, req.Cost, capacity)
	}
	var (
		r   Result
		err error
	)
	if l.mem != nil {
		var ps *[MaxLimits]params
		if set != nil {
			ps = &set.params
		}
		r = l.mem.do(req, ps)
	} else if r, err = l.store.Do(ctx, *req); err != nil {
		if l.hooks.OnError != nil && !isCanceled(ctx, err) {
			l.hooks.OnError(req.Key, err)
		}
		return Result{}, err
	}
	if l.hooks.OnDecision != nil && req.Op != OpReset {
		l.hooks.OnDecision(req.Key, r)
	}
	return r, nil
}

func isCanceled(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// Reservation is an admitted event that can be handed back with Cancel, for
// example when the work it paid for was never done.
type Reservation struct {
	l        *Limiter
	key      string
	n        int
	result   Result
	canceled atomic.Bool
}

// Reserve is AllowN returning a [Reservation]. When the events are not
// admitted the reservation's Result says so and Cancel does nothing.
func (l *Limiter) Reserve(ctx context.Context, key string, n int) (*Reservation, error) {
	return l.ReserveAt(ctx, key, time.Time{}, n)
}

// ReserveAt is Reserve at an explicit time.
func (l *Limiter) ReserveAt(ctx context.Context, key string, t time.Time, n int) (*Reservation, error) {
	r, err := l.do(ctx, key, n, OpTake, t, time.Time{})
	if err != nil {
		return nil, err
	}
	return &Reservation{l: l, key: key, n: n, result: r}, nil
}

// Result returns the decision that made the reservation.
func (r *Reservation) Result() Result { return r.result }

// Cancel gives the reserved events back to every limit of the key, as far
// as they still count: a limit never rises above its capacity, and a window
// that has since closed is not changed. Only the first call has an effect.
func (r *Reservation) Cancel(ctx context.Context) error {
	return r.CancelAt(ctx, time.Time{})
}

// CancelAt is Cancel at an explicit time.
func (r *Reservation) CancelAt(ctx context.Context, t time.Time) error {
	if !r.result.Allowed || r.result.Degraded || !r.canceled.CompareAndSwap(false, true) {
		return nil
	}
	_, err := r.l.do(ctx, r.key, r.n, OpRefund, t, r.result.At)
	if err != nil {
		r.canceled.Store(false)
	}
	return err
}

// Wait blocks until one event on key is admitted, ctx ends, or the wait the
// limit asks for would outlast ctx's deadline; it then returns at once with
// a *[LimitedError] rather than sleep in vain. Waiters are not queued: each
// retries when the limit says capacity should be back.
func (l *Limiter) Wait(ctx context.Context, key string) error {
	return l.WaitN(ctx, key, 1)
}

// WaitN is Wait for n events.
func (l *Limiter) WaitN(ctx context.Context, key string, n int) error {
	for {
		r, err := l.AllowN(ctx, key, n)
		if err != nil || r.Allowed {
			return err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < r.RetryAfter {
			return &LimitedError{Result: r}
		}
		t := time.NewTimer(r.RetryAfter)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
