package ratelimit_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/ratelimit"
)

func TestLimit_ValidateRejectsBadLimits(t *testing.T) {
	cases := []struct {
		name  string
		limit ratelimit.Limit
	}{
		{"zero rate", ratelimit.Limit{Period: time.Second}},
		{"negative rate", ratelimit.Limit{Rate: -1, Period: time.Second}},
		{"zero period", ratelimit.Limit{Rate: 1}},
		{"negative period", ratelimit.Limit{Rate: 1, Period: -time.Second}},
		{"sub-microsecond period", ratelimit.Limit{Rate: 1, Period: time.Second + 1}},
		{"negative burst", ratelimit.Limit{Rate: 1, Period: time.Second, Burst: -1}},
		{"faster than one per microsecond", ratelimit.Limit{Rate: 2_000_000, Period: time.Second}},
		{"burst on a window algorithm", ratelimit.Limit{Rate: 5, Period: time.Second, Burst: 10, Algorithm: ratelimit.FixedWindow}},
		{"huge sliding log", ratelimit.Limit{Rate: ratelimit.MaxLogRate + 1, Period: time.Hour, Algorithm: ratelimit.SlidingLog}},
		{"unknown algorithm", ratelimit.Limit{Rate: 1, Period: time.Second, Algorithm: 99}},
		{"name with a quote", ratelimit.Limit{Rate: 1, Period: time.Second, Name: `a"b`}},
		{"burst beyond exact arithmetic", ratelimit.Limit{Rate: 1, Period: 24 * time.Hour, Burst: 1 << 30}},
		{"window beyond exact arithmetic", ratelimit.Limit{Rate: 1 << 20, Period: 365 * 24 * time.Hour, Algorithm: ratelimit.SlidingWindow}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.limit.Validate()
			require.ErrorIs(t, err, ratelimit.ErrInvalidLimit)
			var le *ratelimit.InvalidLimitError
			require.True(t, errors.As(err, &le))
			assert.Equal(t, tc.limit, le.Limit)
			assert.NotEmpty(t, le.Reason)
		})
	}
}

func TestLimit_ValidAndDerived(t *testing.T) {
	cases := []struct {
		name     string
		limit    ratelimit.Limit
		capacity int
		interval time.Duration
	}{
		{"burst defaults to rate", ratelimit.PerSecond(10), 10, 100 * time.Millisecond},
		{"explicit burst", ratelimit.Limit{Rate: 10, Period: time.Second, Burst: 3}, 3, 100 * time.Millisecond},
		{"interval rounds up", ratelimit.Limit{Rate: 3, Period: time.Second}, 3, 333334 * time.Microsecond},
		{"window capacity is rate", ratelimit.Limit{Rate: 7, Period: time.Minute, Algorithm: ratelimit.FixedWindow}, 7, 8571429 * time.Microsecond},
		{"per hour", ratelimit.PerHour(3600), 3600, time.Second},
		{"per minute", ratelimit.PerMinute(60), 60, time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.limit.Validate())
			assert.Equal(t, tc.capacity, tc.limit.Capacity())
			assert.Equal(t, tc.interval, tc.limit.Interval())
		})
	}
}

func TestAlgorithm_String(t *testing.T) {
	for a, want := range map[ratelimit.Algorithm]string{
		ratelimit.GCRA: "gcra", ratelimit.TokenBucket: "token-bucket", ratelimit.SlidingWindow: "sliding-window",
		ratelimit.SlidingLog: "sliding-log", ratelimit.FixedWindow: "fixed-window", 42: "Algorithm(42)",
	} {
		assert.Equal(t, want, a.String())
	}
}
