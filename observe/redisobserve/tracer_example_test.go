package redisobserve_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bedrock-go/bedrock/observe/redisobserve"
)

// The tracer is added once to a client, as a go-redis hook; on a cluster
// client, once to the cluster client.
func ExampleNewTracer() {
	tr, err := redisobserve.NewTracer(redisobserve.Config{SlowThreshold: 50 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()
	rdb.AddHook(tr)
}

func ExampleNewTracer_invalidConfig() {
	_, err := redisobserve.NewTracer(redisobserve.Config{SlowThreshold: -time.Second})
	fmt.Println(errors.Is(err, redisobserve.ErrInvalidConfig))
	fmt.Println(err)
	// Output:
	// true
	// redisobserve: invalid config: SlowThreshold is negative
}
