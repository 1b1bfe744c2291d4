package resilience

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestUnpack_DecodesTransientNegativeFieldsWithoutCorruptingOthers(t *testing.T) {
	cases := []struct {
		name                   string
		calls, failures, slow  int64
		wantC, wantF, wantSlow int64
	}{
		{"all positive", 100, 40, 3, 100, 40, 3},
		{"negative failures clamp to zero", 10, -2, 5, 10, 0, 5},
		{"negative calls", -1, 7, 0, 0, 7, 0},
		{"negative slow", 9, 9, -3, 9, 9, 0},
		{"maximum window", maxWindowSize, maxWindowSize, maxWindowSize, maxWindowSize, maxWindowSize, maxWindowSize},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Build the packed value the way concurrent deltas would: by
			// wrapping additions.
			var v uint64
			v += uint64(tc.calls)
			v += uint64(tc.failures) << fieldBits
			v += uint64(tc.slow) << (2 * fieldBits)
			got := unpack(v)
			assert.Equal(t, windowCounts{tc.wantC, tc.wantF, tc.wantSlow}, got)
		})
	}
}

func TestCountWindow_ReplacesOldestOutcome(t *testing.T) {
	w := newCountWindow(3)
	w.record(true, true)
	w.record(false, false)
	_, changed := w.record(true, false)
	assert.True(t, changed)
	assert.Equal(t, windowCounts{3, 2, 1}, w.snapshot())
	w.record(false, false) // replaces the slow failure
	assert.Equal(t, windowCounts{3, 1, 0}, w.snapshot())
	w.record(false, false)
	w.record(false, false)
	assert.Equal(t, windowCounts{3, 0, 0}, w.snapshot())
	_, changed = w.record(false, false)
	assert.False(t, changed, "a success into a window of successes changes nothing")
	w.record(true, false)
	assert.Equal(t, windowCounts{3, 1, 0}, w.snapshot(), "a failure still lands after the skipped successes")
}

func TestTimeWindow_ClockBeforeOriginCountsInFirstBucket(t *testing.T) {
	origin := time.Unix(1000, 0)
	w := newTimeWindow(origin, time.Second, 10)
	c := w.record(origin.Add(-time.Hour), true, false)
	assert.Equal(t, windowCounts{1, 1, 0}, c)
}
