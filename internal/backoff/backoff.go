package backoff

import (
	"context"
	"math"
	"math/rand/v2"
	"time"
)

// Jitter selects how randomness is applied to a delay.
type Jitter int

const (
	// FullJitter picks uniformly in [0, d]. It spreads retries best and is
	// the default.
	FullJitter Jitter = iota
	// EqualJitter picks uniformly in [d/2, d].
	EqualJitter
	// NoJitter uses d exactly.
	NoJitter
	// DecorrelatedJitter picks uniformly in [Initial, min(Max, 3*prev)],
	// where prev is the previous delay, so that the delay wanders instead of
	// following the exponential curve. It needs the previous delay: use
	// [Exponential.Next]; [Exponential.Delay] treats prev as Initial.
	DecorrelatedJitter
)

// Exponential describes delays Initial, Initial*Multiplier, ... capped at Max.
// The zero value is 100ms initial, multiplier 2, max 10s, full jitter.
type Exponential struct {
	Initial    time.Duration // first delay; 100ms when zero
	Max        time.Duration // cap before jitter; 10s when zero
	Multiplier float64       // growth factor; 2 when zero or below 1
	Jitter     Jitter        // FullJitter when zero
}

// Delay returns the delay before retry number attempt (0 for the first
// retry). rnd returns a float in [0, 1); nil means math/rand/v2.
func (e Exponential) Delay(attempt int, rnd func() float64) time.Duration {
	return e.Next(attempt, 0, rnd)
}

// Next returns the delay before retry number attempt (0 for the first retry)
// given the previous delay prev (0 before the first retry). Only
// DecorrelatedJitter looks at prev; the other modes ignore it. rnd returns a
// float in [0, 1); nil means math/rand/v2.
func (e Exponential) Next(attempt int, prev time.Duration, rnd func() float64) time.Duration {
	if rnd == nil {
		rnd = rand.Float64
	}
	if e.Jitter == DecorrelatedJitter {
		return e.decorrelated(prev, rnd)
	}
	d := e.Ceiling(attempt)
	switch e.Jitter {
	case NoJitter:
		return d
	case EqualJitter:
		half := d / 2
		return half + time.Duration(rnd()*float64(d-half))
	default:
		return time.Duration(rnd() * float64(d))
	}
}

// Ceiling returns the delay for attempt before jitter: min(Max, Initial *
// Multiplier^attempt), without overflow.
func (e Exponential) Ceiling(attempt int) time.Duration {
	initial, maxD, mult := e.Initial, e.Max, e.Multiplier
	if initial <= 0 {
		initial = 100 * time.Millisecond
	}
	if maxD <= 0 {
		maxD = 10 * time.Second
	}
	if mult < 1 {
		mult = 2
	}
	if attempt < 0 {
		attempt = 0
	}
	f := float64(initial) * math.Pow(mult, float64(attempt))
	if f >= float64(maxD) || math.IsInf(f, 0) || math.IsNaN(f) {
		return maxD
	}
	return time.Duration(f)
}

// decorrelated follows the "decorrelated jitter" of the AWS architecture
// blog: each delay is drawn between the initial delay and three times the
// previous one, capped at Max.
func (e Exponential) decorrelated(prev time.Duration, rnd func() float64) time.Duration {
	lo, maxD := e.Ceiling(0), e.Ceiling(math.MaxInt32)
	if prev < lo {
		prev = lo
	}
	hi := maxD
	if prev <= maxD/3 {
		hi = 3 * prev
	}
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rnd()*float64(hi-lo))
}

// Sleep waits d, or until ctx ends, and returns ctx's error in that case. A
// d of zero or less returns at once, with ctx's error if it has ended.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
