package backoff

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
