package ratelimit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/ratelimit"
)

func BenchmarkAllow(b *testing.B) {
	ctx := context.Background()
	for _, algo := range []ratelimit.Algorithm{ratelimit.GCRA, ratelimit.TokenBucket, ratelimit.SlidingWindow,
		ratelimit.SlidingLog, ratelimit.FixedWindow} {
		b.Run(algo.String(), func(b *testing.B) {
			l := newLimiter(b, ratelimit.Limit{Rate: 1000, Period: time.Millisecond * 10, Algorithm: algo})
			b.ReportAllocs()
			for b.Loop() {
				_, _ = l.Allow(ctx, "k")
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		l := newLimiter(b, ratelimit.PerSecond(1_000_000))
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = l.Allow(ctx, "k")
			}
		})
	})
	b.Run("two-limits", func(b *testing.B) {
		l := newLimiter(b, ratelimit.PerSecond(1_000_000), ratelimit.PerHour(1<<30))
		b.ReportAllocs()
		for b.Loop() {
			_, _ = l.Allow(ctx, "k")
		}
	})
}

func BenchmarkAllowPerKey100k(b *testing.B) {
	ctx := context.Background()
	l := newLimiter(b, ratelimit.PerSecond(1_000_000))
	keys := make([]string, 100_000)
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, _ = l.Allow(ctx, keys[i])
		i++
		if i == len(keys) {
			i = 0
		}
	}
}

func BenchmarkMiddleware(b *testing.B) {
	l := newLimiter(b, ratelimit.PerSecond(1_000_000))
	mw, err := ratelimit.NewMiddleware(l, ratelimit.MiddlewareConfig{Key: func(*http.Request) (string, error) { return "k", nil }})
	if err != nil {
		b.Fatal(err)
	}
	h := mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	w := &headerWriter{h: make(http.Header, 8)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}
