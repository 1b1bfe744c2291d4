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
