package sessiontest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/bedrock-go/bedrock/auth/session/sessiontest"
)

func TestClock(t *testing.T) {
	var c sessiontest.Clock
	c.Advance(time.Minute)
	assert.Equal(t, time.Minute, c.Now().Sub(time.Time{}))
}

func ExampleRun() {
	// A store's tests call:
	//
	//	sessiontest.Run(t, func(t *testing.T) session.Store { return newStore(t) })
	var c sessiontest.Clock
	c.Advance(time.Second)
	fmt.Println(c.Now().Sub(time.Time{}))
	// Output: 1s
}

func BenchmarkClock(b *testing.B) {
	var c sessiontest.Clock
	b.ReportAllocs()
	for b.Loop() {
		c.Advance(time.Nanosecond)
	}
}
