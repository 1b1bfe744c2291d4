package resilience

import (
	"context"
	"errors"
	"math"
	"strconv"
	"sync/atomic"
	"time"
)

// State is a circuit breaker state.
type State int32

const (
	// StateClosed admits every call and measures failures.
	StateClosed State = iota
	// StateOpen rejects every call with an [*OpenError] until OpenDuration
	// has passed.
	StateOpen
	// StateHalfOpen admits exactly HalfOpenCalls trial calls; their
	// outcome closes or reopens the breaker.
	StateHalfOpen
)

// String returns the state name: "closed", "open" or "half-open".
func (s State) String() string {
	switch s {
	case StateClosed:
		return "closed"
	case StateOpen:
		return "open"
	case StateHalfOpen:
		return "half-open"
	default:
		return "State(" + strconv.Itoa(int(s)) + ")"
	}
}

// WindowKind selects how a [Breaker] remembers recent calls.
type WindowKind int

const (
	// CountWindow keeps the outcomes of the last WindowSize calls.
	CountWindow WindowKind = iota
	// TimeWindow keeps the outcomes of the last WindowDuration, in Buckets
	// buckets that roll off one at a time (no abrupt reset).
	TimeWindow
)

// Outcome is how a [Breaker] counts a finished call.
type Outcome int

const (
	// OutcomeSuccess counts as a success (unless the call was slow).
	OutcomeSuccess Outcome = iota
	// OutcomeFailure counts as a failure.
	OutcomeFailure
	// OutcomeIgnored is not counted at all; in half-open state it gives
	// the trial slot back.
	OutcomeIgnored
)

// DefaultClassify is the classification a [Breaker] uses when
// BreakerConfig.Classify is nil: nil is a success, cancellation
// ([context.Canceled]) is ignored, since the caller gave up and the
// dependency did not fail, and anything else is a failure. That includes
// [context.DeadlineExceeded]: a dependency that outlasts its callers'
// deadlines is failing them, and a breaker that ignored it would never open
// on a hung dependency. A [*TimeoutError] from a Timeout policy is a failure
// too.
func DefaultClassify(err error) Outcome {
	if err == nil {
		return OutcomeSuccess
	}
	if errors.Is(err, context.Canceled) {
		return OutcomeIgnored
	}
	return OutcomeFailure
}

// StateChange describes one transition, for [BreakerHooks].
type StateChange struct {
	From, To State
	// Generation is the generation of the new state; it grows by one at
	// every transition.
	Generation uint64
	At         time.Time
}

// BreakerHooks receives breaker events. A nil hook costs nothing. Hooks run
// synchronously on the goroutine that caused the event and must not block.
type BreakerHooks struct {
	// OnStateChange is called once per transition.
	OnStateChange func(StateChange)
	// OnReject is called for every call rejected while open or half-open.
	OnReject func(State)
}

// BreakerConfig configures a [Breaker]. Every zero field has the default
// written in its comment.
type BreakerConfig struct {
	// Window is CountWindow (the zero value) or TimeWindow.
	Window WindowKind
	// WindowSize is the number of calls a CountWindow remembers. Default
	// 100; at most 1<<19.
	WindowSize int
	// WindowDuration is the span a TimeWindow remembers. Default 60s.
	WindowDuration time.Duration
	// Buckets is the number of buckets a TimeWindow is split into; the
	// oldest bucket expires every WindowDuration/Buckets. Default 10.
	Buckets int
	// MinimumCalls is the number of calls the window must hold before the
	// failure rate can trip the breaker. Default 10 (capped to WindowSize
	// for a CountWindow).
	MinimumCalls int
	// FailureRateThreshold in (0, 1]: the breaker opens when the share of
	// failed or slow calls in the window reaches it. Default 0.5.
	FailureRateThreshold float64
	// SlowCallDuration, when positive, makes every call that takes at
	// least this long count as a failure even if it succeeded, so that a
	// dependency that answers but too slowly also trips the breaker.
	// Default 0: disabled (no clock read per call).
	SlowCallDuration time.Duration
	// OpenDuration is how long the breaker stays open before it admits
	// trial calls. Default 30s.
	OpenDuration time.Duration
	// HalfOpenCalls is the exact number of trial calls admitted in
	// half-open state. One failed (or slow) trial reopens the breaker;
	// HalfOpenCalls successes close it. Default 1.
	HalfOpenCalls int
	// Classify decides how an error counts. Default [DefaultClassify].
	Classify func(error) Outcome
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Hooks receives events; nil hooks cost nothing.
	Hooks BreakerHooks
}

