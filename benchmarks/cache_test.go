package benchmarks

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	gorediscache "github.com/go-redis/cache/v9"
	"github.com/maypok86/otter/v2"
	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/rediscache"
	"github.com/bedrock-go/bedrock/internal/testenv"
)

type benchUser struct {
	ID    int64
	Name  string
	Email string
}

func benchLoad(_ context.Context, key string) (benchUser, error) {
	return benchUser{ID: int64(len(key)), Name: "Ada Lovelace", Email: "ada@example.com"}, nil
}

const cacheKeys = 10_000

// zipfKeys returns a sequence of keys drawn from cacheKeys keys with a Zipf
// distribution (s = 1.1), as hot keys are in production.
func zipfKeys() []string {
	names := make([]string, cacheKeys)
	for i := range names {
		names[i] = "user:" + strconv.Itoa(i)
	}
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, cacheKeys-1)
	seq := make([]string, 1<<16)
	for i := range seq {
		seq[i] = names[z.Uint64()]
	}
	return seq
}

// runZipf runs get over the Zipf sequence from every parallel goroutine,
// each starting at its own offset.
func runZipf(b *testing.B, get func(key string) error) {
	seq := zipfKeys()
	var offset atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := offset.Add(7919)
		for pb.Next() {
			if err := get(seq[i&(1<<16-1)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkLocalHit reads hot keys from the in-process tier: Bedrock's cache
// over otter, go-redis/cache's TinyLFU local cache, and raw otter (the
// floor: a map lookup with expiry and no cache-aside logic).
func BenchmarkLocalHit(b *testing.B) {
	ctx := context.Background()
	b.Run("bedrock", func(b *testing.B) {
		c, err := cache.New(nil, cache.Config[string, benchUser]{TTL: time.Hour, LocalSize: cacheKeys * 2})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		for i := range cacheKeys {
			if _, err := c.Get(ctx, "user:"+strconv.Itoa(i), benchLoad); err != nil {
				b.Fatal(err)
			}
		}
		runZipf(b, func(key string) error {
			_, err := c.Get(ctx, key, benchLoad)
			return err
		})
	})
	// The same with every entry carrying two tags, after a tag
	// invalidation (of other entries) made each hit check its tags once.
	b.Run("bedrock-tagged", func(b *testing.B) {
		c, err := cache.New(nil, cache.Config[string, benchUser]{
			TTL: time.Hour, LocalSize: cacheKeys * 2,
			Tags: func(key string, _ benchUser) []string { return []string{key, "users"} },
		})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		for i := range cacheKeys {
			if _, err := c.Get(ctx, "user:"+strconv.Itoa(i), benchLoad); err != nil {
				b.Fatal(err)
			}
		}
		if err := c.InvalidateTags(ctx, "other"); err != nil {
			b.Fatal(err)
		}
		runZipf(b, func(key string) error {
			_, err := c.Get(ctx, key, benchLoad)
			return err
		})
	})
	b.Run("gorediscache", func(b *testing.B) {
		c := gorediscache.New(&gorediscache.Options{LocalCache: gorediscache.NewTinyLFU(cacheKeys*2, time.Hour)})
		for i := range cacheKeys {
			key := "user:" + strconv.Itoa(i)
			v, _ := benchLoad(ctx, key)
			if err := c.Set(&gorediscache.Item{Ctx: ctx, Key: key, Value: v, TTL: time.Hour}); err != nil {
				b.Fatal(err)
			}
		}
		runZipf(b, func(key string) error {
			var v benchUser
			return c.Get(ctx, key, &v)
		})
	})
	b.Run("otter", func(b *testing.B) { benchRawOtter(b, nil) })
	// Bedrock reads otter's coarse clock (1ms resolution) by default; this
	// is raw otter with the same clock, the fair floor for that setting.
	b.Run("otter-coarse", func(b *testing.B) {
		clock := otter.NewCoarseClock(time.Millisecond)
		defer clock.Stop()
		benchRawOtter(b, clock)
	})
}

func benchRawOtter(b *testing.B, clock otter.Clock) {
	ctx := context.Background()
	{
		c := otter.Must(&otter.Options[string, benchUser]{
			MaximumSize:      cacheKeys * 2,
			ExpiryCalculator: otter.ExpiryWriting[string, benchUser](time.Hour),
			Clock:            clock,
		})
		defer c.StopAllGoroutines()
		for i := range cacheKeys {
			key := "user:" + strconv.Itoa(i)
			v, _ := benchLoad(ctx, key)
			c.Set(key, v)
		}
		runZipf(b, func(key string) error {
			if _, ok := c.GetIfPresent(key); !ok {
				return context.Canceled
			}
			return nil
		})
	}
}

func benchRedis(b *testing.B) (*redis.Client, string) {
	return testenv.Redis(b) // skips when Redis is down, and cleans up the prefix
}

func bedrockOnRedis(b *testing.B, client *redis.Client, prefix string, localSize int) *cache.Cache[string, benchUser] {
	store, err := rediscache.New(client, rediscache.Config{Prefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	c, err := cache.New(store, cache.Config[string, benchUser]{
		Namespace: "bench", TTL: time.Hour, LocalSize: localSize, StoreTimeout: time.Second,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}

// BenchmarkRedisHit reads values that are in Redis and not in any local
// tier: one round trip plus decoding.
func BenchmarkRedisHit(b *testing.B) {
	ctx := context.Background()
	const keys = 1000
	b.Run("bedrock", func(b *testing.B) {
		client, prefix := benchRedis(b)
		c := bedrockOnRedis(b, client, prefix, -1)
		for i := range keys {
			if _, err := c.Get(ctx, "user:"+strconv.Itoa(i), benchLoad); err != nil {
				b.Fatal(err)
			}
		}
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			i++
			if _, err := c.Get(ctx, "user:"+strconv.Itoa(i%keys), benchLoad); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gorediscache", func(b *testing.B) {
		client, prefix := benchRedis(b)
		c := gorediscache.New(&gorediscache.Options{Redis: client})
		for i := range keys {
			key := prefix + "user:" + strconv.Itoa(i)
			v, _ := benchLoad(ctx, key)
			if err := c.Set(&gorediscache.Item{Ctx: ctx, Key: key, Value: v, TTL: time.Hour}); err != nil {
				b.Fatal(err)
			}
		}
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			i++
			var v benchUser
			if err := c.Get(ctx, prefix+"user:"+strconv.Itoa(i%keys), &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMissLoad misses a new key each time: the cache-aside path from
// the local tier through Redis to the loader and back (Bedrock also takes
// and checks the key's lease).
func BenchmarkMissLoad(b *testing.B) {
	ctx := context.Background()
	b.Run("bedrock", func(b *testing.B) {
		client, prefix := benchRedis(b)
		c := bedrockOnRedis(b, client, prefix, 0)
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			i++
			if _, err := c.Get(ctx, "miss:"+strconv.Itoa(i), benchLoad); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gorediscache", func(b *testing.B) {
		client, prefix := benchRedis(b)
		c := gorediscache.New(&gorediscache.Options{Redis: client, LocalCache: gorediscache.NewTinyLFU(10_000, time.Hour)})
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			i++
			key := prefix + "miss:" + strconv.Itoa(i)
			var v benchUser
			err := c.Once(&gorediscache.Item{Ctx: ctx, Key: key, Value: &v, TTL: time.Hour,
				Do: func(it *gorediscache.Item) (any, error) { return benchLoad(ctx, it.Key) }})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkInvalidateTag drops 10,000 entries that share a tag, with the
// cache on Redis: one InvalidateTags (one script, whatever the number of
// entries), against deleting the 10,000 keys, what a cache without tags
// must do (and know the keys for).
func BenchmarkInvalidateTag(b *testing.B) {
	ctx := context.Background()
	const entries = 10_000
	fill := func(b *testing.B, c *cache.Cache[string, benchUser]) []string {
		keys := make([]string, entries)
		for i := range keys {
			keys[i] = "user:" + strconv.Itoa(i)
		}
		load := func(ctx context.Context, keys []string) (map[string]benchUser, error) {
			cache.EntryOf(ctx).Tag("category:7")
			m := make(map[string]benchUser, len(keys))
			for _, k := range keys {
				m[k], _ = benchLoad(ctx, k)
			}
			return m, nil
		}
		for i := 0; i < entries; i += 500 {
			if _, err := c.GetMany(ctx, keys[i:i+500], load); err != nil {
				b.Fatal(err)
			}
		}
		return keys
	}
	b.Run("invalidate-tag", func(b *testing.B) {
		client, prefix := benchRedis(b)
		c := bedrockOnRedis(b, client, prefix, entries*2)
		fill(b, c)
		b.ReportAllocs()
		for b.Loop() {
			if err := c.InvalidateTags(ctx, "category:7"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("delete-keys", func(b *testing.B) {
		client, prefix := benchRedis(b)
		c := bedrockOnRedis(b, client, prefix, entries*2)
		keys := fill(b, c)
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Delete(ctx, keys...); err != nil {
				b.Fatal(err)
			}
		}
	})
}
