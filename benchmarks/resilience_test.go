package benchmarks

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/bulkhead"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	"github.com/failsafe-go/failsafe-go/timeout"
	"github.com/sony/gobreaker/v2"

	"github.com/bedrock-go/bedrock/resilience"
)

// Every library is given a successful operation; each uses its leanest
// documented path: bedrock Breaker.Do, gobreaker Execute, failsafe's
// permit API (TryAcquirePermit + RecordSuccess) for breakers and its
// executor for retries and pipelines, cenkalti/backoff's Retry.

var errResilience = errors.New("dependency down")

func okCall(context.Context) error { return nil }

func okValue() (int, error) { return 1, nil }

func mustBreaker(b *testing.B, cfg resilience.BreakerConfig) *resilience.Breaker {
	b.Helper()
	br, err := resilience.NewBreaker(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return br
}

func breakerClosedCases(b *testing.B) map[string]func() {
	ctx := context.Background()
	br := mustBreaker(b, resilience.BreakerConfig{})
	gb := gobreaker.NewCircuitBreaker[int](gobreaker.Settings{Name: "bench"})
	fs := circuitbreaker.NewWithDefaults[int]()
	return map[string]func(){
		"bedrock": func() {
			if err := br.Do(ctx, okCall); err != nil {
				panic(err)
			}
		},
		"gobreaker": func() {
			if _, err := gb.Execute(okValue); err != nil {
				panic(err)
			}
		},
		"failsafe": func() {
			if !fs.TryAcquirePermit() {
				panic("rejected")
			}
			_, _ = okValue()
			fs.RecordSuccess()
		},
	}
}

func BenchmarkBreakerClosed(b *testing.B) {
	for _, name := range []string{"bedrock", "gobreaker", "failsafe"} {
		b.Run("serial/"+name, func(b *testing.B) {
			call := breakerClosedCases(b)[name]
			b.ReportAllocs()
			for b.Loop() {
				call()
			}
		})
	}
	for _, name := range []string{"bedrock", "gobreaker", "failsafe"} {
		b.Run("parallel/"+name, func(b *testing.B) {
			call := breakerClosedCases(b)[name]
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					call()
				}
			})
		})
	}
}

func BenchmarkBreakerOpen(b *testing.B) {
	ctx := context.Background()
	b.Run("bedrock", func(b *testing.B) {
		br := mustBreaker(b, resilience.BreakerConfig{OpenDuration: time.Hour})
		br.Trip()
		b.ReportAllocs()
		for b.Loop() {
			if err := br.Do(ctx, okCall); !errors.Is(err, resilience.ErrOpen) {
				b.Fatal(err)
			}
		}
	})
	b.Run("gobreaker", func(b *testing.B) {
		gb := gobreaker.NewCircuitBreaker[int](gobreaker.Settings{
			Timeout:     time.Hour,
			ReadyToTrip: func(gobreaker.Counts) bool { return true },
		})
		_, _ = gb.Execute(func() (int, error) { return 0, errResilience })
		b.ReportAllocs()
		for b.Loop() {
			if _, err := gb.Execute(okValue); err != gobreaker.ErrOpenState {
				b.Fatal(err)
			}
		}
	})
	b.Run("failsafe", func(b *testing.B) {
		fs := circuitbreaker.NewBuilder[int]().WithDelay(time.Hour).Build()
		fs.Open()
		b.ReportAllocs()
		for b.Loop() {
			if fs.TryAcquirePermit() {
				b.Fatal("admitted")
			}
		}
	})
}

func BenchmarkRetryFirstSuccess(b *testing.B) {
	ctx := context.Background()
	b.Run("bedrock", func(b *testing.B) {
		r, err := resilience.NewRetry(resilience.RetryConfig{MaxAttempts: 3})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Do(ctx, okCall); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("failsafe", func(b *testing.B) {
		ex := failsafe.With[int](retrypolicy.NewBuilder[int]().WithMaxAttempts(3).WithBackoff(100*time.Millisecond, 10*time.Second).Build())
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ex.Get(okValue); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("backoff", func(b *testing.B) {
		op := backoff.Operation[int](okValue)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := backoff.Retry(ctx, op, backoff.WithMaxTries(3)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPipeline runs retry ⟶ breaker ⟶ bulkhead ⟶ timeout ⟶ fn.
func BenchmarkPipeline(b *testing.B) {
	ctx := context.Background()
	b.Run("bedrock", func(b *testing.B) {
		r, _ := resilience.NewRetry(resilience.RetryConfig{MaxAttempts: 3})
		bh, _ := resilience.NewBulkhead(resilience.BulkheadConfig{MaxConcurrent: 64})
		to, _ := resilience.NewTimeout(resilience.TimeoutConfig{Duration: time.Second})
		p, err := resilience.NewPipeline[int](r, mustBreaker(b, resilience.BreakerConfig{}), bh, to)
		if err != nil {
			b.Fatal(err)
		}
		fn := func(context.Context) (int, error) { return 1, nil }
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Execute(ctx, fn); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("failsafe", func(b *testing.B) {
		ex := failsafe.With[int](
			retrypolicy.NewBuilder[int]().WithMaxAttempts(3).Build(),
			circuitbreaker.NewWithDefaults[int](),
			bulkhead.New[int](64),
			timeout.New[int](time.Second),
		).WithContext(ctx)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ex.Get(okValue); err != nil {
				b.Fatal(err)
			}
		}
	})
}
