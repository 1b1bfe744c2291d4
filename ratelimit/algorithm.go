package ratelimit

// This file holds the algorithms as pure integer arithmetic on microseconds.
// The Redis store runs a line-for-line port of it in Lua (see
// redislimit/script.lua); the conformance suite in ratelimittest holds the
// two to identical decisions, so a change here must be made there too.
//
// Every algorithm clamps "now" to the latest time its state has seen, so that
// a clock that steps back, or callers whose timestamps arrive out of order,
// can only make a decision stricter, never admit more.

// params is a Limit in integer microseconds.
type params struct {
	algo     Algorithm
	rate     int64 // events per period
	period   int64 // µs
	burst    int64 // capacity
	interval int64 // µs between events at the sustained rate
}

func paramsOf(l Limit) params {
	return params{
		algo:     l.Algorithm,
		rate:     int64(l.Rate),
		period:   l.Period.Microseconds(),
		burst:    int64(l.Capacity()),
		interval: l.Interval().Microseconds(),
	}
}

// state is one key's state for one limit. The meaning of a, b, c depends on
// the algorithm:
//
//	GCRA:          a = theoretical arrival time
//	TokenBucket:   a = tokens, b = time of the last refill
//	FixedWindow:   a = window index, b = count
//	SlidingWindow: a = window index, b = current count, c = previous count
//	SlidingLog:    log holds the admitted timestamps
type state struct {
	tag     uint8 // Algorithm+1; 0 is the empty state
	a, b, c int64
	log     *timeLog
}

// verdict is the outcome of one limit.
type verdict struct {
	allowed   bool
	remaining int64 // events still admissible after this decision
	retry     int64 // µs until the cost could be admitted; 0 when allowed
	reset     int64 // µs until the limit is back at full capacity
	refill    int64 // µs until remaining grows; 0 when it is at capacity
}

func (s *state) empty(p *params) bool { return s.tag != uint8(p.algo)+1 }

// eval decides whether cost events would be admitted at now, without changing
// s. A cost of 0 reports the current remaining capacity.
func eval(p *params, s *state, now, cost int64) verdict {
	switch p.algo {
	case GCRA:
		return evalGCRA(p, s, now, cost)
	case TokenBucket:
		return evalBucket(p, s, now, cost)
	case FixedWindow:
		return evalFixed(p, s, now, cost)
	case SlidingWindow:
		return evalSliding(p, s, now, cost)
	default:
		return evalLog(p, s, now, cost)
	}
}

// take records cost events at now. The caller has checked eval allowed it.
func take(p *params, s *state, now, cost int64) {
	switch p.algo {
	case GCRA:
		tat := now
		if !s.empty(p) {
			tat = max(s.a, now)
		}
		s.a = tat + cost*p.interval
	case TokenBucket:
		tokens, last := bucketRefill(p, s, now)
		s.a, s.b = tokens-cost, last
	case FixedWindow:
		w, count := fixedView(p, s, now)
		s.a, s.b = w, count+cost
	case SlidingWindow:
		w, cur, prev, _ := slidingView(p, s, now)
		s.a, s.b, s.c = w, cur+cost, prev
	default:
		logView(p, s, now)
		if s.log.n > 0 {
			now = max(now, s.log.newest())
		}
		s.log.push(now, cost)
	}
	s.tag = uint8(p.algo) + 1
}

// refund gives back up to cost events taken at takenAt, never raising the
// capacity above its maximum.
func refund(p *params, s *state, now, cost, takenAt int64) {
	if s.empty(p) {
		return
	}
	switch p.algo {
	case GCRA:
		tat := max(s.a, now)
		s.a = max(tat-cost*p.interval, now)
	case TokenBucket:
		tokens, last := bucketRefill(p, s, now)
		s.a, s.b = min(tokens+cost, p.burst), last
	case FixedWindow:
		w, count := fixedView(p, s, now)
		if floorDiv(takenAt, p.period) == w {
			count = max(count-cost, 0)
		}
		s.a, s.b = w, count
	case SlidingWindow:
		w, cur, prev, _ := slidingView(p, s, now)
		switch floorDiv(takenAt, p.period) {
		case w:
			cur = max(cur-cost, 0)
		case w - 1:
			prev = max(prev-cost, 0)
		}
		s.a, s.b, s.c = w, cur, prev
	default:
		logView(p, s, now)
		s.log.remove(takenAt, cost)
	}
}

