package resilience

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// HedgeHooks receives hedging events. A nil hook costs nothing.
type HedgeHooks struct {
	// OnHedge is called when hedged request number n (1 for the first
	// extra request) is sent.
	OnHedge func(n int)
}

// HedgeConfig configures a [Hedge]. Every zero field has the default
// written in its comment.
type HedgeConfig struct {
	// Delay is how long to wait for an attempt before sending the next
	// one. With Percentile set it is used until enough latencies have
	// been seen. Required unless Percentile is set, then default 0
	// (hedge at once until the percentile is known).
	Delay time.Duration
	// Percentile in (0, 1), when set, makes the delay the given
	// percentile of recent successful latencies (0.95: hedge the 5%
	// slowest calls). Default 0: a fixed Delay.
	Percentile float64
	// MinSamples is the number of latencies needed before Percentile is
	// used. Default 20.
	MinSamples int
	// MaxHedges is the number of extra attempts. Default 1.
	MaxHedges int
	// Budget, when set, is withdrawn from for every hedged request, so
	// that hedging, like retrying, cannot multiply the load.
	Budget *Budget
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Hooks receives events; nil hooks cost nothing.
	Hooks HedgeHooks
}

// Hedge sends another attempt when the current one takes longer than a
// delay, takes the first success and cancels the others. It trades a little
// extra load for a much shorter tail latency. Use it only for idempotent
// operations, inside a [Pipeline] (it needs the result type).
//
// Create one with [NewHedge]; the zero Hedge is not usable. A Hedge is safe
// for concurrent use.
type Hedge struct {
	cfg     HedgeConfig
	samples latencySamples
}

// NewHedge returns a Hedge. It returns an error matching [ErrInvalidConfig]
// when cfg is invalid.
func NewHedge(cfg HedgeConfig) (*Hedge, error) {
	if cfg.Delay < 0 || (cfg.Delay == 0 && cfg.Percentile == 0) {
		return nil, configError("Delay", "%v: need a positive Delay or a Percentile", cfg.Delay)
	}
	if cfg.Percentile != 0 && !(cfg.Percentile > 0 && cfg.Percentile < 1) {
		return nil, configError("Percentile", "%v not in (0, 1)", cfg.Percentile)
	}
	if cfg.MinSamples == 0 {
		cfg.MinSamples = 20
	}
	if cfg.MinSamples < 1 || cfg.MinSamples > len(latencySamples{}.ring) {
		return nil, configError("MinSamples", "%d not in [1, %d]", cfg.MinSamples, len(latencySamples{}.ring))
	}
	if cfg.MaxHedges == 0 {
		cfg.MaxHedges = 1
	}
	if cfg.MaxHedges < 0 || cfg.MaxHedges > 16 {
		return nil, configError("MaxHedges", "%d not in [1, 16]", cfg.MaxHedges)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Hedge{cfg: cfg}
	h.samples.p = cfg.Percentile
	return h, nil
}

// Delay returns the current hedging delay.
func (h *Hedge) Delay() time.Duration {
	if h.cfg.Percentile > 0 {
		if d, ok := h.samples.percentile(h.cfg.MinSamples); ok {
			return d
		}
	}
	return h.cfg.Delay
}

func (*Hedge) policy() {}

var errAttemptExited = errors.New("resilience: hedged attempt called runtime.Goexit")

type attemptResult[T any] struct {
	v   T
	err error
	// panicked carries a panic of the attempt to the caller's goroutine,
	// where an unhedged call would have raised it.
	panicked any
}

// hedge runs call, hedging it as configured. It returns as soon as one
// attempt succeeds or all have failed; the losers are cancelled and their
// goroutines end when their call returns. discard, when set, receives the
// successful results that lost, so that they can release what they hold
// (an HTTP response body).
func hedge[T any](ctx context.Context, h *Hedge, call func(context.Context) (T, error), discard func(T), recordRequest bool) (T, error) {
	if recordRequest && h.cfg.Budget != nil {
		h.cfg.Budget.Request()
	}
	if retriesDisabled(ctx) {
		return call(ctx)
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan attemptResult[T], 1+h.cfg.MaxHedges)
	launch := func() {
		go func() {
			finished := false
			defer func() {
				if !finished {
					if p := recover(); p != nil {
						results <- attemptResult[T]{panicked: p}
					} else { // runtime.Goexit: no panic to carry
						results <- attemptResult[T]{err: errAttemptExited}
					}
				}
			}()
			var start time.Time
			if h.cfg.Percentile > 0 {
				start = h.cfg.Now()
			}
			v, err := call(actx)
			finished = true
			// A loser cancelled by the winner still reports how long it
			// had run, a lower bound of its latency: recording only the
			// winners would pull the percentile, and the delay, down
			// with every hedge.
			if h.cfg.Percentile > 0 && (err == nil || (actx.Err() != nil && ctx.Err() == nil)) {
				h.samples.add(h.cfg.Now().Sub(start))
			}
			results <- attemptResult[T]{v: v, err: err}
		}()
	}
	launch()
	sent, pending := 1, 1
	delay := h.Delay()
	timer := time.NewTimer(delay)
	defer timer.Stop()
	var last attemptResult[T]
	for {
		select {
		case r := <-results:
			pending--
			if r.panicked != nil {
				cancel()
				drainLosers(results, pending, discard)
				panic(r.panicked)
			}
			if r.err == nil {
				drainLosers(results, pending, discard)
				return r.v, nil
			}
			last = r
			if pending == 0 {
				return last.v, last.err
			}
		case <-timer.C:
			if sent > h.cfg.MaxHedges || (h.cfg.Budget != nil && !h.cfg.Budget.TryRetry()) {
				continue
			}
			if hk := h.cfg.Hooks.OnHedge; hk != nil {
				hk(sent)
			}
			launch()
			sent, pending = sent+1, pending+1
			timer.Reset(delay)
		case <-ctx.Done():
			drainLosers(results, pending, discard)
			var zero T
			return zero, ctx.Err()
		}
	}
}

// drainLosers hands the successes among the n attempts still running to
// discard, in the background: the caller does not wait for the losers.
func drainLosers[T any](results <-chan attemptResult[T], n int, discard func(T)) {
	if discard == nil || n == 0 {
		return
	}
	go func() {
		for range n {
			if r := <-results; r.err == nil && r.panicked == nil {
				discard(r.v)
			}
		}
	}()
}

// latencySamples keeps the last successful latencies and a cached
// percentile, recomputed every len(ring)/8 samples so that the sort is
// amortised over many calls.
type latencySamples struct {
	mu     sync.Mutex
	ring   [256]time.Duration
	n      int // samples ever added, capped at len(ring)
	next   int
	cached time.Duration // 0 until computed
	since  int
	p      float64
}

func (s *latencySamples) add(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ring[s.next] = d
	s.next = (s.next + 1) % len(s.ring)
	s.n = min(s.n+1, len(s.ring))
	s.since++
}

func (s *latencySamples) percentile(minSamples int) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n < minSamples {
		return 0, false
	}
	if s.cached != 0 && s.since < len(s.ring)/8 {
		return s.cached, true
	}
	sorted := slices.Clone(s.ring[:s.n])
	slices.Sort(sorted)
	v := sorted[min(int(s.p*float64(s.n)), s.n-1)]
	s.cached, s.since = max(v, 1), 0
	return s.cached, true
}
