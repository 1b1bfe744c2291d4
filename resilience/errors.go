package resilience

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Sentinel errors. Every error the package returns matches one of them with
// [errors.Is]; the typed errors below carry the details.
var (
	// ErrInvalidConfig reports a Config rejected by a constructor.
	ErrInvalidConfig = errors.New("resilience: invalid config")
	// ErrOpen is returned while a [Breaker] rejects calls; the concrete
	// error is an [*OpenError].
	ErrOpen = errors.New("resilience: circuit breaker is open")
	// ErrBulkheadFull is returned by a [Bulkhead] whose slots and wait
	// queue are all taken, or whose MaxWait elapsed.
	ErrBulkheadFull = errors.New("resilience: bulkhead full")
	// ErrOverloaded is returned by an [AdaptiveLimiter] that refuses a
	// caller: its limit is reached and the queue is full of callers of the
	// same or higher priority, the caller was evicted from the queue by one
	// of higher priority, or MaxWait elapsed.
	ErrOverloaded = errors.New("resilience: overloaded")
	// ErrThrottled is returned by a [Throttler] that refuses a call locally
	// because the dependency has been refusing work.
	ErrThrottled = errors.New("resilience: throttled")
	// ErrTimeout is returned when a [Timeout] policy's deadline, not the
	// caller's, ended the call; the concrete error is a [*TimeoutError].
	ErrTimeout = errors.New("resilience: timeout")
	// ErrRetriesExhausted is matched by a [*RetryError] that gave up because
	// of MaxAttempts or MaxElapsed.
	ErrRetriesExhausted = errors.New("resilience: retries exhausted")
	// ErrBudgetExhausted is matched by a [*RetryError] that gave up because
	// the shared [Budget] refused another retry.
	ErrBudgetExhausted = errors.New("resilience: retry budget exhausted")
	// ErrRetryAfterTooLong is matched by a [*RetryError] that gave up
	// because the dependency asked to wait (Retry-After) longer than the
	// cap or than what remains of the time budget.
	ErrRetryAfterTooLong = errors.New("resilience: retry-after exceeds the remaining budget")
	// ErrInjected is the default error of a [FaultInjector].
	ErrInjected = errors.New("resilience: injected fault")
	// ErrPolicyType is returned by [NewPipeline] when a typed policy
	// (Fallback, Inject) was built for another result type.
	ErrPolicyType = errors.New("resilience: policy built for another result type")
)

// configError builds an ErrInvalidConfig naming the offending field.
func configError(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
}

// OpenError is the error a [Breaker] returns when it rejects a call. It
// matches [ErrOpen]. The same value is returned for every rejection of one
// open period, so rejecting does not allocate: treat it as read-only.
type OpenError struct {
	// Until is when the breaker will admit trial calls again (half-open).
	// It is zero when the breaker is already half-open and all its trial
	// slots are taken.
	Until time.Time
	// Generation identifies the breaker state that rejected the call.
	Generation uint64
}

// Error says until when the breaker rejects calls.
func (e *OpenError) Error() string {
	if e.Until.IsZero() {
		return "resilience: circuit breaker is half-open: trial calls in progress"
	}
	return "resilience: circuit breaker is open until " + e.Until.Format(time.RFC3339Nano)
}

// Is reports whether target is ErrOpen.
func (e *OpenError) Is(target error) bool { return target == ErrOpen }

// RetryAfter returns how long after now the breaker admits trial calls, so
// that a retry honours it like a server's Retry-After. It is never negative.
func (e *OpenError) RetryAfter(now time.Time) time.Duration {
	if e.Until.IsZero() || !now.Before(e.Until) {
		return 0
	}
	return e.Until.Sub(now)
}

// TimeoutError reports that a [Timeout] policy cut the call short. It
// matches [ErrTimeout] and deliberately not [context.DeadlineExceeded], so
// that a caller can tell the policy's timeout from its own deadline.
type TimeoutError struct {
	Timeout time.Duration
}

