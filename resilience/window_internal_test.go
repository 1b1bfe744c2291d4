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

// FuzzCountWindow checks the lock-free window against a plain ring of the
// last n outcomes.
func FuzzCountWindow(f *testing.F) {
	f.Add(uint8(3), []byte{0, 1, 2, 3, 0, 0, 0, 1})
	f.Add(uint8(1), []byte{1, 1, 0})
	f.Add(uint8(10), []byte{})
	f.Fuzz(func(t *testing.T, size uint8, ops []byte) {
		n := int(size%64) + 1
		w := newCountWindow(n)
		var model []byte // outcomes, oldest first, at most n
		for _, op := range ops {
			failed, slow := op&1 != 0, op&2 != 0
			w.record(failed || slow, slow)
			model = append(model, op&3)
			if len(model) > n {
				model = model[1:]
			}
			var want windowCounts
			for _, o := range model {
				want.calls++
				if o != 0 {
					want.failures++
				}
				if o&2 != 0 {
					want.slow++
				}
			}
			if got := w.snapshot(); got != want {
				t.Fatalf("after %v: got %+v, want %+v", model, got, want)
			}
		}
	})
}

// FuzzTimeWindow checks the bucketed window against a list of timestamped
// outcomes filtered by bucket age.
func FuzzTimeWindow(f *testing.F) {
	f.Add(uint8(4), []byte{0, 10, 1, 200, 3, 7, 255, 1})
	f.Add(uint8(1), []byte{1, 1, 0, 0})
	f.Fuzz(func(t *testing.T, buckets uint8, ops []byte) {
		n := int(buckets%16) + 1
		width := 10 * time.Millisecond
		origin := time.Unix(0, 0)
		w := newTimeWindow(origin, width*time.Duration(n), n)
		type event struct {
			epoch          int64
			failed, isSlow bool
		}
		var events []event
		now := origin
		for i := 0; i+1 < len(ops); i += 2 {
			now = now.Add(time.Duration(ops[i]) * time.Millisecond) // time only moves on
			failed, slow := ops[i+1]&1 != 0, ops[i+1]&2 != 0
			got := w.record(now, failed, slow)
			e := int64(now.Sub(origin) / width)
			events = append(events, event{e, failed, slow})
			var want windowCounts
			for _, ev := range events {
				if ev.epoch > e-int64(n) {
					want.calls++
					if ev.failed {
						want.failures++
					}
					if ev.isSlow {
						want.slow++
					}
				}
			}
			if got != want {
				t.Fatalf("at epoch %d: got %+v, want %+v", e, got, want)
			}
		}
	})
}
