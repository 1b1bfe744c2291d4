package ratelimittest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/ratelimit/ratelimittest"
)

func TestMemoryConforms(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Store {
		m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
}

// ExampleRun shows how a store's own tests run the suite; here the store is
// the in-memory one, checked by a single decision so the example has output.
func ExampleRun() {
	// In a store's tests:
	//
	//	func TestMyStoreConforms(t *testing.T) {
	//		ratelimittest.Run(t, func(t *testing.T) ratelimit.Store { return newMyStore(t) })
	//	}
	m, _ := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	lim, _ := ratelimit.New(ratelimit.Config{Store: m, Limits: []ratelimit.Limit{ratelimit.PerSecond(1)}})
	res, _ := lim.Allow(context.Background(), "k")
	fmt.Println(res.Allowed)
	// Output: true
}

// BenchmarkMemoryScripts measures the decisions the suite drives (one key,
// every algorithm) on the in-memory store, the reference every other store
// is compared with.
func BenchmarkMemoryScripts(b *testing.B) {
	m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	if err != nil {
		b.Fatal(err)
	}
	algs := []ratelimit.Algorithm{ratelimit.GCRA, ratelimit.TokenBucket, ratelimit.SlidingWindow, ratelimit.SlidingLog, ratelimit.FixedWindow}
	for _, alg := range algs {
		lim, err := ratelimit.New(ratelimit.Config{Store: m, Limits: []ratelimit.Limit{{Rate: 100, Period: time.Second, Algorithm: alg}}})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprint(alg), func(b *testing.B) {
			at := time.Unix(1_800_000_000, 0)
			b.ReportAllocs()
			for b.Loop() {
				at = at.Add(time.Millisecond)
				_, _ = lim.AllowAt(context.Background(), "bench", at, 1)
			}
		})
	}
}

func TestMemoryLeasesConform(t *testing.T) {
	ratelimittest.RunLeases(t, func(t *testing.T) ratelimit.LeaseStore {
		m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
}
