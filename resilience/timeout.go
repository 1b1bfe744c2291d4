package resilience

import (
	"context"
	"errors"
	"time"
)

// Timeout bounds the time a call may take by giving it a context with a
// deadline. Placed inside a [Retry] it bounds each attempt; outside, the
// whole execution.
//
// The call is cooperative: it must return when its context ends. Timeout
// then reports a [*TimeoutError] (matching [ErrTimeout]) instead of the
// context error, so that the policy's timeout is told apart from the
// caller's deadline or cancellation, which pass through unchanged. A call
// that succeeds despite the deadline keeps its result.
//
// Create one with [NewTimeout]; the zero Timeout is not usable. A Timeout
// is immutable and safe for concurrent use. Most callers use it in a
// [Pipeline]; [Timeout.Do] runs it alone.
type Timeout struct {
	d     time.Duration
	err   *TimeoutError
	hooks TimeoutHooks
}

// TimeoutConfig configures a [Timeout].
type TimeoutConfig struct {
	// Duration is the time a call may take. Required: there is no default
	// that suits every dependency.
	Duration time.Duration
	// Hooks observe the timeout; nil hooks cost nothing.
	Hooks TimeoutHooks
}

// TimeoutHooks receives timeout events. A nil hook costs nothing. Hooks
// run synchronously on the caller's goroutine and must not block.
type TimeoutHooks struct {
	// OnTimeout is called for every call the Timeout cut short, that is
	// every [*TimeoutError] it returns; the caller's own deadline or
	// cancellation is not counted.
	OnTimeout func()
}

// NewTimeout returns a Timeout. It returns an error matching
// [ErrInvalidConfig] unless cfg.Duration is positive.
func NewTimeout(cfg TimeoutConfig) (*Timeout, error) {
	if cfg.Duration <= 0 {
		return nil, configError("Duration", "%v is not positive", cfg.Duration)
	}
	return &Timeout{d: cfg.Duration, err: &TimeoutError{Timeout: cfg.Duration}, hooks: cfg.Hooks}, nil
}

// Duration returns the timeout.
func (t *Timeout) Duration() time.Duration { return t.d }

// Do runs fn with a context that ends after the timeout.
func (t *Timeout) Do(ctx context.Context, fn func(context.Context) error) error {
	tctx, cancel := context.WithTimeout(ctx, t.d)
	err := fn(tctx)
	cancel()
	return t.translate(ctx, tctx, err)
}

// translate replaces the error of a call that our deadline, and not the
// parent's, cut short.
func (t *Timeout) translate(parent, tctx context.Context, err error) error {
	// cancel sets Canceled, so DeadlineExceeded means the deadline fired
	// first; the parent's Err tells whether it was the parent's deadline.
	if err != nil && parent.Err() == nil && errors.Is(tctx.Err(), context.DeadlineExceeded) {
		if h := t.hooks.OnTimeout; h != nil {
			h()
		}
		return t.err
	}
	return err
}

func (*Timeout) policy() {}
