package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"time"

	"github.com/bedrock-go/bedrock/ratelimit"
)

func ExampleLimiter_Allow() {
	lim, err := ratelimit.New(ratelimit.Config{
		Limits: []ratelimit.Limit{{Rate: 10, Period: time.Second, Burst: 2}},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for range 3 {
		res, err := lim.Allow(ctx, "user:42")
		if err != nil {
			panic(err)
		}
		fmt.Println(res.Allowed, res.Remaining)
	}
	// Output:
	// true 1
	// true 0
	// false 0
}

// Several limits apply at once: a denial by one consumes from none.
func ExampleLimiter_AllowAt_multipleLimits() {
	lim, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{
		{Rate: 2, Period: time.Second, Name: "burst"},
		{Rate: 3, Period: time.Hour, Name: "hourly"},
	}})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, after := range []time.Duration{0, 0, 0, time.Second, 2 * time.Second} {
		res, _ := lim.AllowAt(ctx, "user:42", start.Add(after), 1)
		fmt.Printf("+%v allowed=%v by %s, retry after %v\n", after, res.Allowed, res.Limit.Name, res.RetryAfter)
	}
	// Output:
	// +0s allowed=true by burst, retry after 0s
	// +0s allowed=true by burst, retry after 0s
	// +0s allowed=false by burst, retry after 500ms
	// +1s allowed=true by hourly, retry after 0s
	// +2s allowed=false by hourly, retry after 19m58s
}

func ExampleMiddleware_Handler() {
	lim, err := ratelimit.New(ratelimit.Config{
		Limits: []ratelimit.Limit{{Rate: 1, Period: time.Minute}},
	})
	if err != nil {
		panic(err)
	}
	key, err := ratelimit.KeyByClientIP(ratelimit.ClientIPConfig{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	if err != nil {
		panic(err)
	}
	mw, err := ratelimit.NewMiddleware(lim, ratelimit.MiddlewareConfig{Key: key})
	if err != nil {
		panic(err)
	}
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") }))

	for range 2 {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = "10.0.0.7:5000" // the load balancer
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("RateLimit"), rec.Header().Values("Retry-After"))
	}
	// Output:
	// 200 "default";r=0;t=60 []
	// 429 "default";r=0;t=60 [60]
}

// Allow makes the middleware's decision for a handler that answers by
// itself, here a login form that shows its own page.
func ExampleMiddleware_Allow() {
	lim, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerMinute(1)}})
	if err != nil {
		panic(err)
	}
	mw, err := ratelimit.NewMiddleware(lim, ratelimit.MiddlewareConfig{Key: ratelimit.KeyByHeader("X-Account")})
	if err != nil {
		panic(err)
	}
	for range 2 {
		req := httptest.NewRequest(http.MethodPost, "/login", nil)
		req.Header.Set("X-Account", "ada")
		res, err := mw.Allow(req)
		if err != nil {
			panic(err)
		}
		fmt.Println(res.Allowed, math.Ceil(res.RetryAfter.Seconds()))
	}
	// Output:
	// true 0
	// false 60
}

func ExampleReservation_Cancel() {
	lim, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerHour(1)}})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	r, _ := lim.Reserve(ctx, "job", 1)
	fmt.Println("reserved:", r.Result().Allowed)
	// The job could not start after all: give the slot back.
	_ = r.Cancel(ctx)
	res, _ := lim.Allow(ctx, "job")
	fmt.Println("allowed again:", res.Allowed)
	// Output:
	// reserved: true
	// allowed again: true
}

func ExampleBucket() {
	// Calls to one dependency, at most 5 per second in bursts of 2.
	b, err := ratelimit.NewBucket(ratelimit.Limit{Rate: 5, Period: time.Second, Burst: 2})
	if err != nil {
		panic(err)
	}
	fmt.Println(b.Allow(), b.Allow(), b.Allow())
	// Output: true true false
}

// A Concurrency quota bounds the work in flight per key; a lease that is
// never released expires after TTL.
func ExampleConcurrency() {
	store, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	if err != nil {
		panic(err)
	}
	exports, err := ratelimit.NewConcurrency(ratelimit.ConcurrencyConfig{Store: store, Limit: 1, TTL: time.Minute})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	lease, err := exports.Acquire(ctx, "tenant-42")
	if err != nil {
		panic(err)
	}
	_, err = exports.Acquire(ctx, "tenant-42")
	fmt.Println(errors.Is(err, ratelimit.ErrLimited), err)
	_ = lease.Release(ctx)
	_, err = exports.Acquire(ctx, "tenant-42")
	fmt.Println(err)
	// Output:
	// true ratelimit: 1 of 1 in flight
	// <nil>
}

// AllowAtMost grants as many events as fit, for batch work that takes what
// it can; Reset forgets a key, for support tools and tests.
func ExampleLimiter_AllowAtMost() {
	lim, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerMinute(5)}})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	res, _ := lim.AllowAtMost(ctx, "importer", 8)
	fmt.Println(res.Allowed, res.Granted)
	res, _ = lim.AllowAtMost(ctx, "importer", 8)
	fmt.Println(res.Allowed, res.Granted)
	_ = lim.Reset(ctx, "importer")
	res, _ = lim.AllowAtMost(ctx, "importer", 2)
	fmt.Println(res.Allowed, res.Granted)
	// Output:
	// true 5
	// false 0
	// true 2
}
