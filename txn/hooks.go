package txn

import (
	"context"
	"time"
)

// Hooks observe the attempts of outermost transactions, for metrics and
// tracing. A nil field costs nothing. Hooks run synchronously on the
// goroutine of [Do] and must not block.
type Hooks struct {
	// OnAttempt is called after each attempt, successful or not.
	OnAttempt func(ctx context.Context, a Attempt)
	// OnRetry is called after a failed attempt that will be retried, before
	// the backoff delay.
	OnRetry func(ctx context.Context, r Retry)
}

// Attempt describes one finished attempt of a transaction.
type Attempt struct {
	Label    string        // from the Label option
	Number   int           // 1 for the first attempt
	Duration time.Duration // from BEGIN to the end of COMMIT or ROLLBACK
	Err      error         // nil when the attempt committed
}

// Retry describes a retry about to happen.
type Retry struct {
	Label   string        // from the Label option
	Attempt int           // the attempt that failed, 1 for the first
	Err     error         // why it failed
	Delay   time.Duration // the backoff before the next attempt
}
