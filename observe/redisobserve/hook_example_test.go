package redisobserve_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/observe/redisobserve"
)

// The hook is added once to a client; a cluster client adds it to every
// node.
func ExampleNewHook() {
	hook, err := redisobserve.NewHook(redisobserve.Config{SlowThreshold: 50 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()
	rdb.AddHook(hook)
}

func ExampleNewHook_invalidConfig() {
	_, err := redisobserve.NewHook(redisobserve.Config{SlowThreshold: -time.Second})
	fmt.Println(errors.Is(err, redisobserve.ErrInvalidConfig))
	fmt.Println(err)
	// Output:
	// true
	// redisobserve: invalid config: SlowThreshold is negative
}
