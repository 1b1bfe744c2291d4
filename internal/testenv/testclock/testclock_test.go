package testclock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/bedrock-go/bedrock/internal/testenv/testclock"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := testclock.New(start)
	assert.Equal(t, start, c.Now())
	c.Advance(time.Minute)
	assert.Equal(t, start.Add(time.Minute), c.Now())
	c.Set(start)
	assert.Equal(t, start, c.Now())
	var zero testclock.Clock
	assert.True(t, zero.Now().IsZero(), "the zero clock reads the zero time")
}

func TestClock_ConcurrentAdvances(t *testing.T) {
	c := testclock.New(time.Unix(0, 0))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, time.Unix(800, 0), c.Now())
}
