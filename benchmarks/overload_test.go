package benchmarks

import (
	"context"
	"testing"

	"github.com/failsafe-go/failsafe-go/adaptivelimiter"

	"github.com/bedrock-go/bedrock/resilience"
)

// BenchmarkAdaptiveLimiter measures one Acquire+Release of an uncontended
// adaptive concurrency limiter, each library with its defaults: bedrock's
// AdaptiveLimiter (Acquire, Permit.Release with a success) and failsafe-go's
// adaptivelimiter (AcquirePermit, Permit.Record). Both read the clock twice
// per call to measure latency.
func BenchmarkAdaptiveLimiter(b *testing.B) {
	ctx := context.Background()
	b.Run("bedrock", func(b *testing.B) {
		l, err := resilience.NewAdaptiveLimiter(resilience.AdaptiveLimiterConfig{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			p, err := l.Acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			p.Release(resilience.OutcomeSuccess)
		}
	})
	b.Run("failsafe", func(b *testing.B) {
		l := adaptivelimiter.NewWithDefaults[any]()
		b.ReportAllocs()
		for b.Loop() {
			p, err := l.AcquirePermit(ctx)
			if err != nil {
				b.Fatal(err)
			}
			p.Record()
		}
	})
}

// BenchmarkAdaptiveLimiterParallel is the same with every P acquiring at
// once (GOMAXPROCS goroutines), which is how a server calls it.
func BenchmarkAdaptiveLimiterParallel(b *testing.B) {
	ctx := context.Background()
	b.Run("bedrock", func(b *testing.B) {
		l, err := resilience.NewAdaptiveLimiter(resilience.AdaptiveLimiterConfig{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p, err := l.Acquire(ctx)
				if err != nil {
					b.Error(err)
					return
				}
				p.Release(resilience.OutcomeSuccess)
			}
		})
	})
	b.Run("failsafe", func(b *testing.B) {
		l := adaptivelimiter.NewWithDefaults[any]()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p, err := l.AcquirePermit(ctx)
				if err != nil {
					b.Error(err)
					return
				}
				p.Record()
			}
		})
	})
}
