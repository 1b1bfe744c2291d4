package otelhook

import (
	"sync"
	"time"
)

// Sampler lets one event through per interval and counts the others, for
// adapters that log a repeating failure without flooding the log.
type Sampler struct {
	Every time.Duration

	mu      sync.Mutex
	last    time.Time
	skipped int
}

// Allow reports whether an event at now goes through and, if so, how many
// were left out since the last one that did.
func (s *Sampler) Allow(now time.Time) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.last.IsZero() && now.Sub(s.last) < s.Every {
		s.skipped++
		return 0, false
	}
	n := s.skipped
	s.last, s.skipped = now, 0
	return n, true
}