func evalGCRA(p *params, s *state, now, cost int64) verdict {
	tat := now
	if !s.empty(p) {
		tat = max(s.a, now)
	}
	tau := p.burst * p.interval
	next := tat + cost*p.interval
	if next-now > tau {
		remaining := max(floorDiv(tau-(tat-now), p.interval), 0)
		return verdict{
			remaining: remaining,
			retry:     next - now - tau,
			reset:     tat - now,
			refill:    gcraRefill(p, tat-now, remaining),
		}
	}
	remaining := floorDiv(tau-(next-now), p.interval)
	return verdict{
		allowed:   true,
		remaining: remaining,
		reset:     next - now,
		refill:    gcraRefill(p, next-now, remaining),
	}
}

// gcraRefill returns the µs until remaining grows, for a theoretical
// arrival time debt µs ahead of now: when remaining+1 events would fit.
func gcraRefill(p *params, debt, remaining int64) int64 {
	if remaining >= p.burst {
		return 0
	}
	return debt + (remaining+1)*p.interval - p.burst*p.interval
}

// bucketRefill returns the tokens and refill time of s at now. Whole tokens
// are added per elapsed interval; the remainder carries over in last.
func bucketRefill(p *params, s *state, now int64) (tokens, last int64) {
	if s.empty(p) {
		return p.burst, now
	}
	tokens, last = s.a, s.b
	if now < last {
		return min(tokens, p.burst), last
	}
	add := (now - last) / p.interval
	tokens += add
	if tokens >= p.burst {
		return p.burst, now
	}
	return tokens, last + add*p.interval
}

func evalBucket(p *params, s *state, now, cost int64) verdict {
	tokens, last := bucketRefill(p, s, now)
	now = max(now, last)
	debt := func(t int64) int64 { // µs until the bucket holds burst again
		if t >= p.burst {
			return 0
		}
		return (p.burst-t)*p.interval - (now - last)
	}
	refill := func(t int64) int64 { // µs until the next token
		if t >= p.burst {
			return 0
		}
		return p.interval - (now - last)
	}
	if tokens < cost {
		return verdict{
			remaining: tokens,
			retry:     (cost-tokens)*p.interval - (now - last),
			reset:     debt(tokens),
			refill:    refill(tokens),
		}
	}
	return verdict{allowed: true, remaining: tokens - cost, reset: debt(tokens - cost), refill: refill(tokens - cost)}
}

// fixedView returns the current window index and its count.
func fixedView(p *params, s *state, now int64) (w, count int64) {
	w = floorDiv(now, p.period)
	if s.empty(p) {
		return w, 0
	}
	switch {
	case s.a == w:
		return w, s.b
	case s.a > w: // clock stepped back: stay in the stored window
		return s.a, s.b
	}
	return w, 0
}

func evalFixed(p *params, s *state, now, cost int64) verdict {
	w, count := fixedView(p, s, now)
	now = max(now, w*p.period)
	end := (w+1)*p.period - now
	if count+cost > p.rate {
		v := verdict{remaining: p.rate - count, retry: end, reset: end}
		if count > 0 {
			v.refill = end
		}
		return v
	}
	v := verdict{allowed: true, remaining: p.rate - count - cost}
	if count+cost > 0 {
		v.reset, v.refill = end, end
	}
	return v
}

