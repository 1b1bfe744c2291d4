package ratelimit

import (
	"context"
	"fmt"
	"time"
)

// Store keeps the per-key state of the limits and makes decisions atomically.
// [Memory] is the in-process store; package redislimit holds one shared
// through Redis. Every store makes the same decisions on the same sequence of
// requests; package ratelimittest checks that.
//
// A Store receives requests that a [Limiter] has validated; an
// implementation must still never panic on a bad one, and may return an
// error matching [ErrInvalidLimit], [ErrInvalidKey] or [ErrInvalidCost].
type Store interface {
	// Do applies req to the state of req.Key and returns the decision. All
	// of req.Limits are decided together: a take is recorded in every limit
	// or in none.
	Do(ctx context.Context, req Request) (Result, error)
}

// Op is what a [Request] does.
type Op uint8

const (
	// OpTake admits Cost events if every limit allows them, and records them.
	OpTake Op = iota
	// OpPeek reports whether Cost events would be admitted, changing nothing.
	OpPeek
	// OpRefund gives back Cost events taken at TakenAt.
	OpRefund
	// OpReset forgets the key's state in every limit, as if it had never
	// been seen. Cost is ignored.
	OpReset
	// OpTakeUpTo admits and records as many events as every limit allows
	// now, at most Cost (a partial grant; Result.Granted says how many),
	// and is refused only when not one event fits. Cost may exceed the
	// limits' capacity.
	OpTakeUpTo
)

// Request is one operation on a key's limits.
type Request struct {
	Key    string
	Limits []Limit
	Cost   int
	Op     Op
	// Now is the time of the decision. The zero Now means the store's own
	// clock (for Redis, the server's clock), which is what production code
	// wants; an explicit Now serves tests and replays.
	Now time.Time
	// TakenAt is, for OpRefund, the Result.At of the decision refunded.
	TakenAt time.Time
}

// Validate reports why r cannot be decided: an error matching
// [ErrInvalidKey], [ErrInvalidCost], [ErrInvalidLimit] or
// [ErrCostExceedsBurst]. Stores call it on requests they did not get from a
// [Limiter].
func (r *Request) Validate() error {
	if len(r.Key) == 0 || len(r.Key) > MaxKeyLen {
		return fmt.Errorf("%w: length %d, want 1 to %d bytes", ErrInvalidKey, len(r.Key), MaxKeyLen)
	}
	if r.Cost < 1 {
		return fmt.Errorf("%w: %d", ErrInvalidCost, r.Cost)
	}
	if r.Op > OpTakeUpTo {
		return fmt.Errorf("%w: unknown op %d", ErrInvalidConfig, r.Op)
	}
	if err := validateLimits(r.Limits); err != nil {
		return err
	}
	if (r.Op == OpTake || r.Op == OpPeek) && r.Cost > minCapacity(r.Limits) {
		return fmt.Errorf("%w: cost %d, capacity %d", ErrCostExceedsBurst, r.Cost, minCapacity(r.Limits))
	}
	return nil
}

// Result is a decision. When several limits apply, it describes the one that
// decided: the denying limit with the longest RetryAfter, or, when all
// allowed, the limit with the fewest Remaining (the first one on ties).
type Result struct {
	Allowed bool
	// Limit is the limit this result describes.
	Limit Limit
	// Remaining is how many more events the limit would admit now.
	Remaining int
	// RetryAfter is, when not Allowed, how long until the same cost could be
	// admitted; zero when Allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the limit is back at full capacity.
	ResetAfter time.Duration
	// RefillAfter is how long until Remaining grows by at least one: until
	// the next token of a [GCRA] or [TokenBucket] limit, the end of the
	// window of a [FixedWindow] one, the expiry of the oldest counted event
	// of a [SlidingLog] one, and until the previous window's weight has
	// fallen by one event for a [SlidingWindow] one. Zero when Remaining is
	// the limit's capacity. It is the t of the RateLimit header field.
	RefillAfter time.Duration
	// At is the time of the decision on the store's clock.
	At time.Time
	// Granted is the number of events recorded: Cost for an allowed
	// OpTake, as many as fitted for OpTakeUpTo, and zero otherwise.
	Granted int
	// Degraded reports that the store could not be reached and its failure
	// policy made the decision; Remaining and the durations are then zero.
	Degraded bool
}

// verdictResult converts the chosen verdict to a Result.
func verdictResult(l Limit, v verdict, now int64) Result {
	return Result{
		Allowed:     v.allowed,
		Limit:       l,
		Remaining:   int(v.remaining),
		RetryAfter:  time.Duration(v.retry) * time.Microsecond,
		ResetAfter:  time.Duration(v.reset) * time.Microsecond,
		RefillAfter: time.Duration(v.refill) * time.Microsecond,
		At:          time.UnixMicro(now),
	}
}

// choose picks the verdict a multi-limit Result describes.
func choose(vs []verdict, allowed bool) int {
	best := 0
	for i := 1; i < len(vs); i++ {
		if allowed {
			if vs[i].remaining < vs[best].remaining {
				best = i
			}
		} else if !vs[i].allowed && (vs[best].allowed || vs[i].retry > vs[best].retry) {
			best = i
		}
	}
	return best
}
