package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/bedrock-go/bedrock/resilience"
)

// A pipeline is built once per dependency and reused for every call.
func ExampleNewPipeline() {
	breaker, _ := resilience.NewBreaker(resilience.BreakerConfig{SlowCallDuration: time.Second})
	retry, _ := resilience.NewRetry(resilience.RetryConfig{MaxAttempts: 3, InitialDelay: time.Millisecond})
	timeout, _ := resilience.NewTimeout(resilience.TimeoutConfig{Duration: 500 * time.Millisecond})
	p, err := resilience.NewPipeline[string](resilience.FallbackValue("guest"), retry, breaker, timeout)
	if err != nil {
		panic(err)
	}

	attempts := 0
	name, err := p.Execute(context.Background(), func(ctx context.Context) (string, error) {
		attempts++
		if attempts < 3 {
			return "", errors.New("connection reset")
		}
		return "ada", nil
	})
	fmt.Println(name, err, attempts)

	name, err = p.Execute(context.Background(), func(ctx context.Context) (string, error) {
		return "", resilience.Permanent(errors.New("account locked"))
	})
	fmt.Println(name, err)
	// Output:
	// ada <nil> 3
	// guest <nil>
}

// The two-step form suits middleware, where the call is not a function:
// Acquire admits the call, the ticket's Done reports its outcome.
func ExampleBreaker_Acquire() {
	b, _ := resilience.NewBreaker(resilience.BreakerConfig{WindowSize: 4, MinimumCalls: 4})
	for i := range 5 {
		ticket, err := b.Acquire()
		if err != nil {
			fmt.Println(i, "rejected:", errors.Is(err, resilience.ErrOpen))
			continue
		}
		ticket.Done(errors.New("503"))
	}
	fmt.Println(b.State())
	// Output:
	// 4 rejected: true
	// open
}

func ExampleRetry_Do() {
	var retries []time.Duration
	r, _ := resilience.NewRetry(resilience.RetryConfig{
		MaxAttempts:  4,
		InitialDelay: time.Millisecond,
		Jitter:       resilience.NoJitter,
		Hooks: resilience.RetryHooks{OnRetry: func(_ int, _ error, d time.Duration) {
			retries = append(retries, d)
		}},
	})
	err := r.Do(context.Background(), func(context.Context) error { return errors.New("unavailable") })
	fmt.Println(errors.Is(err, resilience.ErrRetriesExhausted), retries)
	// Output:
	// true [1ms 2ms 4ms]
}

// A Transport makes an http.Client retry 5xx and 429 responses.
func ExampleTransport() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()

	retry, _ := resilience.NewRetry(resilience.RetryConfig{InitialDelay: time.Millisecond})
	p, _ := resilience.NewPipeline[*http.Response](retry)
	tr, _ := resilience.NewTransport(resilience.TransportConfig{Pipeline: p})
	client := &http.Client{Transport: tr}

	resp, err := client.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.StatusCode, calls.Load())
	// Output:
	// 200 2
}

// Fault injection is switched at run time, for example from an admin
// endpoint during a degradation drill.
func ExampleFaultInjector() {
	faults := resilience.NewFaultInjector(nil)
	p, _ := resilience.NewPipeline[string](resilience.FallbackValue("cached page"), faults)
	fetch := func(context.Context) (string, error) { return "live page", nil }

	page, _ := p.Execute(context.Background(), fetch)
	fmt.Println(page)

	_ = faults.Set(resilience.Fault{Probability: 1, Err: errors.New("injected outage")})
	page, _ = p.Execute(context.Background(), fetch)
	fmt.Println(page)

	faults.Disable()
	page, _ = p.Execute(context.Background(), fetch)
	fmt.Println(page)
	// Output:
	// live page
	// cached page
	// live page
}

// A shared budget keeps retries to a share of the traffic.
func ExampleBudget() {
	budget, _ := resilience.NewBudget(resilience.BudgetConfig{Ratio: 0.1, MinPerSecond: -1})
	for range 50 {
		budget.Request()
	}
	fmt.Println(budget.Available())
	// Output:
	// 5
}

// A hedge sends a second request when the first is slow and keeps the
// first answer.
func ExampleHedge() {
	h, _ := resilience.NewHedge(resilience.HedgeConfig{Delay: time.Millisecond})
	p, _ := resilience.NewPipeline[string](h)
	requests := make(chan int, 2)
	replica, err := p.Execute(context.Background(), func(ctx context.Context) (string, error) {
		requests <- 1
		if len(requests) == 1 { // the first request hits a stalled replica
			<-ctx.Done()
			return "", ctx.Err()
		}
		return "replica B", nil
	})
	fmt.Println(replica, err, len(requests))
	// Output:
	// replica B <nil> 2
}

func ExampleBulkhead() {
	bh, _ := resilience.NewBulkhead(resilience.BulkheadConfig{MaxConcurrent: 1})
	_ = bh.Do(context.Background(), func(ctx context.Context) error {
		// The only slot is taken: a concurrent call is turned away.
		err := bh.Do(ctx, func(context.Context) error { return nil })
		fmt.Println(errors.Is(err, resilience.ErrBulkheadFull))
		return nil
	})
	// Output:
	// true
}

// A Shedder keeps a server responsive past its capacity: critical routes
// keep flowing, sheddable ones are refused first with 503 and Retry-After.
func ExampleNewShedder() {
	limiter, err := resilience.NewAdaptiveLimiter(resilience.AdaptiveLimiterConfig{})
	if err != nil {
		panic(err)
	}
	shedder, err := resilience.NewShedder(limiter, resilience.ShedderConfig{
		Priority: func(r *http.Request) resilience.Priority {
			switch r.URL.Path {
			case "/healthz", "/login":
				return resilience.PriorityCritical
			case "/items":
				return resilience.PrioritySheddable
			}
			return resilience.PriorityNormal
		},
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/items", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "[]") })
	h := shedder.Handler(mux)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/items", nil))
	fmt.Println(rec.Code, limiter.Limit())
	// Output: 200 20
}

// Acquire and Release are the two-step form, for code where the call is not
// a function.
func ExampleAdaptiveLimiter_Acquire() {
	limiter, err := resilience.NewAdaptiveLimiter(resilience.AdaptiveLimiterConfig{InitialLimit: 1, MaxLimit: 1, MaxQueue: -1})
	if err != nil {
		panic(err)
	}
	permit, err := limiter.Acquire(context.Background())
	if err != nil {
		panic(err)
	}
	_, err = limiter.Acquire(context.Background())
	fmt.Println(err)
	permit.Release(resilience.OutcomeSuccess)
	fmt.Println(limiter.InFlight())
	// Output:
	// resilience: overloaded
	// 0
}

// A Throttler in a pipeline stops sending work to a dependency that refuses
// most of it, and the retry does not retry its local refusals.
func ExampleNewThrottler() {
	throttler, _ := resilience.NewThrottler(resilience.ThrottlerConfig{})
	retry, _ := resilience.NewRetry(resilience.RetryConfig{MaxAttempts: 3, InitialDelay: time.Millisecond})
	breaker, _ := resilience.NewBreaker(resilience.BreakerConfig{})
	p, err := resilience.NewPipeline[string](retry, throttler, breaker)
	if err != nil {
		panic(err)
	}
	v, err := p.Execute(context.Background(), func(ctx context.Context) (string, error) { return "ok", nil })
	fmt.Println(v, err, throttler.Probability())
	// Output: ok <nil> 0
}
