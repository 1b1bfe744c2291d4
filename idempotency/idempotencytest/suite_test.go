package idempotencytest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/idempotency"
	"github.com/bedrock-go/bedrock/idempotency/idempotencytest"
)

func TestMemoryStore_Conformance(t *testing.T) {
	clock := idempotencytest.NewClock(time.Unix(1_700_000_000, 0))
	idempotencytest.Run(t, idempotencytest.Harness{
		NewStore: func(*testing.T) idempotency.Store { return idempotency.NewMemoryStore(clock.Now) },
		Sleep:    clock.Advance,
	})
}

func ExampleRun() {
	// In a store's own tests:
	//
	//	func TestMyStore(t *testing.T) {
	//		idempotencytest.Run(t, idempotencytest.Harness{
	//			NewStore: func(t *testing.T) idempotency.Store { return newMyStore(t) },
	//			Sleep:    time.Sleep, // the store's clock is the server's
	//		})
	//	}
	clock := idempotencytest.NewClock(time.Unix(0, 0))
	clock.Advance(time.Minute)
	fmt.Println(clock.Now().Unix())
	// Output: 60
}

func BenchmarkMemoryStoreBegin(b *testing.B) {
	s := idempotency.NewMemoryStore(nil)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = s.Begin(b.Context(), "k", idempotency.Fingerprint{}, time.Minute)
	}
}