// Error names the timeout that fired.
func (e *TimeoutError) Error() string {
	return "resilience: timed out after " + e.Timeout.String()
}

// Is reports whether target is ErrTimeout.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// RetryAfterError is an error through which a dependency asks to be retried
// no sooner than After, as an HTTP 429 or 503 does with Retry-After. A
// [Retry] waits exactly After (not its backoff) before the next attempt, or
// gives up with [ErrRetryAfterTooLong] when After exceeds its cap or what
// remains of its time budget.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

// Error gives the requested wait and the underlying error.
func (e *RetryAfterError) Error() string {
	msg := "resilience: retry after " + e.After.String()
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *RetryAfterError) Unwrap() error { return e.Err }

// PermanentError marks an error that no [Retry] retries. Build it with
// [Permanent]; Retry returns the wrapped error, not the wrapper.
type PermanentError struct {
	Err error
}

// Permanent marks err as not worth retrying. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// Error returns the marked error's message unchanged.
func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the marked error.
func (e *PermanentError) Unwrap() error { return e.Err }

// GiveUpReason says why a [Retry] stopped retrying.
type GiveUpReason int

const (
	// GaveUpMaxAttempts: the attempt limit was reached.
	GaveUpMaxAttempts GiveUpReason = iota + 1
	// GaveUpMaxElapsed: the next delay would end after MaxElapsed.
	GaveUpMaxElapsed
	// GaveUpBudget: the shared retry budget refused.
	GaveUpBudget
	// GaveUpRetryAfter: the dependency's Retry-After exceeds MaxRetryAfter
	// or the remaining time budget (MaxElapsed or the context deadline).
	GaveUpRetryAfter
	// GaveUpDeadline: the next delay would end after the context deadline.
	GaveUpDeadline
)

// String describes the reason in words.
func (r GiveUpReason) String() string {
	switch r {
	case GaveUpMaxAttempts:
		return "max attempts reached"
	case GaveUpMaxElapsed:
		return "max elapsed time reached"
	case GaveUpBudget:
		return "retry budget exhausted"
	case GaveUpRetryAfter:
		return "retry-after exceeds the remaining budget"
	case GaveUpDeadline:
		return "context deadline too close for another attempt"
	default:
		return "GiveUpReason(" + strconv.Itoa(int(r)) + ")"
	}
}

// RetryError is returned when a [Retry] gives up on an error it would
// otherwise retry. It wraps the last attempt's error, so errors.Is and
// errors.As see through it, and also matches [ErrRetriesExhausted],
// [ErrBudgetExhausted] or [ErrRetryAfterTooLong] according to Reason.
type RetryError struct {
	Attempts int
	Reason   GiveUpReason
	// RetryAfter is the wait the dependency asked for, when Reason is
	// GaveUpRetryAfter; Remaining is how much of the budget was left.
	RetryAfter, Remaining time.Duration
	Err                   error
}

// Error gives the attempts, the reason and the last error.
func (e *RetryError) Error() string {
	msg := "resilience: gave up after " + strconv.Itoa(e.Attempts) + " attempt(s): " + e.Reason.String()
	if e.Reason == GaveUpRetryAfter {
		msg += " (retry-after " + e.RetryAfter.String() + ", remaining " + e.Remaining.String() + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the last attempt's error.
func (e *RetryError) Unwrap() error { return e.Err }

// Is matches the sentinel that corresponds to Reason.
func (e *RetryError) Is(target error) bool {
	switch target {
	case ErrRetriesExhausted:
		return e.Reason == GaveUpMaxAttempts || e.Reason == GaveUpMaxElapsed || e.Reason == GaveUpDeadline
	case ErrBudgetExhausted:
		return e.Reason == GaveUpBudget
	case ErrRetryAfterTooLong:
		return e.Reason == GaveUpRetryAfter
	}
	return false
}
