package resilience

import (
	"context"
	"errors"
	"time"

	"github.com/bedrock-go/bedrock/internal/backoff"
)

// Jitter selects how a [Retry] randomises its exponential backoff.
type Jitter int

const (
	// FullJitter waits uniformly in [0, d], d the capped exponential
	// delay. It spreads competing clients best; it is the default.
	FullJitter Jitter = iota
	// EqualJitter waits uniformly in [d/2, d]: never less than half.
	EqualJitter
	// DecorrelatedJitter waits uniformly in [InitialDelay, 3*previous],
	// capped at MaxDelay.
	DecorrelatedJitter
	// NoJitter waits d exactly; meant for tests and single clients.
	NoJitter
)

// RetryHooks receives retry events. A nil hook costs nothing.
type RetryHooks struct {
	// OnRetry is called before waiting delay ahead of attempt number
	// attempt+1; err is the error of attempt number attempt.
	OnRetry func(attempt int, err error, delay time.Duration)
	// OnGiveUp is called when the retry stops on a retryable error.
	OnGiveUp func(*RetryError)
}

// RetryConfig configures a [Retry]. Every zero field has the default
// written in its comment.
type RetryConfig struct {
	// MaxAttempts is the number of attempts, the first included. Default
	// 3. A negative value means no limit: MaxElapsed, the budget or the
	// context must then end the retries.
	MaxAttempts int
	// MaxElapsed bounds the time from the start of the first attempt to
	// the start of the last one, delays and attempts included: a retry
	// whose delay would end after it is not made. Default 0: no bound.
	MaxElapsed time.Duration
	// InitialDelay is the backoff before the first retry. Default 100ms.
	InitialDelay time.Duration
	// MaxDelay caps the backoff before jitter. Default 10s.
	MaxDelay time.Duration
	// Multiplier is the backoff growth factor, at least 1. Default 2.
	Multiplier float64
	// Jitter is FullJitter by default.
	Jitter Jitter
	// RetryIf reports whether an error is worth retrying. Default
	// [DefaultRetryIf]. Errors marked with [Permanent] are never retried.
	RetryIf func(error) bool
	// MaxRetryAfter caps the wait a [*RetryAfterError] (or, when RetryIf
	// accepts ErrOpen, the rest of a breaker's open period) may ask for; a
	// longer request ends the retries with [ErrRetryAfterTooLong].
	// Default 30s.
	MaxRetryAfter time.Duration
	// Budget, when set, is withdrawn from for every retry; one budget is
	// usually shared by every Retry and Hedge calling one dependency.
	Budget *Budget
	// Rand returns a float in [0, 1) for jitter. Default math/rand/v2.
	Rand func() float64
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Hooks receives events; nil hooks cost nothing.
	Hooks RetryHooks
}

// DefaultRetryIf retries every error except [context.Canceled],
// [ErrOpen], [ErrThrottled], [ErrOverloaded] (retrying a local refusal
// at once only adds the load it protects against), and an error that says retrying cannot fix it: one in its
// chain with a method Permanent() bool that returns true (as
// httpsec.OutboundError does for a refused destination), so that packages
// mark their permanent errors without importing this one. A breaker that
// fails fast should not be waited for by default (a RetryIf that accepts
// ErrOpen makes the Retry wait until the breaker half-opens, as for a
// Retry-After). The caller's own context is checked separately: once it is
// done, nothing is retried.
func DefaultRetryIf(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, ErrOpen) ||
		errors.Is(err, ErrThrottled) || errors.Is(err, ErrOverloaded) {
		return false
	}
	var p permanent
	return !errors.As(err, &p) || !p.Permanent()
}

// permanent is satisfied by errors, from any package, that know whether
// retrying the same call could succeed.
type permanent interface {
	error
	Permanent() bool
}

// Retry runs an operation again when it fails, with exponential backoff
// and jitter, within attempt, time and budget limits. It honours a
// dependency's [*RetryAfterError]. Create one with [NewRetry]; the zero
// Retry is not usable. A Retry is immutable and safe for concurrent use;
// use it alone through [Retry.Do] or in a [Pipeline].
type Retry struct {
	cfg     RetryConfig
	backoff backoff.Exponential
}

