package ratelimit

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Every error returned by this package matches one of them
// with [errors.Is].
var (
	// ErrInvalidLimit reports an unusable [Limit]; the error is an
	// *[InvalidLimitError] when one limit is at fault.
	ErrInvalidLimit = errors.New("ratelimit: invalid limit")
	// ErrInvalidKey reports an empty key or one longer than [MaxKeyLen].
	ErrInvalidKey = errors.New("ratelimit: invalid key")
	// ErrInvalidCost reports a cost below 1.
	ErrInvalidCost = errors.New("ratelimit: invalid cost")
	// ErrCostExceedsBurst reports a cost that no limit of the key could ever
	// admit, so waiting would never succeed.
	ErrCostExceedsBurst = errors.New("ratelimit: cost exceeds burst")
	// ErrLimited reports that an event was not admitted; [Limiter.Wait]
	// returns it as a *[LimitedError].
	ErrLimited = errors.New("ratelimit: limited")
	// ErrInvalidConfig reports a bad configuration passed to a constructor.
	ErrInvalidConfig = errors.New("ratelimit: invalid config")
	// ErrNoKey reports that a [KeyFunc] found no key in a request.
	ErrNoKey = errors.New("ratelimit: no key")
)

// InvalidLimitError describes why a [Limit] is unusable. It matches
// [ErrInvalidLimit]. (Not to be confused with [LimitedError], which says
// that an event was refused.)
type InvalidLimitError struct {
	Index  int // position in the set of limits; -1 when validated alone
	Limit  Limit
	Reason string
}

// Error describes the limit and why it is unusable.
func (e *InvalidLimitError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("ratelimit: invalid limit %+v: %s", e.Limit, e.Reason)
	}
	return fmt.Sprintf("ratelimit: invalid limit %d %+v: %s", e.Index, e.Limit, e.Reason)
}

// Is makes an InvalidLimitError match [ErrInvalidLimit].
func (e *InvalidLimitError) Is(target error) bool { return target == ErrInvalidLimit }

// LimitedError is returned by [Limiter.Wait] when it gives up: the wait the
// limit asks for would outlast the context's deadline. It matches
// [ErrLimited].
type LimitedError struct {
	Result Result
}

// Error says how long to wait.
func (e *LimitedError) Error() string {
	return fmt.Sprintf("ratelimit: limited, retry after %v", e.Result.RetryAfter)
}

// Is makes a LimitedError match [ErrLimited].
func (e *LimitedError) Is(target error) bool { return target == ErrLimited }

// RetryAfter returns how long to wait before the event could be admitted.
func (e *LimitedError) RetryAfter() time.Duration { return e.Result.RetryAfter }
