package ratelimit

import (
	"fmt"
	"time"
)

// Algorithm selects how a [Limit] counts events. The zero value is [GCRA].
type Algorithm uint8

const (
	// GCRA is the generic cell rate algorithm: a token bucket stored as one
	// timestamp (the theoretical arrival time). Burst events may arrive at
	// once; after that one event is admitted every Period/Rate.
	GCRA Algorithm = iota

	// TokenBucket stores a token count and a refill timestamp. Tokens are
	// added one every Period/Rate up to Burst. For a fixed limit it makes the
	// same decisions as GCRA (the two are dual descriptions of one algorithm);
	// it differs when a limit shrinks at run time: the bucket is clipped to the
	// new Burst, whereas GCRA keeps the debt already accrued.
	TokenBucket

	// SlidingWindow is the sliding-window counter: the count of the current
	// fixed window plus the previous window's count weighted by how much of
	// it still overlaps the sliding window. It admits at most Rate events per
	// Period, approximately, in O(1) state.
	SlidingWindow

	// SlidingLog keeps the timestamp of every admitted event of the last
	// Period and admits exactly Rate events in any window of length Period.
	// Its state grows with Rate, so Rate is capped at [MaxLogRate].
	SlidingLog

	// FixedWindow counts events in windows of length Period aligned to the
	// Unix epoch; the count resets at each window boundary.
	FixedWindow

	numAlgorithms
)

// String returns the algorithm's name.
func (a Algorithm) String() string {
	switch a {
	case GCRA:
		return "gcra"
	case TokenBucket:
		return "token-bucket"
	case SlidingWindow:
		return "sliding-window"
	case SlidingLog:
		return "sliding-log"
	case FixedWindow:
		return "fixed-window"
	}
	return fmt.Sprintf("Algorithm(%d)", uint8(a))
}

// Windowed reports whether the algorithm counts events per window, where the
// capacity is Rate and Burst has no meaning.
func (a Algorithm) Windowed() bool { return a >= SlidingWindow }

// Bounds that keep every computation exact in 53-bit integers, so that the
// Redis store (whose Lua numbers are doubles) decides exactly like memory.
const (
	// MaxLimits is the most limits one key can be subject to at once.
	MaxLimits = 8
	// MaxLogRate is the largest Rate a [SlidingLog] limit accepts.
	MaxLogRate = 10_000
	// MaxKeyLen is the longest key, in bytes, that a [Limiter] accepts.
	MaxKeyLen = 512
	// maxExact is 2^53, below which doubles represent integers exactly.
	maxExact = 1 << 53
)

// Limit admits Rate events per Period, with bursts of up to Burst events.
//
// The zero Burst means Burst = Rate. Window algorithms ([SlidingWindow],
// [SlidingLog], [FixedWindow]) admit Rate events per window and accept only a
// zero Burst or Burst == Rate. Period must be a whole number of microseconds,
// because every store computes in integer microseconds, and Period/Rate must
// be at least one microsecond.
//
// A Limit is a plain value: compare it with ==, copy it freely.
type Limit struct {
	Rate      int           // events per Period; must be > 0
	Period    time.Duration // length of the period; must be > 0
	Burst     int           // events admitted at once; 0 means Rate
	Algorithm Algorithm     // GCRA when zero
	// Name identifies the limit in the RateLimit-Policy header. Empty means
	// "default" for the first limit and "limitN" for the N-th (from 0) after
	// it. It may contain only letters, digits and "-_.:".
	Name string
}

// PerSecond returns a GCRA limit of n events per second, burst n.
func PerSecond(n int) Limit { return Limit{Rate: n, Period: time.Second} }

// PerMinute returns a GCRA limit of n events per minute, burst n.
func PerMinute(n int) Limit { return Limit{Rate: n, Period: time.Minute} }

// PerHour returns a GCRA limit of n events per hour, burst n.
func PerHour(n int) Limit { return Limit{Rate: n, Period: time.Hour} }

// Capacity is the most events the limit admits at once: Burst (or Rate when
// Burst is zero) for GCRA and TokenBucket, Rate for window algorithms. The
// RateLimit-Policy header advertises it as bedrock-burst when it differs
// from Rate.
func (l Limit) Capacity() int {
	if l.Burst == 0 || l.Algorithm.Windowed() {
		return l.Rate
	}
	return l.Burst
}

// Interval is the time between two events at the sustained rate, rounded up
// to a whole microsecond so that the rate is never exceeded.
func (l Limit) Interval() time.Duration {
	if l.Rate <= 0 {
		return 0
	}
	p := l.Period.Microseconds()
	return time.Duration((p+int64(l.Rate)-1)/int64(l.Rate)) * time.Microsecond
}

// Validate reports why l is unusable, as an *[InvalidLimitError] matching
// [ErrInvalidLimit], or nil.
func (l Limit) Validate() error {
	if reason := l.invalid(); reason != "" {
		return &InvalidLimitError{Index: -1, Limit: l, Reason: reason}
	}
	return nil
}

func (l Limit) invalid() string {
	switch {
	case l.Algorithm >= numAlgorithms:
		return "unknown algorithm"
	case l.Rate <= 0:
		return "rate must be positive"
	case l.Period <= 0:
		return "period must be positive"
	case l.Period%time.Microsecond != 0:
		return "period must be a whole number of microseconds"
	case l.Burst < 0:
		return "burst must not be negative"
	case l.Algorithm.Windowed() && l.Burst != 0 && l.Burst != l.Rate:
		return "window algorithms take no burst (leave it zero)"
	case l.Algorithm == SlidingLog && l.Rate > MaxLogRate:
		return "sliding-log rate above MaxLogRate"
	case !validName(l.Name):
		return "name may contain only letters, digits and -_.:"
	}
	p := l.Period.Microseconds()
	if int64(l.Rate) > p {
		return "rate above one event per microsecond"
	}
	if l.Algorithm.Windowed() {
		// Sliding-window arithmetic reaches 3 × Rate × Period.
		if int64(l.Rate) > maxExact/4/p {
			return "rate × period (µs) exceeds 2^51"
		}
		return ""
	}
	if int64(l.Capacity()) > maxExact/l.Interval().Microseconds()/2 {
		return "burst × interval (µs) exceeds 2^52"
	}
	return ""
}

func validName(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == ':':
		default:
			return false
		}
	}
	return true
}

// validateLimits checks a set of limits applied to one key together.
func validateLimits(limits []Limit) error {
	if len(limits) == 0 {
		return fmt.Errorf("%w: no limits", ErrInvalidLimit)
	}
	if len(limits) > MaxLimits {
		return fmt.Errorf("%w: %d limits, at most %d", ErrInvalidLimit, len(limits), MaxLimits)
	}
	for i, l := range limits {
		if reason := l.invalid(); reason != "" {
			return &InvalidLimitError{Index: i, Limit: l, Reason: reason}
		}
	}
	return nil
}

// minCapacity is the largest cost that every limit of the set can admit.
func minCapacity(limits []Limit) int {
	c := limits[0].Capacity()
	for _, l := range limits[1:] {
		c = min(c, l.Capacity())
	}
	return c
}
