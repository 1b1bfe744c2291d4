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
// is immutable and safe for concurrent use.
type Timeout struct {
	d   time.Duration
	err *TimeoutError
}

// NewTimeout returns a Timeout of d. It returns an error matching
// [ErrInvalidConfig] unless d is positive.
func NewTimeout(d time.Duration) (*Timeout, error) {
	if d <= 0 {
		return nil, configError("Timeout", "%v is not positive", d)
	}
	return &Timeout{d: d, err: &TimeoutError{Timeout: d}}, nil
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
		return t.err
	}
	return err
}

func (*Timeout) policy() {}
