package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/ratelimit"
)

// FuzzLimiter throws arbitrary limits, costs and times at the limiter: it
// must answer with a typed error or a result that respects the invariants,
// and never panic.
func FuzzLimiter(f *testing.F) {
	f.Add(10, int64(time.Second), 3, uint8(0), 1, int64(0), int64(1000))
	f.Add(1, int64(time.Hour), 0, uint8(3), 1, int64(-5), int64(1))
	f.Add(0, int64(0), -1, uint8(9), 0, int64(0), int64(0))
	f.Add(1_000_000, int64(time.Second), 0, uint8(2), 1_000_000, int64(1<<40), int64(1))
	f.Fuzz(func(t *testing.T, rate int, period int64, burst int, algo uint8, cost int, start, step int64) {
		limit := ratelimit.Limit{Rate: rate, Period: time.Duration(period), Burst: burst, Algorithm: ratelimit.Algorithm(algo)}
		if limit.Algorithm == ratelimit.SlidingLog && rate > 1000 {
			return // valid but slow: the log holds rate entries
		}
		l, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{limit}})
		if err != nil {
			if !errors.Is(err, ratelimit.ErrInvalidLimit) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		at := time.UnixMicro(1_700_000_000_000_000 + start%(1<<40))
		for range 8 {
			res, err := l.AllowAt(context.Background(), "k", at, cost)
			if err != nil {
				if !errors.Is(err, ratelimit.ErrInvalidCost) && !errors.Is(err, ratelimit.ErrCostExceedsBurst) {
					t.Fatalf("untyped error %v", err)
				}
				return
			}
			if res.Remaining < 0 || res.Remaining > limit.Capacity() || res.ResetAfter < 0 {
				t.Fatalf("result out of range: %+v", res)
			}
			if res.Allowed != (res.RetryAfter == 0) || res.RetryAfter < 0 {
				t.Fatalf("retry %v with allowed %v", res.RetryAfter, res.Allowed)
			}
			// RefillAfter is positive exactly when capacity is missing, comes
			// no later than the full reset, and on a denial no later than
			// the retry (the retried cost is at least one more event).
			if (res.RefillAfter > 0) != (res.Remaining < limit.Capacity()) || res.RefillAfter < 0 ||
				res.RefillAfter > res.ResetAfter || (!res.Allowed && res.RefillAfter > res.RetryAfter) {
				t.Fatalf("refill %v out of range: %+v", res.RefillAfter, res)
			}
			at = at.Add(time.Duration(step%int64(time.Hour)) / time.Microsecond * time.Microsecond)
		}
	})
}
