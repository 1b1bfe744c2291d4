package benchmarks

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/sethvargo/go-limiter/memorystore"
	"github.com/throttled/throttled/v2"
	"github.com/throttled/throttled/v2/store/memstore"
	ulule "github.com/ulule/limiter/v3"
	ululemem "github.com/ulule/limiter/v3/drivers/store/memory"
	uber "go.uber.org/ratelimit"
	xrate "golang.org/x/time/rate"

	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/ratelimit/redislimit"
)

// Every limiter gets the same limit (events per second, burst equal to the
// rate) and answers one "may this event happen?" per iteration. Each uses
// its leanest non-blocking call: bedrock Bucket.Allow / Limiter.Allow,
// x/time/rate Allow, go-limiter Take, ulule Get, throttled RateLimitCtx,
// redis_rate Allow. uber-go/ratelimit has no non-blocking call; its Take is
// given a rate it never has to sleep for, so it measures the bookkeeping.

// mustRL unwraps a constructor's result; a setup error is a bug.
func mustRL[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func BenchmarkRateLimitAllowSingleKey(b *testing.B) {
	const perSecond = 1_000_000
	ctx := context.Background()
	cases := func(b *testing.B) map[string]func() {
		bucket := mustRL(ratelimit.NewBucket(ratelimit.PerSecond(perSecond)))
		keyed := mustRL(ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerSecond(perSecond)}}))
		xr := xrate.NewLimiter(xrate.Limit(perSecond), perSecond)
		ub := uber.New(1_000_000_000, uber.WithoutSlack)
		return map[string]func(){
			"bedrock":       func() { bucket.Allow() },
			"bedrock-keyed": func() { _, _ = keyed.Allow(ctx, "k") },
			"xrate":         func() { xr.Allow() },
			"uber":          func() { ub.Take() },
		}
	}
	for _, mode := range []string{"serial", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			for _, name := range []string{"bedrock", "bedrock-keyed", "xrate", "uber"} {
				b.Run(name, func(b *testing.B) {
					f := cases(b)[name]
					b.ReportAllocs()
					if mode == "serial" {
						for b.Loop() {
							f()
						}
						return
					}
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							f()
						}
					})
				})
			}
		})
	}
}

func BenchmarkRateLimitAllowPerKey100k(b *testing.B) {
	const perSecond = 1000
	ctx := context.Background()
	keys := make([]string, 100_000)
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i)
	}
	setups := map[string]func(b *testing.B) func(key string){
		"bedrock": func(b *testing.B) func(string) {
			l := mustRL(ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerSecond(perSecond)}}))
			return func(k string) { _, _ = l.Allow(ctx, k) }
		},
		"sethvargo": func(b *testing.B) func(string) {
			s := mustRL(memorystore.New(&memorystore.Config{Tokens: perSecond, Interval: time.Second}))
			b.Cleanup(func() { _ = s.Close(ctx) })
			return func(k string) { _, _, _, _, _ = s.Take(ctx, k) }
		},
		"ulule": func(b *testing.B) func(string) {
			l := ulule.New(ululemem.NewStore(), ulule.Rate{Period: time.Second, Limit: perSecond})
			return func(k string) { _, _ = l.Get(ctx, k) }
		},
		"throttled": func(b *testing.B) func(string) {
			st := mustRL(memstore.NewCtx(200_000))
			l := mustRL(throttled.NewGCRARateLimiterCtx(st, throttled.RateQuota{MaxRate: throttled.PerSec(perSecond), MaxBurst: perSecond - 1}))
			return func(k string) { _, _, _ = l.RateLimitCtx(ctx, k, 1) }
		},
	}
	for _, name := range []string{"bedrock", "sethvargo", "ulule", "throttled"} {
		b.Run(name, func(b *testing.B) {
			allow := setups[name](b)
			for _, k := range keys { // every key exists before timing
				allow(k)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				allow(keys[i])
				if i++; i == len(keys) {
					i = 0
				}
			}
		})
	}
}

func BenchmarkRateLimitRedisAllow(b *testing.B) {
	const perSecond = 1_000_000
	ctx := context.Background()
	rdb, prefix := rateLimitRedis(b)

	store := mustRL(redislimit.New(rdb, redislimit.Config{Prefix: prefix, WhenUnavailable: redislimit.FailClosed, Timeout: time.Second}))
	bedrock := mustRL(ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerSecond(perSecond)}, Store: store}))
	rr := redis_rate.NewLimiter(rdb)
	rrLimit := redis_rate.PerSecond(perSecond)
	rrKey := prefix + "redisrate"
	cases := map[string]func() error{
		"bedrock":   func() error { _, err := bedrock.Allow(ctx, "k"); return err },
		"redisrate": func() error { _, err := rr.Allow(ctx, rrKey, rrLimit); return err },
	}
	for _, mode := range []string{"serial", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			for _, name := range []string{"bedrock", "redisrate"} {
				b.Run(name, func(b *testing.B) {
					f := cases[name]
					if err := f(); err != nil { // loads the script
						b.Fatal(err)
					}
					b.ReportAllocs()
					if mode == "serial" {
						for b.Loop() {
							if err := f(); err != nil {
								b.Fatal(err)
							}
						}
						return
					}
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := f(); err != nil {
								b.Error(err)
								return
							}
						}
					})
				})
			}
		})
	}
}

// rateLimitRedis connects to the benchmark Redis (BEDROCK_REDIS_URL, or the
// local default) and returns a key prefix whose keys are deleted afterwards.
func rateLimitRedis(b *testing.B) (*redis.Client, string) {
	url := os.Getenv("BEDROCK_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	opts.ContextTimeoutEnabled = true
	rdb := redis.NewClient(opts)
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		b.Fatalf("redis at %s: %v", url, err)
	}
	prefix := fmt.Sprintf("bedrockbench:ratelimit:%d:", time.Now().UnixNano())
	b.Cleanup(func() {
		defer rdb.Close()
		iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			_ = rdb.Unlink(ctx, iter.Val()).Err()
		}
	})
	return rdb, prefix
}
