package cache_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/bedrock-go/bedrock/cache"
)

func BenchmarkGet_LocalHit(b *testing.B) {
	c, err := cache.New(nil, cache.Config[string, string]{TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Get(ctx, "k", staticLoad); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(ctx, "k", staticLoad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet_LocalHitParallel(b *testing.B) {
	c, err := cache.New(nil, cache.Config[int, string]{TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	localHits(b, c, nil)
}

// localHits loads 1,024 keys into c, runs prepare (when not nil), then
// reads the keys back in parallel: every read a local hit.
func localHits(b *testing.B, c *cache.Cache[int, string], prepare func(context.Context) error) {
	ctx := context.Background()
	load := func(_ context.Context, k int) (string, error) { return strconv.Itoa(k), nil }
	for k := range 1024 {
		if _, err := c.Get(ctx, k, load); err != nil {
			b.Fatal(err)
		}
	}
	if prepare != nil {
		if err := prepare(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer() // the loads above are not hits
	b.RunParallel(func(pb *testing.PB) {
		k := 0
		for pb.Next() {
			if _, err := c.Get(ctx, k&1023, load); err != nil {
				b.Fatal(err)
			}
			k++
		}
	})
}

func BenchmarkGet_MissLoad(b *testing.B) {
	c, err := cache.New(nil, cache.Config[int, string]{TTL: time.Hour, LocalSize: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	load := func(_ context.Context, k int) (string, error) { return "v", nil }
	k := 0
	b.ReportAllocs()
	for b.Loop() {
		k++
		if _, err := c.Get(ctx, k, load); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetMany_LocalHits(b *testing.B) {
	c, err := cache.New(nil, cache.Config[int, string]{TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	keys := make([]int, 32)
	load := func(_ context.Context, ks []int) (map[int]string, error) {
		m := make(map[int]string, len(ks))
		for _, k := range ks {
			m[k] = "v"
		}
		return m, nil
	}
	for i := range keys {
		keys[i] = i
	}
	if _, err := c.GetMany(ctx, keys, load); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetMany(ctx, keys, load); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet_LocalHitTagged is BenchmarkGet_LocalHitParallel with every
// entry carrying two tags and the tag table changed since they were loaded:
// each entry checks its tags once, then hits cost two atomic loads more.
func BenchmarkGet_LocalHitTagged(b *testing.B) {
	c, err := cache.New(nil, cache.Config[int, string]{
		TTL: time.Hour, Tags: func(k int, _ string) []string { return []string{"item:" + strconv.Itoa(k), "all"} },
	})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	localHits(b, c, func(ctx context.Context) error { return c.InvalidateTags(ctx, "other") })
}

// BenchmarkInvalidateTags_10kTaggedEntries invalidates a tag that 10,000
// local entries carry, then reads one of them back: the invalidation does
// not depend on the number of entries.
func BenchmarkInvalidateTags_10kTaggedEntries(b *testing.B) {
	c, err := cache.New(nil, cache.Config[int, string]{
		TTL: time.Hour, LocalSize: 20_000, Tags: func(int, string) []string { return []string{"category:7"} },
	})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	load := func(_ context.Context, k int) (string, error) { return strconv.Itoa(k), nil }
	for k := range 10_000 {
		if _, err := c.Get(ctx, k, load); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.InvalidateTags(ctx, "category:7"); err != nil {
			b.Fatal(err)
		}
	}
}
