package ratelimit

// timeLog is a growable ring of timestamps, oldest first, holding the events
// a SlidingLog limit admitted. It never drops an entry on its own: entries
// leave only when they age out of the window, as in the Redis list that
// mirrors it.
type timeLog struct {
	buf  []int64
	head int // index of the oldest entry
	n    int
}

func newTimeLog(capacity int) *timeLog {
	return &timeLog{buf: make([]int64, max(capacity, 1))}
}

func (l *timeLog) clear() { l.head, l.n = 0, 0 }

func (l *timeLog) idx(i int) int { return (l.head + i) % len(l.buf) }

func (l *timeLog) oldest() int64 { return l.buf[l.head] }

func (l *timeLog) newest() int64 { return l.buf[l.idx(l.n-1)] }

func (l *timeLog) pop() { l.head, l.n = l.idx(1), l.n-1 }

// push appends cost copies of t.
func (l *timeLog) push(t, cost int64) {
	if need := l.n + int(cost); need > len(l.buf) {
		grown := make([]int64, max(need, 2*len(l.buf)))
		for i := 0; i < l.n; i++ {
			grown[i] = l.buf[l.idx(i)]
		}
		l.buf, l.head = grown, 0
	}
	for range cost {
		l.buf[l.idx(l.n)] = t
		l.n++
	}
}

// count returns the number of entries after cutoff. A nil log is empty.
func (l *timeLog) count(cutoff int64) int {
	if l == nil {
		return 0
	}
	// Expired entries sit at the old end and are few: count them there.
	skip := 0
	for skip < l.n && l.buf[l.idx(skip)] <= cutoff {
		skip++
	}
	return l.n - skip
}

// at returns the i-th oldest entry after cutoff.
func (l *timeLog) at(i int, cutoff int64) int64 {
	skip := l.n - l.count(cutoff)
	return l.buf[l.idx(skip+i)]
}

// remove deletes up to n entries equal to t, newest first.
func (l *timeLog) remove(t, n int64) {
	out := l.n - 1 // write position, walking from the newest down
	for i := l.n - 1; i >= 0; i-- {
		v := l.buf[l.idx(i)]
		if v == t && n > 0 {
			n--
			continue
		}
		l.buf[l.idx(out)] = v
		out--
	}
	removed := out + 1
	l.head, l.n = l.idx(removed), l.n-removed
}
