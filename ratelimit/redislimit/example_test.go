package redislimit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/ratelimit"
	"github.com/bedrock-go/bedrock/ratelimit/redislimit"
)

func Example() {
	server, err := miniredis.Run() // stands in for a real Redis here
	if err != nil {
		panic(err)
	}
	defer server.Close()
	rdb := redis.NewClient(&redis.Options{Addr: server.Addr(), ContextTimeoutEnabled: true})
	defer rdb.Close()

	store, err := redislimit.New(rdb, redislimit.Config{
		Prefix:          "api:",
		Timeout:         time.Second,
		WhenUnavailable: redislimit.FailClosed,
	})
	if err != nil {
		panic(err)
	}
	lim, err := ratelimit.New(ratelimit.Config{
		Limits: []ratelimit.Limit{{Rate: 2, Period: time.Minute}},
		Store:  store,
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
		fmt.Println(res.Allowed, res.Remaining, res.RetryAfter.Round(time.Second))
	}
	fmt.Println(store.Key("user:42", 0, ratelimit.GCRA))
	// Output:
	// true 1 0s
	// true 0 0s
	// false 0 30s
	// api:{user:42}:0:0
}

// With FallBack, each process limits on its own while Redis is down.
func ExampleConfig_fallBack() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, MaxRetries: -1})
	defer rdb.Close()
	local, err := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	if err != nil {
		panic(err)
	}
	store, err := redislimit.New(rdb, redislimit.Config{WhenUnavailable: redislimit.FallBack, Fallback: local})
	if err != nil {
		panic(err)
	}
	lim, err := ratelimit.New(ratelimit.Config{Limits: []ratelimit.Limit{ratelimit.PerMinute(1)}, Store: store})
	if err != nil {
		panic(err)
	}
	for range 2 {
		res, err := lim.Allow(context.Background(), "user:42")
		fmt.Println(res.Allowed, res.Degraded, err)
	}
	// Output:
	// true true <nil>
	// false true <nil>
}
