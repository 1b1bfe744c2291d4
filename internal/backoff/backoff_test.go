package backoff

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExponential_Ceiling(t *testing.T) {
	e := Exponential{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 2}
	cases := []struct {
		attempt int
		want    time.Duration
	}{
		{-1, 10 * time.Millisecond},
		{0, 10 * time.Millisecond},
		{1, 20 * time.Millisecond},
		{3, 80 * time.Millisecond},
		{7, time.Second},
		{10_000, time.Second},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, e.Ceiling(tc.attempt), "attempt %d", tc.attempt)
	}
	assert.Equal(t, 100*time.Millisecond, Exponential{}.Ceiling(0), "zero value defaults")
	assert.Equal(t, 10*time.Second, Exponential{}.Ceiling(100))
}

func TestExponential_Jitter(t *testing.T) {
	e := Exponential{Initial: time.Second, Max: time.Minute}
	cases := []struct {
		name   string
		jitter Jitter
		rnd    float64
		want   time.Duration
	}{
		{"full low", FullJitter, 0, 0},
		{"full mid", FullJitter, 0.5, 500 * time.Millisecond},
		{"equal low", EqualJitter, 0, 500 * time.Millisecond},
		{"equal high", EqualJitter, 0.999, 999500 * time.Microsecond},
		{"none", NoJitter, 0.3, time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.Jitter = tc.jitter
			assert.Equal(t, tc.want, e.Delay(0, func() float64 { return tc.rnd }))
		})
	}
	for range 1000 {
		d := Exponential{Initial: time.Second}.Delay(0, nil)
		assert.True(t, d >= 0 && d <= time.Second, "%v", d)
	}
}

func BenchmarkDelay(b *testing.B) {
	b.ReportAllocs()
	e := Exponential{}
	for b.Loop() {
		_ = e.Delay(5, nil)
	}
}

func TestExponential_Decorrelated(t *testing.T) {
	e := Exponential{Initial: 10 * time.Millisecond, Max: time.Second, Jitter: DecorrelatedJitter}
	cases := []struct {
		name string
		prev time.Duration
		rnd  float64
		want time.Duration
	}{
		{"first retry low", 0, 0, 10 * time.Millisecond},
		{"first retry high", 0, 0.5, 20 * time.Millisecond},
		{"grows from prev", 100 * time.Millisecond, 0.5, 155 * time.Millisecond},
		{"capped at max", 900 * time.Millisecond, 0.999999, time.Second - 990*time.Nanosecond},
		{"prev beyond max", time.Hour, 0, 10 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, e.Next(3, tc.prev, func() float64 { return tc.rnd }))
		})
	}
	prev := time.Duration(0)
	for i := range 1000 {
		d := e.Next(i, prev, nil)
		assert.True(t, d >= 10*time.Millisecond && d <= time.Second, "%v", d)
		prev = d
	}
	assert.Equal(t, 10*time.Millisecond, Exponential{Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond, Jitter: DecorrelatedJitter}.Next(0, 0, nil))
}

func TestExponential_NextIgnoresPrevWithoutDecorrelation(t *testing.T) {
	e := Exponential{Initial: time.Second, Max: time.Minute, Jitter: NoJitter}
	assert.Equal(t, 4*time.Second, e.Next(2, time.Hour, nil))
	assert.Equal(t, e.Delay(2, nil), e.Next(2, 0, nil))
}

func TestSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		require.NoError(t, Sleep(context.Background(), time.Second))
		assert.Equal(t, time.Second, time.Since(start))

		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		assert.ErrorIs(t, Sleep(ctx, time.Hour), context.DeadlineExceeded)
		assert.ErrorIs(t, Sleep(ctx, 0), context.DeadlineExceeded, "an ended context reports even without a wait")
		assert.NoError(t, Sleep(context.Background(), -time.Second))
	})
}
