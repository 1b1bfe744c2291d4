package redislimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/internal/testenv"
	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/ratelimit/redislimit"
)

// BenchmarkStore_Allow measures one decision against the real Redis: one
// round trip of the script.
func BenchmarkStore_Allow(b *testing.B) {
	rdb, prefix := testenv.Redis(b)
	s, err := redislimit.New(rdb, redislimit.Config{Prefix: prefix, Timeout: time.Second, WhenUnavailable: redislimit.FailClosed})
	if err != nil {
		b.Fatal(err)
	}
	for name, limits := range map[string][]ratelimit.Limit{
		"one-limit":  {ratelimit.PerSecond(1_000_000)},
		"two-limits": {ratelimit.PerSecond(1_000_000), ratelimit.PerHour(1 << 30)},
	} {
		b.Run(name, func(b *testing.B) {
			lim, err := ratelimit.New(ratelimit.Config{Limits: limits, Store: s})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := lim.Allow(ctx, "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
