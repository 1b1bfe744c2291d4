package resilience

import (
	"container/list"
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Priority orders callers of an [AdaptiveLimiter] under pressure: when its
// queue is full, a caller evicts a queued caller of lower priority, and a
// freed slot goes to the highest priority waiting. The zero Priority is
// [PriorityNormal].
type Priority int8

const (
	// PrioritySheddable is work that may be refused first: list endpoints,
	// prefetches, batch jobs.
	PrioritySheddable Priority = -1
	// PriorityNormal is the default.
	PriorityNormal Priority = 0
	// PriorityCritical is work that must keep flowing under overload:
	// health checks, login, payments.
	PriorityCritical Priority = 1
)

// String names the priority.
func (p Priority) String() string {
	switch p {
	case PrioritySheddable:
		return "sheddable"
	case PriorityNormal:
		return "normal"
	case PriorityCritical:
		return "critical"
	}
	return "unknown"
}

func (p Priority) valid() bool { return p >= PrioritySheddable && p <= PriorityCritical }

type priorityKey struct{}

// WithPriority returns a context carrying p, which [AdaptiveLimiter.Acquire]
// honours (and which passes on to calls made with that context).
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

// PriorityOf returns the priority ctx carries, [PriorityNormal] when none.
func PriorityOf(ctx context.Context) Priority {
	if p, ok := ctx.Value(priorityKey{}).(Priority); ok && p.valid() {
		return p
	}
	return PriorityNormal
}

// AdaptiveLimiterConfig configures an [AdaptiveLimiter]. Every zero field has
// the default written in its comment; the defaults suit an HTTP handler
// whose requests take between a millisecond and a few seconds.
type AdaptiveLimiterConfig struct {
	// InitialLimit is the concurrency limit to start from. Default 20.
	InitialLimit int
	// MinLimit is the lowest the limit goes. Default 1.
	MinLimit int
	// MaxLimit is the highest the limit goes. Default 1000.
	MaxLimit int
	// Alpha and Beta are the Vegas thresholds, in requests queued inside
	// the protected resource, per log10 of the limit (at least 1): below
	// Alpha the limit grows, above Beta it shrinks. Defaults 3 and 6, as
	// Netflix's concurrency-limits.
	Alpha, Beta float64
	// MaxQueue is the number of callers that may wait for a slot. Default
	// 0: a quarter of the current limit, at least 1, so that a queued
	// caller waits about a quarter of the resource's latency. A
	// [PriorityCritical] caller may also join a queue holding up to twice
	// the current limit (about two latencies of waiting), so that critical
	// traffic is refused only when it alone exceeds what the resource can
	// serve, or the resource stalls. Negative: no queue at
	// all, a caller that finds no slot is refused at once.
	MaxQueue int
	// MaxWait bounds how long a queued caller waits. Default 0: the no-load
	// latency (once measured), so that queueing at most doubles what an
	// admitted caller waits, and a caller that would wait longer is refused
	// while refusing is still useful; [PriorityCritical] callers then wait
	// until their context ends (their queue is bounded by the limit).
	// Negative: every caller waits until its context ends or a caller of
	// higher priority evicts it.
	MaxWait time.Duration
	// MinWindow is the shortest measurement window: the limit is updated at
	// most once per window, from the average latency of the calls released
	// in it. Default 1ms; the window is also at least twice the no-load
	// latency and holds at least 10 calls.
	MinWindow time.Duration
	// BaselineWindow is how long the no-load latency (the lowest window
	// average) is remembered, so that a resource that became permanently
	// slower is eventually accepted as it is. Default 30s.
	BaselineWindow time.Duration
	// Classify turns a call's error into an outcome when the limiter runs
	// in a [Pipeline]. Default [AdaptiveClassify].
	Classify func(error) Outcome
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Hooks receives events; nil hooks cost nothing.
	Hooks AdaptiveLimiterHooks
}

// LimitChange describes one update of an [AdaptiveLimiter]'s limit, for
// [AdaptiveLimiterHooks].
type LimitChange struct {
	Old, New int
	// Latency is the window's average latency; Baseline the no-load one.
	Latency, Baseline time.Duration
	// InFlight and Queued are the counts when the limit changed.
	InFlight, Queued int
	// Dropped reports that calls of the window were dropped, which shrank
	// the limit.
	Dropped bool
}

// AdaptiveLimiterHooks receives adaptive limiter events. A nil hook costs
// nothing. Hooks run synchronously on the goroutine that caused the event
// and must not block. [AdaptiveLimiter.Limit], [AdaptiveLimiter.InFlight]
// and [AdaptiveLimiter.Queued] give the gauges.
type AdaptiveLimiterHooks struct {
	// OnLimitChange is called when the limit changes.
	OnLimitChange func(LimitChange)
	// OnReject is called for every caller refused with [ErrOverloaded]:
	// shed at once, evicted from the queue, or out of MaxWait.
	OnReject func(Priority)
}

// AdaptiveClassify is the classification an [AdaptiveLimiter] uses in a
// [Pipeline] when AdaptiveLimiterConfig.Classify is nil: nil is a success
// (its latency is a sample), an expired deadline or a [Timeout] is a
// failure (a drop: the resource could not keep up, the limit shrinks), and
// anything else is ignored, since a fast error says nothing about how loaded
// the resource is.
func AdaptiveClassify(err error) Outcome {
	switch {
	case err == nil:
		return OutcomeSuccess
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrTimeout):
		return OutcomeFailure
	}
	return OutcomeIgnored
}