const maxWindowSize = 1 << 19

func (c *BreakerConfig) normalize() error {
	if c.Window != CountWindow && c.Window != TimeWindow {
		return configError("Window", "unknown window kind %d", c.Window)
	}
	if c.WindowSize == 0 {
		c.WindowSize = 100
	}
	if c.WindowSize < 1 || c.WindowSize > maxWindowSize {
		return configError("WindowSize", "%d not in [1, %d]", c.WindowSize, maxWindowSize)
	}
	if c.WindowDuration == 0 {
		c.WindowDuration = time.Minute
	}
	if c.Buckets == 0 {
		c.Buckets = 10
	}
	if c.Window == TimeWindow {
		if c.Buckets < 1 || c.Buckets > 1<<16 {
			return configError("Buckets", "%d not in [1, 65536]", c.Buckets)
		}
		if c.WindowDuration < time.Duration(c.Buckets) {
			return configError("WindowDuration", "%v too short for %d buckets", c.WindowDuration, c.Buckets)
		}
	}
	if c.MinimumCalls == 0 {
		c.MinimumCalls = min(10, c.WindowSize)
		if c.Window == TimeWindow {
			c.MinimumCalls = 10
		}
	}
	if c.MinimumCalls < 1 {
		return configError("MinimumCalls", "%d is negative", c.MinimumCalls)
	}
	if c.Window == CountWindow && c.MinimumCalls > c.WindowSize {
		return configError("MinimumCalls", "%d exceeds WindowSize %d: the breaker could never trip", c.MinimumCalls, c.WindowSize)
	}
	if c.FailureRateThreshold == 0 {
		c.FailureRateThreshold = 0.5
	}
	if !(c.FailureRateThreshold > 0 && c.FailureRateThreshold <= 1) {
		return configError("FailureRateThreshold", "%v not in (0, 1]", c.FailureRateThreshold)
	}
	if c.SlowCallDuration < 0 {
		return configError("SlowCallDuration", "%v is negative", c.SlowCallDuration)
	}
	if c.OpenDuration == 0 {
		c.OpenDuration = 30 * time.Second
	}
	if c.OpenDuration < 0 {
		return configError("OpenDuration", "%v is negative", c.OpenDuration)
	}
	if c.HalfOpenCalls == 0 {
		c.HalfOpenCalls = 1
	}
	if c.HalfOpenCalls < 1 || c.HalfOpenCalls > math.MaxInt32/2 {
		return configError("HalfOpenCalls", "%d out of range", c.HalfOpenCalls)
	}
	if c.Classify == nil {
		c.Classify = DefaultClassify
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Breaker is a circuit breaker: it stops calling a dependency whose recent
// failure rate (failures and slow calls over a sliding window) reached a
// threshold, then probes it with a fixed number of trial calls.
//
// Each state lives in an immutable generation swapped atomically, so the
// closed-state path is one atomic load to admit and one atomic add to record,
// and a result that arrives after the state changed is dropped: it belongs to
// a generation that no longer exists.
//
// Without a Config.Now, the end of the open state is flagged by a timer, so
// that rejecting a call reads no clock; a call made at the very instant
// OpenDuration ends may still be rejected until that timer has run.
//
// Most callers want [Breaker.Do], or a [Pipeline] that holds the breaker;
// [Breaker.Acquire] is the two-step form for code where the call is not a
// function, such as middleware. Create one with [NewBreaker]; the zero
// Breaker is not usable. A Breaker is safe for concurrent use. It is not
// generic: one breaker can guard calls returning different types.
type Breaker struct {
	cfg   BreakerConfig
	state atomic.Pointer[generation]
	// timed reports whether Done needs the clock: slow-call detection
	// needs the start time, a time window needs the end time.
	timed bool
	// userClock: with a caller's Now, the end of the open state is found
	// by reading that clock; otherwise a timer flags it, which keeps the
	// clock read (costly on some VMs) off the rejection path.
	userClock       bool
	defaultClassify bool
}

// generation is one state of a Breaker. Only the counters mutate.
type generation struct {
	b     *Breaker
	state State
	seq   uint64
	// closed state
	count *countWindow
	times *timeWindow
	// open state
	until   time.Time
	openErr *OpenError
	elapsed atomic.Bool // OpenDuration has passed (timer-driven clock)
	timer   *time.Timer
	// half-open state
	admitted  atomic.Int32
	succeeded atomic.Int32
}

// NewBreaker returns a closed Breaker. It returns an error matching
// [ErrInvalidConfig] when cfg is invalid.
func NewBreaker(cfg BreakerConfig) (*Breaker, error) {
	b := &Breaker{
		cfg:             cfg,
		timed:           cfg.SlowCallDuration > 0 || cfg.Window == TimeWindow,
		userClock:       cfg.Now != nil,
		defaultClassify: cfg.Classify == nil,
	}
	if err := b.cfg.normalize(); err != nil {
		return nil, err
	}
	b.state.Store(b.newGeneration(StateClosed, 0, b.cfg.Now()))
	return b, nil
}

// MustNewBreaker is like [NewBreaker] but panics on an invalid config; it is
// meant for package-level variables initialised from constants.
func MustNewBreaker(cfg BreakerConfig) *Breaker {
	b, err := NewBreaker(cfg)
	if err != nil {
		panic(err)
	}
	return b
}

func (b *Breaker) newGeneration(s State, seq uint64, now time.Time) *generation {
	g := &generation{b: b, state: s, seq: seq}
	switch s {
	case StateClosed:
		if b.cfg.Window == CountWindow {
			g.count = newCountWindow(b.cfg.WindowSize)
		} else {
			g.times = newTimeWindow(now, b.cfg.WindowDuration, b.cfg.Buckets)
		}
	case StateOpen:
		g.until = now.Add(b.cfg.OpenDuration)
		g.openErr = &OpenError{Until: g.until, Generation: seq}
		if !b.userClock {
			g.timer = time.AfterFunc(b.cfg.OpenDuration, func() { g.elapsed.Store(true) })
		}
	case StateHalfOpen:
		g.openErr = &OpenError{Generation: seq}
	}
	return g
}

// Ticket is the permission to make one call, returned by [Breaker.Acquire].
// Call Done exactly once with the call's error. A zero Ticket's Done does
// nothing.
type Ticket struct {
	g     *generation
	start time.Time
}

// Acquire asks to make one call. On success the caller makes the call and
// reports its error with [Ticket.Done]; otherwise it returns an
// [*OpenError]. It never allocates.
func (b *Breaker) Acquire() (Ticket, error) {
	g := b.state.Load()
	if g.state == StateClosed {
		if b.cfg.SlowCallDuration > 0 {
			return Ticket{g: g, start: b.cfg.Now()}, nil
		}
		return Ticket{g: g}, nil
	}
	return b.acquireSlow(g)
}

func (b *Breaker) acquireSlow(g *generation) (Ticket, error) {
	for {
		switch g.state {
		case StateClosed:
			return Ticket{g: g, start: b.startTime()}, nil
		case StateOpen:
			if !b.openElapsed(g) {
				b.rejected(StateOpen)
				return Ticket{}, g.openErr
			}
			g = b.transition(g, StateHalfOpen, b.cfg.Now())
		case StateHalfOpen:
			if g.admitted.Add(1) > int32(b.cfg.HalfOpenCalls) {
				// Undo only our own increment: the counter then never
				// falls below the number of admitted trials.
				g.admitted.Add(-1)
				b.rejected(StateHalfOpen)
				return Ticket{}, g.openErr
			}
			return Ticket{g: g, start: b.startTime()}, nil
		}
	}
}

func (b *Breaker) openElapsed(g *generation) bool {
	if b.userClock {
		return !b.cfg.Now().Before(g.until)
	}
	return g.elapsed.Load()
}

func (b *Breaker) startTime() time.Time {
	if b.cfg.SlowCallDuration > 0 {
		return b.cfg.Now()
	}
	return time.Time{}
}

func (b *Breaker) rejected(s State) {
	if h := b.cfg.Hooks.OnReject; h != nil {
		h(s)
	}
}

// Done reports the outcome of the call the ticket admitted. A result from a
// generation that is no longer current is ignored.
func (t Ticket) Done(err error) {
	g := t.g
	if g == nil {
		return
	}
	b := g.b
	o := OutcomeSuccess
	if err != nil || !b.defaultClassify {
		o = b.cfg.Classify(err)
	}
	var now time.Time
	if b.timed {
		now = b.cfg.Now()
	}
	slow := b.cfg.SlowCallDuration > 0 && !t.start.IsZero() && now.Sub(t.start) >= b.cfg.SlowCallDuration
	switch g.state {
	case StateClosed:
		if o == OutcomeIgnored {
			return
		}
		b.recordClosed(g, o == OutcomeFailure, slow, now)
	case StateHalfOpen:
		b.recordHalfOpen(g, o, slow, now)
	}
}

// Do runs fn if the breaker admits it and records its outcome. A panic in
// fn counts as a failure and is propagated.
func (b *Breaker) Do(ctx context.Context, fn func(context.Context) error) error {
	t, err := b.Acquire()
	if err != nil {
		return err
	}
	finished := false
	defer func() {
		if !finished {
			t.Done(errPanicked)
		}
	}()
	err = fn(ctx)
	finished = true
	t.Done(err)
	return err
}

var errPanicked = errors.New("resilience: call panicked")

func (b *Breaker) recordClosed(g *generation, failed, slow bool, now time.Time) {
	var c windowCounts
	if g.count != nil {
		var changed bool
		if c, changed = g.count.record(failed || slow, slow); !changed {
			return
		}
	} else {
		c = g.times.record(now, failed || slow, slow)
	}
	if c.calls < int64(b.cfg.MinimumCalls) {
		return
	}
	if float64(c.failures) >= b.cfg.FailureRateThreshold*float64(c.calls) {
		if !b.timed {
			now = b.cfg.Now()
		}
		b.transition(g, StateOpen, now)
	}
}

func (b *Breaker) recordHalfOpen(g *generation, o Outcome, slow bool, now time.Time) {
	if b.state.Load() != g {
		return
	}
	if !b.timed {
		now = b.cfg.Now()
	}
	switch {
	case o == OutcomeIgnored:
		g.admitted.Add(-1)
	case o == OutcomeFailure || slow:
		b.transition(g, StateOpen, now)
	default:
		if g.succeeded.Add(1) == int32(b.cfg.HalfOpenCalls) {
			b.transition(g, StateClosed, now)
		}
	}
}

// transition replaces from with a new generation in state to, unless another
// goroutine already replaced it, and returns the current generation.
func (b *Breaker) transition(from *generation, to State, now time.Time) *generation {
	g, _ := b.tryTransition(from, to, now)
	return g
}

func (b *Breaker) tryTransition(from *generation, to State, now time.Time) (*generation, bool) {
	next := b.newGeneration(to, from.seq+1, now)
	if !b.state.CompareAndSwap(from, next) {
		if next.timer != nil {
			next.timer.Stop()
		}
		return b.state.Load(), false
	}
	if from.timer != nil {
		from.timer.Stop()
	}
	if h := b.cfg.Hooks.OnStateChange; h != nil {
		h(StateChange{From: from.state, To: to, Generation: next.seq, At: now})
	}
	return next, true
}

// State returns the current state. An open breaker whose OpenDuration has
// passed reports StateOpen until a call moves it to half-open.
func (b *Breaker) State() State { return b.state.Load().state }

// Generation returns the number of transitions so far.
func (b *Breaker) Generation() uint64 { return b.state.Load().seq }

// BreakerMetrics is a snapshot of a [Breaker].
type BreakerMetrics struct {
	State      State
	Generation uint64
	// Calls, Failures and Slow describe the closed-state window; Failures
	// includes slow calls.
	Calls, Failures, Slow int64
}

// FailureRate returns Failures/Calls, or 0 without calls.
func (m BreakerMetrics) FailureRate() float64 {
	if m.Calls == 0 {
		return 0
	}
	return float64(m.Failures) / float64(m.Calls)
}

// Metrics returns a snapshot of the breaker.
func (b *Breaker) Metrics() BreakerMetrics {
	g := b.state.Load()
	m := BreakerMetrics{State: g.state, Generation: g.seq}
	var c windowCounts
	switch {
	case g.count != nil:
		c = g.count.snapshot()
	case g.times != nil:
		c = g.times.snapshot(b.cfg.Now())
	}
	m.Calls, m.Failures, m.Slow = c.calls, c.failures, c.slow
	return m
}

// Trip forces the breaker open for OpenDuration, for example from an
// operator's command.
func (b *Breaker) Trip() { b.force(StateOpen) }

// Reset forces the breaker closed with an empty window.
func (b *Breaker) Reset() { b.force(StateClosed) }

func (b *Breaker) force(to State) {
	for {
		if _, ok := b.tryTransition(b.state.Load(), to, b.cfg.Now()); ok {
			return
		}
	}
}

func (*Breaker) policy() {}
