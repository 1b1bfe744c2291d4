package resilience

import "time"

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
// retries <= Ratio*requests + MinPerSecond*Window.
//
// A Budget is safe for concurrent use.
type Budget struct {
	ratio, floor float64
	now          func() time.Time
	win          *timeWindow // calls = requests, failures = retries
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
	if cfg.Window < 10 {
		return nil, configError("Window", "%v too short", cfg.Window)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Budget{
		ratio: cfg.Ratio,
		floor: cfg.MinPerSecond * cfg.Window.Seconds(),
		now:   cfg.Now,
		win:   newTimeWindow(cfg.Now(), cfg.Window, 10),
	}, nil
}

// Request records one request (a first attempt), which earns Ratio retries.
func (b *Budget) Request() {
	b.win.record(b.now(), false, false)
}

// TryRetry takes one retry from the budget and reports whether it could.
func (b *Budget) TryRetry() bool {
	w := b.win
	w.mu.Lock()
	defer w.mu.Unlock()
	w.advance(b.now())
	if float64(w.total.failures+1) > b.ratio*float64(w.total.calls)+b.floor {
		return false
	}
	w.buckets[w.last%int64(len(w.buckets))].failures++
	w.total.failures++
	return true
}

// Available returns how many retries the budget would allow now.
func (b *Budget) Available() int {
	c := b.win.snapshot(b.now())
	return max(int(b.ratio*float64(c.calls)+b.floor)-int(c.failures), 0)
}
