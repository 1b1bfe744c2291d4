package resilience_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/resilience"
)

func BenchmarkBreaker(b *testing.B) {
	b.Run("closed", func(b *testing.B) {
		br := resilience.MustNewBreaker(resilience.BreakerConfig{})
		b.ReportAllocs()
		for b.Loop() {
			tk, _ := br.Acquire()
			tk.Done(nil)
		}
	})
	b.Run("closed-parallel", func(b *testing.B) {
		br := resilience.MustNewBreaker(resilience.BreakerConfig{})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				tk, _ := br.Acquire()
				tk.Done(nil)
			}
		})
	})
	b.Run("closed-time-window-slow-calls", func(b *testing.B) {
		br := resilience.MustNewBreaker(resilience.BreakerConfig{Window: resilience.TimeWindow, SlowCallDuration: time.Second})
		b.ReportAllocs()
		for b.Loop() {
			tk, _ := br.Acquire()
			tk.Done(nil)
		}
	})
	b.Run("open", func(b *testing.B) {
		br := resilience.MustNewBreaker(resilience.BreakerConfig{})
		br.Trip()
		b.ReportAllocs()
		for b.Loop() {
			_, _ = br.Acquire()
		}
	})
}

func BenchmarkRetryFirstSuccess(b *testing.B) {
	r, _ := resilience.NewRetry(resilience.RetryConfig{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Do(ctx, succeed)
	}
}

func BenchmarkBudget(b *testing.B) {
	budget, _ := resilience.NewBudget(resilience.BudgetConfig{})
	b.ReportAllocs()
	for b.Loop() {
		budget.Request()
	}
}

func BenchmarkPipeline(b *testing.B) {
	breaker := resilience.MustNewBreaker(resilience.BreakerConfig{})
	retry, _ := resilience.NewRetry(resilience.RetryConfig{})
	bulkhead, _ := resilience.NewBulkhead(resilience.BulkheadConfig{MaxConcurrent: 64})
	timeout, _ := resilience.NewTimeout(resilience.TimeoutConfig{Duration: time.Second})
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	b.Run("retry-breaker-bulkhead", func(b *testing.B) {
		p, _ := resilience.NewPipeline[int](retry, breaker, bulkhead)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = p.Execute(ctx, fn)
		}
	})
	b.Run("timeout-retry-breaker-bulkhead", func(b *testing.B) {
		p, _ := resilience.NewPipeline[int](timeout, retry, breaker, bulkhead)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = p.Execute(ctx, fn)
		}
	})
}

func BenchmarkFaultDisabled(b *testing.B) {
	fi := resilience.NewFaultInjector(nil)
	ctx := context.Background()
	// The baseline is the cost of any non-inlined wrapper around fn, the
	// yardstick for "costs nothing when disabled".
	b.Run("baseline-wrapper", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = callThrough(ctx, succeed)
		}
	})
	b.Run("policy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = fi.Do(ctx, succeed)
		}
	})
	b.Run("transport", func(b *testing.B) {
		ft := &resilience.FaultTransport{Base: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, nil }), Injector: fi}
		req := httptest.NewRequest(http.MethodGet, "http://x/", nil)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = ft.RoundTrip(req)
		}
	})
	b.Run("enabled-check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = fi.Enabled()
		}
	})
}

func BenchmarkParseRetryAfter(b *testing.B) {
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = resilience.ParseRetryAfter("120", now)
	}
}

//go:noinline
func callThrough(ctx context.Context, fn func(context.Context) error) error { return fn(ctx) }

func BenchmarkBulkhead(b *testing.B) {
	bh, _ := resilience.NewBulkhead(resilience.BulkheadConfig{MaxConcurrent: 64})
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = bh.Do(ctx, succeed)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = bh.Do(ctx, succeed)
			}
		})
	})
}

func BenchmarkTimeout(b *testing.B) {
	to, _ := resilience.NewTimeout(resilience.TimeoutConfig{Duration: time.Second})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = to.Do(ctx, succeed)
	}
}

func BenchmarkTransport(b *testing.B) {
	ok := &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}
	base := roundTripFunc(func(*http.Request) (*http.Response, error) { return ok, nil })
	retry, _ := resilience.NewRetry(resilience.RetryConfig{})
	p, _ := resilience.NewPipeline[*http.Response](retry, resilience.MustNewBreaker(resilience.BreakerConfig{}))
	tr, _ := resilience.NewTransport(resilience.TransportConfig{Base: base, Pipeline: p})
	req := httptest.NewRequest(http.MethodGet, "http://dep.example/", nil)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = tr.RoundTrip(req)
	}
}

func BenchmarkAdaptiveLimiter_AcquireRelease(b *testing.B) {
	l, err := resilience.NewAdaptiveLimiter(resilience.AdaptiveLimiterConfig{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p, err := l.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		p.Release(resilience.OutcomeSuccess)
	}
}

func BenchmarkThrottler_AllowRecord(b *testing.B) {
	th, err := resilience.NewThrottler(resilience.ThrottlerConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if th.Allow() == nil {
			th.Record(nil)
		}
	}
}
