package resilience

import (
	"sync"
	"sync/atomic"
	"time"
)

// BudgetConfig configures a [Budget]. Every zero field has the default
// written in its comment.
type BudgetConfig struct {
	// Ratio is the number of retries allowed per request, over Window.
	// Default 0.2: retries add at most 20% load to the dependency.
	Ratio float64
	// MinPerSecond is a floor of retries per second allowed whatever the
	// traffic, so that a quiet client can still retry. Default 3. Set a
	// negative value for no floor.
	MinPerSecond float64
	// Window is the span over which requests and retries are counted.
	// Default 10s. It is split into 10 buckets that expire one at a time.
	Window time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Budget bounds retries (and hedged requests) by the number of requests,
// across every call that shares it, so that retries cannot multiply the
// load on a dependency that is already failing: over the last Window,
// retries <= Ratio*requests + MinPerSecond*Window. Every [Retry] and
// [Hedge] given the budget records one request per execution and withdraws
// one retry per repeated or hedged attempt; in one [Pipeline], a Retry and a
// Hedge sharing a budget record the execution once.
//
// Recording a request is lock-free (a clock read and an atomic add), so a
// budget shared by every call does not serialise them; a request recorded
// at the very moment its bucket expires may be lost, which only errs on the
// side of fewer retries. Taking a retry is serialised, so the bound holds
// exactly however many callers fail at once.
//
// Create one with [NewBudget]; the zero Budget is not usable. A Budget is
// safe for concurrent use.
type Budget struct {
	ratio, floor float64
	now          func() time.Time
	origin       time.Time
	width        time.Duration
	buckets      [budgetBuckets]budgetBucket
	retryMu      sync.Mutex
}

const budgetBuckets = 10

type budgetBucket struct {
	epoch    atomic.Int64 // the bucket's span, in widths since origin
	requests atomic.Int64
	retries  atomic.Int64
}

// NewBudget returns a Budget. It returns an error matching
// [ErrInvalidConfig] when cfg is invalid.
func NewBudget(cfg BudgetConfig) (*Budget, error) {
	if cfg.Ratio == 0 {
		cfg.Ratio = 0.2
	}
	if !(cfg.Ratio > 0 && cfg.Ratio <= 1000) {
		return nil, configError("Ratio", "%v not in (0, 1000]", cfg.Ratio)
	}
	if cfg.MinPerSecond == 0 {
		cfg.MinPerSecond = 3
	}
	cfg.MinPerSecond = max(cfg.MinPerSecond, 0)
	if cfg.Window == 0 {
		cfg.Window = 10 * time.Second
	}
	if cfg.Window < budgetBuckets {
		return nil, configError("Window", "%v too short", cfg.Window)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Budget{
		ratio:  cfg.Ratio,
		floor:  cfg.MinPerSecond * cfg.Window.Seconds(),
		now:    cfg.Now,
		origin: cfg.Now(),
		width:  cfg.Window / budgetBuckets,
	}, nil
}

func (b *Budget) epoch() int64 {
	return max(int64(b.now().Sub(b.origin)/b.width), 0)
}

// bucket returns the bucket of epoch e, recycling it if it still holds an
// older epoch.
func (b *Budget) bucket(e int64) *budgetBucket {
	bk := &b.buckets[e%budgetBuckets]
	if old := bk.epoch.Load(); old < e && bk.epoch.CompareAndSwap(old, e) {
		bk.requests.Store(0)
		bk.retries.Store(0)
	}
	return bk
}

// Request records one request (a first attempt), which earns Ratio retries.
func (b *Budget) Request() {
	b.bucket(b.epoch()).requests.Add(1)
}

// sums returns the requests and retries recorded in the window ending in
// epoch e.
func (b *Budget) sums(e int64) (requests, retries int64) {
	for i := range b.buckets {
		bk := &b.buckets[i]
		if ep := bk.epoch.Load(); ep > e-budgetBuckets && ep <= e {
			requests += bk.requests.Load()
			retries += bk.retries.Load()
		}
	}
	return requests, retries
}

// TryRetry takes one retry from the budget and reports whether it could.
func (b *Budget) TryRetry() bool {
	b.retryMu.Lock()
	defer b.retryMu.Unlock()
	e := b.epoch()
	bk := b.bucket(e)
	requests, retries := b.sums(e)
	if float64(retries+1) > b.ratio*float64(requests)+b.floor {
		return false
	}
	bk.retries.Add(1)
	return true
}

// Available returns how many retries the budget would allow now.
func (b *Budget) Available() int {
	requests, retries := b.sums(b.epoch())
	return max(int(b.ratio*float64(requests)+b.floor)-int(retries), 0)
}