// AdaptiveLimiter bounds the calls in flight to a resource by a limit it
// learns from their latency, so that a service under more load than it can
// serve refuses the excess at once instead of queueing until every request
// times out.
//
// The algorithm is TCP Vegas as Netflix's concurrency-limits applies it.
// The no-load latency is the lowest window-average latency seen in the last
// BaselineWindow; a window's average latency L estimates how many calls are
// queued inside the resource as queue = limit·(1 − baseline/L). With
// a = log10(limit) (at least 1): queue ≤ a grows the limit by Beta·a,
// queue < Alpha·a grows it by a, queue > Beta·a shrinks it by a, and a
// window in which calls were dropped shrinks it by 10%. The limit does not
// grow while fewer than half of it are in use, so that a quiet period does
// not inflate it. Vegas rather than a gradient: it holds a few calls queued
// in the resource (enough to keep it busy) and no more, and it needs no
// tuning of smoothing factors.
//
// Callers beyond the limit wait in a bounded queue ordered by [Priority]
// (FIFO within one); when it is full, a newcomer evicts the newest waiter of
// the lowest priority below its own, or is refused. Refusals are
// [ErrOverloaded].
//
// Most callers want [NewShedder] for an HTTP server, or a [Pipeline] holding
// the limiter; [AdaptiveLimiter.Acquire] and [Permit.Release] are the
// two-step form. Acquiring and releasing a slot while nobody waits is a few
// atomic operations and a clock read, and allocates nothing. Create one with
// [NewAdaptiveLimiter]; the zero AdaptiveLimiter is not usable. An
// AdaptiveLimiter is safe for concurrent use.
type AdaptiveLimiter struct {
	cfg    AdaptiveLimiterConfig
	origin time.Time

	limit    atomic.Int64
	inFlight atomic.Int64
	queued   atomic.Int64

	// The current window, filled lock-free by Release.
	winStart   atomic.Int64 // ns since origin
	winSamples atomic.Int64
	winSum     atomic.Int64 // ns
	winDrops   atomic.Int64
	winPeak    atomic.Int64 // highest in-flight seen at a release
	winLen     atomic.Int64 // ns: max(MinWindow, 2 baselines), set when a window closes
	baseNs     atomic.Int64 // the baseline, for lock-free readers

	update   sync.Mutex // held by the one goroutine closing a window
	estimate float64
	// The baseline is the lower of two minima, each covering half of
	// BaselineWindow: a sliding minimum without a history.
	baseCur, basePrev int64 // ns; 0 = none yet
	baseSince         int64 // ns since origin

	mu      sync.Mutex
	waiters [3]list.List // by priority - PrioritySheddable, of *limitWaiter
}

type limitWaiter struct {
	ready   chan struct{}
	evicted bool
}

