package rediscache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/cache"
	"github.com/bedrock-go/bedrock/cache/rediscache"
	"github.com/bedrock-go/bedrock/internal/testenv"
)

// Two processes share values and invalidations through Redis (the test
// server; examples run in CI, where it is up).
func Example() {
	opts, err := redis.ParseURL(testenv.RedisURL())
	if err != nil {
		panic(err)
	}
	opts.ContextTimeoutEnabled = true // lets the cache's time budget reach the network
	ctx := context.Background()
	prefix := fmt.Sprintf("example:%d:", time.Now().UnixNano())

	newProcess := func() (*cache.Cache[string, string], func()) {
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
