package resilience

import (
	"sync"
	"sync/atomic"
	"time"
)

// windowCounts summarises a breaker window. failures includes slow calls.
type windowCounts struct {
	calls, failures, slow int64
}

// countWindow remembers the outcomes of the last len(slots) calls without a
// lock. The three counters live in one uint64 (21 bits each) so that one
// atomic add both updates them and returns a consistent snapshot.
type countWindow struct {
	slots []atomic.Uint32
	next  atomic.Uint64
	sums  atomic.Uint64
	allOK uint64 // sums of a window full of successes
}

const (
	slotPresent uint32 = 1 << iota
	slotFailed
	slotSlow

	fieldBits = 21
	fieldMask = 1<<fieldBits - 1
)

func newCountWindow(size int) *countWindow {
	return &countWindow{slots: make([]atomic.Uint32, size), allOK: uint64(size) * packed(slotPresent)}
}

// packed maps a slot code to its contribution to sums.
func packed(code uint32) uint64 {
	return uint64(code&slotPresent) | uint64(code&slotFailed>>1)<<fieldBits | uint64(code&slotSlow>>2)<<(2*fieldBits)
}

// record stores one outcome and returns the new counts, and whether they
// changed: unchanged counts cannot trip a breaker that did not trip before.
func (w *countWindow) record(failed, slow bool) (windowCounts, bool) {
	code := slotPresent
	if failed {
		code |= slotFailed
	}
	if slow {
		code |= slotSlow
	}
	// In a window full of successes, a success replaces a success
	// wherever it goes: one shared read, no write, no contention.
	if code == slotPresent && w.sums.Load() == w.allOK {
		return windowCounts{}, false
	}
	i := (w.next.Add(1) - 1) % uint64(len(w.slots))
	if w.slots[i].Load() == code {
		// Should a wrapped-around writer change the slot in between, the
		// result is as if it had written after us.
		return windowCounts{}, false
	}
	old := w.slots[i].Swap(code)
	// Adding new-old modulo 2^64 keeps sums exact once every writer has
	// added its delta; see unpack for the transient states.
	return unpack(w.sums.Add(packed(code) - packed(old))), true
}

func (w *countWindow) snapshot() windowCounts { return unpack(w.sums.Load()) }

// unpack decodes the three fields as signed digits. A field can be briefly
// negative when two writers that wrapped around the ring hit the same slot
// and the later one adds its delta first; signed decoding keeps the other
// fields exact and the clamp keeps the decision sane.
func unpack(v uint64) windowCounts {
	var f [3]int64
	x := int64(v)
	for i := range f {
		d := x & fieldMask
		if d >= 1<<(fieldBits-1) {
			d -= 1 << fieldBits
		}
		f[i] = max(d, 0)
		x = (x - d) >> fieldBits
	}
	return windowCounts{calls: f[0], failures: f[1], slow: f[2]}
}

// timeWindow remembers outcomes for a span split into buckets; the oldest
// bucket expires as time moves on, so old outcomes fade out gradually.
type timeWindow struct {
	mu      sync.Mutex
	origin  time.Time
	width   time.Duration
	buckets []windowCounts
	last    int64 // newest epoch seen; buckets[e%n] holds epoch e
	total   windowCounts
}

func newTimeWindow(now time.Time, span time.Duration, n int) *timeWindow {
	return &timeWindow{origin: now, width: span / time.Duration(n), buckets: make([]windowCounts, n)}
}

func (w *timeWindow) epoch(now time.Time) int64 {
	return max(int64(now.Sub(w.origin)/w.width), 0)
}

// advance expires the buckets that fell out of the window by now.
func (w *timeWindow) advance(now time.Time) {
	e := w.epoch(now)
	if e <= w.last {
		return
	}
	n := int64(len(w.buckets))
	for ep := max(w.last+1, e-n+1); ep <= e; ep++ {
		b := &w.buckets[ep%n]
		w.total.calls -= b.calls
		w.total.failures -= b.failures
		w.total.slow -= b.slow
		*b = windowCounts{}
	}
	w.last = e
}

func (w *timeWindow) record(now time.Time, failed, slow bool) windowCounts {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.advance(now)
	// A call that started before the last advance but ends now is still
	// counted in the newest bucket: it finished in it.
	b := &w.buckets[w.last%int64(len(w.buckets))]
	b.calls++
	w.total.calls++
	if failed {
		b.failures++
		w.total.failures++
	}
	if slow {
		b.slow++
		w.total.slow++
	}
	return w.total
}

func (w *timeWindow) snapshot(now time.Time) windowCounts {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.advance(now)
	return w.total
}