// Permit is a slot taken by [AdaptiveLimiter.Acquire]. Release it exactly
// once. A zero Permit's Release does nothing.
type Permit struct {
	l     *AdaptiveLimiter
	start int64 // ns since origin
}

// NewAdaptiveLimiter returns an AdaptiveLimiter. It returns an error matching
// [ErrInvalidConfig] when cfg is invalid.
func NewAdaptiveLimiter(cfg AdaptiveLimiterConfig) (*AdaptiveLimiter, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	l := &AdaptiveLimiter{cfg: cfg, estimate: float64(cfg.InitialLimit)}
	l.origin = cfg.Now()
	l.limit.Store(int64(cfg.InitialLimit))
	l.winLen.Store(int64(cfg.MinWindow))
	return l, nil
}

func (c *AdaptiveLimiterConfig) normalize() error {
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"InitialLimit", &c.InitialLimit, 20}, {"MinLimit", &c.MinLimit, 1}, {"MaxLimit", &c.MaxLimit, 1000}} {
		if *f.v < 0 {
			return configError(f.name, "%d is negative", *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if c.MinLimit > c.MaxLimit {
		return configError("MinLimit", "%d exceeds MaxLimit %d", c.MinLimit, c.MaxLimit)
	}
	if c.InitialLimit < c.MinLimit || c.InitialLimit > c.MaxLimit {
		return configError("InitialLimit", "%d is outside [MinLimit %d, MaxLimit %d]", c.InitialLimit, c.MinLimit, c.MaxLimit)
	}
	if c.Alpha == 0 {
		c.Alpha = 3
	}
	if c.Beta == 0 {
		c.Beta = 6
	}
	if !(c.Alpha > 0) || math.IsInf(c.Alpha, 0) {
		return configError("Alpha", "%v is not a positive number", c.Alpha)
	}
	if !(c.Beta > c.Alpha) || math.IsInf(c.Beta, 0) {
		return configError("Beta", "%v is not a number above Alpha %v", c.Beta, c.Alpha)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{{"MinWindow", &c.MinWindow, time.Millisecond}, {"BaselineWindow", &c.BaselineWindow, 30 * time.Second}} {
		if *d.v < 0 {
			return configError(d.name, "%v is negative", *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.Classify == nil {
		c.Classify = AdaptiveClassify
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Acquire takes a slot for one call, waiting in the queue when the limit is
// reached, at the priority ctx carries ([WithPriority]). It returns
// [ErrOverloaded] when the caller is refused, and ctx's error when ctx ends
// first. After a nil error the caller must call [Permit.Release] exactly
// once.
func (l *AdaptiveLimiter) Acquire(ctx context.Context) (Permit, error) {
	if l.queued.Load() == 0 && l.tryTake() {
		return Permit{l: l, start: l.now()}, nil
	}
	return l.acquireSlow(ctx, PriorityOf(ctx))
}

// acquire is Acquire at priority p, for the Shedder, which knows p without
// a context value.
func (l *AdaptiveLimiter) acquire(ctx context.Context, p Priority) (Permit, error) {
	if l.queued.Load() == 0 && l.tryTake() {
		return Permit{l: l, start: l.now()}, nil
	}
	return l.acquireSlow(ctx, p)
}

func (l *AdaptiveLimiter) now() int64 { return int64(l.cfg.Now().Sub(l.origin)) }

func (l *AdaptiveLimiter) tryTake() bool {
	for n := l.inFlight.Load(); n < l.limit.Load(); n = l.inFlight.Load() {
		if l.inFlight.CompareAndSwap(n, n+1) {
			return true
		}
	}
	return false
}

// maxQueue is how many waiters a caller of priority p may find in the queue
// and still join it.
func (l *AdaptiveLimiter) maxQueue(p Priority) int {
	q := l.cfg.MaxQueue
	switch {
	case q < 0:
		return 0
	case q == 0:
		q = max(int(l.limit.Load()/4), 1)
	}
	if p == PriorityCritical {
		q = max(q, 2*int(l.limit.Load()))
	}
	return q
}

func (l *AdaptiveLimiter) acquireSlow(ctx context.Context, p Priority) (Permit, error) {
	if err := ctx.Err(); err != nil {
		return Permit{}, err
	}
	l.mu.Lock()
	if l.queued.Load() == 0 && l.tryTake() {
		l.mu.Unlock()
		return Permit{l: l, start: l.now()}, nil
	}
	if int(l.queued.Load()) >= l.maxQueue(p) && !l.evictBelow(p) {
		l.mu.Unlock()
		return Permit{}, l.reject(p)
	}
	w := &limitWaiter{ready: make(chan struct{})}
	q := &l.waiters[p-PrioritySheddable]
	elem := q.PushBack(w)
	l.queued.Add(1)
	// A Release that decremented before seeing queued > 0 freed a slot
	// that this attempt sees, so no wake-up is lost.
	l.handOverLocked()
	l.mu.Unlock()

	var expired <-chan time.Time
	if d := l.maxWait(p); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		expired = t.C
	}
	var err error
	select {
	case <-w.ready:
		if w.evicted {
			return Permit{}, l.reject(p)
		}
		return Permit{l: l, start: l.now()}, nil
	case <-expired:
		err = ErrOverloaded
	case <-ctx.Done():
		err = ctx.Err()
	}
	l.mu.Lock()
	select {
	case <-w.ready: // granted or evicted while giving up
		l.mu.Unlock()
		if !w.evicted {
			l.releaseSlot()
		}
	default:
		q.Remove(elem)
		l.queued.Add(-1)
		l.mu.Unlock()
	}
	if err == ErrOverloaded {
		return Permit{}, l.reject(p)
	}
	return Permit{}, err
}

func (l *AdaptiveLimiter) maxWait(p Priority) time.Duration {
	switch {
	case l.cfg.MaxWait != 0:
		return l.cfg.MaxWait
	case p == PriorityCritical:
		return 0 // bounded by its queue, which holds at most twice the limit of them
	}
	return time.Duration(l.baseNs.Load())
}

// evictBelow refuses the newest waiter of the lowest priority below p,
// reporting whether there was one. l.mu is held.
func (l *AdaptiveLimiter) evictBelow(p Priority) bool {
	for i := range int(p - PrioritySheddable) {
		q := &l.waiters[i]
		if e := q.Back(); e != nil {
			w := q.Remove(e).(*limitWaiter)
			l.queued.Add(-1)
			w.evicted = true
			close(w.ready)
			return true
		}
	}
	return false
}

// handOverLocked gives free slots to waiters, highest priority first.
// l.mu is held.
func (l *AdaptiveLimiter) handOverLocked() {
	for i := len(l.waiters) - 1; i >= 0; i-- {
		q := &l.waiters[i]
		for e := q.Front(); e != nil; e = q.Front() {
			if !l.tryTake() {
				return
			}
			q.Remove(e)
			l.queued.Add(-1)
			close(e.Value.(*limitWaiter).ready)
		}
	}
}

func (l *AdaptiveLimiter) reject(p Priority) error {
	if h := l.cfg.Hooks.OnReject; h != nil {
		h(p)
	}
	return ErrOverloaded
}

func (l *AdaptiveLimiter) releaseSlot() {
	l.inFlight.Add(-1)
	if l.queued.Load() > 0 {
		l.mu.Lock()
		l.handOverLocked()
		l.mu.Unlock()
	}
}

// Release frees the slot and records the call: [OutcomeSuccess] adds its
// latency to the measurement, [OutcomeFailure] marks it dropped (it timed
// out or the resource refused it: the limit shrinks), and [OutcomeIgnored]
// records nothing (the call failed fast for a reason unrelated to load, or
// was canceled).
func (p Permit) Release(o Outcome) {
	l := p.l
	if l == nil {
		return
	}
	now := l.now()
	if peak := l.inFlight.Load(); peak > l.winPeak.Load() {
		l.winPeak.Store(peak) // a lost race only lowers the peak a little
	}
	switch o {
	case OutcomeSuccess:
		l.winSum.Add(now - p.start)
		l.winSamples.Add(1)
	case OutcomeFailure:
		l.winDrops.Add(1)
		l.winSamples.Add(1)
	}
	l.releaseSlot()
	if o != OutcomeIgnored && now-l.winStart.Load() >= l.winLen.Load() && l.winSamples.Load() >= minWindowSamples {
		l.closeWindow(now)
	}
}

const minWindowSamples = 10

func (l *AdaptiveLimiter) baselineLocked() int64 {
	switch {
	case l.basePrev == 0:
		return l.baseCur
	case l.baseCur == 0:
		return l.basePrev
	}
	return min(l.baseCur, l.basePrev)
}

func (l *AdaptiveLimiter) closeWindow(now int64) {
	if !l.update.TryLock() {
		return
	}
	defer l.update.Unlock()
	if now-l.winStart.Load() < l.winLen.Load() {
		return // another goroutine closed it
	}
	samples, sum := l.winSamples.Swap(0), l.winSum.Swap(0)
	drops, peak := l.winDrops.Swap(0), l.winPeak.Swap(0)
	l.winStart.Store(now)
	if samples == 0 {
		return
	}
	var avg int64
	if ok := samples - drops; ok > 0 {
		avg = sum / ok
		first := l.baselineLocked() == 0
		l.noteBaseline(avg, now)
		l.baseNs.Store(l.baselineLocked())
		l.winLen.Store(max(int64(l.cfg.MinWindow), 2*l.baseNs.Load()))
		if first {
			return // a baseline of one window says nothing about queueing yet
		}
	}
	old := l.estimate
	l.estimate = l.vegas(old, avg, drops > 0, peak)
	oldLimit, newLimit := int(l.limit.Load()), int(l.estimate)
	if newLimit == oldLimit {
		return
	}
	l.limit.Store(int64(newLimit))
	if newLimit > oldLimit && l.queued.Load() > 0 {
		l.mu.Lock()
		l.handOverLocked()
		l.mu.Unlock()
	}
	if h := l.cfg.Hooks.OnLimitChange; h != nil {
		h(LimitChange{
			Old: oldLimit, New: newLimit,
			Latency: time.Duration(avg), Baseline: time.Duration(l.baselineLocked()),
			InFlight: int(l.inFlight.Load()), Queued: int(l.queued.Load()),
			Dropped: drops > 0,
		})
	}
}

func (l *AdaptiveLimiter) noteBaseline(avg, now int64) {
	if now-l.baseSince >= int64(l.cfg.BaselineWindow)/2 {
		l.basePrev, l.baseCur, l.baseSince = l.baseCur, 0, now
	}
	if l.baseCur == 0 || avg < l.baseCur {
		l.baseCur = avg
	}
}

// vegas returns the next limit estimate.
func (l *AdaptiveLimiter) vegas(limit float64, avg int64, dropped bool, peak int64) float64 {
	lo, hi := float64(l.cfg.MinLimit), float64(l.cfg.MaxLimit)
	if dropped {
		return math.Max(lo, math.Floor(limit*0.9))
	}
	base := l.baselineLocked()
	if avg <= 0 || base <= 0 || float64(peak)*2 < limit {
		return limit
	}
	a := math.Max(1, math.Floor(math.Log10(limit)))
	queue := math.Ceil(limit * (1 - float64(base)/float64(avg)))
	switch {
	case queue <= a:
		limit += l.cfg.Beta * a
	case queue < l.cfg.Alpha*a:
		limit += a
	case queue > l.cfg.Beta*a:
		limit -= queue - (l.cfg.Alpha+l.cfg.Beta)/2*a
	}
	return math.Min(hi, math.Max(lo, limit))
}

// Limit returns the current concurrency limit.
func (l *AdaptiveLimiter) Limit() int { return int(l.limit.Load()) }

// InFlight returns the number of slots taken.
func (l *AdaptiveLimiter) InFlight() int { return int(l.inFlight.Load()) }

// Queued returns the number of callers waiting for a slot.
func (l *AdaptiveLimiter) Queued() int { return int(l.queued.Load()) }

// Do runs fn in a slot, releasing it with the outcome Classify gives fn's
// error (ignored when fn panics).
func (l *AdaptiveLimiter) Do(ctx context.Context, fn func(context.Context) error) error {
	p, err := l.Acquire(ctx)
	if err != nil {
		return err
	}
	o := OutcomeIgnored
	defer func() { p.Release(o) }()
	err = fn(ctx)
	o = l.cfg.Classify(err)
	return err
}

func (*AdaptiveLimiter) policy() {}
