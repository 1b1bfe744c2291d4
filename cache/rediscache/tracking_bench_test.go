package rediscache_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/rediscache"
	"github.com/bedrock-go/bedrock/internal/testenv"
)

// BenchmarkTracking_Propagation measures how long an external write (a
// plain client's SET, not through any cache) takes to reach the
// subscribers of a tracking store: each iteration writes one key and
// waits for its invalidation. It reports the median and p99 delay from
// issuing the write, and the writer's own round trip for comparison.
func BenchmarkTracking_Propagation(b *testing.B) {
	b.Run("server", func(b *testing.B) {
		client, prefix := testenv.Redis(b) // unique prefix, cleaned up afterwards
		writer := redis.NewClient(testenv.RedisOptions(b))
		defer writer.Close()
		benchmarkPropagation(b, client, writer, prefix)
	})
	b.Run("cluster", func(b *testing.B) {
		client, prefix := testenv.RedisCluster(b)
		writer := redis.NewClusterClient(testenv.RedisClusterOptions(b))
		defer writer.Close()
		benchmarkPropagation(b, client, writer, prefix)
	})
}

func benchmarkPropagation(b *testing.B, client, writer redis.UniversalClient, prefix string) {
	store, err := rediscache.New(client, rediscache.Config{Prefix: prefix, Tracking: true})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	arrived := make(chan time.Time, 1)
	const key = "t:v0:k"
	store.Subscribe(func(inv cache.Invalidation) {
		if slices.Contains(inv.Keys, key) {
			select {
			case arrived <- time.Now():
			default:
			}
		}
	})
	ctx := context.Background()
	redisKey := prefix + "{" + key + "}"

	// Wait until tracking is up: the first writes may precede it.
	deadline := time.Now().Add(15 * time.Second)
	for ready := false; !ready; {
		if time.Now().After(deadline) {
			b.Fatal("tracking never started")
		}
		if err := writer.Set(ctx, redisKey, "x", time.Minute).Err(); err != nil {
			b.Fatal(err)
		}
		select {
		case <-arrived:
			ready = true
		case <-time.After(50 * time.Millisecond):
		}
	}

	var delays, acks []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := writer.Set(ctx, redisKey, "x", time.Minute).Err(); err != nil {
			b.Fatal(err)
		}
		acks = append(acks, time.Since(start))
		select {
		case at := <-arrived:
			delays = append(delays, at.Sub(start))
		case <-time.After(15 * time.Second):
			b.Fatal("an invalidation never arrived")
		}
	}
	b.ReportMetric(quantile(delays, 0.5), "p50-µs")
	b.ReportMetric(quantile(delays, 0.99), "p99-µs")
	b.ReportMetric(quantile(acks, 0.5), "write-p50-µs")
}

func quantile(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[int(q*float64(len(s)-1))].Microseconds())
}

// BenchmarkTracking_OwnWriteEcho measures what the echo of a process's own
// writes costs its local tier: one process reads a skewed set of 1,000
// keys and writes 2% of the time (an unconditional Set); with tracking, the
// echo of each write drops the value just stored, so the next read of that
// key goes to Redis. It reports the share of reads the local tier served.
func BenchmarkTracking_OwnWriteEcho(b *testing.B) {
	for _, tracking := range []bool{false, true} {
		b.Run(fmt.Sprintf("tracking=%v", tracking), func(b *testing.B) {
			client, prefix := testenv.Redis(b)
			store, err := rediscache.New(client, rediscache.Config{Prefix: prefix, Tracking: tracking})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			var local, reads atomic.Int64
			c, err := cache.New(store, cache.Config[int, string]{
				Namespace: "t", TTL: time.Hour, StoreTimeout: 5 * time.Second,
				Hooks: cache.Hooks{OnHit: func(tier cache.Tier) {
					if tier == cache.TierLocal {
						local.Add(1)
					}
				}},
			})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			load := func(context.Context, int) (string, error) { return "v", nil }
			rng := rand.New(rand.NewPCG(1, 2))
			zipf := rand.NewZipf(rng, 1.1, 1, 999)
			for b.Loop() {
				k := int(zipf.Uint64())
				if rng.IntN(100) < 2 {
					if err := c.Set(ctx, k, "v"); err != nil {
						b.Fatal(err)
					}
					continue
				}
				reads.Add(1)
				if _, err := c.Get(ctx, k, load); err != nil {
					b.Fatal(err)
				}
			}
			if n := reads.Load(); n > 0 {
				b.ReportMetric(100*float64(local.Load())/float64(n), "local-hit-%")
			}
		})
	}
}
