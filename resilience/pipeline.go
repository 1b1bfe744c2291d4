package resilience

import (
	"context"
	"fmt"

	"github.com/bedrock-go/bedrock/internal/backoff"
)

// Policy is one stage of a [Pipeline]: a [*Breaker], [*Retry],
// [*Bulkhead], [*AdaptiveLimiter], [*Throttler], [*Timeout], [*Hedge],
// [*Fallback], [*FaultInjector] or [*FaultResult]. The set is closed; the interface exists so that one list
// can hold them all.
type Policy interface {
	policy()
}

// Pipeline applies policies around an operation returning a T. The first
// policy is the outermost: NewPipeline(fallback, retry, breaker, bulkhead,
// timeout) runs
//
//	fallback ⟶ retry ⟶ breaker ⟶ bulkhead ⟶ timeout ⟶ fn
//
// which is the recommended order: the timeout bounds each attempt, the
// bulkhead counts only admitted calls, the breaker sees every attempt, the
// retry repeats the whole inner chain (and stops on ErrOpen, unless its
// RetryIf accepts it: it then waits for the breaker to half-open), and the
// fallback catches what is left. A Timeout placed before the Retry bounds
// the whole execution instead. A [Throttler] goes inside the retry and
// outside the breaker (its local refusals are not retried), an
// [AdaptiveLimiter] where the bulkhead would (it measures the latency of
// what it admits). Any other order is applied as given.
//
// Most callers want [Pipeline.Execute]. The zero Pipeline applies no
// policy. Build a Pipeline once and reuse it:
// it holds no per-call state and is safe for concurrent use, and Execute
// allocates nothing for a breaker, retry, bulkhead or disabled fault
// injector that lets the call through.
type Pipeline[T any] struct {
	stages []Policy
	// counted[i] is true when an outer stage records requests in the
	// budget of stage i already: a Retry and a Hedge sharing a budget
	// must count one request per execution, not two.
	counted []bool
	// discard releases a result that a Hedge produced but did not return.
	discard func(T)
}

// NewPipeline returns a Pipeline applying policies, outermost first. It
// returns an error matching [ErrInvalidConfig] for a nil policy and
// [ErrPolicyType] for a typed policy built for another result type.
func NewPipeline[T any](policies ...Policy) (*Pipeline[T], error) {
	for i, p := range policies {
		if err := checkPolicy[T](p); err != nil {
			return nil, fmt.Errorf("resilience: policy %d (%T): %w", i, p, err)
		}
	}
	p := &Pipeline[T]{stages: append([]Policy(nil), policies...), counted: make([]bool, len(policies))}
	seen := map[*Budget]bool{}
	for i, s := range p.stages {
		var b *Budget
		switch s := s.(type) {
		case *Retry:
			b = s.cfg.Budget
		case *Hedge:
			b = s.cfg.Budget
		}
		if b != nil {
			p.counted[i] = seen[b]
			seen[b] = true
		}
	}
	return p, nil
}

func checkPolicy[T any](p Policy) error {
	var isNil bool
	switch p := p.(type) {
	case nil:
		isNil = true
	case *Breaker:
		isNil = p == nil
	case *Retry:
		isNil = p == nil
	case *Bulkhead:
		isNil = p == nil
	case *AdaptiveLimiter:
		isNil = p == nil
	case *Throttler:
		isNil = p == nil
	case *Timeout:
		isNil = p == nil
	case *Hedge:
		isNil = p == nil
	case *FaultInjector:
		isNil = p == nil
	case *Fallback[T]:
		if p == nil {
			isNil = true
		} else if err := p.validate(); err != nil {
			return err
		}
	case *FaultResult[T]:
		isNil = p == nil || p.inj == nil
	default:
		return ErrPolicyType
	}
	if isNil {
		return configError("policy", "nil")
	}
	return nil
}

// Run applies policies to fn once. It builds a throw-away [Pipeline]; build
// one with [NewPipeline] for anything called often.
func Run[T any](ctx context.Context, fn func(context.Context) (T, error), policies ...Policy) (T, error) {
	p, err := NewPipeline[T](policies...)
	if err != nil {
		var zero T
		return zero, err
	}
	return p.Execute(ctx, fn)
}