// slidingView returns the current window index, the counts of the current
// and previous windows, and the time elapsed in the current window.
func slidingView(p *params, s *state, now int64) (w, cur, prev, elapsed int64) {
	w = floorDiv(now, p.period)
	if !s.empty(p) {
		switch {
		case s.a >= w: // s.a > w only when the clock stepped back
			w, cur, prev = s.a, s.b, s.c
		case s.a == w-1:
			prev = s.b
		}
	}
	return w, cur, prev, max(now-w*p.period, 0)
}

func evalSliding(p *params, s *state, now, cost int64) verdict {
	_, cur, prev, e := slidingView(p, s, now)
	P, R := p.period, p.rate
	// Counts are scaled by P so that the weighting stays in integers.
	used := prev*(P-e) + cur*P
	if used+cost*P > R*P {
		remaining := max(floorDiv(R*P-used, P), 0)
		return verdict{
			remaining: remaining,
			retry:     slidingRetry(P, R, e, cur, prev, cost),
			reset:     slidingReset(P, e, cur, prev),
			refill:    slidingRefill(P, R, e, cur, prev, remaining),
		}
	}
	remaining := floorDiv(R*P-used-cost*P, P)
	return verdict{
		allowed:   true,
		remaining: remaining,
		reset:     slidingReset(P, e, cur+cost, prev),
		refill:    slidingRefill(P, R, e, cur+cost, prev, remaining),
	}
}

// slidingRetry returns the µs until cost (at most R) events fit, given that
// they do not fit now.
func slidingRetry(P, R, e, cur, prev, cost int64) int64 {
	if x := R - cur - cost; x >= 0 {
		// Admissible later in this window, once prev has decayed enough.
		return P - floorDiv(x*P, prev) - e
	}
	// Only in the next window, once cur (then previous) has decayed.
	return (P - e) + P - floorDiv((R-cost)*P, cur)
}

// slidingRefill returns the µs until remaining grows: until remaining+1
// events would fit.
func slidingRefill(P, R, e, cur, prev, remaining int64) int64 {
	if remaining >= R {
		return 0
	}
	return slidingRetry(P, R, e, cur, prev, remaining+1)
}

func slidingReset(P, e, cur, prev int64) int64 {
	switch {
	case cur > 0:
		return 2*P - e
	case prev > 0:
		return P - e
	}
	return 0
}

// logView drops the timestamps that left the window.
func logView(p *params, s *state, now int64) {
	if s.empty(p) || s.log == nil {
		if s.log == nil {
			s.log = newTimeLog(int(p.rate))
		} else {
			s.log.clear()
		}
		s.tag = uint8(p.algo) + 1
		s.a, s.b, s.c = 0, 0, 0
	}
	if s.log.n > 0 {
		now = max(now, s.log.newest())
	}
	for s.log.n > 0 && s.log.oldest()+p.period <= now {
		s.log.pop()
	}
}

func evalLog(p *params, s *state, now, cost int64) verdict {
	var l *timeLog
	if !s.empty(p) {
		l = s.log
	}
	if l != nil && l.n > 0 {
		now = max(now, l.newest())
	}
	count := int64(l.count(now - p.period))
	if count+cost > p.rate {
		// The oldest entry that must expire before cost more fit.
		t := l.at(int(count+cost-p.rate-1), now-p.period)
		v := verdict{
			remaining: p.rate - count,
			retry:     t + p.period - now,
			reset:     l.newest() + p.period - now,
		}
		if count > 0 {
			v.refill = l.at(0, now-p.period) + p.period - now
		}
		return v
	}
	v := verdict{allowed: true, remaining: p.rate - count - cost}
	switch {
	case count > 0:
		// The oldest entry expires first, before those taken now.
		v.refill = l.at(0, now-p.period) + p.period - now
	case cost > 0:
		v.refill = p.period
	}
	switch {
	case cost > 0:
		v.reset = p.period
	case count > 0:
		v.reset = l.newest() + p.period - now
	}
	return v
}

// floorDiv is division rounding toward negative infinity, as Lua's // does.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
