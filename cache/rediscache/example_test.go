package rediscache_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/rediscache"
)

// Two processes share values and invalidations through Redis: the server
// at BEDROCK_REDIS_URL, or the local one (examples run in CI, where it is
// up).
func Example() {
	url := os.Getenv("BEDROCK_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	ctx := context.Background()
	prefix := fmt.Sprintf("example:%d:", time.Now().UnixNano())

	newProcess := func() (*cache.Cache[string, string], func()) {
		opts, err := redis.ParseURL(url) // one Options per client: go-redis must not share them
		if err != nil {
			panic(err)
		}
		opts.ContextTimeoutEnabled = true // required: lets the cache's time budget reach the network
		client := redis.NewClient(opts)
		store, err := rediscache.New(client, rediscache.Config{Prefix: prefix})
		if err != nil {
			panic(err)
		}
		c, err := cache.New(store, cache.Config[string, string]{
			Namespace: "greeting", TTL: time.Minute,
			StoreTimeout: time.Second, // the default 100ms may not cover a cold connection on a busy machine
		})
		if err != nil {
			panic(err)
		}
		return c, func() { c.Close(); store.Close(); client.Close() }
	}
	a, closeA := newProcess()
	defer closeA()
	b, closeB := newProcess()
	defer closeB()

	v, _ := a.Get(ctx, "en", func(context.Context, string) (string, error) { return "hello", nil })
	fmt.Println("a loaded:", v)
	v, _ = b.Get(ctx, "en", func(context.Context, string) (string, error) { return "never called", nil })
	fmt.Println("b read from Redis:", v)

	_ = a.Delete(ctx, "en")
	// Output:
	// a loaded: hello
	// b read from Redis: hello
}

// With Tracking, a change made outside Bedrock — here a plain client's DEL,
// as redis-cli or another service would make — leaves the local tier too.
func ExampleConfig_tracking() {
	url := os.Getenv("BEDROCK_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	ctx := context.Background()
	prefix := fmt.Sprintf("example:%d:", time.Now().UnixNano())
	opts, err := redis.ParseURL(url)
	if err != nil {
		panic(err)
	}
	opts.ContextTimeoutEnabled = true
	client := redis.NewClient(opts)
	defer client.Close()
	store, err := rediscache.New(client, rediscache.Config{Prefix: prefix, Tracking: true})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	prices, err := cache.New(store, cache.Config[string, int]{
		Namespace: "price", TTL: time.Hour, StoreTimeout: time.Second,
	})
	if err != nil {
		panic(err)
	}
	defer prices.Close()

	source := 450 // the source of truth, say a database row
	load := func(context.Context, string) (int, error) { return source, nil }
	v, _ := prices.Get(ctx, "tea", load)
	fmt.Println("cached:", v)

	// Another service changes the source and deletes the Redis key itself.
	source = 480
	_ = client.Del(ctx, prefix+"{price:v0:tea}").Err()

	// Invalidations are asynchronous: they arrive within a millisecond or so.
	deadline := time.Now().Add(10 * time.Second)
	for v != 480 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		v, _ = prices.Get(ctx, "tea", load)
	}
	fmt.Println("after the DEL:", v)
	// Output:
	// cached: 450
	// after the DEL: 480
}