// NewRetry returns a Retry. It returns an error matching [ErrInvalidConfig]
// when cfg is invalid.
func NewRetry(cfg RetryConfig) (*Retry, error) {
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.MaxElapsed < 0 {
		return nil, configError("MaxElapsed", "%v is negative", cfg.MaxElapsed)
	}
	if cfg.InitialDelay == 0 {
		cfg.InitialDelay = 100 * time.Millisecond
	}
	if cfg.MaxDelay == 0 {
		cfg.MaxDelay = 10 * time.Second
	}
	if cfg.InitialDelay < 0 || cfg.MaxDelay < cfg.InitialDelay {
		return nil, configError("InitialDelay", "need 0 < InitialDelay (%v) <= MaxDelay (%v)", cfg.InitialDelay, cfg.MaxDelay)
	}
	if cfg.Multiplier == 0 {
		cfg.Multiplier = 2
	}
	if !(cfg.Multiplier >= 1) {
		return nil, configError("Multiplier", "%v is below 1", cfg.Multiplier)
	}
	jitters := map[Jitter]backoff.Jitter{
		FullJitter: backoff.FullJitter, EqualJitter: backoff.EqualJitter,
		DecorrelatedJitter: backoff.DecorrelatedJitter, NoJitter: backoff.NoJitter,
	}
	bj, ok := jitters[cfg.Jitter]
	if !ok {
		return nil, configError("Jitter", "unknown jitter %d", cfg.Jitter)
	}
	if cfg.RetryIf == nil {
		cfg.RetryIf = DefaultRetryIf
	}
	if cfg.MaxRetryAfter == 0 {
		cfg.MaxRetryAfter = 30 * time.Second
	}
	if cfg.MaxRetryAfter < 0 {
		return nil, configError("MaxRetryAfter", "%v is negative", cfg.MaxRetryAfter)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Retry{cfg: cfg, backoff: backoff.Exponential{
		Initial: cfg.InitialDelay, Max: cfg.MaxDelay, Multiplier: cfg.Multiplier, Jitter: bj,
	}}, nil
}

// retryState is the progress of one Retry execution.
type retryState struct {
	attempts int
	start    time.Time
	prev     time.Duration
}

// begin starts an execution; recordRequest is false when an outer policy of
// the same pipeline already recorded the request in the same budget.
func (r *Retry) begin(recordRequest bool) retryState {
	if recordRequest && r.cfg.Budget != nil {
		r.cfg.Budget.Request()
	}
	var st retryState
	if r.cfg.MaxElapsed > 0 {
		st.start = r.cfg.Now()
	}
	return st
}

// next decides, after attempt st.attempts failed with err, whether to retry.
// It returns the delay before the next attempt, or the error to return.
func (r *Retry) next(ctx context.Context, st *retryState, err error) (time.Duration, error) {
	var perm *PermanentError
	if errors.As(err, &perm) {
		return 0, perm.Err
	}
	if ctx.Err() != nil || !r.cfg.RetryIf(err) || retriesDisabled(ctx) {
		return 0, err
	}
	if r.cfg.MaxAttempts > 0 && st.attempts >= r.cfg.MaxAttempts {
		return 0, r.giveUp(&RetryError{Attempts: st.attempts, Reason: GaveUpMaxAttempts, Err: err})
	}
	d, honour := r.requestedWait(err)
	if honour {
		if d > r.cfg.MaxRetryAfter {
			return 0, r.giveUp(&RetryError{Attempts: st.attempts, Reason: GaveUpRetryAfter, RetryAfter: d, Remaining: r.cfg.MaxRetryAfter, Err: err})
		}
	} else {
		d = r.backoff.Next(st.attempts-1, st.prev, r.cfg.Rand)
	}
	if gave := r.outOfTime(ctx, st, d, honour, err); gave != nil {
		return 0, r.giveUp(gave)
	}
	if r.cfg.Budget != nil && !r.cfg.Budget.TryRetry() {
		return 0, r.giveUp(&RetryError{Attempts: st.attempts, Reason: GaveUpBudget, Err: err})
	}
	if h := r.cfg.Hooks.OnRetry; h != nil {
		h(st.attempts, err, d)
	}
	st.prev = d
	return d, nil
}

// requestedWait returns the wait the error asks for: a dependency's
// Retry-After, or the rest of a breaker's open period (reached only when
// RetryIf accepts ErrOpen: retrying before it ends would be rejected).
func (r *Retry) requestedWait(err error) (time.Duration, bool) {
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		return max(ra.After, 0), true
	}
	var oe *OpenError
	if errors.As(err, &oe) {
		if d := oe.RetryAfter(r.cfg.Now()); d > 0 {
			return d, true
		}
	}
	return 0, false
}

// outOfTime reports a RetryError when waiting d would end after MaxElapsed
// or after the context deadline: giving up now beats sleeping into a
// certain failure.
func (r *Retry) outOfTime(ctx context.Context, st *retryState, d time.Duration, retryAfter bool, err error) *RetryError {
	deadline, hasDeadline := ctx.Deadline()
	if r.cfg.MaxElapsed <= 0 && !hasDeadline {
		return nil
	}
	now := r.cfg.Now()
	reason, remaining := GiveUpReason(0), time.Duration(0)
	if r.cfg.MaxElapsed > 0 {
		if rem := r.cfg.MaxElapsed - now.Sub(st.start); d > rem {
			reason, remaining = GaveUpMaxElapsed, max(rem, 0)
		}
	}
	if reason == 0 && hasDeadline {
		if rem := deadline.Sub(now); d >= rem {
			reason, remaining = GaveUpDeadline, max(rem, 0)
		}
	}
	if reason == 0 {
		return nil
	}
	gave := &RetryError{Attempts: st.attempts, Reason: reason, Remaining: remaining, Err: err}
	if retryAfter {
		gave.Reason, gave.RetryAfter = GaveUpRetryAfter, d
	}
	return gave
}

func (r *Retry) giveUp(e *RetryError) error {
	if h := r.cfg.Hooks.OnGiveUp; h != nil {
		h(e)
	}
	return e
}

// Do calls fn until it succeeds or the retry gives up, and returns fn's
// last error: as is when it is not retryable (unwrapped from [Permanent]),
// wrapped in a [*RetryError] when a limit stopped the retries, or the
// context's error when ctx ended during a wait.
func (r *Retry) Do(ctx context.Context, fn func(context.Context) error) error {
	st := r.begin(true)
	for {
		err := fn(ctx)
		st.attempts++
		if err == nil {
			return nil
		}
		d, stop := r.next(ctx, &st, err)
		if stop != nil {
			return stop
		}
		if err := backoff.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

func (*Retry) policy() {}

type noRetryKey struct{}

// WithoutRetries returns a context under which every [Retry] makes a single
// attempt and every [Hedge] a single request, for operations that must not
// be repeated (a non-idempotent request, say).
func WithoutRetries(ctx context.Context) context.Context {
	return context.WithValue(ctx, noRetryKey{}, true)
}

func retriesDisabled(ctx context.Context) bool {
	v, _ := ctx.Value(noRetryKey{}).(bool)
	return v
}
