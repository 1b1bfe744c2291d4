package resilience

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"
)

// ThrottlerConfig configures a [Throttler]. Every zero field has the default
// written in its comment.
type ThrottlerConfig struct {
	// Multiplier is K of the SRE book: the dependency may refuse until
	// requests reach K times the accepted ones before the client starts
	// refusing locally. Lower is more aggressive. Default 2; at least 1.
	Multiplier float64
	// Window is the span over which requests and accepts are counted.
	// Default 2m, split into 10 buckets that expire one at a time.
	Window time.Duration
	// IsRejection reports whether a call's error means the dependency
	// refused the work. Default [DefaultIsRejection].
	IsRejection func(error) bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Random returns a number in [0, 1) for the refusal draw. Default
	// math/rand/v2's Float64; tests set it to decide.
	Random func() float64
	// Hooks receives events; nil hooks cost nothing.
	Hooks ThrottlerHooks
}

// ThrottlerHooks receives throttler events. A nil hook costs nothing.
type ThrottlerHooks struct {
	// OnReject is called for every call refused locally with
	// [ErrThrottled], with the refusal probability at that moment.
	OnReject func(probability float64)
}

// DefaultIsRejection is the classification a [Throttler] uses when
// ThrottlerConfig.IsRejection is nil. The dependency refused the work when
// the error is a deadline ([context.DeadlineExceeded], [ErrTimeout]), an
// overload answer ([ErrOverloaded], [ErrOpen], [ErrBulkheadFull], a
// [*StatusError] or [*RetryAfterError] with status 429 or 503, or any
// Retry-After). Success and every other error are accepts: a dependency
// that answers "not found" accepted the request. [context.Canceled] counts
// as an accept too: the caller gave up, the dependency did not refuse.
func DefaultIsRejection(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) ||
		errors.Is(err, ErrOverloaded) || errors.Is(err, ErrOpen) || errors.Is(err, ErrBulkheadFull) {
		return true
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.StatusCode == http.StatusTooManyRequests || se.StatusCode == http.StatusServiceUnavailable
	}
	var ra *RetryAfterError
	return errors.As(err, &ra)
}

// Throttler is client-side adaptive throttling as the Google SRE book
// describes it ("Handling Overload"): the client counts, over Window, the
// requests it attempted and those the dependency accepted, and refuses a
// new request locally with probability
//
//	max(0, (requests − Multiplier·accepts) / (requests + 1))
//
// so that a dependency refusing most work stops receiving most of it,
// without a round trip, while enough requests still go through to notice
// that it recovered. Refused requests count as requests, which is what
// makes the probability rise.
//
// In a [Pipeline], place it inside the retry and outside the breaker:
// retry ⟶ throttler ⟶ breaker ⟶ timeout ⟶ fn. [DefaultRetryIf] does not
// retry [ErrThrottled]. Alone, most callers want [Throttler.Do];
// [Throttler.Allow] and [Throttler.Record] are the two-step form.
//
// Recording is lock-free and allocation-free. Create one with
// [NewThrottler]; the zero Throttler is not usable. A Throttler is safe for
// concurrent use.
type Throttler struct {
	cfg     ThrottlerConfig
	origin  time.Time
	width   time.Duration
	buckets [budgetBuckets]throttleBucket
}

type throttleBucket struct {
	epoch    atomic.Int64
	requests atomic.Int64
	accepts  atomic.Int64
}

// NewThrottler returns a Throttler. It returns an error matching
// [ErrInvalidConfig] when cfg is invalid.
func NewThrottler(cfg ThrottlerConfig) (*Throttler, error) {
	if cfg.Multiplier == 0 {
		cfg.Multiplier = 2
	}
	if !(cfg.Multiplier >= 1) || math.IsInf(cfg.Multiplier, 0) {
		return nil, configError("Multiplier", "%v is not a number of at least 1", cfg.Multiplier)
	}
	if cfg.Window == 0 {
		cfg.Window = 2 * time.Minute
	}
	if cfg.Window < budgetBuckets {
		return nil, configError("Window", "%v too short", cfg.Window)
	}
	if cfg.IsRejection == nil {
		cfg.IsRejection = DefaultIsRejection
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = rand.Float64
	}
	return &Throttler{cfg: cfg, origin: cfg.Now(), width: cfg.Window / budgetBuckets}, nil
}

func (t *Throttler) epoch() int64 {
	return max(int64(t.cfg.Now().Sub(t.origin)/t.width), 0)
}

func (t *Throttler) bucket(e int64) *throttleBucket {
	bk := &t.buckets[e%budgetBuckets]
	if old := bk.epoch.Load(); old < e && bk.epoch.CompareAndSwap(old, e) {
		bk.requests.Store(0)
		bk.accepts.Store(0)
	}
	return bk
}

func (t *Throttler) sums(e int64) (requests, accepts int64) {
	for i := range t.buckets {
		bk := &t.buckets[i]
		if ep := bk.epoch.Load(); ep > e-budgetBuckets && ep <= e {
			requests += bk.requests.Load()
			accepts += bk.accepts.Load()
		}
	}
	return requests, accepts
}

// Probability returns the share of requests the throttler refuses now.
func (t *Throttler) Probability() float64 {
	requests, accepts := t.sums(t.epoch())
	return max(0, (float64(requests)-t.cfg.Multiplier*float64(accepts))/float64(requests+1))
}

// Allow counts a request and decides whether to send it: nil, or
// [ErrThrottled] when it must fail locally. After nil, report the
// dependency's answer with [Throttler.Record].
func (t *Throttler) Allow() error {
	e := t.epoch()
	requests, accepts := t.sums(e)
	t.bucket(e).requests.Add(1)
	p := (float64(requests) - t.cfg.Multiplier*float64(accepts)) / float64(requests+1)
	if p > 0 && t.cfg.Random() < p {
		if h := t.cfg.Hooks.OnReject; h != nil {
			h(p)
		}
		return ErrThrottled
	}
	return nil
}

// Record reports the answer to a request [Throttler.Allow] let through:
// unless IsRejection(err), the dependency accepted it.
func (t *Throttler) Record(err error) {
	if !t.cfg.IsRejection(err) {
		t.bucket(t.epoch()).accepts.Add(1)
	}
}

// Do runs fn unless the throttler refuses it, and records its answer.
func (t *Throttler) Do(ctx context.Context, fn func(context.Context) error) error {
	if err := t.Allow(); err != nil {
		return err
	}
	err := fn(ctx)
	t.Record(err)
	return err
}

func (*Throttler) policy() {}
