package outboxtest_test

import (
	"testing"

	"github.com/bedrock-go/bedrock/outbox"
	"github.com/bedrock-go/bedrock/outbox/outboxtest"
)

// A publisher's test runs the suite with a harness that makes a fresh
// publisher and reads back what reached its broker; here the in-memory
// publisher, whose broker is itself. (The suite needs a *testing.T, so this
// example is compiled, not run: the package's own test runs it.)
func ExampleRun() {
	_ = func(t *testing.T) {
		outboxtest.Run(t, outboxtest.Harness{
			New: func(t *testing.T) (outbox.Publisher, outboxtest.ReadFunc) {
				pub := &outbox.MemoryPublisher{}
				return pub, func(*testing.T) []outbox.Message { return pub.Messages() }
			},
		})
	}
}
