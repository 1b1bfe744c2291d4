package resilience

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/bedrock-go/bedrock/internal/backoff"
)

// Fault describes what a [FaultInjector] does to the calls it hits, and
// which calls it hits. The zero Fault hits every call with [ErrInjected].
type Fault struct {
	// Probability in [0, 1] is the chance that a call is hit.
	Probability float64
	// Every, when positive, hits every Every-th call (the Every-th, the
	// 2*Every-th, ...). With both Probability and Every zero, every call
	// is hit; with both set, a call is hit if either selects it.
	Every uint64
	// From and Until, when set, limit the faults to [From, Until).
	From, Until time.Time
	// Latency is added before the call (or before the injected failure
	// or result); the wait ends early if the context does.
	Latency time.Duration
	// Err is returned instead of calling. When nil, Latency is zero and
	// Respond is false, ErrInjected is returned.
	Err error
	// Respond returns the injected result instead of calling: the value
	// of a [FaultResult] or the response of a [FaultTransport]. A plain
	// FaultInjector in a Pipeline returns Err (or ErrInjected) instead.
	Respond bool
}

// FaultInjector injects faults into calls, for chaos experiments and
// degradation drills. It is switched at run time with [FaultInjector.Set]
// and [FaultInjector.Disable]; while disabled it costs one atomic load.
//
// The zero FaultInjector is disabled and ready to use, with time.Now as
// its clock. A FaultInjector is safe for concurrent use.
type FaultInjector struct {
	active atomic.Pointer[faultState]
	now    func() time.Time
}

type faultState struct {
	Fault
	calls atomic.Uint64
}

// NewFaultInjector returns a disabled FaultInjector. now is its clock for
// From and Until; nil means time.Now.
func NewFaultInjector(now func() time.Time) *FaultInjector {
	if now == nil {
		now = time.Now
	}
	return &FaultInjector{now: now}
}

// Set enables the injector with f, replacing the previous fault. It returns
// an error matching [ErrInvalidConfig] for an invalid f and then leaves the
// injector unchanged.
func (fi *FaultInjector) Set(f Fault) error {
	if !(f.Probability >= 0 && f.Probability <= 1) {
		return configError("Probability", "%v not in [0, 1]", f.Probability)
	}
	if f.Latency < 0 {
		return configError("Latency", "%v is negative", f.Latency)
	}
	if !f.From.IsZero() && !f.Until.IsZero() && !f.From.Before(f.Until) {
		return configError("Until", "%v is not after From %v", f.Until, f.From)
	}
	if f.Err == nil && f.Latency == 0 && !f.Respond {
		f.Err = ErrInjected
	}
	fi.active.Store(&faultState{Fault: f})
	return nil
}

// Disable stops injecting faults.
func (fi *FaultInjector) Disable() { fi.active.Store(nil) }

// Enabled reports whether a fault is set.
func (fi *FaultInjector) Enabled() bool { return fi.active.Load() != nil }

// Hit decides whether the current call is hit and returns the fault to
// apply. It is what the policies use; call it to inject faults elsewhere.
func (fi *FaultInjector) Hit() (Fault, bool) {
	s := fi.active.Load()
	if s == nil {
		return Fault{}, false
	}
	return s.hit(fi.clock())
}

func (fi *FaultInjector) clock() func() time.Time {
	if fi.now == nil {
		return time.Now
	}
	return fi.now
}

func (s *faultState) hit(now func() time.Time) (Fault, bool) {
	if !s.From.IsZero() || !s.Until.IsZero() {
		t := now()
		if (!s.From.IsZero() && t.Before(s.From)) || (!s.Until.IsZero() && !t.Before(s.Until)) {
			return Fault{}, false
		}
	}
	n := s.calls.Add(1)
	switch {
	case s.Every == 0 && s.Probability == 0:
		return s.Fault, true
	case s.Every > 0 && n%s.Every == 0:
		return s.Fault, true
	case s.Probability > 0 && rand.Float64() < s.Probability:
		return s.Fault, true
	}
	return Fault{}, false
}

// Do applies the injector to fn.
func (fi *FaultInjector) Do(ctx context.Context, fn func(context.Context) error) error {
	if fi.active.Load() == nil {
		return fn(ctx) // disabled: one atomic load
	}
	return fi.inject(ctx, fn)
}

func (fi *FaultInjector) inject(ctx context.Context, fn func(context.Context) error) error {
	s := fi.active.Load()
	if s == nil {
		return fn(ctx)
	}
	f, ok := s.hit(fi.clock())
	if !ok {
		return fn(ctx)
	}
	if err := backoff.Sleep(ctx, f.Latency); err != nil {
		return err
	}
	if f.Err != nil || f.Respond {
		return f.errOr()
	}
	return fn(ctx)
}

func (f Fault) errOr() error {
	if f.Err != nil {
		return f.Err
	}
	return ErrInjected
}

func (*FaultInjector) policy() {}

// FaultResult is a [Pipeline] policy that returns a given value when its
// injector hits with Respond set: a stale answer, an empty page, whatever
// the experiment needs. Build it with [InjectResult].
type FaultResult[T any] struct {
	inj   *FaultInjector
	value T
}

// InjectResult returns a policy that answers v (with a nil error) to the
// calls inj hits with Respond set. Other hits behave as with inj alone.
func InjectResult[T any](inj *FaultInjector, v T) *FaultResult[T] {
	return &FaultResult[T]{inj: inj, value: v}
}

func (*FaultResult[T]) policy() {}

// injectFault applies a hit to a call; result is the FaultResult's value, if
// any.
func injectFault[T any](ctx context.Context, fi *FaultInjector, result *T, call func(context.Context) (T, error)) (T, error) {
	var zero T
	f, ok := fi.Hit()
	if !ok {
		return call(ctx)
	}
	if err := backoff.Sleep(ctx, f.Latency); err != nil {
		return zero, err
	}
	switch {
	case f.Respond && result != nil:
		return *result, nil
	case f.Err != nil || f.Respond:
		return zero, f.errOr()
	}
	return call(ctx)
}