// Execute runs fn through the pipeline. fn must honour ctx. The error is
// fn's, or one of the policies' (see each policy), possibly replaced by a
// fallback.
func (p *Pipeline[T]) Execute(ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	return p.run(ctx, 0, fn)
}

func (p *Pipeline[T]) run(ctx context.Context, i int, fn func(context.Context) (T, error)) (T, error) {
	if i == len(p.stages) {
		return fn(ctx)
	}
	switch s := p.stages[i].(type) {
	case *Breaker:
		return p.runBreaker(ctx, s, i, fn)
	case *Retry:
		return p.runRetry(ctx, s, i, fn)
	case *Bulkhead:
		return p.runBulkhead(ctx, s, i, fn)
	case *AdaptiveLimiter:
		return p.runAdaptive(ctx, s, i, fn)
	case *Throttler:
		return p.runThrottler(ctx, s, i, fn)
	case *Timeout:
		return p.runTimeout(ctx, s, i, fn)
	case *Hedge:
		return hedge(ctx, s, func(ctx context.Context) (T, error) { return p.run(ctx, i+1, fn) }, p.discard, !p.counted[i])
	case *Fallback[T]:
		v, err := p.run(ctx, i+1, fn)
		return s.apply(ctx, v, err)
	case *FaultInjector:
		if s.active.Load() == nil {
			return p.run(ctx, i+1, fn)
		}
		return injectFault(ctx, s, nil, func(ctx context.Context) (T, error) { return p.run(ctx, i+1, fn) })
	case *FaultResult[T]:
		if s.inj.active.Load() == nil {
			return p.run(ctx, i+1, fn)
		}
		return injectFault(ctx, s.inj, &s.value, func(ctx context.Context) (T, error) { return p.run(ctx, i+1, fn) })
	}
	panic("resilience: unreachable: unchecked policy") // NewPipeline checked every stage
}

// Each stage with a defer has its own function, so that the defer stays
// open-coded (a defer in run, with its many returns, would not be).

func (p *Pipeline[T]) runBulkhead(ctx context.Context, b *Bulkhead, i int, fn func(context.Context) (T, error)) (T, error) {
	if err := b.Acquire(ctx); err != nil {
		var zero T
		return zero, err
	}
	defer b.Release()
	return p.run(ctx, i+1, fn)
}

func (p *Pipeline[T]) runAdaptive(ctx context.Context, l *AdaptiveLimiter, i int, fn func(context.Context) (T, error)) (T, error) {
	permit, err := l.Acquire(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	o := OutcomeIgnored // fn panicked: free the slot, measure nothing
	defer func() { permit.Release(o) }()
	v, err := p.run(ctx, i+1, fn)
	o = l.cfg.Classify(err)
	return v, err
}

func (p *Pipeline[T]) runThrottler(ctx context.Context, t *Throttler, i int, fn func(context.Context) (T, error)) (T, error) {
	if err := t.Allow(); err != nil {
		var zero T
		return zero, err
	}
	v, err := p.run(ctx, i+1, fn)
	t.Record(err)
	return v, err
}

func (p *Pipeline[T]) runTimeout(ctx context.Context, t *Timeout, i int, fn func(context.Context) (T, error)) (T, error) {
	tctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	v, err := p.run(tctx, i+1, fn)
	return v, t.translate(ctx, tctx, err)
}

func (p *Pipeline[T]) runBreaker(ctx context.Context, b *Breaker, i int, fn func(context.Context) (T, error)) (T, error) {
	t, err := b.Acquire()
	if err != nil {
		var zero T
		return zero, err
	}
	finished := false
	defer func() {
		if !finished { // fn panicked: count it, let the panic go on
			t.Done(errPanicked)
		}
	}()
	v, err := p.run(ctx, i+1, fn)
	finished = true
	t.Done(err)
	return v, err
}

func (p *Pipeline[T]) runRetry(ctx context.Context, r *Retry, i int, fn func(context.Context) (T, error)) (T, error) {
	st := r.begin(!p.counted[i])
	for {
		v, err := p.run(ctx, i+1, fn)
		st.attempts++
		if err == nil {
			return v, nil
		}
		d, stop := r.next(ctx, &st, err)
		if stop != nil {
			return v, stop
		}
		if err := backoff.Sleep(ctx, d); err != nil {
			var zero T
			return zero, err
		}
	}
}
